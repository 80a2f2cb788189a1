/* fuzz_json.c — libFuzzer target: every way lockstep reads JSON it did not
 * write, on arbitrary bytes.  A command's output through the exec scanner
 * (ljson_scan), a tool's report through jansson (ljson_load and the pointer
 * getters iperf uses), and a list option's text through opt_parse.  Each
 * input is read or refused with a reason; never a crash, a leak or a hang.
 *
 * An input may start with a line "/pointer\n" that is tried besides the
 * fixed pointers, so the corpus can steer lookups into the document.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "options.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct l_opts {
    char **list;
};

static const struct opt_def s_list_def[] = {
    {.name = "list", .type = OPT_LIST, .offset = offsetof(struct l_opts, list), .help = "argv"},
    {.name = NULL},
};

static void s_scan(const char *text, size_t len, const char *ptr, bool *deep)
{
    static struct ljson_frame stack[LJSON_SCAN_DEPTH];
    struct ljson_ptr p;
    struct ljson_found f;
    if (ljson_ptr_parse(ptr, &p) < 0)
        return;
    if (ljson_scan(text, len, &p, stack, &f) < 0) {
        if (!f.why || f.at > len)
            __builtin_trap(); /* a refusal says what and where */
        *deep = *deep || strcmp(f.why, "containers nested too deeply") == 0;
        return;
    }
    if (f.found && f.type == LJSON_NUMBER &&
        (f.num < text || f.num + f.numlen > text + len || f.numlen == 0))
        __builtin_trap(); /* a number is text inside the document */
}

static void s_tree(const char *text, size_t len, const char *ptr, bool scanned_ok, bool deep)
{
    char err[256] = "";
    json_t *root = ljson_load(text, len, err, sizeof err);
    if (!root) {
        if (!err[0])
            __builtin_trap();
        return;
    }
    /* jansson is the stricter reader: what it takes the scanner takes,
     * unless the nesting is past the scanner's bound */
    if (!scanned_ok && !deep)
        __builtin_trap();
    double x;
    (void)ljson_number(root, ptr, &x);
    (void)ljson_string(root, ptr);
    (void)ljson_number(root, "/end/sum_sent/bits_per_second", &x);
    (void)ljson_string(root, "/start/connected/0/remote_host");
    (void)json_array_size(ljson_get(root, "/end/streams"));
    json_decref(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    char ptr[LJSON_PTR_MAX_BYTES + 1] = "/0";
    const char *nl = size && text[0] == '/' ? memchr(text, '\n', size) : NULL;
    if (nl && (size_t)(nl - text) <= LJSON_PTR_MAX_BYTES) {
        memcpy(ptr, text, (size_t)(nl - text));
        ptr[nl - text] = '\0';
        size -= (size_t)(nl + 1 - text);
        text = nl + 1;
    }
    bool deep = false;
    struct ljson_ptr whole;
    struct ljson_found f;
    static struct ljson_frame stack[LJSON_SCAN_DEPTH];
    ljson_ptr_parse("", &whole);
    bool scanned_ok = ljson_scan(text, size, &whole, stack, &f) == 0;
    if (!scanned_ok)
        deep = strcmp(f.why, "containers nested too deeply") == 0;
    s_scan(text, size, ptr, &deep);
    s_tree(text, size, ptr, scanned_ok, deep);

    /* a list option: the text as the one string an experiment gives */
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, text, size);
    s[size] = '\0';
    struct l_opts o = {0};
    char err[256] = "";
    if (opt_parse(&s_list_def[0], &o, s, err, sizeof err) == 0) {
        if (!o.list)
            __builtin_trap();
    } else if (strncmp(err, "list: ", 6) != 0 || o.list) {
        __builtin_trap(); /* a refusal names the option and sets nothing */
    }
    opt_free(s_list_def, &o);
    free(s);
    return 0;
}
