/* options.c — the one parser for benchmark options (see options.h).
 * The coordinator validates experiments with it and the worker fills plug-in
 * option structs with it, so both sides agree on every unit and message.
 */
#include "options.h"

#include "clock.h" /* NS_PER_SEC */

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Duration suffixes, longest unit first so that s_compact_duration picks the
 * largest unit that divides a value exactly. */
static const struct {
    const char *suffix;
    int64_t ns;
} s_dur_units[] = {
    {"h", 3600LL * NS_PER_SEC}, {"m", 60LL * NS_PER_SEC}, {"s", NS_PER_SEC},
    {"ms", 1000000LL},           {"us", 1000LL},            {"ns", 1LL},
};
#define N_DUR_UNITS (sizeof s_dur_units / sizeof s_dur_units[0])

static const char *const s_size_suffixes = "KMGT";

static void *s_field(void *opts, const struct opt_def *def)
{
    return (char *)opts + def->offset;
}

static const void *s_cfield(const void *opts, const struct opt_def *def)
{
    return (const char *)opts + def->offset;
}

static bool s_bounded(const struct opt_def *def)
{
    return !(def->min == 0 && def->max == 0);
}

/* Parse a run of decimal digits into *out; at least one digit, no sign, no
 * blanks.  Returns the end of the digits or NULL (no digit, or overflow). */
static const char *s_digits(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    const char *p = s;
    for (; *p >= '0' && *p <= '9'; p++) {
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return NULL;
        v = v * 10 + d;
    }
    if (p == s)
        return NULL;
    *out = v;
    return p;
}

int opt_parse_size(const char *s, uint64_t *out)
{
    uint64_t v;
    const char *p = s ? s_digits(s, &v) : NULL;
    if (!p)
        return -1;
    uint64_t mult = 1;
    if (*p) {
        const char *k = strchr(s_size_suffixes, toupper((unsigned char)*p));
        if (k) {
            for (const char *q = s_size_suffixes; q <= k; q++)
                mult *= 1024;
            p++;
            /* "4K", "4KB" and "4KiB" all mean 4096: nobody sizes blocks in 1000s. */
            if (strcasecmp(p, "iB") == 0)
                p += 2;
            else if (strcasecmp(p, "B") == 0)
                p += 1;
        } else if (strcasecmp(p, "B") == 0) {
            p += 1;
        }
    }
    if (*p)
        return -1;
    if (v > UINT64_MAX / mult)
        return -1;
    *out = v * mult;
    return 0;
}

int opt_parse_duration(const char *s, int64_t *out_ns)
{
    uint64_t whole;
    const char *p = s ? s_digits(s, &whole) : NULL;
    if (!p)
        return -1;
    /* The fraction is kept as integer nanoseconds-of-a-unit (9 digits; any
     * further digits are below a nanosecond of a second and are dropped) so
     * that "0.1s" is exactly 100000000 ns, which a double would not give. */
    int64_t frac_nano = 0;
    if (*p == '.') {
        p++;
        const char *f = p;
        int64_t scale = NS_PER_SEC / 10;
        for (; *p >= '0' && *p <= '9'; p++) {
            frac_nano += (*p - '0') * scale;
            scale /= 10;
        }
        if (p == f)
            return -1;
    }
    int64_t unit = NS_PER_SEC; /* a bare number is seconds */
    if (*p) {
        size_t i;
        for (i = 0; i < N_DUR_UNITS; i++)
            if (strcmp(p, s_dur_units[i].suffix) == 0)
                break;
        if (i == N_DUR_UNITS)
            return -1;
        unit = s_dur_units[i].ns;
    }
    /* frac_nano * unit would overflow for hours; units of a second or more
     * are whole multiples of a second, the rest divide into it. */
    int64_t frac_ns = unit >= NS_PER_SEC ? frac_nano * (unit / NS_PER_SEC)
                                          : frac_nano * unit / NS_PER_SEC;
    if (whole > (uint64_t)(INT64_MAX - frac_ns) / (uint64_t)unit)
        return -1;
    *out_ns = (int64_t)whole * unit + frac_ns;
    return 0;
}

int opt_parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    if (!s)
        return -1;
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -1;
}

/* Plain decimal integer with an optional sign; 0, -1 junk, -2 overflow. */
static int s_parse_int(const char *s, int64_t *out)
{
    if (!*s || isspace((unsigned char)*s))
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end)
        return -1;
    if (errno == ERANGE)
        return -2;
    *out = v;
    return 0;
}

static int s_parse_double(const char *s, double *out)
{
    if (!*s || isspace((unsigned char)*s))
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || !isfinite(v) || errno == ERANGE)
        return -1;
    *out = v;
    return 0;
}

/* Sizes print with the largest binary suffix that divides them: "1G", "512". */
static void s_compact_size(uint64_t v, char *buf, size_t len)
{
    int k = -1;
    while (v != 0 && v % 1024 == 0 && k < 3) {
        v /= 1024;
        k++;
    }
    if (k < 0)
        snprintf(buf, len, "%" PRIu64, v);
    else
        snprintf(buf, len, "%" PRIu64 "%c", v, s_size_suffixes[k]);
}

/* Durations print with the largest unit that divides them: "24h", "500ms". */
static void s_compact_duration(int64_t ns, char *buf, size_t len)
{
    if (ns == 0) {
        snprintf(buf, len, "0s");
        return;
    }
    for (size_t i = 0; i < N_DUR_UNITS; i++) {
        if (ns % s_dur_units[i].ns == 0) {
            snprintf(buf, len, "%" PRId64 "%s", ns / s_dur_units[i].ns, s_dur_units[i].suffix);
            return;
        }
    }
}

static int64_t s_sec_to_ns(double sec)
{
    return (int64_t)llround(sec * (double)NS_PER_SEC);
}

/* One range bound (or a value) in the option's own units. */
static void s_in_units(const struct opt_def *def, double v, char *buf, size_t len)
{
    switch (def->type) {
    case OPT_SIZE:
        s_compact_size((uint64_t)v, buf, len);
        break;
    case OPT_DURATION:
        s_compact_duration(s_sec_to_ns(v), buf, len);
        break;
    case OPT_INT:
        snprintf(buf, len, "%lld", (long long)v);
        break;
    default:
        snprintf(buf, len, "%g", v);
        break;
    }
}

static void s_range(const struct opt_def *def, char *buf, size_t len)
{
    char lo[48], hi[48];
    s_in_units(def, def->min, lo, sizeof lo);
    s_in_units(def, def->max, hi, sizeof hi);
    snprintf(buf, len, "%s..%s", lo, hi);
}

static int s_out_of_range(const struct opt_def *def, const char *shown, char *err, size_t errlen)
{
    char range[112];
    s_range(def, range, sizeof range);
    snprintf(err, errlen, "%s: %s is out of range (allowed %s)", def->name, shown, range);
    return -1;
}

static void s_choices(const struct opt_def *def, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; def->choices && def->choices[i]; i++) {
        int n = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", def->choices[i]);
        if (n < 0 || (size_t)n >= len - used)
            break;
        used += (size_t)n;
    }
}

/* --- lists: a strict JSON array of strings (see options.h) --------------- */

#define S_STR(x) #x
#define S_XSTR(x) S_STR(x)

/* Where a list's text went wrong: what, and the byte it was found at. */
struct s_jerr {
    const char *why;
    const char *at;
};

static const char *s_jerr_set(struct s_jerr *e, const char *why, const char *at)
{
    e->why = why;
    e->at = at;
    return NULL;
}

static const char *s_json_blank(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return p;
}

/* Length of the valid UTF-8 sequence at p (2..4 bytes), or 0: no overlong
 * forms, no surrogates, nothing above U+10FFFF.  Stops at a NUL, which is
 * never a continuation byte. */
static size_t s_utf8_len(const unsigned char *p)
{
    unsigned char c = p[0];
    unsigned char lo = 0x80, hi = 0xBF;
    size_t n;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else {
        return 0;
    }
    if (p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xBF)
            return 0;
    return n;
}

static int s_hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            return -1;
        v = v * 16 + d;
    }
    *out = v;
    return 0;
}

static size_t s_utf8_put(unsigned cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* One JSON string starting at its opening quote p.  Its bytes go to *out
 * (when out is not NULL) followed by a NUL, and *out moves past them; the
 * return is just past the closing quote, or NULL with e set.  A decoded
 * string is never longer than its JSON text, which bounds the output. */
static const char *s_json_string(const char *p, char **out, struct s_jerr *e)
{
    char tmp[4];
    char *w = out ? *out : NULL;
    assert(*p == '"');
    for (p++;;) {
        unsigned char c = (unsigned char)*p;
        if (c == '"')
            break;
        if (c == '\0')
            return s_jerr_set(e, "the string is not closed", p);
        if (c < 0x20)
            return s_jerr_set(e, "a control character must be escaped (\\n, \\t, \\u00XX)", p);
        if (c >= 0x80) {
            size_t n = s_utf8_len((const unsigned char *)p);
            if (!n)
                return s_jerr_set(e, "invalid UTF-8", p);
            if (w)
                memcpy(w, p, n), w += n;
            p += n;
            continue;
        }
        if (c != '\\') {
            if (w)
                *w++ = (char)c;
            p++;
            continue;
        }
        const char *esc = p;
        char one = 0;
        switch (p[1]) {
        case '"': one = '"'; break;
        case '\\': one = '\\'; break;
        case '/': one = '/'; break;
        case 'b': one = '\b'; break;
        case 'f': one = '\f'; break;
        case 'n': one = '\n'; break;
        case 'r': one = '\r'; break;
        case 't': one = '\t'; break;
        case 'u': break;
        default:
            return s_jerr_set(
                e, "unknown escape (allowed: \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)", esc);
        }
        if (one) {
            if (w)
                *w++ = one;
            p += 2;
            continue;
        }
        unsigned cp, lo;
        if (s_hex4(p + 2, &cp) < 0)
            return s_jerr_set(e, "\\u must be followed by four hex digits", esc);
        p += 6;
        if (cp == 0)
            return s_jerr_set(e, "\\u0000 is not allowed: an argument cannot hold a NUL", esc);
        if (cp >= 0xDC00 && cp <= 0xDFFF)
            return s_jerr_set(e, "a low surrogate without a high one before it", esc);
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (p[0] != '\\' || p[1] != 'u' || s_hex4(p + 2, &lo) < 0 || lo < 0xDC00 ||
                lo > 0xDFFF)
                return s_jerr_set(e, "a high surrogate without a low one after it", esc);
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            p += 6;
        }
        size_t n = s_utf8_put(cp, tmp);
        if (w)
            memcpy(w, tmp, n), w += n;
    }
    if (w) {
        *w++ = '\0';
        *out = w;
    }
    return p + 1;
}

/* Walk the array at s: count its items and, when argv is not NULL, decode
 * them into data with argv pointing at each.  0, or -1 with e set. */
static int s_json_list(const char *s, char **argv, char *data, size_t *nitems, struct s_jerr *e)
{
    const char *p = s_json_blank(s);
    size_t n = 0;
    assert(*p == '[');
    p = s_json_blank(p + 1);
    if (*p != ']') {
        for (;;) {
            if (*p != '"') {
                s_jerr_set(e, "expected a string", p);
                return -1;
            }
            if (n == OPT_LIST_MAX_ITEMS) {
                s_jerr_set(e, "more than " S_XSTR(OPT_LIST_MAX_ITEMS) " items", p);
                return -1;
            }
            if (argv)
                argv[n] = data;
            if (!(p = s_json_string(p, argv ? &data : NULL, e)))
                return -1;
            n++;
            p = s_json_blank(p);
            if (*p == ']')
                break;
            if (*p != ',') {
                s_jerr_set(e, "expected ',' or ']'", p);
                return -1;
            }
            p = s_json_blank(p + 1);
        }
    }
    p = s_json_blank(p + 1);
    if (*p) {
        s_jerr_set(e, "text after the closing ']'", p);
        return -1;
    }
    if (argv)
        argv[n] = NULL;
    *nitems = n;
    return 0;
}

/* Up to 40 bytes of a value for a message, control characters shown as '?'. */
static void s_preview(const char *v, char *buf, size_t len)
{
    size_t n = strlen(v), k = n > 40 ? 40 : n;
    while (k < n && k > 0 && ((unsigned char)v[k] & 0xC0) == 0x80)
        k--; /* not in the middle of a character */
    snprintf(buf, len, "%.*s%s", (int)k, v, n > 40 ? "..." : "");
    for (char *c = buf; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
}

static int s_parse_list(const struct opt_def *def, const char *value, char ***out, char *err,
                        size_t errlen)
{
    char shown[64];
    size_t len = strlen(value);
    s_preview(value, shown, sizeof shown);
    if (*s_json_blank(value) != '[') {
        snprintf(err, errlen, "%s: '%s' is not a list of strings (write a JSON array, e.g. "
                              "[\"sh\", \"-c\", \"echo hi\"])", def->name, shown);
        return -1;
    }
    if (len > OPT_LIST_MAX_BYTES) {
        snprintf(err, errlen, "%s: the list is %zu bytes long (at most %d allowed)", def->name,
                 len, OPT_LIST_MAX_BYTES);
        return -1;
    }
    struct s_jerr e = {0};
    size_t n;
    if (s_json_list(value, NULL, NULL, &n, &e) < 0) {
        snprintf(err, errlen, "%s: '%s' is not a list of strings: %s at byte %zu", def->name,
                 shown, e.why, (size_t)(e.at - value) + 1);
        return -1;
    }
    /* One block, pointers then bytes, so opt_free frees it with one call and
     * the result can go to execve() as it is. */
    char **argv = malloc((n + 1) * sizeof *argv + len + 1);
    if (!argv) {
        snprintf(err, errlen, "%s: out of memory", def->name);
        return -1;
    }
    int rc = s_json_list(value, argv, (char *)(argv + n + 1), &n, &e);
    assert(rc == 0);
    (void)rc;
    *out = argv;
    return 0;
}

/* Write the canonical JSON of n strings to buf (as snprintf: the full length
 * is returned even when buf is too small; buf may be NULL when len is 0). */
static size_t s_list_write(const char *const *items, size_t n, char *buf, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t used = 0;
#define PUT(ch)                                                                                    \
    do {                                                                                           \
        if (used + 1 < len)                                                                        \
            buf[used] = (ch);                                                                      \
        used++;                                                                                    \
    } while (0)
    PUT('[');
    for (size_t i = 0; i < n; i++) {
        if (i)
            PUT(',');
        PUT('"');
        for (const unsigned char *c = (const unsigned char *)items[i]; *c; c++) {
            const char *esc = NULL;
            switch (*c) {
            case '"': esc = "\\\""; break;
            case '\\': esc = "\\\\"; break;
            case '\b': esc = "\\b"; break;
            case '\f': esc = "\\f"; break;
            case '\n': esc = "\\n"; break;
            case '\r': esc = "\\r"; break;
            case '\t': esc = "\\t"; break;
            default: break;
            }
            if (esc) {
                PUT(esc[0]);
                PUT(esc[1]);
            } else if (*c < 0x20) {
                PUT('\\');
                PUT('u');
                PUT('0');
                PUT('0');
                PUT(hex[*c >> 4]);
                PUT(hex[*c & 15]);
            } else {
                PUT((char)*c);
            }
        }
        PUT('"');
    }
    PUT(']');
#undef PUT
    if (len)
        buf[used < len ? used : len - 1] = '\0';
    return used;
}

char *opt_list_json(const char *const *items, size_t n)
{
    assert(items || n == 0);
    size_t need = s_list_write(items, n, NULL, 0);
    char *s = malloc(need + 1);
    if (s)
        s_list_write(items, n, s, need + 1);
    return s;
}

const struct opt_def *opt_find(const struct opt_def *defs, const char *name)
{
    if (!defs || !name)
        return NULL;
    for (; defs->name; defs++)
        if (strcmp(defs->name, name) == 0)
            return defs;
    return NULL;
}

int opt_parse(const struct opt_def *def, void *opts, const char *value, char *err, size_t errlen)
{
    assert(def && def->name && opts);
    if (!value) {
        snprintf(err, errlen, "%s: no value given", def->name);
        return -1;
    }
    void *field = s_field(opts, def);
    char shown[64];

    switch (def->type) {
    case OPT_INT: {
        int64_t v;
        int rc = s_parse_int(value, &v);
        if (rc < 0) {
            snprintf(err, errlen, "%s: '%s' is %s", def->name, value,
                     rc == -2 ? "too large for an integer" : "not an integer");
            return -1;
        }
        if (s_bounded(def) && ((double)v < def->min || (double)v > def->max)) {
            snprintf(shown, sizeof shown, "%" PRId64, v);
            return s_out_of_range(def, shown, err, errlen);
        }
        *(int64_t *)field = v;
        return 0;
    }
    case OPT_SIZE: {
        uint64_t v;
        if (opt_parse_size(value, &v) < 0) {
            snprintf(err, errlen,
                     "%s: '%s' is not a size (a number with an optional K, M, G or T suffix)",
                     def->name, value);
            return -1;
        }
        if (s_bounded(def) && ((double)v < def->min || (double)v > def->max)) {
            s_compact_size(v, shown, sizeof shown);
            return s_out_of_range(def, shown, err, errlen);
        }
        *(uint64_t *)field = v;
        return 0;
    }
    case OPT_DURATION: {
        int64_t v;
        if (opt_parse_duration(value, &v) < 0) {
            snprintf(err, errlen,
                     "%s: '%s' is not a duration (seconds, or a number with an ns, us, ms, s, "
                     "m or h suffix)",
                     def->name, value);
            return -1;
        }
        if (s_bounded(def) && (v < s_sec_to_ns(def->min) || v > s_sec_to_ns(def->max))) {
            s_compact_duration(v, shown, sizeof shown);
            return s_out_of_range(def, shown, err, errlen);
        }
        *(int64_t *)field = v;
        return 0;
    }
    case OPT_DOUBLE: {
        double v;
        if (s_parse_double(value, &v) < 0) {
            snprintf(err, errlen, "%s: '%s' is not a number", def->name, value);
            return -1;
        }
        if (s_bounded(def) && (v < def->min || v > def->max)) {
            snprintf(shown, sizeof shown, "%g", v);
            return s_out_of_range(def, shown, err, errlen);
        }
        *(double *)field = v;
        return 0;
    }
    case OPT_BOOL:
        if (opt_parse_bool(value, (bool *)field) < 0) {
            snprintf(err, errlen, "%s: '%s' is not a boolean (true/false, yes/no, on/off, 1/0)",
                     def->name, value);
            return -1;
        }
        return 0;
    case OPT_STR: {
        char *copy = strdup(value);
        if (!copy) {
            snprintf(err, errlen, "%s: out of memory", def->name);
            return -1;
        }
        free(*(char **)field);
        *(char **)field = copy;
        return 0;
    }
    case OPT_ENUM:
        assert(def->choices && def->choices[0]);
        for (int i = 0; def->choices[i]; i++) {
            if (strcmp(def->choices[i], value) == 0) {
                *(int *)field = i;
                return 0;
            }
        }
        char list[160];
        s_choices(def, list, sizeof list);
        snprintf(err, errlen, "%s: '%s' is not one of %s", def->name, value, list);
        return -1;
    case OPT_LIST: {
        char **parsed;
        if (s_parse_list(def, value, &parsed, err, errlen) < 0)
            return -1;
        free(*(char ***)field);
        *(char ***)field = parsed;
        return 0;
    }
    }
    assert(!"unknown option type");
    return -1;
}

int opt_set_defaults(const struct opt_def *defs, void *opts, char *err, size_t errlen)
{
    for (const struct opt_def *d = defs; d && d->name; d++) {
        if (!d->def)
            continue; /* left as the caller zeroed it: 0, false, NULL */
        char why[200];
        if (opt_parse(d, opts, d->def, why, sizeof why) < 0) {
            snprintf(err, errlen, "bad default for option %s: %s", d->name, why);
            return -1;
        }
    }
    return 0;
}

/* Shortest "%.*g" that reads back as the same double. */
static int s_format_double(double v, char *buf, size_t len)
{
    int n = 0;
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(buf, len, "%.*g", prec, v);
        if (n >= 0 && (size_t)n < len && strtod(buf, NULL) == v)
            break;
    }
    return n;
}

/* Seconds with up to 9 decimals, trailing zeros trimmed: "10", "0.5". */
static int s_format_seconds(int64_t ns, char *buf, size_t len)
{
    const char *sign = ns < 0 ? "-" : "";
    uint64_t a = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;
    uint64_t whole = a / NS_PER_SEC, frac = a % NS_PER_SEC;
    if (frac == 0)
        return snprintf(buf, len, "%s%" PRIu64, sign, whole);
    int digits = 9;
    while (frac % 10 == 0) {
        frac /= 10;
        digits--;
    }
    return snprintf(buf, len, "%s%" PRIu64 ".%0*" PRIu64, sign, whole, digits, frac);
}

int opt_format(const struct opt_def *def, const void *opts, char *buf, size_t len)
{
    assert(def && opts && buf && len > 0);
    const void *field = s_cfield(opts, def);
    int n = -1;
    switch (def->type) {
    case OPT_INT:
        n = snprintf(buf, len, "%" PRId64, *(const int64_t *)field);
        break;
    case OPT_SIZE:
        n = snprintf(buf, len, "%" PRIu64, *(const uint64_t *)field);
        break;
    case OPT_DURATION:
        n = s_format_seconds(*(const int64_t *)field, buf, len);
        break;
    case OPT_DOUBLE:
        n = s_format_double(*(const double *)field, buf, len);
        break;
    case OPT_BOOL:
        n = snprintf(buf, len, "%s", *(const bool *)field ? "true" : "false");
        break;
    case OPT_STR: {
        const char *s = *(char *const *)field;
        n = snprintf(buf, len, "%s", s ? s : "");
        break;
    }
    case OPT_ENUM: {
        int i = *(const int *)field;
        int count = 0;
        while (def->choices && def->choices[count])
            count++;
        assert(i >= 0 && i < count);
        n = snprintf(buf, len, "%s", def->choices[i]);
        break;
    }
    case OPT_LIST: {
        char *const *list = *(char **const *)field;
        size_t count = 0;
        while (list && list[count])
            count++;
        size_t need = s_list_write((const char *const *)list, count, buf, len);
        n = need > INT_MAX ? -1 : (int)need;
        break;
    }
    }
    return (n < 0 || (size_t)n >= len) ? -1 : 0;
}

void opt_describe(const struct opt_def *def, char *buf, size_t len)
{
    static const char *const names[] = {
        [OPT_INT] = "integer", [OPT_SIZE] = "size",     [OPT_DURATION] = "duration",
        [OPT_DOUBLE] = "number", [OPT_BOOL] = "boolean", [OPT_STR] = "string",
        [OPT_LIST] = "list of strings",
    };
    assert(def && buf && len > 0);
    if (def->type == OPT_ENUM) {
        char list[160];
        s_choices(def, list, sizeof list);
        snprintf(buf, len, "one of %s", list);
        return;
    }
    bool ranged = def->type == OPT_INT || def->type == OPT_SIZE || def->type == OPT_DURATION ||
                  def->type == OPT_DOUBLE;
    if (ranged && s_bounded(def)) {
        char range[112];
        s_range(def, range, sizeof range);
        snprintf(buf, len, "%s, %s", names[def->type], range);
    } else {
        snprintf(buf, len, "%s", names[def->type]);
    }
}

void opt_free(const struct opt_def *defs, void *opts)
{
    if (!opts)
        return;
    for (const struct opt_def *d = defs; d && d->name; d++) {
        if (d->type == OPT_STR) {
            char **p = s_field(opts, d);
            free(*p);
            *p = NULL;
        } else if (d->type == OPT_LIST) {
            char ***p = s_field(opts, d);
            free(*p); /* one block: see s_parse_list */
            *p = NULL;
        }
    }
}
