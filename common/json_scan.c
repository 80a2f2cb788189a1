/* json_scan.c — the value at a JSON pointer in a command's output, read in
 * one pass without building a tree (see json.h for why this is not jansson).
 *
 * One pass over the text, no recursion: an explicit stack of at most
 * LJSON_SCAN_DEPTH open containers.  The whole document is checked (one
 * value, blanks around it), so that garbage is not read as a number by luck.
 * Strings may hold any bytes but NUL and control characters; a lone
 * surrogate in a \u escape reads as U+FFFD.
 */
#include "json.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

const char *ljson_type_name(int t)
{
    static const char *const names[] = {"nothing", "an object", "an array", "a string",
                                        "a number", "true",      "false",    "null"};
    return t >= 0 && t <= LJSON_NULL ? names[t] : "?";
}

struct jreader {
    const char *s, *p, *end;
    const struct ljson_ptr *ptr;
    struct ljson_found *f;
    struct ljson_frame *stack; /* LJSON_SCAN_DEPTH */
    size_t depth;
    char key[LJSON_PTR_MAX_BYTES + 1];
};

static int s_jfail(struct jreader *r, const char *why, const char *at)
{
    r->f->why = why;
    r->f->at = (size_t)(at - r->s);
    return -1;
}

static void s_jblank(struct jreader *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
        r->p++;
}

static int s_jhex(const char *p, const char *end, unsigned *out)
{
    unsigned v = 0;
    if (end - p < 4)
        return -1;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

/* Append a code point as UTF-8 to the key buffer, noting overflow. */
static void s_jkey_put(char *key, size_t *n, bool *over, unsigned cp)
{
    char u[4];
    size_t k;
    if (cp < 0x80) {
        u[0] = (char)cp;
        k = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        k = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        k = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        k = 4;
    }
    if (*n + k > LJSON_PTR_MAX_BYTES) {
        *over = true;
        return;
    }
    memcpy(key + *n, u, k);
    *n += k;
}

/* A string at r->p (its opening quote).  With want_key, its decoded bytes go
 * to r->key (*keylen; *over when longer than any pointer token). */
static int s_jstring(struct jreader *r, bool want_key, size_t *keylen, bool *over)
{
    const char *start = r->p;
    size_t n = 0;
    r->p++;
    for (;;) {
        if (r->p >= r->end)
            return s_jfail(r, "a string is not closed", start);
        unsigned char c = (unsigned char)*r->p;
        if (c == '"')
            break;
        if (c < 0x20)
            return s_jfail(r, "a control character inside a string", r->p);
        if (c != '\\') {
            /* bytes as they are: output need not be UTF-8 to be read */
            if (want_key && n < LJSON_PTR_MAX_BYTES)
                r->key[n++] = (char)c;
            else if (want_key)
                *over = true;
            r->p++;
            continue;
        }
        const char *esc = r->p;
        if (r->p + 1 >= r->end)
            return s_jfail(r, "a string is not closed", start);
        unsigned cp;
        switch (r->p[1]) {
        case '"': cp = '"'; break;
        case '\\': cp = '\\'; break;
        case '/': cp = '/'; break;
        case 'b': cp = '\b'; break;
        case 'f': cp = '\f'; break;
        case 'n': cp = '\n'; break;
        case 'r': cp = '\r'; break;
        case 't': cp = '\t'; break;
        case 'u':
            if (s_jhex(r->p + 2, r->end, &cp) < 0)
                return s_jfail(r, "\\u without four hex digits", esc);
            r->p += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                unsigned lo;
                if (r->end - r->p >= 8 && r->p[2] == '\\' && r->p[3] == 'u' &&
                    s_jhex(r->p + 4, r->end, &lo) == 0 && lo >= 0xDC00 && lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    r->p += 6;
                } else {
                    cp = 0xFFFD;
                }
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                cp = 0xFFFD;
            }
            break;
        default:
            return s_jfail(r, "an unknown escape in a string", esc);
        }
        r->p += 2;
        if (want_key)
            s_jkey_put(r->key, &n, over, cp);
    }
    r->p++;
    if (want_key) {
        r->key[n] = '\0';
        *keylen = n;
    }
    return 0;
}

/* A number at r->p, by RFC 8259's grammar. */
static int s_jnumber(struct jreader *r)
{
    const char *p = r->p, *e = r->end;
#define DIGITS(p) ((p) < e && *(p) >= '0' && *(p) <= '9')
    if (p < e && *p == '-')
        p++;
    if (!DIGITS(p))
        return s_jfail(r, "a number without digits", r->p);
    if (*p == '0')
        p++;
    else
        while (DIGITS(p))
            p++;
    if (p < e && *p == '.') {
        p++;
        if (!DIGITS(p))
            return s_jfail(r, "a number without digits after '.'", p);
        while (DIGITS(p))
            p++;
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < e && (*p == '+' || *p == '-'))
            p++;
        if (!DIGITS(p))
            return s_jfail(r, "a number without digits in its exponent", p);
        while (DIGITS(p))
            p++;
    }
#undef DIGITS
    r->p = p;
    return 0;
}

static int s_jliteral(struct jreader *r, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
        return s_jfail(r, "expected a value", r->p);
    r->p += n;
    return 0;
}

/* The value about to be read, at depth `level`: keep the deepest prefix of
 * the pointer seen and, at full depth, the target.  Each depth has at most
 * one value on the path (the first matching member), so plain stores do. */
static void s_jnote(struct jreader *r, bool on_path, size_t level, int type)
{
    struct ljson_found *f = r->f;
    if (!on_path)
        return;
    f->got = level;
    f->got_type = type;
    if (level == r->ptr->n) {
        f->found = true;
        f->type = type;
        f->num = r->p;
    }
}

/* After '{' / '[' or ',': read up to the next member's value (an object's
 * key and ':'), and say whether that value is on the pointer's path. */
static int s_jmember(struct jreader *r, bool *on_path)
{
    struct ljson_frame *fr = &r->stack[r->depth - 1];
    size_t d = r->depth - 1; /* this container is at depth d; its members match tok[d] */
    bool looking = fr->on_path && !fr->taken;
    bool match = false;
    if (fr->type == LJSON_OBJECT) {
        if (r->p >= r->end || *r->p != '"')
            return s_jfail(r, r->p >= r->end ? "the text ends early" : "expected a string key",
                           r->p);
        size_t klen = 0;
        bool over = false;
        if (s_jstring(r, looking, &klen, &over) < 0)
            return -1;
        match = looking && !over && klen == r->ptr->len[d] &&
                memcmp(r->key, r->ptr->tok[d], klen) == 0;
        s_jblank(r);
        if (r->p >= r->end || *r->p != ':')
            return s_jfail(r, r->p >= r->end ? "the text ends early" : "expected ':'", r->p);
        r->p++;
        s_jblank(r);
    } else {
        match = looking && fr->count == r->ptr->idx[d];
    }
    fr->count++;
    if (match)
        fr->taken = true;
    *on_path = match;
    return 0;
}

int ljson_scan(const char *text, size_t len, const struct ljson_ptr *ptr,
                       struct ljson_frame *stack, struct ljson_found *f)
{
    struct jreader r = {.s = text, .p = text, .end = text + len, .ptr = ptr, .f = f,
                        .stack = stack};
    memset(f, 0, sizeof *f);
    bool on_path = true; /* the root is every pointer's prefix */
    s_jblank(&r);
    if (r.p == r.end)
        return s_jfail(&r, "there is no JSON value", r.p);
    for (;;) {
        /* one value */
        size_t level = r.depth;
        if (r.p >= r.end)
            return s_jfail(&r, "the text ends early", r.p);
        char c = *r.p;
        bool opened = false;
        if (c == '{' || c == '[') {
            int type = c == '{' ? LJSON_OBJECT : LJSON_ARRAY;
            s_jnote(&r, on_path, level, type);
            if (r.depth == LJSON_SCAN_DEPTH)
                return s_jfail(&r, "containers nested too deeply", r.p);
            r.stack[r.depth++] = (struct ljson_frame){.type = (unsigned char)type,
                                                 .on_path = on_path && level < ptr->n};
            r.p++;
            s_jblank(&r);
            if (r.p < r.end && *r.p == (c == '{' ? '}' : ']')) {
                r.p++;
                r.depth--;
            } else {
                if (s_jmember(&r, &on_path) < 0)
                    return -1;
                opened = true;
            }
        } else if (c == '"') {
            s_jnote(&r, on_path, level, LJSON_STRING);
            if (s_jstring(&r, false, NULL, NULL) < 0)
                return -1;
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            s_jnote(&r, on_path, level, LJSON_NUMBER);
            const char *start = r.p;
            if (s_jnumber(&r) < 0)
                return -1;
            if (on_path && level == ptr->n)
                f->numlen = (size_t)(r.p - start);
        } else if (c == 't' || c == 'f' || c == 'n') {
            s_jnote(&r, on_path, level, c == 't' ? LJSON_TRUE : c == 'f' ? LJSON_FALSE : LJSON_NULL);
            if (s_jliteral(&r, c == 't' ? "true" : c == 'f' ? "false" : "null") < 0)
                return -1;
        } else {
            return s_jfail(&r, "expected a value", r.p);
        }
        if (opened)
            continue;
        /* after a value: close what ends here, then the next member or the end */
        for (;;) {
            s_jblank(&r);
            if (r.depth == 0) {
                if (r.p < r.end)
                    return s_jfail(&r, "more text after the JSON value", r.p);
                return 0;
            }
            struct ljson_frame *fr = &r.stack[r.depth - 1];
            char close = fr->type == LJSON_OBJECT ? '}' : ']';
            if (r.p >= r.end)
                return s_jfail(&r, "the text ends early", r.p);
            if (*r.p == close) {
                r.p++;
                r.depth--;
                continue;
            }
            if (*r.p != ',')
                return s_jfail(&r, fr->type == LJSON_OBJECT ? "expected ',' or '}'"
                                                         : "expected ',' or ']'", r.p);
            r.p++;
            s_jblank(&r);
            if (s_jmember(&r, &on_path) < 0)
                return -1;
            break;
        }
    }
}
