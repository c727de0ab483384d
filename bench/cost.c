/* Cost benchmark: what checking one case costs, against the floor, one
 * call of the target's own gradient.
 *
 * For H = 10 .. 10^6 classes (one row, index label, sum, logits uniform in
 * [-8, 8], seed fixed), prints per target:
 *   grad     median time of one direct call of target->grad (the floor);
 *   inline   median time of the full check of the case with the inline
 *            executor: reference, every property, FD, all their calls;
 *   isolated the same with the isolated executor (forked worker, guard
 *            pages, timeouts: what `xentcheck run` uses);
 *   ratios   inline / grad and isolated / grad, each the median of the
 *            ratios of rounds that time a call and a check side by side
 *            (the grad column: the inline loop's calls).
 *   oracle   after each table, the time per class of the fast reference
 *            and of its bounds at H = 1000 (or --max-h);
 *   calls    and how many times a check calls the target's gradient and
 *            its loss, on average over cases of that H that differ in
 *            their random draws (offset, permutation, direction).
 *   memory   peak memory of one isolated check, in a fresh process: the
 *            harness's growth over its baseline, that over the problem's
 *            bytes (logits, label and gradient in the target's dtype),
 *            and the worker's peak.
 * Medians of REPS runs (fewer at large H), on one thread.
 *
 * usage: cost [--max-h H] [TARGET]...
 *   (default: xc.f64.shifted xc.f32.shifted; --max-h: H up to H only)
 * Exit status 0, or 2 on bad usage or a harness error.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "case.h"
#include "exec.h"
#include "pcg32.h"
#include "props.h"
#include "reference.h"
#include "registry.h"
#include "tolerance.h"

static const size_t class_counts[] = { 10, 100, 1000, 10000, 100000, 1000000 };
static size_t max_h = 1000000;   /* --max-h: the largest H measured */

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Enough repetitions for a stable median, fewer where one takes long: a
 * small case's runs span a fraction of a second at least, so that a
 * moment of other work on the machine does not decide the median. */
static size_t reps_for(size_t classes)
{
    return classes >= 1000000 ? 5 : classes >= 100000 ? 11 : classes >= 10000 ? 41
         : classes >= 1000 ? 401 : 4001;
}

static xc__case *make_case(xc_dtype dtype, size_t classes)
{
    xc__case *c = xc__case_new(dtype, 1, classes, classes, XC__LABELS_INDEX, 0);
    if (!c)
        return NULL;
    xc__pcg32 rng;
    xc__pcg32_seed(&rng, 2026, classes);
    for (size_t k = 0; k < classes; k++)
        c->logits[k] = 16.0 * ((double)xc__pcg32_next(&rng) / 4294967296.0) - 8.0;
    c->labels[0] = (int64_t)(xc__pcg32_next(&rng) % classes);
    c->reduction = XC_REDUCE_SUM;
    c->seed = 1;
    xc__case_round_to_dtype(c);
    return c;
}

/* The target's own gradient, called directly on buffers of its dtype. */
typedef struct direct_call {
    const xc_target *t;
    xc_problem p;
    void *z, *g;
} direct_call;

static int direct_open(direct_call *d, const xc_target *t, const xc__case *c)
{
    size_t es = xc__dtype_size(t->dtype), n = c->classes;
    *d = (direct_call){ .t = t, .z = malloc(n * es), .g = malloc(n * es) };
    if (!d->z || !d->g)
        return -1;
    for (size_t k = 0; k < n; k++) {
        if (t->dtype == XC_F32)
            ((float *)d->z)[k] = (float)c->logits[k];
        else
            ((double *)d->z)[k] = c->logits[k];
    }
    d->p = (xc_problem){ .dtype = t->dtype, .batch = 1, .classes = n, .ld = n,
                         .logits = d->z, .labels = c->labels,
                         .reduction = XC_REDUCE_SUM, .ignore_index = -100 };
    return 0;
}

/* One call, after an untimed one: the floor is the call with warm caches
 * and pages, not one that follows a check's other work. */
static double direct_time(direct_call *d)
{
    d->t->grad(&d->p, d->g, d->t->ctx);
    double t0 = now_seconds();
    d->t->grad(&d->p, d->g, d->t->ctx);
    return now_seconds() - t0;
}

static void direct_close(direct_call *d)
{
    free(d->z);
    free(d->g);
}

typedef struct counts {
    size_t failures;
} counts;

static void on_fail(void *ctx, const char *property, const xc__case *c, const char *msg)
{
    (void)property;
    (void)c;
    (void)msg;
    ((counts *)ctx)->failures++;
}

/* The worst errors, as `xentcheck run` collects them for its report: the
 * base comparison then tracks the worst element (xc__prop_compare) rather
 * than only testing that every element is within its bound. */
static void on_accuracy(void *ctx, const xc__case *c, double worst_scaled,
                        double worst_ratio, size_t elements)
{
    (void)ctx;
    (void)c;
    (void)worst_scaled;
    (void)worst_ratio;
    (void)elements;
}

/* A full check of a case through one executor. */
typedef struct checker {
    counts k;
    xc__prop_env env;
} checker;

static int checker_open(checker *ck, const xc_target *t, int inline_mode)
{
    xc__exec_config ec = { .inline_mode = inline_mode, .timeout_s = 60 };
    *ck = (checker){ .env = { .target = t, .tol_factor = 1 } };
    ck->env.sink = (xc__prop_sink){ on_fail, NULL, on_accuracy, &ck->k };
    ck->env.exec = xc__exec_new(t, &ec);
    return ck->env.exec ? 0 : -1;
}

/* The second of two checks in a row, as `xentcheck run` checks its cases
 * back to back: the first brings the caches and the isolated worker to
 * where the previous case leaves them in a run (a worker that saw no call
 * for a while has gone to sleep, and the first call would pay its
 * wake-up). */
static double checker_time(checker *ck, const xc__case *c)
{
    xc__props_run_case(&ck->env, c);
    double t0 = now_seconds();
    xc__props_run_case(&ck->env, c);
    return ck->env.harness_error ? -1 : now_seconds() - t0;
}

/* The medians of REPS rounds, each timing one gradient call and then one
 * check through the executor INLINE_MODE selects, and the median of the
 * rounds' ratios check / call. Timed side by side, so that each ratio
 * compares work done at the same speed of the machine: a VM's speed can
 * drift by more than 1.5x within a minute, which would move a ratio of
 * medians taken a minute apart by as much. The two executors are timed in
 * separate loops: an isolated worker left idle through an inline check
 * would stop spinning for its next waits (exec_isolated.c's backoff),
 * while in `xentcheck run` the worker waits only through the harness's
 * own work between one call and the next. */
typedef struct timing {
    double grad, check, ratio;      /* seconds, seconds, check / grad */
    size_t failures;
} timing;

static int time_rounds(const xc_target *t, const xc__case *c, size_t reps,
                       int inline_mode, timing *out)
{
    direct_call d = { 0 };
    checker ck = { 0 };
    double *v = malloc(3 * reps * sizeof *v);
    int rc = v && direct_open(&d, t, c) == 0 && checker_open(&ck, t, inline_mode) == 0
             ? 0 : -1;
    for (size_t r = 0; rc == 0 && r < reps; r++) {
        v[r] = direct_time(&d);
        v[reps + r] = checker_time(&ck, c);
        v[2 * reps + r] = v[reps + r] / v[r];
        rc = v[reps + r] < 0 ? -1 : 0;
    }
    if (rc == 0)
        *out = (timing){ median(v, reps), median(v + reps, reps),
                         median(v + 2 * reps, reps), ck.k.failures };
    xc__exec_free(ck.env.exec);
    direct_close(&d);
    free(v);
    return rc;
}

/* One isolated check of C: 0, or -1 on a harness error. */
static int check_once(const xc_target *t, const xc__case *c)
{
    checker ck;
    int rc = checker_open(&ck, t, 0) == 0 && checker_time(&ck, c) >= 0 ? 0 : -1;
    xc__exec_free(ck.env.exec);
    return rc;
}

static double peak_mib(int who)
{
    struct rusage ru;
    getrusage(who, &ru);
    return (double)ru.ru_maxrss / 1024.0;   /* ru_maxrss is in KiB */
}

/* This process's peak resident memory since its exec (VmHWM), in MiB, or
 * -1. Not getrusage's ru_maxrss: Linux carries that over from the process
 * that exec'd us (its resident size when it forked), which would hide the
 * first part of our own growth. */
static double own_peak_mib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    double kib = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %lf kB", &kib) == 1)
            break;
    if (f)
        fclose(f);
    return kib < 0 ? -1 : kib / 1024.0;
}

/* In a fresh process (cost --memory-child): the peak memory of one
 * isolated check of an H-class case, written to FD as three doubles: the
 * baseline, the peak after the check, and the worker's peak (MiB). */
static int measure_memory(const xc_target *t, size_t h, int fd)
{
    double m[3] = { own_peak_mib(), -1, -1 };
    xc__case *c = make_case(t->dtype, h);
    if (m[0] >= 0 && c && check_once(t, c) == 0) {
        m[1] = own_peak_mib();
        m[2] = peak_mib(RUSAGE_CHILDREN);
    }
    xc__case_free(c);
    return write(fd, m, sizeof m) == (ssize_t)sizeof m ? 0 : 2;
}

/* The problem's bytes: logits, label and gradient in the target's dtype. */
static double problem_mib(const xc_target *t, size_t h)
{
    size_t es = xc__dtype_size(t->dtype);
    return (double)(2 * h * es + sizeof(int64_t)) / (1024.0 * 1024.0);
}

/* Peak memory of one isolated check in a fresh process (this program run
 * again: a forked child would reuse the heap the timing runs left, and
 * grow less): *HARNESS the harness's growth over its baseline *BASE,
 * *WORKER the worker's peak. */
static int peak_memory(const xc_target *t, size_t h, double *harness,
                       double *base, double *worker)
{
    int p[2];
    double m[3];
    char hs[32], fds[16];
    if (pipe(p) != 0)
        return -1;
    snprintf(hs, sizeof hs, "%zu", h);
    snprintf(fds, sizeof fds, "%d", p[1]);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        execl("/proc/self/exe", "cost", "--memory-child", t->name, hs, fds, (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    ssize_t got = pid > 0 ? read(p[0], m, sizeof m) : -1;
    close(p[0]);
    if (pid > 0)
        waitpid(pid, NULL, 0);
    if (got != (ssize_t)sizeof m || m[1] < 0)
        return -1;
    *base = m[0];
    *harness = m[1] - m[0];
    *worker = m[2];
    return 0;
}

static int bench_size(const xc_target *t, size_t h, double *base)
{
    xc__case *c = make_case(t->dtype, h);
    timing in, iso;
    if (!c)
        return -1;
    int rc = time_rounds(t, c, reps_for(h), 1, &in) == 0 &&
             time_rounds(t, c, reps_for(h), 0, &iso) == 0 ? 0 : -1;
    xc__case_free(c);
    double mem, worker;
    if (rc != 0 || peak_memory(t, h, &mem, base, &worker) != 0)
        return -1;
    printf("%9zu %10.2f us %10.2f us %10.2f us %9.1f %9.1f %9.1f %8.1f %9.1f%s\n", h,
           in.grad * 1e6, in.check * 1e6, iso.check * 1e6, in.ratio, iso.ratio, mem,
           mem / problem_mib(t, h), worker,
           in.failures + iso.failures ? "  (the check failed: not a valid figure)" : "");
    fflush(stdout);
    return 0;
}

/* Median times per class of the oracle's two largest parts on the H-class
 * case: the fast reference and its bounds (a check computes each for the
 * case and for its shifted variant). */
static int time_oracle(xc_dtype dtype, size_t h, double *ref_ns, double *bounds_ns)
{
    size_t reps = reps_for(h);
    xc__case *c = make_case(dtype, h);
    double *v = malloc(2 * reps * sizeof *v);
    xc__ref ref;
    xc__bounds b;
    int rc = c && v ? 0 : -1;
    for (size_t r = 0; rc == 0 && r < reps; r++) {
        double t0 = now_seconds();
        rc = xc__reference(c, &ref);
        double t1 = now_seconds();
        rc = rc == 0 ? xc__bounds_compute(c, &ref, 1, &b) : rc;
        v[r] = t1 - t0;
        v[reps + r] = now_seconds() - t1;
        if (rc == 0)
            xc__bounds_free(&b);
        xc__ref_free(&ref);
    }
    if (rc == 0) {
        *ref_ns = median(v, reps) / (double)h * 1e9;
        *bounds_ns = median(v + reps, reps) / (double)h * 1e9;
    }
    free(v);
    xc__case_free(c);
    return rc;
}

/* The target, wrapped to count its calls (one check at a time). */
static const xc_target *counted;
static size_t grad_calls, loss_calls;

static int counting_grad(const xc_problem *p, void *grad, void *ctx)
{
    (void)ctx;
    grad_calls++;
    return counted->grad(p, grad, counted->ctx);
}

static int counting_loss(const xc_problem *p, double *loss, void *ctx)
{
    (void)ctx;
    loss_calls++;
    return counted->loss(p, loss, counted->ctx);
}

/* The calls of T per check of the H-class case, averaged over CASES seeds
 * (inline: the same calls as isolated, counted in this process). */
static int count_calls(const xc_target *t, size_t h, double *grads, double *losses)
{
    enum { CASES = 200 };
    xc_target w = *t;
    w.grad = counting_grad;
    w.loss = t->loss ? counting_loss : NULL;
    w.ctx = NULL;
    counted = t;
    grad_calls = loss_calls = 0;
    checker ck;
    int rc = checker_open(&ck, &w, 1);
    for (uint64_t i = 0; rc == 0 && i < CASES; i++) {
        xc__case *c = make_case(t->dtype, h);
        if (!c) {
            rc = -1;
            break;
        }
        c->seed = 1 + i;
        c->index = i;
        xc__props_run_case(&ck.env, c);
        rc = ck.env.harness_error ? -1 : 0;
        xc__case_free(c);
    }
    xc__exec_free(ck.env.exec);
    *grads = (double)grad_calls / CASES;
    *losses = (double)loss_calls / CASES;
    return rc;
}

static int bench_target(const xc_target *t)
{
    double base = 0;
    printf("\n%s (%s)\n", t->name, xc__dtype_name(t->dtype));
    printf("%9s %13s %13s %13s %9s %9s %9s %8s %9s\n", "H", "grad", "inline", "isolated",
           "inline/g", "isol./g", "peak MiB", "x prob.", "worker");
    for (size_t i = 0; i < sizeof class_counts / sizeof *class_counts; i++)
        if (class_counts[i] <= max_h && bench_size(t, class_counts[i], &base) != 0)
            return -1;
    printf("peak MiB: the harness's growth over its baseline of %.1f MiB in one isolated "
           "check; x prob.: over the problem's bytes (logits, label, gradient); worker: "
           "the worker process's peak\n", base);
    size_t h = max_h < 1000 ? max_h : 1000;
    double ref_ns, bounds_ns;
    if (time_oracle(t->dtype, h, &ref_ns, &bounds_ns) != 0)
        return -1;
    printf("oracle at H=%zu, per class: reference %.1f ns, bounds %.1f ns (a check "
           "computes both for the case and its shifted variant)\n", h, ref_ns, bounds_ns);
    double grads, losses;
    if (count_calls(t, h, &grads, &losses) != 0)
        return -1;
    printf("calls of the target per check at H=%zu: %.2f grad, %.2f loss (mean over 200 "
           "cases' draws)\n", h, grads, losses);
    return 0;
}

/* cost --memory-child TARGET H FD (peak_memory()). */
static int memory_child(char **argv)
{
    xc__registry *reg = xc__registry_new(0);
    const xc__entry *e = reg ? xc__registry_find(reg, argv[0]) : NULL;
    int rc = e ? measure_memory(e->target, (size_t)strtoull(argv[1], NULL, 10),
                                atoi(argv[2]))
               : 2;
    xc__registry_free(reg);
    return rc;
}

/* cost [--max-h H] [TARGET]... */
int main(int argc, char **argv)
{
    static const char *const defaults[] = { "xc.f64.shifted", "xc.f32.shifted" };
    int first = 1;
    if (argc == 5 && strcmp(argv[1], "--memory-child") == 0)
        return memory_child(argv + 2);
    if (argc > 2 && strcmp(argv[1], "--max-h") == 0) {
        char *end;
        unsigned long long m = strtoull(argv[2], &end, 10);
        if (*end || m < 1) {
            fprintf(stderr, "cost: --max-h needs a positive count\n");
            return 2;
        }
        max_h = (size_t)m;
        first = 3;
    }
    xc__registry *reg = xc__registry_new(0);
    int rc = reg ? 0 : 2;
    size_t n = argc > first ? (size_t)(argc - first) : 2;
    printf("cost of checking one case (one row, index label, sum; medians)\n");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const char *name = argc > first ? argv[first + (int)i] : defaults[i];
        const xc__entry *e = xc__registry_find(reg, name);
        if (!e) {
            fprintf(stderr, "cost: unknown target '%s'\n", name);
            rc = 2;
        } else if (bench_target(e->target) != 0) {
            fprintf(stderr, "cost: harness error on %s\n", name);
            rc = 2;
        }
    }
    xc__registry_free(reg);
    return rc;
}
