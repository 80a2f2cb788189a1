/* expect.c — parse and evaluate expectations ("cpu: qemu < 0.5 * native").
 *
 *   expectation := PHASE ':' side op side [tolerance]
 *   side        := NUMBER | PLATFORM | NUMBER ('*' | '×') PLATFORM | PLATFORM ('*' | '×') NUMBER
 *   op          := '<' | '<=' | '≤' | '>' | '>=' | '≥' | '≈' | '~='
 *   tolerance   := ('±' | '+-') NUMBER ['%']        (with ≈ only, and required there)
 *
 * A side names a platform's median of the phase's headline metric, or a
 * constant in that metric's unit; at least one side names a platform. */
#include "expect.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

struct cursor {
    const char *text, *p;
    char *err;
    size_t errlen;
    const char *errat;
};

/* 0-based character offset of byte p in text (UTF-8 continuation bytes do
 * not start a character; libyaml counts columns the same way). */
static size_t s_chars(const char *text, const char *p)
{
    size_t n = 0;
    for (const char *q = text; q < p && *q; q++)
        n += ((unsigned char)*q & 0xC0) != 0x80;
    return n;
}

static int s_fail(struct cursor *c, const char *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int s_fail(struct cursor *c, const char *at, const char *fmt, ...)
{
    if (!c->errat) {
        c->errat = at;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->err, c->errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static void s_ws(struct cursor *c)
{
    while (*c->p == ' ' || *c->p == '\t')
        c->p++;
}

static bool s_eat(struct cursor *c, const char *tok)
{
    size_t n = strlen(tok);
    if (strncmp(c->p, tok, n) != 0)
        return false;
    c->p += n;
    return true;
}

/* What the cursor points at, for messages: the next word or symbol. */
static const char *s_here(const struct cursor *c, char *buf, size_t len)
{
    if (!*c->p)
        return "the end";
    size_t n = 0;
    while (c->p[n] && c->p[n] != ' ' && c->p[n] != '\t' && n + 1 < len && n < 16)
        n++;
    snprintf(buf, len, "'%.*s'", (int)n, c->p);
    return buf;
}

static bool s_name_char(char ch, bool first)
{
    if (isalpha((unsigned char)ch) || ch == '_')
        return true;
    return !first && (isdigit((unsigned char)ch) || ch == '.' || ch == '-');
}

/* A phase or platform name; what says what was expected, for the message. */
static int s_name(struct cursor *c, char *out, size_t len, const char *what)
{
    const char *start = c->p;
    char buf[32];
    if (!s_name_char(*c->p, true))
        return s_fail(c, c->p, "expected %s, found %s", what, s_here(c, buf, sizeof buf));
    while (s_name_char(*c->p, false))
        c->p++;
    if ((size_t)(c->p - start) >= len)
        return s_fail(c, start, "name too long (at most %zu characters)", len - 1);
    memcpy(out, start, (size_t)(c->p - start));
    out[c->p - start] = '\0';
    return 0;
}

/* A plain decimal: 12, 0.5, .5, 1e3.  No sign, no hex, no inf. */
static bool s_number(struct cursor *c, double *out)
{
    const char *q = c->p;
    size_t digits = 0;
    while (isdigit((unsigned char)*q)) {
        q++;
        digits++;
    }
    if (*q == '.') {
        q++;
        while (isdigit((unsigned char)*q)) {
            q++;
            digits++;
        }
    }
    if (digits == 0)
        return false;
    if (*q == 'e' || *q == 'E') {
        const char *e = q + 1;
        if (*e == '+' || *e == '-')
            e++;
        if (isdigit((unsigned char)*e)) {
            while (isdigit((unsigned char)*e))
                e++;
            q = e;
        }
    }
    char buf[64];
    size_t n = (size_t)(q - c->p);
    if (n >= sizeof buf)
        return false;
    memcpy(buf, c->p, n);
    buf[n] = '\0';
    *out = strtod(buf, NULL);
    if (!isfinite(*out))
        return false;
    c->p = q;
    return true;
}

static bool s_times(struct cursor *c)
{
    s_ws(c);
    return s_eat(c, "*") || s_eat(c, "\xc3\x97"); /* × */
}

static int s_side(struct cursor *c, struct expect_side *side)
{
    char buf[32];
    s_ws(c);
    side->factor = 1;
    side->platform[0] = '\0';
    if (s_number(c, &side->factor)) {
        const char *save = c->p;
        if (!s_times(c)) {
            c->p = save; /* a constant */
            return 0;
        }
        s_ws(c);
        return s_name(c, side->platform, sizeof side->platform, "a platform after '*'");
    }
    if (!s_name_char(*c->p, true))
        return s_fail(c, c->p, "expected a platform or a number, found %s",
                      s_here(c, buf, sizeof buf));
    if (s_name(c, side->platform, sizeof side->platform, "a platform") != 0)
        return -1;
    const char *save = c->p;
    if (!s_times(c)) {
        c->p = save;
        return 0;
    }
    s_ws(c);
    if (!s_number(c, &side->factor))
        return s_fail(c, c->p, "expected a number after '*', found %s",
                      s_here(c, buf, sizeof buf));
    return 0;
}

static const struct {
    const char *tok;
    expect_op_t op;
} s_ops[] = {
    /* longest first: "<=" before "<" */
    { "<=", EXPECT_LE },           { ">=", EXPECT_GE },           { "~=", EXPECT_APPROX },
    { "\xe2\x89\xa4", EXPECT_LE }, { "\xe2\x89\xa5", EXPECT_GE }, { "\xe2\x89\x88", EXPECT_APPROX },
    { "<", EXPECT_LT },            { ">", EXPECT_GT },
};

int expect_parse(const char *text, struct expectation *e, char *err, size_t errlen,
                 size_t *errcol)
{
    struct cursor c = { .text = text, .p = text, .err = err, .errlen = errlen };
    char buf[32];
    memset(e, 0, sizeof *e);
    int rc = 0;
    s_ws(&c);
    if (s_name(&c, e->phase, sizeof e->phase,
               "'PHASE: PLATFORM OP PLATFORM', e.g. 'cpu: qemu < 0.5 * native'") != 0) {
        rc = -1;
        goto out;
    }
    s_ws(&c);
    if (!s_eat(&c, ":")) {
        rc = s_fail(&c, c.p, "expected ':' after the phase name, found %s",
                    s_here(&c, buf, sizeof buf));
        goto out;
    }
    s_ws(&c);
    const char *lhs_at = c.p;
    if (s_side(&c, &e->lhs) != 0) {
        rc = -1;
        goto out;
    }
    s_ws(&c);
    size_t i;
    for (i = 0; i < sizeof s_ops / sizeof s_ops[0]; i++)
        if (s_eat(&c, s_ops[i].tok))
            break;
    if (i == sizeof s_ops / sizeof s_ops[0]) {
        rc = s_fail(&c, c.p, "expected a comparison (<, <=, >, >=, ≈ or ~=), found %s",
                    s_here(&c, buf, sizeof buf));
        goto out;
    }
    e->op = s_ops[i].op;
    if (s_side(&c, &e->rhs) != 0) {
        rc = -1;
        goto out;
    }
    s_ws(&c);
    const char *tol_at = c.p;
    bool has_tol = s_eat(&c, "\xc2\xb1") || s_eat(&c, "+-"); /* ± */
    if (has_tol && e->op != EXPECT_APPROX) {
        rc = s_fail(&c, tol_at, "a tolerance (±) goes with ≈ only");
        goto out;
    }
    if (!has_tol && e->op == EXPECT_APPROX) {
        rc = s_fail(&c, c.p, "≈ needs a tolerance, e.g. '± 10%%', found %s",
                    s_here(&c, buf, sizeof buf));
        goto out;
    }
    if (has_tol) {
        s_ws(&c);
        if (!s_number(&c, &e->tol)) {
            rc = s_fail(&c, c.p, "expected a tolerance after '±' (a number, or a percentage "
                                 "like 10%%), found %s",
                        s_here(&c, buf, sizeof buf));
            goto out;
        }
        s_ws(&c);
        e->tol_percent = s_eat(&c, "%");
    }
    s_ws(&c);
    if (*c.p) {
        rc = s_fail(&c, c.p, "unexpected %s after the expectation", s_here(&c, buf, sizeof buf));
        goto out;
    }
    if (!e->lhs.platform[0] && !e->rhs.platform[0])
        rc = s_fail(&c, lhs_at, "the expectation names no platform (compare a platform "
                                "with another or with a number)");
out:
    if (rc != 0 && errcol)
        *errcol = s_chars(text, c.errat ? c.errat : c.p);
    return rc;
}

static const char *s_op_text(expect_op_t op)
{
    switch (op) {
    case EXPECT_LT:
        return "<";
    case EXPECT_LE:
        return "≤";
    case EXPECT_GT:
        return ">";
    case EXPECT_GE:
        return "≥";
    case EXPECT_APPROX:
        break;
    }
    return "≈";
}

static void s_side_text(const struct expect_side *s, char *buf, size_t len)
{
    char f[32];
    stats_format(s->factor, f, sizeof f);
    if (!s->platform[0])
        snprintf(buf, len, "%s", f);
    else if (s->factor == 1)
        snprintf(buf, len, "%s", s->platform);
    else
        snprintf(buf, len, "%s × %s", f, s->platform);
}

void expect_format(const struct expectation *e, char *buf, size_t len)
{
    char l[160], r[160], t[40] = "";
    s_side_text(&e->lhs, l, sizeof l);
    s_side_text(&e->rhs, r, sizeof r);
    if (e->op == EXPECT_APPROX) {
        char n[32];
        stats_format(e->tol, n, sizeof n);
        snprintf(t, sizeof t, " ± %s%s", n, e->tol_percent ? "%" : "");
    }
    snprintf(buf, len, "%s: %s %s %s%s", e->phase, l, s_op_text(e->op), r, t);
}

const char *expect_verdict_name(expect_verdict_t v)
{
    return v == EXPECT_CONFIRMED ? "confirmed" : v == EXPECT_REFUTED ? "refuted" : "no data";
}

/* The side's value, and its text with the numbers ("0.5 × native 1510 = 755"). */
static bool s_side_value(const struct expectation *e, const struct expect_side *s,
                         expect_lookup_fn lookup, void *ctx, double *v, char *buf, size_t len)
{
    char f[32], m[32], r[32];
    stats_format(s->factor, f, sizeof f);
    if (!s->platform[0]) {
        *v = s->factor;
        snprintf(buf, len, "%s", f);
        return true;
    }
    double med;
    if (!lookup(ctx, e->phase, s->platform, &med) || !isfinite(med)) {
        snprintf(buf, len, "no result of phase %s on platform %s", e->phase, s->platform);
        return false;
    }
    *v = s->factor * med;
    stats_format(med, m, sizeof m);
    stats_format(*v, r, sizeof r);
    if (s->factor == 1)
        snprintf(buf, len, "%s %s", s->platform, m);
    else
        snprintf(buf, len, "%s × %s %s = %s", f, s->platform, m, r);
    return true;
}

expect_verdict_t expect_eval(const struct expectation *e, expect_lookup_fn lookup, void *ctx,
                             char *why, size_t whylen)
{
    char l[256], r[256];
    double lv = 0, rv = 0;
    bool lok = s_side_value(e, &e->lhs, lookup, ctx, &lv, l, sizeof l);
    bool rok = s_side_value(e, &e->rhs, lookup, ctx, &rv, r, sizeof r);
    if (!lok || !rok) {
        snprintf(why, whylen, "%s%s%s", !lok ? l : "", !lok && !rok ? "; " : "", !rok ? r : "");
        return EXPECT_NO_DATA;
    }
    bool ok = false;
    char extra[192] = "";
    switch (e->op) {
    case EXPECT_LT:
        ok = lv < rv;
        break;
    case EXPECT_LE:
        ok = lv <= rv;
        break;
    case EXPECT_GT:
        ok = lv > rv;
        break;
    case EXPECT_GE:
        ok = lv >= rv;
        break;
    case EXPECT_APPROX: {
        double allowed = e->tol_percent ? e->tol / 100 * fabs(rv) : e->tol;
        ok = fabs(lv - rv) <= allowed;
        char t[32], lo[32], hi[32];
        stats_format(e->tol, t, sizeof t);
        stats_format(rv - allowed, lo, sizeof lo);
        stats_format(rv + allowed, hi, sizeof hi);
        if (rv != 0)
            snprintf(extra, sizeof extra, " ± %s%s (%s to %s); differs by %+.1f%%", t,
                     e->tol_percent ? "%" : "", lo, hi, 100 * (lv - rv) / fabs(rv));
        else
            snprintf(extra, sizeof extra, " ± %s%s (%s to %s)", t, e->tol_percent ? "%" : "",
                     lo, hi);
        break;
    }
    }
    char tail[256] = "";
    if (e->op == EXPECT_APPROX) {
        snprintf(tail, sizeof tail, "%s", extra);
    } else if (e->lhs.platform[0] && e->rhs.platform[0] && rv != 0 && e->lhs.factor != 0) {
        /* the ratio of the medians themselves, without the factors */
        char q[32];
        stats_format((lv / e->lhs.factor) / (rv / e->rhs.factor), q, sizeof q);
        snprintf(tail, sizeof tail, "; %s/%s = %s", e->lhs.platform, e->rhs.platform, q);
    }
    snprintf(why, whylen, "%s %s%s %s%s", l, ok ? "" : "is not ", s_op_text(e->op), r, tail);
    return ok ? EXPECT_CONFIRMED : EXPECT_REFUTED;
}
