/* options.h — benchmark options as data (fio/sysbench style).
 *
 * One opt_def row per option: name, type, offset into the plug-in's options
 * struct, default (as the string a user would write), range or choices, help.
 * The same table drives experiment validation (coordinator), `lockstep list`,
 * the PREPARE encoding (options travel as their strings) and the worker's
 * parsing — one parser, opt_parse(), used on both sides.
 */
#ifndef LOCKSTEP_OPTIONS_H
#define LOCKSTEP_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    OPT_INT,      /* int64_t; decimal, optional k/M/G (x1000) suffix not allowed: plain integer */
    OPT_SIZE,     /* uint64_t bytes; "4096", "4K", "4KiB", "1M", "1G", "1T" (binary multiples) */
    OPT_DURATION, /* int64_t nanoseconds; "10" (seconds), "10s", "500ms", "250us", "2m", "1h" */
    OPT_DOUBLE,   /* double */
    OPT_BOOL,     /* bool; true/false/yes/no/on/off/1/0 */
    OPT_STR,      /* char * (malloc'd, freed by opt_free) */
    OPT_ENUM,     /* int: index into choices */
    OPT_LIST,     /* char **: NULL-terminated list of strings, an argv (one malloc'd block,
                     freed by opt_free); written as a JSON array of strings, see below */
} opt_type_t;

struct opt_def {
    const char *name;
    opt_type_t type;
    size_t offset;             /* offsetof(plug-in opts struct, field) */
    const char *def;           /* default as a string; NULL = no default (STR, LIST: NULL) */
    double min, max;           /* inclusive range for INT/SIZE/DURATION(seconds)/DOUBLE;
                                  min == max == 0 means unbounded */
    const char *const *choices; /* OPT_ENUM: NULL-terminated list */
    const char *help;
};
/* Tables end with a row whose name is NULL. */

const struct opt_def *opt_find(const struct opt_def *defs, const char *name);
/* Parse value into the field def describes. 0, or -1 with a message naming the
 * option, the bad value and what is allowed, e.g.
 * "block_size: '4Q' is not a size (a number with an optional K, M, G or T suffix)"
 * "max_prime: 1 is out of range (allowed 3..1000000000)". */
int opt_parse(const struct opt_def *def, void *opts, const char *value, char *err, size_t errlen);
/* Apply every default. 0 or -1 (a bad default is a programmer error). */
int opt_set_defaults(const struct opt_def *defs, void *opts, char *err, size_t errlen);
/* Canonical text of the current value ("4K" sizes print as bytes: "4096"). */
int opt_format(const struct opt_def *def, const void *opts, char *buf, size_t len);
/* Human description of the type and allowed values, for help and errors:
 * "size, 512..1G", "one of read, write", "duration, 0s..1h". */
void opt_describe(const struct opt_def *def, char *buf, size_t len);
void opt_free(const struct opt_def *defs, void *opts);

/* Lists travel, like every option, as one string: a JSON array of strings,
 * parsed strictly by jansson (RFC 8259: the escapes \" \\ \/ \b \f \n \r \t
 * \uXXXX with surrogate pairs, valid UTF-8, blanks between tokens; no \u0000,
 * since an argument cannot hold a NUL), a refusal naming what and the byte.  A string that is not such an array is an
 * error, never a one-element list: "sh -c 'x'" would otherwise run a program
 * called "sh -c 'x'".  The canonical form, from opt_format, has no blanks and
 * escapes only what JSON requires: ["sh","-c","echo hi"].  The bounds keep
 * the text well inside one protocol string. */
#define OPT_LIST_MAX_BYTES 8192
#define OPT_LIST_MAX_ITEMS 1024
/* The canonical JSON text of n strings (the experiment loader turns a YAML
 * sequence into the string opt_parse takes with it).  Caller frees; NULL when
 * out of memory. */
char *opt_list_json(const char *const *items, size_t n);

/* Unit parsers, exposed for the experiment loader and tests. 0 or -1. */
int opt_parse_size(const char *s, uint64_t *out);
int opt_parse_duration(const char *s, int64_t *out_ns);
int opt_parse_bool(const char *s, bool *out);

#endif
