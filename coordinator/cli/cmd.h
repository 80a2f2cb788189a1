/* cmd.h — the lockstep subcommands; main.c only dispatches to these. */
#ifndef LOCKSTEP_CMD_H
#define LOCKSTEP_CMD_H

/* Exit statuses shared by every subcommand. */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_INVALID = 2, EXIT_PARTIAL = 3 };

int cmd_run(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_keygen(int argc, char **argv);
int cmd_image(int argc, char **argv);

#endif
