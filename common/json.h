/* json.h — JSON documents through jansson, and JSON pointers (RFC 6901).
 *
 * One place for the two things every JSON reader in lockstep needs: a
 * document loaded with a message that says what is wrong and where, and the
 * value at a pointer such as "/end/sum_sent/bits_per_second".  The pointer
 * parser is also what the exec benchmark's scanner (below) follows, so a
 * pointer means the same everywhere.
 */
#ifndef LOCKSTEP_JSON_H
#define LOCKSTEP_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define LJSON_PTR_MAX_BYTES 1024
#define LJSON_PTR_MAX_TOKENS 64

/* A parsed pointer: its reference tokens, unescaped (~1 is '/', ~0 is '~'). */
struct ljson_ptr {
    size_t n;
    const char *tok[LJSON_PTR_MAX_TOKENS]; /* NUL-terminated, in buf */
    size_t len[LJSON_PTR_MAX_TOKENS];
    long long idx[LJSON_PTR_MAX_TOKENS]; /* as an array index; -1 when it is none */
    char buf[LJSON_PTR_MAX_BYTES + 1];
};

/* "" (the whole document) or "/a/b~1c/0".  0, or -1 when s is not a pointer
 * or is longer than LJSON_PTR_MAX_BYTES bytes or LJSON_PTR_MAX_TOKENS steps.
 * An index is "0" or digits without a leading zero ("-", past the end,
 * names no element). */
int ljson_ptr_parse(const char *s, struct ljson_ptr *p);

/* The document in text[0..len): any JSON value, blanks around it, nothing
 * after it, no NUL byte anywhere.  The caller owns the result
 * (json_decref).  NULL when it is not JSON, with a message in err naming
 * what is wrong and where: "']' expected near '}' at line 1, column 3
 * (byte 3)". */
json_t *ljson_load(const char *text, size_t len, char *err, size_t errlen);

/* The token jansson was reading when it refused a text: its error says
 * "... near '<token>'" for tokens of at most 20 bytes.  When it names one
 * and the token is found where jansson stopped, *start is its offset in
 * text and *toklen its length; false otherwise (the caller falls back on
 * e->position).  For callers that word jansson's refusals in their own
 * terms. */
bool ljson_error_token(const json_error_t *e, const char *text, size_t len, size_t *start,
                       size_t *toklen);

/* The value at a pointer (borrowed from root), or NULL when the pointer is
 * malformed or nothing is there.  root may be NULL (a report that did not
 * parse): nothing is there. */
json_t *ljson_get(const json_t *root, const char *ptr);
json_t *ljson_get_parsed(const json_t *root, const struct ljson_ptr *p);

/* The number (integer or real) at ptr; false when there is none. */
bool ljson_number(const json_t *root, const char *ptr, double *out);
/* The string at ptr (borrowed from root), or NULL when there is none. */
const char *ljson_string(const json_t *root, const char *ptr);

/* ---- scanning: one value of a command's output, without a tree ----
 *
 * The exec benchmark reads a number out of whatever a tool prints, up to
 * 1 MiB.  That text is read here rather than by jansson on purpose: a tool's
 * JSON may carry bytes that are not UTF-8 or lone surrogates (\ud800), which
 * jansson refuses and RFC 8259's grammar allows; of duplicate keys the first
 * is the one meant; a number stays its text, so one too large for a double
 * is said as such rather than refused as bad JSON; a reason names the exact
 * byte; and nothing but a fixed stack is allocated, however deep the
 * nesting. */

#define LJSON_SCAN_DEPTH 512

enum ljson_type {
    LJSON_NONE, LJSON_OBJECT, LJSON_ARRAY, LJSON_STRING, LJSON_NUMBER,
    LJSON_TRUE, LJSON_FALSE, LJSON_NULL
};

/* "an object", "a number", "true", ... for messages. */
const char *ljson_type_name(int t);

/* One open container; the caller gives LJSON_SCAN_DEPTH of them. */
struct ljson_frame {
    unsigned char type;  /* LJSON_OBJECT or LJSON_ARRAY */
    bool on_path;        /* this container is the pointer's prefix of its depth */
    bool taken;          /* a member already matched (duplicate keys: the first wins) */
    long long count;     /* members or elements so far */
};

struct ljson_found {
    bool found;
    int type;                /* of the value found */
    const char *num;         /* its text when a number (into the document) */
    size_t numlen;
    size_t got;              /* tokens matched by the deepest prefix found */
    int got_type;            /* the type of that prefix's value */
    const char *why;         /* when the text is not JSON */
    size_t at;               /* and where (offset) */
};

/* Read text[0..len) and find the pointer's value.  0 (f says whether and
 * what was found), or -1 when the text is not JSON (f->why, f->at). */
int ljson_scan(const char *text, size_t len, const struct ljson_ptr *ptr,
               struct ljson_frame *stack, struct ljson_found *f);

#endif
