/* json.c — JSON through jansson and RFC 6901 pointers (see json.h): a
 * well-kept parser instead of hand-written readers, and one pointer syntax
 * for every place a user or a benchmark names a value inside a document.
 */
#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ljson_ptr_parse(const char *s, struct ljson_ptr *p)
{
    size_t len = strlen(s);
    p->n = 0;
    if (len == 0)
        return 0;
    if (s[0] != '/' || len > LJSON_PTR_MAX_BYTES)
        return -1;
    char *w = p->buf;
    for (const char *c = s; *c;) {
        if (p->n == LJSON_PTR_MAX_TOKENS)
            return -1;
        c++; /* the '/' */
        char *start = w;
        for (; *c && *c != '/'; c++) {
            if (*c != '~') {
                *w++ = *c;
                continue;
            }
            c++;
            if (*c == '0')
                *w++ = '~';
            else if (*c == '1')
                *w++ = '/';
            else
                return -1;
        }
        *w++ = '\0';
        size_t n = (size_t)(w - 1 - start);
        long long idx = -1;
        if (n > 0 && n <= 18 && strspn(start, "0123456789") == n && (n == 1 || start[0] != '0'))
            idx = strtoll(start, NULL, 10);
        p->tok[p->n] = start;
        p->len[p->n] = n;
        p->idx[p->n] = idx;
        p->n++;
    }
    return 0;
}

json_t *ljson_load(const char *text, size_t len, char *err, size_t errlen)
{
    /* jansson says "unexpected token near end of file" of a blank text: a
     * program that printed nothing deserves plainer words */
    size_t blank = 0;
    while (blank < len && (text[blank] == ' ' || text[blank] == '\t' || text[blank] == '\n' ||
                           text[blank] == '\r'))
        blank++;
    if (blank == len) {
        if (errlen)
            snprintf(err, errlen, "there is no JSON value (%zu bytes, all blank)", len);
        return NULL;
    }
    /* jansson stops at a NUL byte as at the end ("4\0x" would read as 4) or
     * calls it the end of the file: JSON text never holds one, say so */
    const char *nul = memchr(text, '\0', len);
    if (nul) {
        if (errlen)
            snprintf(err, errlen, "a NUL byte, which JSON text never holds, at byte %zu",
                     (size_t)(nul - text) + 1);
        return NULL;
    }
    json_error_t e;
    /* JSON_DECODE_ANY: a bare number is a document too (a tool that prints
     * only its figure).  Duplicate keys are left to jansson (the last one
     * wins), as every JSON writer we read writes each key once. */
    json_t *root = json_loadb(text, len, JSON_DECODE_ANY, &e);
    if (!root && errlen)
        snprintf(err, errlen, "%s at line %d, column %d (byte %d)", e.text, e.line, e.column,
                 e.position);
    return root;
}

bool ljson_error_token(const json_error_t *e, const char *text, size_t len, size_t *start,
                       size_t *toklen)
{
    const char *near = strstr(e->text, " near '");
    size_t n = near ? strlen(near + 7) : 0;
    if (!n || near[7 + n - 1] != '\'' || e->position < 0)
        return false;
    n--; /* the closing quote */
    size_t end = (size_t)e->position;
    if (end > len || end < n || memcmp(text + end - n, near + 7, n) != 0)
        return false;
    *start = end - n;
    *toklen = n;
    return true;
}

json_t *ljson_get_parsed(const json_t *root, const struct ljson_ptr *p)
{
    const json_t *v = root;
    for (size_t i = 0; v && i < p->n; i++) {
        if (json_is_object(v))
            v = json_object_getn(v, p->tok[i], p->len[i]);
        else if (json_is_array(v) && p->idx[i] >= 0 && (size_t)p->idx[i] < json_array_size(v))
            v = json_array_get(v, (size_t)p->idx[i]);
        else
            v = NULL;
    }
    return (json_t *)v;
}

json_t *ljson_get(const json_t *root, const char *ptr)
{
    struct ljson_ptr p;
    return ljson_ptr_parse(ptr, &p) == 0 ? ljson_get_parsed(root, &p) : NULL;
}

bool ljson_number(const json_t *root, const char *ptr, double *out)
{
    const json_t *v = root ? ljson_get(root, ptr) : NULL;
    if (!json_is_number(v))
        return false;
    *out = json_number_value(v);
    return true;
}

const char *ljson_string(const json_t *root, const char *ptr)
{
    const json_t *v = root ? ljson_get(root, ptr) : NULL;
    return json_string_value(v); /* NULL when v is not a string */
}
