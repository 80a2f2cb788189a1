/* options.c — the one parser for benchmark options (see options.h).
 * The coordinator validates experiments with it and the worker fills plug-in
 * option structs with it, so both sides agree on every unit and message.
 */
#include "options.h"

#include "clock.h" /* NS_PER_SEC */
#include "json.h"

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

/* jansson reads the text; what it refuses is said in this file's words,
 * which name the byte an argument went wrong at (the tests pin them). */

#define S_STR(x) #x
#define S_XSTR(x) S_STR(x)

/* Where a list's text went wrong: what, and the offset it was found at. */
struct s_jerr {
    const char *why;
    size_t at;
    char buf[64]; /* for a why made up on the spot */
};

static const char *s_json_blank(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return p;
}

/* The offset in a string token of its first \uXXXX escape of value cp
 * (what jansson refused), or of its first escape at all when there is none. */
static size_t s_escape_at(const char *tok, size_t len, unsigned long cp)
{
    size_t first = 0;
    for (size_t i = 1; i + 1 < len; i++) {
        if (tok[i] != '\\')
            continue;
        first = first ? first : i;
        char hex[5] = {0};
        if (tok[i + 1] == 'u' && i + 6 <= len) {
            memcpy(hex, tok + i + 2, 4);
            if (strspn(hex, "0123456789abcdefABCDEF") == 4 && strtoul(hex, NULL, 16) == cp)
                return i;
        }
        i++; /* the escaped character */
    }
    return first;
}

/* A refused \u escape: a lone surrogate, or \u0000. */
static void s_unicode_why(const char *text, const json_error_t *je, struct s_jerr *e,
                          size_t start, const char *tok, size_t toklen)
{
    unsigned long cp = 0;
    const char *u = strstr(text, "'\\u"); /* "invalid Unicode '\uDC00'" */
    if (u && strlen(u) >= 8)
        cp = strtoul(u + 3, NULL, 16);
    else
        u = "'\\u0000'";
    if (json_error_code(je) == json_error_null_character)
        e->why = "\\u0000 is not allowed: an argument cannot hold a NUL";
    else if (cp >= 0xDC00 && cp <= 0xDFFF && u[7] == '\'') /* alone, not a pair */
        e->why = "a low surrogate without a high one before it";
    else
        e->why = "a high surrogate without a low one after it";
    if (tok)
        e->at = start + s_escape_at(tok, toklen, cp);
}

/* jansson's refusal of value, in this file's words. */
static void s_list_why(const char *value, const json_error_t *je, struct s_jerr *e)
{
    size_t len = strlen(value), start = 0, toklen = 0;
    bool have = ljson_error_token(je, value, len, &start, &toklen);
    const char *tok = have ? value + start : NULL, *t = je->text;
    size_t pos = je->position > 0 ? (size_t)je->position : 0;
    e->at = have ? start : pos;
    switch (json_error_code(je)) {
    case json_error_invalid_utf8:
        e->why = "invalid UTF-8";
        e->at = pos;
        return;
    case json_error_null_character:
        s_unicode_why(t, je, e, start, tok, toklen);
        return;
    case json_error_end_of_input_expected:
        e->why = "text after the closing ']'";
        return;
    case json_error_premature_end_of_input:
        e->why = tok && tok[0] == '"' ? "the string is not closed" : "the list is not closed";
        e->at = pos;
        return;
    default:
        break;
    }
    if (strncmp(t, "']' expected", 12) == 0) {
        e->why = "expected ',' or ']'";
    } else if (strncmp(t, "unexpected newline", 18) == 0 ||
               strncmp(t, "control character", 17) == 0) {
        e->why = "a control character must be escaped (\\n, \\t, \\u00XX)";
        e->at = pos; /* jansson stops on it */
    } else if (strncmp(t, "invalid escape", 14) == 0) {
        const char *bs = NULL;
        for (size_t i = 0; tok && i < toklen; i++)
            bs = tok[i] == '\\' ? tok + i : bs;
        e->at = bs ? (size_t)(bs - value) : pos >= 2 ? pos - 2 : 0;
        e->why = bs && bs[1] == 'u'
                     ? "\\u must be followed by four hex digits"
                     : "unknown escape (allowed: \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)";
    } else if (strncmp(t, "invalid Unicode", 15) == 0) {
        s_unicode_why(t, je, e, start, tok, toklen);
    } else {
        e->why = "expected a string";
    }
}

/* The items of a parsed document, or a reason it is not a list of strings. */
static int s_list_items(const json_t *root, struct s_jerr *e, size_t *nbytes)
{
    size_t n = json_array_size(root);
    assert(json_is_array(root)); /* the text starts with '[' */
    if (n > OPT_LIST_MAX_ITEMS) {
        e->why = "more than " S_XSTR(OPT_LIST_MAX_ITEMS) " items";
        return -1;
    }
    *nbytes = 0;
    for (size_t i = 0; i < n; i++) {
        const json_t *v = json_array_get(root, i);
        if (!json_is_string(v)) {
            snprintf(e->buf, sizeof e->buf, "item %zu is not a string", i + 1);
            e->why = e->buf;
            return -1;
        }
        *nbytes += json_string_length(v) + 1;
    }
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
    json_error_t je;
    json_t *root = json_loads(value, 0, &je); /* no \u0000: an argument cannot hold a NUL */
    struct s_jerr e = {0};
    size_t nbytes = 0;
    if (!root)
        s_list_why(value, &je, &e);
    if (!root || s_list_items(root, &e, &nbytes) < 0) {
        json_decref(root);
        snprintf(err, errlen, "%s: '%s' is not a list of strings: %s", def->name, shown, e.why);
        size_t used = strlen(err);
        if (root == NULL && used < errlen)
            snprintf(err + used, errlen - used, " at byte %zu", e.at + 1);
        return -1;
    }
    /* One block, pointers then bytes, so opt_free frees it with one call and
     * the result can go to execve() as it is. */
    size_t n = json_array_size(root);
    char **argv = malloc((n + 1) * sizeof *argv + nbytes);
    if (!argv) {
        json_decref(root);
        snprintf(err, errlen, "%s: out of memory", def->name);
        return -1;
    }
    char *w = (char *)(argv + n + 1);
    for (size_t i = 0; i < n; i++) {
        const json_t *v = json_array_get(root, i);
        argv[i] = memcpy(w, json_string_value(v), json_string_length(v) + 1);
        w += json_string_length(v) + 1;
    }
    argv[n] = NULL;
    json_decref(root);
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

/* The numeric types: the value in its unit, then its range. */
static int s_parse_number(const struct opt_def *def, void *field, const char *value, char *err,
                          size_t errlen)
{
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
    default:
        break;
    }
    assert(!"not a numeric option");
    return -1;
}

int opt_parse(const struct opt_def *def, void *opts, const char *value, char *err, size_t errlen)
{
    assert(def && def->name && opts);
    if (!value) {
        snprintf(err, errlen, "%s: no value given", def->name);
        return -1;
    }
    void *field = s_field(opts, def);

    switch (def->type) {
    case OPT_INT:
    case OPT_SIZE:
    case OPT_DURATION:
    case OPT_DOUBLE:
        return s_parse_number(def, field, value, err, errlen);
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
