/* `xentcheck run`: check the selected targets, print one line per target,
 * write the reports. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1   /* fopencookie, for the progress line */
#endif
#include "cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "checker.h"
#include "report.h"
#include "report_stats.h"

static const char run_help[] =
    "usage: xentcheck run [--target NAME]... [--plugin PATH]... [--seed S]\n"
    "                     [--cases N] [--time S] [--max-classes H]\n"
    "                     [--timeout S] [--tol-factor F] [--report DIR]\n"
    "                     [--format json,junit,md,html] [--jobs N]\n"
    "                     [--shard K/N] [--no-shrink] [--mutants] [--quiet]\n"
    "\n"
    "Checks each selected target against generated cases and writes the\n"
    "reports. Without --target: every built-in (non-mutant) target, or, when\n"
    "plugins are given, every target of those plugins only.\n"
    "\n"
    "  -t, --target NAME    check NAME (repeatable; see 'xentcheck list')\n"
    "  -p, --plugin PATH    load the targets of the shared object PATH\n"
    "                       (repeatable)\n"
    "  -s, --seed S         run seed, decimal or 0x hex (default 1); case i\n"
    "                       is a function of (seed, i)\n"
    "  -n, --cases N        cases per target (default 400)\n"
    "      --time S         wall-time budget per target in seconds (default 3)\n"
    "      --max-classes H  largest class count generated (default 65536)\n"
    "      --timeout S      per-call timeout for hung targets, in seconds\n"
    "                       (default 0.5)\n"
    "      --tol-factor F   multiply every derived error bound by F (default 1)\n"
    "  -r, --report DIR     report directory (default reports); failing cases\n"
    "                       are saved in DIR/cases\n"
    "  -f, --format LIST    report formats among json,junit,md,html (default\n"
    "                       all): report.json, junit.xml, summary.md, index.html\n"
    "  -j, --jobs N         split each target's cases over N worker processes\n"
    "                       (default 1); the report is the same\n"
    "      --shard K/N      check only shard K (1..N) of N: the cases i with\n"
    "                       i mod N = K-1; 'xentcheck report merge' of the N\n"
    "                       reports equals the unsharded report\n"
    "      --no-shrink      save failing cases as found, without shrinking\n"
    "  -m, --mutants        allow naming the deliberately broken mutants\n"
    "  -q, --quiet          no progress line and no failure details on stderr\n"
    "  -h, --help           show this help\n"
    "\n"
    "On a terminal, stderr shows a progress line (coloured unless NO_COLOR\n"
    "is set).\n"
    "\n"
    "Exit status: 0 every target holds (a target with a known finding holds\n"
    "when it fails exactly as documented), 1 a target failed, 2 bad usage.\n";

enum { OPT_TIME = 256, OPT_MAX_CLASSES, OPT_TIMEOUT, OPT_TOL_FACTOR, OPT_SHARD,
       OPT_NO_SHRINK };

/* More jobs than this is a typing error, not a machine. */
#define MAX_JOBS 1024

typedef struct run_opts {
    xc__cli_strings targets, plugins;
    uint64_t seed;
    size_t cases, max_classes;
    size_t jobs;                         /* 0 or 1: in this process */
    size_t shard_index, shard_count;     /* 0-based index; count 0: none */
    double time_s, timeout_s, tol_factor;
    const char *timeout_arg, *tol_arg;   /* as typed, for replay lines */
    const char *report_dir;
    int formats, mutants, quiet, help, no_shrink;
} run_opts;

static const struct option run_longs[] = {
    { "target", required_argument, NULL, 't' },
    { "plugin", required_argument, NULL, 'p' },
    { "seed", required_argument, NULL, 's' },
    { "cases", required_argument, NULL, 'n' },
    { "time", required_argument, NULL, OPT_TIME },
    { "max-classes", required_argument, NULL, OPT_MAX_CLASSES },
    { "timeout", required_argument, NULL, OPT_TIMEOUT },
    { "tol-factor", required_argument, NULL, OPT_TOL_FACTOR },
    { "report", required_argument, NULL, 'r' },
    { "format", required_argument, NULL, 'f' },
    { "jobs", required_argument, NULL, 'j' },
    { "shard", required_argument, NULL, OPT_SHARD },
    { "no-shrink", no_argument, NULL, OPT_NO_SHRINK },
    { "mutants", no_argument, NULL, 'm' },
    { "quiet", no_argument, NULL, 'q' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
};

static int parse_format(run_opts *o, const char *s)
{
    o->formats = xc__report_formats_parse(s);
    if (o->formats < 0) {
        xc__cli_error("run: --format: '%s' is not a list of json, junit, md, "
                      "html", s);
        return -1;
    }
    return 0;
}

static int parse_report_dir(run_opts *o, const char *s)
{
    if (!*s) {
        xc__cli_error("run: --report needs a directory name");
        return -1;
    }
    o->report_dir = s;
    return 0;
}

static int parse_jobs(run_opts *o, const char *s)
{
    if (xc__cli_parse_count("--jobs", s, &o->jobs) != 0)
        return -1;
    if (o->jobs > MAX_JOBS) {   /* 0 is refused by the parser */
        xc__cli_error("run: --jobs must be between 1 and %d, not '%s'", MAX_JOBS, s);
        return -1;
    }
    return 0;
}

/* "K/N" with 1 <= K <= N. */
static int parse_shard(run_opts *o, const char *s)
{
    char k[32], n[32];
    const char *slash = strchr(s, '/');
    size_t klen = slash ? (size_t)(slash - s) : 0;
    size_t ki = 0, ni = 0;
    if (!slash || klen == 0 || klen >= sizeof k || strlen(slash + 1) >= sizeof n) {
        xc__cli_error("run: --shard: '%s' is not K/N (e.g. 2/4)", s);
        return -1;
    }
    memcpy(k, s, klen);
    k[klen] = 0;
    snprintf(n, sizeof n, "%s", slash + 1);
    if (xc__cli_parse_count("--shard", k, &ki) != 0 ||
        xc__cli_parse_count("--shard", n, &ni) != 0)
        return -1;
    if (ki > ni) {   /* both >= 1: the parser refuses 0 */
        xc__cli_error("run: --shard %s: K must be between 1 and N", s);
        return -1;
    }
    o->shard_index = ki - 1;
    o->shard_count = ni;
    return 0;
}

/* One option; -1 after printing the error. */
static int run_option(run_opts *o, int c, char **argv)
{
    switch (c) {
    case 't': return xc__cli_strings_add(&o->targets, optarg);
    case 'p': return xc__cli_strings_add(&o->plugins, optarg);
    case 's': return xc__cli_parse_u64("--seed", optarg, &o->seed);
    case 'n': return xc__cli_parse_count("--cases", optarg, &o->cases);
    case OPT_TIME: return xc__cli_parse_positive("--time", optarg, &o->time_s);
    case OPT_MAX_CLASSES:
        return xc__cli_parse_count("--max-classes", optarg, &o->max_classes);
    case OPT_TIMEOUT:
        o->timeout_arg = optarg;
        return xc__cli_parse_positive("--timeout", optarg, &o->timeout_s);
    case OPT_TOL_FACTOR:
        o->tol_arg = optarg;
        return xc__cli_parse_positive("--tol-factor", optarg, &o->tol_factor);
    case 'r': return parse_report_dir(o, optarg);
    case 'f': return parse_format(o, optarg);
    case 'j': return parse_jobs(o, optarg);
    case OPT_SHARD: return parse_shard(o, optarg);
    case OPT_NO_SHRINK: o->no_shrink = 1; return 0;
    case 'm': o->mutants = 1; return 0;
    case 'q': o->quiet = 1; return 0;
    case 'h': o->help = 1; return 0;
    default: xc__cli_option_error("run", c, argv); return -1;
    }
}

static int parse_run(int argc, char **argv, run_opts *o)
{
    int c;
    o->seed = 1;
    o->report_dir = "reports";
    o->formats = XC__FMT_JSON | XC__FMT_JUNIT | XC__FMT_MD | XC__FMT_HTML;
    optind = 0;   /* GNU: 0 re-initialises getopt for a fresh argv */
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":t:p:s:n:r:f:j:mqh", run_longs, NULL)) != -1)
        if (run_option(o, c, argv) != 0)
            return XC__EXIT_USAGE;
    if (optind < argc) {
        xc__cli_error("run: unexpected argument '%s'", argv[optind]);
        return XC__EXIT_USAGE;
    }
    return XC__EXIT_PASS;
}

static void unknown_target(const char *name, int mutants)
{
    if (!mutants && xc__cli_is_mutant_name(name))
        xc__cli_error("run: '%s' is a mutant; add --mutants to run it", name);
    else
        xc__cli_error("run: unknown target '%s' (see 'xentcheck list')", name);
}

static int listed(const xc__entry **sel, size_t n, const xc__entry *e)
{
    for (size_t i = 0; i < n; i++)
        if (sel[i] == e)
            return 1;
    return 0;
}

static int from_plugin(const run_opts *o, const xc__entry *e)
{
    for (size_t i = 0; i < o->plugins.count; i++)
        if (e->origin && strcmp(e->origin, o->plugins.items[i]) == 0)
            return 1;
    return 0;
}

/* Named targets in the order given (each once); otherwise the plugins'
 * targets when plugins were given, else the built-in non-mutants. */
static size_t select_targets(const xc__registry *reg, const run_opts *o,
                             const xc__entry **sel)
{
    size_t n = 0;
    for (size_t i = 0; i < o->targets.count; i++) {
        const xc__entry *e = xc__registry_find(reg, o->targets.items[i]);
        if (!e) {
            unknown_target(o->targets.items[i], o->mutants);
            return 0;
        }
        if (!listed(sel, n, e))
            sel[n++] = e;
    }
    for (size_t i = 0; o->targets.count == 0 && i < xc__registry_count(reg); i++) {
        const xc__entry *e = xc__registry_at(reg, i);
        if (o->plugins.count ? from_plugin(o, e) : !e->is_mutant)
            sel[n++] = e;
    }
    if (n == 0 && o->targets.count == 0)
        xc__cli_error("run: no targets to check");
    return n;
}

static void append_option(char *buf, size_t len, const char *opt, const char *v)
{
    size_t used = strlen(buf);
    snprintf(buf + used, len - used, " %s ", opt);
    xc__cli_append_quoted(buf, len, v);
}

/* "xentcheck replay" and every option the replay needs to see the same
 * targets with the same tolerance. */
static char *replay_prefix(const run_opts *o)
{
    size_t len = 128;
    for (size_t i = 0; i < o->plugins.count; i++)
        len += 4 * strlen(o->plugins.items[i]) + 16;
    len += 4 * (o->tol_arg ? strlen(o->tol_arg) : 0) +
           4 * (o->timeout_arg ? strlen(o->timeout_arg) : 0);
    char *buf = malloc(len);
    if (!buf)
        return NULL;
    snprintf(buf, len, "xentcheck replay");
    for (size_t i = 0; i < o->plugins.count; i++)
        append_option(buf, len, "--plugin", o->plugins.items[i]);
    if (o->mutants)
        strcat(buf, " --mutants");
    if (o->tol_arg)
        append_option(buf, len, "--tol-factor", o->tol_arg);
    if (o->timeout_arg)
        append_option(buf, len, "--timeout", o->timeout_arg);
    return buf;
}

static char *case_dir(const char *report_dir)
{
    size_t n = strlen(report_dir) + sizeof "/cases";
    char *dir = malloc(n);
    if (dir)
        snprintf(dir, n, "%s/cases", report_dir);
    return dir;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The progress line: "\r[target 2/3] cases 123/400, 0 failures, 1.2 s left"
 * on stderr, only when stderr is a terminal and not --quiet; colour only
 * then and never with NO_COLOR set. Failure details and the per-target
 * summaries first wipe it, so it never mixes with them. */
typedef struct progress {
    FILE *tty;               /* stderr, or NULL: no progress line */
    int colour;
    size_t target, ntargets;
    double last;             /* elapsed seconds at the line last drawn */
    int width;               /* characters of that line; 0: none shown */
} progress;

static void progress_init(progress *p, const run_opts *o, size_t ntargets)
{
    const char *no_colour = getenv("NO_COLOR");
    const char *term = getenv("TERM");
    *p = (progress){ .ntargets = ntargets };
    if (o->quiet || !isatty(STDERR_FILENO))
        return;
    p->tty = stderr;
    p->colour = !(no_colour && *no_colour) && !(term && strcmp(term, "dumb") == 0);
}

static void progress_clear(progress *p)
{
    if (!p->tty || p->width == 0)
        return;
    fprintf(p->tty, "\r%*s\r", p->width, "");
    fflush(p->tty);
    p->width = 0;
}

static double time_left(size_t done, size_t total, double elapsed, double budget)
{
    double by_rate = done ? elapsed / (double)done * (double)(total - done) : budget;
    double left = by_rate < budget - elapsed ? by_rate : budget - elapsed;
    return left > 0 ? left : 0;
}

static void on_progress(void *ctx, size_t done, size_t total, size_t failures,
                        double elapsed, double budget)
{
    progress *p = ctx;
    if (done < total && p->width && elapsed - p->last < 0.1)
        return;   /* at most ten lines a second */
    const char *on = p->colour ? (failures ? "\033[31m" : "\033[32m") : "";
    const char *off = p->colour ? "\033[0m" : "";
    char text[160];
    int n = snprintf(text, sizeof text, "[target %zu/%zu] cases %zu/%zu, %s%zu "
                     "failure%s%s, %.1f s left", p->target, p->ntargets, done,
                     total, on, failures, failures == 1 ? "" : "s", off,
                     time_left(done, total, elapsed, budget));
    int visible = n - (int)(strlen(on) + strlen(off));
    fprintf(p->tty, "\r%s%*s", text, p->width > visible ? p->width - visible : 0, "");
    fflush(p->tty);
    p->width = visible;
    p->last = elapsed;
}

/* The failure log while a progress line may be on screen. */
static ssize_t log_write(void *ctx, const char *buf, size_t n)
{
    progress_clear(ctx);
    return (ssize_t)fwrite(buf, 1, n, stderr);
}

static FILE *progress_log(progress *p)
{
    cookie_io_functions_t io = { .write = log_write };
    FILE *f = p->tty ? fopencookie(p, "w", io) : NULL;
    if (f)
        setvbuf(f, NULL, _IOLBF, 0);
    return f ? f : stderr;
}

static void print_failed_properties(const xc__target_report *t)
{
    printf("  %zu failure%s:", t->nfailures, t->nfailures == 1 ? "" : "s");
    for (size_t i = 0; i < t->nfailures; i++)
        printf("%s %s", i ? "," : "", t->failures[i].property);
}

/* PASS, FAIL; with a known finding XFAIL (failed exactly as documented)
 * or XPASS (passed: the finding no longer holds, which fails the run). */
static int has_finding(const xc__target_report *t)
{
    return t->finding || t->nexpected;
}

static const char *verdict_word(const xc__target_report *t)
{
    if (has_finding(t))
        return t->pass ? "XPASS" : t->expected_ok ? "XFAIL" : "FAIL";
    return t->pass ? "PASS" : "FAIL";
}

/* "PASS xc.f64.shifted  2000 cases  worst 3.1 u (0.02 of bound)  1.93 s" */
static void print_summary(const xc__target_report *t)
{
    printf("%s %s  %zu case%s%s", verdict_word(t), t->name, t->cases,
           t->cases == 1 ? "" : "s", t->stopped_early ? " (time budget)" : "");
    if (t->accuracy.count > 0)
        printf("  worst %.3g u (%.3g of bound)", t->accuracy.max_scaled,
               t->accuracy.max_ratio);
    if (!t->pass)
        print_failed_properties(t);
    if (has_finding(t) && !t->expected_ok) {
        printf("  (known finding: expected to fail exactly");
        for (size_t i = 0; i < t->nexpected; i++)
            printf("%s %s", i ? "," : "", t->expected[i]);
        printf(")");
    }
    printf("  %.2f s\n", t->timing.seconds);
    fflush(stdout);
}

static xc__check_config check_config(const run_opts *o, const char *cases,
                                     const char *prefix, progress *p)
{
    return (xc__check_config){
        .seed = o->seed, .cases = o->cases, .time_budget_s = o->time_s,
        .max_classes = o->max_classes, .timeout_s = o->timeout_s,
        .tol_factor = o->tol_factor, .case_dir = cases,
        .replay_prefix = prefix, .log = o->quiet ? NULL : progress_log(p),
        .progress = p->tty ? on_progress : NULL, .progress_ctx = p,
        .no_shrink = o->no_shrink, .shard_index = o->shard_index,
        .shard_count = o->shard_count,
    };
}

/* Check every selected target into RR; XC__EXIT_USAGE on a harness error
 * (the check loop has printed why). */
static int check_all(const xc__entry **sel, size_t n,
                     const xc__check_config *cfg, xc__run_report *rr,
                     progress *p)
{
    rr->targets = calloc(n, sizeof *rr->targets);
    if (!rr->targets) {
        xc__cli_error("out of memory");
        return XC__EXIT_USAGE;
    }
    for (size_t i = 0; i < n; i++) {
        xc__target_report *t = &rr->targets[rr->ntargets++];
        p->target = i + 1;
        int rc = xc__check_target(sel[i], cfg, t);
        progress_clear(p);
        if (rc != 0) {
            xc__cli_error("run: could not check '%s'", sel[i]->target->name);
            return XC__EXIT_USAGE;
        }
        print_summary(t);
    }
    return XC__EXIT_PASS;
}

static int verdict(const xc__run_report *rr)
{
    for (size_t i = 0; i < rr->ntargets; i++)
        if (!xc__target_holds(&rr->targets[i]))
            return XC__EXIT_FAIL;
    return XC__EXIT_PASS;
}

static int write_reports(const xc__run_report *rr, const run_opts *o)
{
    char err[512];
    if (xc__report_write_all(rr, o->report_dir, o->formats, err, sizeof err) != 0) {
        xc__cli_error("run: cannot write the report: %s", err);
        return XC__EXIT_USAGE;
    }
    printf("report: %s/\n", o->report_dir);
    return verdict(rr);
}

static int set_run_fields(xc__run_report *rr, const run_opts *o)
{
    rr->seed = o->seed;
    rr->cases_requested = o->cases ? o->cases : XC__CHECK_DEFAULT_CASES;
    rr->tool_version = strdup(XC_VERSION_STRING);
    return rr->tool_version ? 0 : -1;
}

/* --jobs: what one worker process checks (xc__cli_shard_fn). */
typedef struct shard_job {
    const xc__entry **sel;
    size_t n;
    const run_opts *o;
    xc__check_config cfg;    /* quiet: no log, no progress line */
} shard_job;

static int check_shard(void *ctx, size_t job, xc__run_report *out)
{
    const shard_job *s = ctx;
    xc__check_config cfg = s->cfg;
    size_t base = s->o->shard_count ? s->o->shard_count : 1;
    cfg.shard_count = base * s->o->jobs;    /* shard k of K, split j ways */
    cfg.shard_index = s->o->shard_index + base * job;
    if (set_run_fields(out, s->o) != 0 ||
        !(out->targets = calloc(s->n, sizeof *out->targets)))
        return -1;
    for (size_t i = 0; i < s->n; i++)
        if (xc__check_target(s->sel[i], &cfg, &out->targets[out->ntargets++]) != 0)
            return -1;
    return 0;
}

/* The merged report of the --jobs workers into RR, then what a single
 * process prints: each failure (unless --quiet) and a line per target. */
static int check_jobs(const xc__entry **sel, size_t n, const xc__check_config *cfg,
                      xc__run_report *rr, const run_opts *o)
{
    shard_job job = { .sel = sel, .n = n, .o = o, .cfg = *cfg };
    char err[512];
    job.cfg.log = NULL;
    job.cfg.progress = NULL;
    xc__run_report_free(rr);
    if (xc__cli_run_jobs(o->jobs, check_shard, &job, rr, err, sizeof err) != 0) {
        xc__cli_error("run: --jobs %zu: %s", o->jobs, err);
        return XC__EXIT_USAGE;
    }
    for (size_t i = 0; i < rr->ntargets; i++) {
        const xc__target_report *t = &rr->targets[i];
        for (size_t f = 0; !o->quiet && f < t->nfailures; f++)
            xc__print_failure(stderr, t->name, &t->failures[f], 1);
        print_summary(t);
    }
    return XC__EXIT_PASS;
}

/* Check and report; the caller owns REG and SEL. */
static int run_selected(const xc__entry **sel, size_t n, const run_opts *o)
{
    xc__run_report rr = { 0 };
    char *prefix = replay_prefix(o);
    char *cases = case_dir(o->report_dir);
    int rc = XC__EXIT_USAGE;
    if (!prefix || !cases || set_run_fields(&rr, o) != 0) {
        xc__cli_error("out of memory");
    } else {
        progress p;
        progress_init(&p, o, n);
        xc__check_config cfg = check_config(o, cases, prefix, &p);
        double t0 = now_seconds();
        rc = o->jobs > 1 ? check_jobs(sel, n, &cfg, &rr, o) : check_all(sel, n, &cfg, &rr, &p);
        rr.timing.seconds = now_seconds() - t0;
        if (cfg.log && cfg.log != stderr)
            fclose(cfg.log);
        if (rc == XC__EXIT_PASS)
            rc = write_reports(&rr, o);
    }
    xc__run_report_free(&rr);
    free(cases);
    free(prefix);
    return rc;
}

static int run_checks(const run_opts *o)
{
    xc__registry *reg = xc__cli_registry(&o->plugins, o->mutants);
    const xc__entry **sel = NULL;
    int rc = XC__EXIT_USAGE;
    if (reg)
        sel = calloc(xc__registry_count(reg) + o->targets.count + 1, sizeof *sel);
    if (reg && !sel)
        xc__cli_error("out of memory");
    size_t n = sel ? select_targets(reg, o, sel) : 0;
    if (n > 0)
        rc = run_selected(sel, n, o);
    free(sel);
    xc__registry_free(reg);
    return rc;
}

int xc__cli_run(int argc, char **argv)
{
    run_opts o = { 0 };
    int rc = parse_run(argc, argv, &o);
    if (rc == XC__EXIT_PASS && o.help)
        fputs(run_help, stdout);
    else if (rc == XC__EXIT_PASS)
        rc = run_checks(&o);
    xc__cli_strings_free(&o.targets);
    xc__cli_strings_free(&o.plugins);
    return rc;
}
