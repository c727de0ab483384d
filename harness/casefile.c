/* Case files: the writer and the strict, line-oriented parser (format in
 * casefile.h and corpus/README.md).
 *
 * The parser reads untrusted text (it is fuzzed): every size is checked
 * before use, arrays grow with the input actually read rather than with the
 * sizes the file claims, and every error names its line.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L   /* mkstemp, fdopen, fsync */
#endif
#include "casefile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC "xentcheck-case"
#define FORMAT_VERSION "1"
/* Quiet NaN with no payload: the one printed as plain "nan". */
#define DEFAULT_NAN_MANTISSA ((uint64_t)1 << 51)
#define MANTISSA_MASK (((uint64_t)1 << 52) - 1)
/* Longest value token accepted: a hex double needs 24 characters, but
 * hand-written decimals may carry many digits. */
#define MAX_TOKEN 512

/* ------------------------------------------------------------------ */
/* Writer                                                               */

static uint64_t double_bits(double v)
{
    uint64_t b;
    memcpy(&b, &v, sizeof b);
    return b;
}

static double bits_double(uint64_t b)
{
    double v;
    memcpy(&v, &b, sizeof v);
    return v;
}

/* The value the target sees: f32 values are printed as floats. */
static double dtype_value(double v, xc_dtype dtype)
{
    return dtype == XC_F32 ? (double)(float)v : v;
}

static void print_value(FILE *f, double v)
{
    uint64_t b = double_bits(v);
    const char *sign = signbit(v) ? "-" : "";
    uint64_t mant = b & MANTISSA_MASK;
    if (isnan(v) && mant == DEFAULT_NAN_MANTISSA)
        fprintf(f, "%snan", sign);
    else if (isnan(v))
        /* Keep the payload so the round trip is bit-exact. */
        fprintf(f, "%snan(0x%llx)", sign, (unsigned long long)mant);
    else if (isinf(v))
        fprintf(f, "%sinf", sign);
    else
        fprintf(f, "%a", v);
}

static void print_decimal(FILE *f, double v, xc_dtype dtype)
{
    if (isnan(v) || isinf(v))
        print_value(f, v);
    else
        fprintf(f, dtype == XC_F32 ? "%.9g" : "%.17g", v);
}

/* One line: the values exactly, then their decimals in a comment. */
static void print_row(FILE *f, const double *row, size_t n, xc_dtype dtype)
{
    for (size_t k = 0; k < n; k++) {
        if (k)
            fputc(' ', f);
        print_value(f, dtype_value(row[k], dtype));
    }
    fputs("  #", f);
    for (size_t k = 0; k < n; k++) {
        fputc(' ', f);
        print_decimal(f, dtype_value(row[k], dtype), dtype);
    }
    fputc('\n', f);
}

static void print_block(FILE *f, const char *name, const xc__case *c,
                        const double *base)
{
    fprintf(f, "%s\n", name);
    for (size_t r = 0; r < c->batch; r++)
        print_row(f, base + r * c->ld, c->classes, c->dtype);
}

static void print_header(FILE *f, const xc__case *c, const xc__case_meta *meta)
{
    fputs("# xentcheck case file; format: corpus/README.md\n", f);
    fputs(MAGIC " " FORMAT_VERSION "\n", f);
    if (meta && meta->target[0])
        fprintf(f, "target %s\n", meta->target);
    if (meta && meta->property[0])
        fprintf(f, "property %s\n", meta->property);
    fprintf(f, "seed 0x%llx\n", (unsigned long long)c->seed);
    fprintf(f, "index %llu\n", (unsigned long long)c->index);
    fprintf(f, "dtype %s\n", xc__dtype_name(c->dtype));
    fprintf(f, "batch %zu\nclasses %zu\nld %zu\n", c->batch, c->classes, c->ld);
    fprintf(f, "reduction %s\n",
            c->reduction == XC_REDUCE_MEAN ? "mean" : "sum");
    if (c->has_ignore_index)
        fprintf(f, "ignore_index %lld\n", (long long)c->ignore_index);
}

int xc__casefile_print(FILE *stream, const xc__case *c, const xc__case_meta *meta)
{
    print_header(stream, c, meta);
    if (c->labels) {
        fputs("labels", stream);
        for (size_t r = 0; r < c->batch; r++)
            fprintf(stream, " %lld", (long long)c->labels[r]);
        fputc('\n', stream);
    }
    if (c->weights) {
        fputs("weights\n", stream);
        print_row(stream, c->weights, c->classes, c->dtype);
    }
    print_block(stream, "logits", c, c->logits);
    if (c->probs)
        print_block(stream, "probs", c, c->probs);
    fputs("end\n", stream);
    return ferror(stream) ? -1 : 0;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (!err || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Print into an open temporary file, then flush it to disk: the rename
 * that follows must never expose a half-written case. */
static int write_stream(int fd, const xc__case *c, const xc__case_meta *meta)
{
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        return -1;
    }
    int rc = xc__casefile_print(f, c, meta);
    if (fflush(f) != 0 || fsync(fileno(f)) != 0)
        rc = -1;
    if (fclose(f) != 0)
        rc = -1;
    return rc;
}

int xc__casefile_write(const char *path, const xc__case *c,
                       const xc__case_meta *meta, char *err, size_t errlen)
{
    size_t n = strlen(path) + sizeof ".tmp.XXXXXX";
    char *tmp = malloc(n);
    if (!tmp) {
        set_err(err, errlen, "%s: out of memory", path);
        return -1;
    }
    snprintf(tmp, n, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    int rc = -1;
    if (fd < 0)
        set_err(err, errlen, "%s: %s", tmp, strerror(errno));
    else if (write_stream(fd, c, meta) != 0)
        set_err(err, errlen, "%s: write failed: %s", tmp, strerror(errno));
    else if (rename(tmp, path) != 0)
        set_err(err, errlen, "%s: rename failed: %s", path, strerror(errno));
    else
        rc = 0;
    if (rc != 0 && fd >= 0)
        unlink(tmp);
    free(tmp);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Parser                                                               */

typedef struct span {
    const char *p;
    size_t n;
} span;

enum key {
    K_TARGET, K_PROPERTY, K_SEED, K_INDEX, K_DTYPE, K_BATCH, K_CLASSES, K_LD,
    K_REDUCTION, K_IGNORE, K_LABELS, K_WEIGHTS, K_LOGITS, K_PROBS, K_END,
    K_COUNT
};

static const char *const key_names[K_COUNT] = {
    "target", "property", "seed", "index", "dtype", "batch", "classes", "ld",
    "reduction", "ignore_index", "labels", "weights", "logits", "probs", "end",
};

typedef struct parser {
    const char *text, *end;   /* remaining input */
    size_t line;              /* number of the line last read */
    char *err;
    size_t errlen;
    xc__case_meta *meta;
    size_t key_line[K_COUNT]; /* 0 = key not seen */
    xc_dtype dtype;
    size_t batch, classes, ld;
    xc_reduction reduction;
    int64_t ignore_index;
    uint64_t seed, index;
    int64_t *labels;          /* batch */
    double *weights;          /* classes */
    double *logits, *probs;   /* batch * classes, dense */
} parser;

static int fail(parser *ps, size_t line, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    set_err(ps->err, ps->errlen, "line %zu: %s", line, msg);
    return -1;
}

static int is_blank(char ch)
{
    return ch == ' ' || ch == '\t';
}

/* Next line without its comment, '\r' and surrounding blanks. 0 at EOF. */
static int next_line(parser *ps, span *out)
{
    if (ps->text >= ps->end)
        return 0;
    const char *p = ps->text;
    const char *nl = memchr(p, '\n', (size_t)(ps->end - p));
    const char *stop = nl ? nl : ps->end;
    ps->text = nl ? nl + 1 : ps->end;
    ps->line++;
    const char *hash = memchr(p, '#', (size_t)(stop - p));
    if (hash)
        stop = hash;
    while (stop > p && (is_blank(stop[-1]) || stop[-1] == '\r'))
        stop--;
    while (p < stop && is_blank(*p))
        p++;
    out->p = p;
    out->n = (size_t)(stop - p);
    return 1;
}

/* Next non-empty line; 0 at EOF. */
static int next_content_line(parser *ps, span *out)
{
    while (next_line(ps, out))
        if (out->n)
            return 1;
    return 0;
}

/* Split the first blank-separated token off LINE. 0 when none is left. */
static int next_token(span *line, span *tok)
{
    const char *p = line->p, *e = line->p + line->n;
    while (p < e && is_blank(*p))
        p++;
    const char *s = p;
    while (p < e && !is_blank(*p))
        p++;
    tok->p = s;
    tok->n = (size_t)(p - s);
    line->p = p;
    line->n = (size_t)(e - p);
    return tok->n > 0;
}

static int token_is(span tok, const char *word)
{
    return tok.n == strlen(word) && memcmp(tok.p, word, tok.n) == 0;
}

static int find_key(span tok)
{
    for (int k = 0; k < K_COUNT; k++)
        if (token_is(tok, key_names[k]))
            return k;
    return -1;
}

/* Copy TOK into BUF as a C string; -1 when it does not fit. */
static int token_cstr(span tok, char *buf, size_t size)
{
    if (tok.n >= size)
        return -1;
    memcpy(buf, tok.p, tok.n);
    buf[tok.n] = '\0';
    return 0;
}

/* Print TOK into messages safely: bounded and without control bytes. */
static const char *token_show(span tok, char *buf, size_t size)
{
    size_t n = tok.n < size - 1 ? tok.n : size - 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)tok.p[i];
        buf[i] = ch < 0x20 || ch >= 0x7f ? '?' : (char)ch;
    }
    buf[n] = '\0';
    return buf;
}

static int all_digits(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

static int all_hex_digits(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!strchr("0123456789abcdefABCDEF", *s))
            return 0;
    return 1;
}

/* Unsigned integer: decimal, or hex with 0x. strtoull alone would accept
 * signs, blanks and octal. */
static int parse_u64(span tok, uint64_t *out)
{
    char buf[32];
    if (token_cstr(tok, buf, sizeof buf) != 0)
        return -1;
    int hex = buf[0] == '0' && (buf[1] == 'x' || buf[1] == 'X');
    const char *digits = hex ? buf + 2 : buf;
    if (!(hex ? all_hex_digits(digits) : all_digits(digits)))
        return -1;
    errno = 0;
    unsigned long long v = strtoull(digits, NULL, hex ? 16 : 10);
    if (errno == ERANGE)
        return -1;
    *out = (uint64_t)v;
    return 0;
}

static int parse_i64(span tok, int64_t *out)
{
    char buf[32];
    if (token_cstr(tok, buf, sizeof buf) != 0)
        return -1;
    const char *digits = buf[0] == '-' || buf[0] == '+' ? buf + 1 : buf;
    if (!all_digits(digits))
        return -1;
    errno = 0;
    long long v = strtoll(buf, NULL, 10);
    if (errno == ERANGE)
        return -1;
    *out = (int64_t)v;
    return 0;
}

static int ascii_prefix_ci(const char *s, const char *word)
{
    for (; *word; s++, word++)
        if (*s == '\0' || (*s | 0x20) != *word)
            return 0;
    return 1;
}

/* "nan", "-nan", "nan(0xPAYLOAD)": built from bits, since strtod's handling
 * of NaN signs and payloads is not portable. */
static int parse_nan(const char *s, double *out)
{
    int neg = *s == '-';
    if (*s == '-' || *s == '+')
        s++;
    if (!ascii_prefix_ci(s, "nan"))
        return -1;
    s += 3;
    uint64_t mant = DEFAULT_NAN_MANTISSA;
    if (*s == '(') {
        size_t n = strlen(s);
        if (n < 5 || s[n - 1] != ')' || s[1] != '0' || (s[2] | 0x20) != 'x')
            return -1;
        char hex[24];
        if (n - 4 >= sizeof hex)
            return -1;
        memcpy(hex, s + 3, n - 4);
        hex[n - 4] = '\0';
        if (!all_hex_digits(hex))
            return -1;
        mant = (uint64_t)strtoull(hex, NULL, 16);
        if (mant == 0 || mant > MANTISSA_MASK)
            return -1;
    } else if (*s != '\0') {
        return -1;
    }
    *out = bits_double((neg ? (uint64_t)1 << 63 : 0) | ((uint64_t)0x7ff << 52) | mant);
    return 0;
}

static int spelled_inf(const char *s)
{
    if (*s == '-' || *s == '+')
        s++;
    return ascii_prefix_ci(s, "inf");
}

/* A value, rounded once to DTYPE (strtof for f32: no double rounding). */
static int parse_value(span tok, xc_dtype dtype, double *out)
{
    char buf[MAX_TOKEN];
    char *end;
    if (token_cstr(tok, buf, sizeof buf) != 0)
        return -1;
    const char *s = buf[0] == '-' || buf[0] == '+' ? buf + 1 : buf;
    if (ascii_prefix_ci(s, "nan")) {
        if (parse_nan(buf, out) != 0)
            return -1;
        *out = dtype_value(*out, dtype);
        return 0;
    }
    /* strtod also takes leading blanks; tokens have none, digits must start. */
    if (!(*s == '.' || (*s >= '0' && *s <= '9') || spelled_inf(buf)))
        return -1;
    *out = dtype == XC_F32 ? (double)strtof(buf, &end) : strtod(buf, &end);
    if (*end != '\0')
        return -1;
    if (isinf(*out) && !spelled_inf(buf))
        return -2;   /* overflow: refuse rather than guess */
    return 0;
}

static int bad_value(parser *ps, span tok, int code)
{
    char show[48];
    token_show(tok, show, sizeof show);
    if (code == -2)
        return fail(ps, ps->line, "value '%s' overflows %s", show,
                    xc__dtype_name(ps->dtype));
    return fail(ps, ps->line, "bad value '%s'", show);
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 64;
    while (n < need)
        n *= 2;
    void *q = realloc(*p, n * elem);
    if (!q)
        return -1;
    *p = q;
    *cap = n;
    return 0;
}

/* One row of exactly WANT values appended to *DST at [AT, AT + WANT). */
static int parse_row(parser *ps, span line, double **dst, size_t *cap,
                     size_t at, size_t want, int nonneg, const char *what)
{
    span tok;
    size_t got = 0;
    while (next_token(&line, &tok)) {
        if (got < want) {
            double v;
            int rc = parse_value(tok, ps->dtype, &v);
            if (rc != 0)
                return bad_value(ps, tok, rc);
            if (nonneg && v < 0)
                return fail(ps, ps->line, "negative value in %s", what);
            if (grow((void **)dst, cap, at + got + 1, sizeof **dst) != 0)
                return fail(ps, ps->line, "out of memory");
            (*dst)[at + got] = v;
        }
        got++;
    }
    if (got != want)
        return fail(ps, ps->line, "%s row has %zu values, expected %zu", what,
                    got, want);
    return 0;
}

static int block_short(parser *ps, size_t line, const char *what, size_t got,
                       size_t want)
{
    return fail(ps, line, "%s block ends after %zu of %zu rows", what, got, want);
}

/* ROWS lines of the block WHAT into a dense array. */
static int parse_block(parser *ps, size_t rows, double **dst, int nonneg,
                       const char *what)
{
    size_t cap = 0;
    span line, tok;
    for (size_t r = 0; r < rows; r++) {
        if (!next_content_line(ps, &line))
            return block_short(ps, ps->line, what, r, rows);
        span probe = line;
        next_token(&probe, &tok);
        if (find_key(tok) >= 0)
            return block_short(ps, ps->line, what, r, rows);
        if (parse_row(ps, line, dst, &cap, r * ps->classes, ps->classes,
                      nonneg, what) != 0)
            return -1;
    }
    return 0;
}

static int need_shape(parser *ps, const char *what, int need_classes)
{
    if (!ps->key_line[K_DTYPE] || !ps->key_line[K_BATCH] ||
        (need_classes && !ps->key_line[K_CLASSES]))
        return fail(ps, ps->line, "'%s' must come after dtype, batch%s", what,
                    need_classes ? " and classes" : "");
    return 0;
}

/* Exactly one value token after a scalar key. */
static int one_arg(parser *ps, span *rest, span *tok, const char *key)
{
    span extra;
    if (!next_token(rest, tok))
        return fail(ps, ps->line, "'%s' needs a value", key);
    if (next_token(rest, &extra))
        return fail(ps, ps->line, "trailing garbage after '%s' value", key);
    return 0;
}

static int no_arg(parser *ps, span rest, const char *key)
{
    span tok;
    if (next_token(&rest, &tok))
        return fail(ps, ps->line, "'%s' takes no value on its line", key);
    return 0;
}

static int valid_name(span tok)
{
    for (size_t i = 0; i < tok.n; i++) {
        char ch = tok.p[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == '-'))
            return 0;
    }
    return 1;
}

static int parse_name(parser *ps, span rest, char *dst, size_t size,
                      const char *key)
{
    span tok;
    if (one_arg(ps, &rest, &tok, key) != 0)
        return -1;
    if (!valid_name(tok))
        return fail(ps, ps->line, "'%s' must match [A-Za-z0-9_.-]+", key);
    if (token_cstr(tok, dst, size) != 0)
        return fail(ps, ps->line, "'%s' longer than %zu characters", key,
                    size - 1);
    return 0;
}

/* A size in [1, XC__CASEFILE_MAX_VALUES]. */
static int parse_size(parser *ps, span rest, size_t *out, const char *key)
{
    span tok;
    uint64_t v;
    if (one_arg(ps, &rest, &tok, key) != 0)
        return -1;
    if (parse_u64(tok, &v) != 0)
        return fail(ps, ps->line, "'%s' needs an unsigned integer", key);
    if (v == 0)
        return fail(ps, ps->line, "'%s' must be at least 1", key);
    if (v > XC__CASEFILE_MAX_VALUES)
        return fail(ps, ps->line, "'%s' too large (limit %zu)", key,
                    (size_t)XC__CASEFILE_MAX_VALUES);
    *out = (size_t)v;
    return 0;
}

static int parse_dtype(parser *ps, span rest)
{
    span tok;
    if (one_arg(ps, &rest, &tok, "dtype") != 0)
        return -1;
    if (token_is(tok, "f32"))
        ps->dtype = XC_F32;
    else if (token_is(tok, "f64"))
        ps->dtype = XC_F64;
    else
        return fail(ps, ps->line, "dtype must be f32 or f64");
    return 0;
}

static int parse_reduction(parser *ps, span rest)
{
    span tok;
    if (one_arg(ps, &rest, &tok, "reduction") != 0)
        return -1;
    if (token_is(tok, "sum"))
        ps->reduction = XC_REDUCE_SUM;
    else if (token_is(tok, "mean"))
        ps->reduction = XC_REDUCE_MEAN;
    else
        return fail(ps, ps->line, "reduction must be sum or mean");
    return 0;
}

static int parse_u64_key(parser *ps, span rest, uint64_t *out, const char *key)
{
    span tok;
    if (one_arg(ps, &rest, &tok, key) != 0)
        return -1;
    if (parse_u64(tok, out) != 0)
        return fail(ps, ps->line, "'%s' needs an unsigned 64-bit integer "
                    "(decimal or 0x hex)", key);
    return 0;
}

static int parse_ignore(parser *ps, span rest)
{
    span tok;
    if (one_arg(ps, &rest, &tok, "ignore_index") != 0)
        return -1;
    if (parse_i64(tok, &ps->ignore_index) != 0)
        return fail(ps, ps->line, "'ignore_index' needs a 64-bit integer");
    return 0;
}

/* N labels on the key's own line; their range is checked at 'end', when
 * classes and ignore_index are both known. */
static int parse_labels(parser *ps, span rest)
{
    span tok;
    size_t got = 0, cap = 0;
    if (need_shape(ps, "labels", 0) != 0)
        return -1;
    while (next_token(&rest, &tok)) {
        int64_t v;
        if (parse_i64(tok, &v) != 0)
            return bad_value(ps, tok, -1);
        if (got < ps->batch) {
            if (grow((void **)&ps->labels, &cap, got + 1, sizeof v) != 0)
                return fail(ps, ps->line, "out of memory");
            ps->labels[got] = v;
        }
        got++;
    }
    if (got != ps->batch)
        return fail(ps, ps->line, "labels has %zu values, expected %zu", got,
                    ps->batch);
    return 0;
}

static int parse_weights(parser *ps, span rest)
{
    span line;
    size_t cap = 0;
    if (no_arg(ps, rest, "weights") != 0 || need_shape(ps, "weights", 1) != 0)
        return -1;
    if (!next_content_line(ps, &line))
        return block_short(ps, ps->line, "weights", 0, 1);
    return parse_row(ps, line, &ps->weights, &cap, 0, ps->classes, 0, "weights");
}

static int parse_matrix(parser *ps, span rest, double **dst, const char *key)
{
    int is_probs = dst == &ps->probs;
    if (no_arg(ps, rest, key) != 0 || need_shape(ps, key, 1) != 0)
        return -1;
    return parse_block(ps, ps->batch, dst, is_probs, key);
}

static int parse_key(parser *ps, int key, span rest)
{
    switch (key) {
    case K_TARGET:
        return parse_name(ps, rest, ps->meta->target, sizeof ps->meta->target,
                          "target");
    case K_PROPERTY:
        return parse_name(ps, rest, ps->meta->property,
                          sizeof ps->meta->property, "property");
    case K_SEED: return parse_u64_key(ps, rest, &ps->seed, "seed");
    case K_INDEX: return parse_u64_key(ps, rest, &ps->index, "index");
    case K_DTYPE: return parse_dtype(ps, rest);
    case K_BATCH: return parse_size(ps, rest, &ps->batch, "batch");
    case K_CLASSES: return parse_size(ps, rest, &ps->classes, "classes");
    case K_LD: return parse_size(ps, rest, &ps->ld, "ld");
    case K_REDUCTION: return parse_reduction(ps, rest);
    case K_IGNORE: return parse_ignore(ps, rest);
    case K_LABELS: return parse_labels(ps, rest);
    case K_WEIGHTS: return parse_weights(ps, rest);
    case K_LOGITS: return parse_matrix(ps, rest, &ps->logits, "logits");
    case K_PROBS: return parse_matrix(ps, rest, &ps->probs, "probs");
    default: return no_arg(ps, rest, "end");
    }
}

static int parse_magic(parser *ps)
{
    span line, tok, ver;
    if (!next_content_line(ps, &line))
        return fail(ps, ps->line ? ps->line : 1,
                    "empty input: not a xentcheck case file");
    next_token(&line, &tok);
    if (!token_is(tok, MAGIC))
        return fail(ps, ps->line, "not a xentcheck case file (expected '"
                    MAGIC " " FORMAT_VERSION "' first)");
    if (one_arg(ps, &line, &ver, MAGIC) != 0)
        return -1;
    if (!token_is(ver, FORMAT_VERSION))
        return fail(ps, ps->line, "unsupported case file version (this reader "
                    "knows " FORMAT_VERSION ")");
    return 0;
}

static int check_key_order(parser *ps, int key)
{
    int is_label = key == K_LABELS || key == K_PROBS;
    int other = key == K_LABELS ? K_PROBS : K_LABELS;
    if (ps->key_line[key])
        return fail(ps, ps->line, "duplicate key '%s' (first on line %zu)",
                    key_names[key], ps->key_line[key]);
    if (is_label && ps->key_line[other])
        return fail(ps, ps->line, "labels and probs both given (a case has "
                    "exactly one)");
    return 0;
}

/* Keys up to and including 'end'. */
static int parse_body(parser *ps)
{
    span line, tok;
    char show[48];
    while (next_content_line(ps, &line)) {
        next_token(&line, &tok);
        int key = find_key(tok);
        if (key < 0)
            return fail(ps, ps->line, "unknown key '%s'",
                        token_show(tok, show, sizeof show));
        if (check_key_order(ps, key) != 0)
            return -1;
        ps->key_line[key] = ps->line;
        if (parse_key(ps, key, line) != 0)
            return -1;
        if (key == K_END)
            return 0;
    }
    return fail(ps, ps->line ? ps->line : 1, "missing 'end'");
}

static int check_trailing(parser *ps)
{
    span line;
    if (next_content_line(ps, &line))
        return fail(ps, ps->line, "trailing garbage after 'end'");
    return 0;
}

static int check_required(parser *ps)
{
    static const int required[] = { K_DTYPE, K_BATCH, K_CLASSES, K_LOGITS };
    size_t end = ps->key_line[K_END];
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        if (!ps->key_line[required[i]])
            return fail(ps, end, "missing required key '%s'",
                        key_names[required[i]]);
    if (!ps->key_line[K_LABELS] && !ps->key_line[K_PROBS])
        return fail(ps, end, "missing 'labels' or 'probs'");
    return 0;
}

static int check_shape(parser *ps)
{
    if (!ps->key_line[K_LD])
        ps->ld = ps->classes;
    else if (ps->ld < ps->classes)
        return fail(ps, ps->key_line[K_LD], "ld %zu is less than classes %zu",
                    ps->ld, ps->classes);
    if (ps->ld > XC__CASEFILE_MAX_VALUES / ps->batch)
        return fail(ps, ps->key_line[K_LD] ? ps->key_line[K_LD]
                                           : ps->key_line[K_BATCH],
                    "batch * ld exceeds %zu values",
                    (size_t)XC__CASEFILE_MAX_VALUES);
    return 0;
}

static int check_labels(parser *ps)
{
    int has_ignore = ps->key_line[K_IGNORE] != 0;
    if (!ps->labels)
        return 0;
    for (size_t r = 0; r < ps->batch; r++) {
        int64_t y = ps->labels[r];
        if (has_ignore && y == ps->ignore_index)
            continue;
        if (y < 0 || (uint64_t)y >= ps->classes)
            return fail(ps, ps->key_line[K_LABELS], "label %lld of row %zu "
                        "outside [0, %zu)%s", (long long)y, r, ps->classes,
                        has_ignore ? " and not ignore_index" : "");
    }
    return 0;
}

static void copy_rows(const parser *ps, double *dst, const double *src)
{
    for (size_t r = 0; r < ps->batch; r++)
        memcpy(dst + r * ps->ld, src + r * ps->classes,
               ps->classes * sizeof *dst);
}

static xc__case *build_case(parser *ps)
{
    xc__label_kind kind = ps->labels ? XC__LABELS_INDEX : XC__LABELS_PROB;
    xc__case *c = xc__case_new(ps->dtype, ps->batch, ps->classes, ps->ld, kind,
                               ps->weights != NULL);
    if (!c) {
        fail(ps, ps->key_line[K_END], "out of memory");
        return NULL;
    }
    c->reduction = ps->reduction;
    c->has_ignore_index = ps->key_line[K_IGNORE] != 0;
    c->ignore_index = ps->ignore_index;
    c->seed = ps->seed;
    c->index = ps->index;
    copy_rows(ps, c->logits, ps->logits);
    if (ps->probs)
        copy_rows(ps, c->probs, ps->probs);
    if (ps->labels)
        memcpy(c->labels, ps->labels, ps->batch * sizeof *c->labels);
    if (ps->weights)
        memcpy(c->weights, ps->weights, ps->classes * sizeof *c->weights);
    return c;
}

static void parser_free(parser *ps)
{
    free(ps->labels);
    free(ps->weights);
    free(ps->logits);
    free(ps->probs);
}

xc__case *xc__casefile_parse(const char *text, size_t len, xc__case_meta *meta,
                             char *err, size_t errlen)
{
    xc__case_meta scratch;
    parser ps = { .text = text, .end = text ? text + len : text, .err = err,
                  .errlen = errlen, .meta = meta ? meta : &scratch };
    xc__case *c = NULL;
    memset(ps.meta, 0, sizeof *ps.meta);
    if (parse_magic(&ps) == 0 && parse_body(&ps) == 0 &&
        check_trailing(&ps) == 0 && check_required(&ps) == 0 &&
        check_shape(&ps) == 0 && check_labels(&ps) == 0)
        c = build_case(&ps);
    parser_free(&ps);
    return c;
}

/* Whole file into memory; case files are bounded by the value limit, so a
 * generous size cap only guards against reading a device forever. */
#define MAX_FILE_BYTES ((size_t)1 << 31)

static char *slurp(FILE *f, size_t *len)
{
    size_t cap = 0, n = 0;
    char *buf = NULL;
    for (;;) {
        if (n == cap) {
            if (cap >= MAX_FILE_BYTES ||
                grow((void **)&buf, &cap, n + 1, 1) != 0) {
                free(buf);
                return NULL;
            }
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf ? buf : calloc(1, 1);
}

xc__case *xc__casefile_read(const char *path, xc__case_meta *meta, char *err,
                            size_t errlen)
{
    char why[256];
    size_t len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        set_err(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    errno = 0;
    char *text = slurp(f, &len);
    int saved = errno;
    fclose(f);
    if (!text) {
        set_err(err, errlen, "%s: cannot read: %s", path,
                saved ? strerror(saved) : "file too large");
        return NULL;
    }
    xc__case *c = xc__casefile_parse(text, len, meta, why, sizeof why);
    if (!c)
        set_err(err, errlen, "%s: %s", path, why);
    free(text);
    return c;
}
