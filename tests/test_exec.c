/* Executors: isolated and inline, against small targets that break each
 * rule of the contract, for both dtypes. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fenv.h>
#include <math.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "case.h"
#include "exec.h"
#include "exec_common.h"

#define POISON 0xdeadbeefu
#define N 3
#define H 5
#define LD 7

/* ---- element access in either dtype --------------------------------- */

static double get(const void *b, xc_dtype t, size_t i)
{
    return t == XC_F32 ? ((const float *)b)[i] : ((const double *)b)[i];
}

static void set(void *b, xc_dtype t, size_t i, double v)
{
    if (t == XC_F32)
        ((float *)b)[i] = (float)v;
    else
        ((double *)b)[i] = v;
}

static double rounded(xc_dtype t, double v)
{
    return t == XC_F32 ? (double)(float)v : v;
}

/* ---- a correct toy: softmax minus one-hot, sum reduction ------------ */

static void toy_row(const double *z, size_t h, int64_t label, double *g)
{
    double m = z[0], s = 0;
    for (size_t k = 1; k < h; k++)
        m = z[k] > m ? z[k] : m;
    for (size_t k = 0; k < h; k++)
        s += exp(z[k] - m);
    for (size_t k = 0; k < h; k++)
        g[k] = exp(z[k] - m) / s - (k == (size_t)label);
}

static int toy_grad(const xc_problem *p, void *grad, void *ctx)
{
    double z[2048], g[2048];
    (void)ctx;
    if (p->classes > 2048)
        return 1;
    for (size_t r = 0; r < p->batch; r++) {
        for (size_t k = 0; k < p->classes; k++)
            z[k] = get(p->logits, p->dtype, r * p->ld + k);
        toy_row(z, p->classes, p->labels[r], g);
        for (size_t k = 0; k < p->classes; k++)
            set(grad, p->dtype, r * p->ld + k, g[k]);
    }
    return 0;
}

static int toy_loss(const xc_problem *p, double *loss, void *ctx)
{
    (void)ctx;
    *loss = 0;
    for (size_t r = 0; r < p->batch; r++) {
        const size_t row = r * p->ld;
        double m = -INFINITY, s = 0;
        for (size_t k = 0; k < p->classes; k++)
            m = fmax(m, get(p->logits, p->dtype, row + k));
        for (size_t k = 0; k < p->classes; k++)
            s += exp(get(p->logits, p->dtype, row + k) - m);
        *loss += m + log(s) - get(p->logits, p->dtype, row + p->labels[r]);
    }
    return 0;
}

/* ---- targets that break the contract -------------------------------- */

/* Each misbehaves on batches of N rows only and is correct otherwise, so
 * one executor shows both the failure and that it keeps working. */
#define MISBEHAVE_ON_BATCH_N(p, g, c)                                         \
    do {                                                                      \
        if ((p)->batch != N)                                                  \
            return toy_grad(p, g, c);                                         \
    } while (0)

static size_t last_plus_one(const xc_problem *p)
{
    return p->batch * p->ld;
}

/* One past the last row's H elements: the padding of the last row. */
static size_t last_padding(const xc_problem *p)
{
    return (p->batch - 1) * p->ld + p->classes;
}

static int t_segv(const xc_problem *p, void *g, void *c)
{
    MISBEHAVE_ON_BATCH_N(p, g, c);
    /* Not NULL itself, which UBSan would catch first; unmapped all the
     * same. Volatile: the store is neither elided nor turned into a trap. */
    volatile int *volatile nowhere = (volatile int *)(uintptr_t)64;
    (void)p, (void)g, (void)c;
    *nowhere = 1;
    return 0;
}

static int t_abort(const xc_problem *p, void *g, void *c)
{
    MISBEHAVE_ON_BATCH_N(p, g, c);
    abort();
}

static int t_fpe(const xc_problem *p, void *g, void *c)
{
    MISBEHAVE_ON_BATCH_N(p, g, c);
    raise(SIGFPE);
    return 0;
}

static int t_hang(const xc_problem *p, void *g, void *c)
{
    MISBEHAVE_ON_BATCH_N(p, g, c);
    volatile unsigned long spin = 0;
    (void)p, (void)g, (void)c;
    for (;;)
        spin++;
    return 0;
}

static int t_exit3(const xc_problem *p, void *g, void *c)
{
    MISBEHAVE_ON_BATCH_N(p, g, c);
    exit(3);
}

static int t_write_logits(const xc_problem *p, void *g, void *c)
{
    MISBEHAVE_ON_BATCH_N(p, g, c);
    toy_grad(p, g, c);
    void *logits = (void *)(uintptr_t)p->logits;
    set(logits, p->dtype, 0, get(logits, p->dtype, 0) + 1);
    return 0;
}

static int t_write_labels(const xc_problem *p, void *g, void *c)
{
    MISBEHAVE_ON_BATCH_N(p, g, c);
    toy_grad(p, g, c);
    ((int64_t *)(uintptr_t)p->labels)[1] ^= 1;
    return 0;
}

static int t_past_end(const xc_problem *p, void *g, void *c)
{
    MISBEHAVE_ON_BATCH_N(p, g, c);
    toy_grad(p, g, c);
    set(g, p->dtype, last_plus_one(p), 0.5);
    return 0;
}

static int t_last_padding(const xc_problem *p, void *g, void *c)
{
    MISBEHAVE_ON_BATCH_N(p, g, c);
    toy_grad(p, g, c);
    set(g, p->dtype, last_padding(p), 0.5);
    return 0;
}

static int t_padding(const xc_problem *p, void *g, void *c)
{
    MISBEHAVE_ON_BATCH_N(p, g, c);
    toy_grad(p, g, c);
    set(g, p->dtype, p->classes, 0.0);
    return 0;
}

static int t_before(const xc_problem *p, void *g, void *c)
{
    MISBEHAVE_ON_BATCH_N(p, g, c);
    toy_grad(p, g, c);
    set((char *)g - xc__dtype_size(p->dtype), p->dtype, 0, 0.0);
    return 0;
}

static int t_far_before(const xc_problem *p, void *g, void *c)
{
    MISBEHAVE_ON_BATCH_N(p, g, c);
    toy_grad(p, g, c);
    ((volatile char *)g)[-8192] = 0;
    return 0;
}

static int t_read_past(const xc_problem *p, void *g, void *c)
{
    MISBEHAVE_ON_BATCH_N(p, g, c);
    const volatile char *z = p->logits;
    size_t at = last_padding(p) * xc__dtype_size(p->dtype);
    toy_grad(p, g, c);
    return z[at] == 42 ? 1 : 0;
}

static int t_minus7(const xc_problem *p, void *g, void *c)
{
    MISBEHAVE_ON_BATCH_N(p, g, c);
    toy_grad(p, g, c);
    return -7;
}

static int t_untouched(const xc_problem *p, void *g, void *c)
{
    (void)p, (void)g, (void)c;
    return 0;
}

static int t_pid(const xc_problem *p, void *g, void *c)
{
    (void)p, (void)g, (void)c;
    return (int)getpid();
}

/* Deep enough to overflow any stack; the depth test keeps the compiler
 * from calling it infinite recursion. */
static int recurse(volatile char *prev, size_t depth)
{
    volatile char frame[1024];
    frame[0] = prev ? prev[0] : 1;
    if (depth > ((size_t)1 << 40))
        return frame[0];
    return recurse(frame, depth + 1) + frame[1023];
}

static int t_stack_overflow(const xc_problem *p, void *g, void *c)
{
    MISBEHAVE_ON_BATCH_N(p, g, c);
    return recurse(NULL, 0);
}

/* Answers correctly, then the worker dies of SIGALRM while idle. */
static int t_alarm(const xc_problem *p, void *g, void *c)
{
    struct itimerval it = {{0, 0}, {0, 50000}};
    setitimer(ITIMER_REAL, &it, NULL);
    return toy_grad(p, g, c);
}

/* ---- fixtures ------------------------------------------------------- */

static xc_dtype dtype_of(int i)
{
    return i % 2 ? XC_F64 : XC_F32;
}

static xc_target make_target(xc_dtype t, xc_grad_fn grad)
{
    xc_target tg = {XC_ABI_VERSION, "toy", "test target", t,
                    XC_CAP_INDEX_LABELS | XC_CAP_BATCH | XC_CAP_LOSS,
                    0, grad, toy_loss, NULL};
    return tg;
}

static xc__case *make_case(xc_dtype t, size_t n, size_t h, size_t ld)
{
    xc__case *c = xc__case_new(t, n, h, ld, XC__LABELS_INDEX, 0);
    ck_assert_ptr_nonnull(c);
    for (size_t r = 0; r < n; r++) {
        for (size_t k = 0; k < h; k++)
            c->logits[r * ld + k] = 0.37 * (double)((r * 7 + k * 3) % 11) - 1;
        c->labels[r] = (int64_t)((r * 2 + 1) % h);
    }
    xc__case_round_to_dtype(c);
    return c;
}

static xc__exec *make_exec(const xc_target *tg, int inline_mode, double to)
{
    xc__exec_config cfg = {to, inline_mode};
    xc__exec *ex = xc__exec_new(tg, &cfg);
    ck_assert_ptr_nonnull(ex);
    return ex;
}

/* The toy's gradient computed here, rounded to the dtype. */
static void expect_grad(const xc__case *c, xc_dtype t, double *want)
{
    double g[4096];
    memset(want, 0, c->batch * c->ld * sizeof *want);
    for (size_t r = 0; r < c->batch; r++) {
        double z[4096];
        for (size_t k = 0; k < c->classes; k++)
            z[k] = c->logits[r * c->ld + k];
        toy_row(z, c->classes, c->labels[r], g);
        for (size_t k = 0; k < c->classes; k++)
            want[r * c->ld + k] = rounded(t, g[k]);
    }
}

/* One correct call on C: status OK and the exact expected gradient. */
static void assert_good_call(xc__exec *ex, const xc__case *c, xc_dtype t)
{
    size_t n = c->batch * c->ld;
    double *got = malloc(n * sizeof *got), *want = malloc(n * sizeof *want);
    xc__call_result res;
    ck_assert_ptr_nonnull(got);
    ck_assert_ptr_nonnull(want);
    expect_grad(c, t, want);
    ck_assert_int_eq(xc__exec_grad(ex, c, POISON, got, &res), XC__CALL_OK);
    ck_assert_str_eq(res.detail, "ok");
    size_t first_bad = n; /* one assertion: Check's are slow in loops */
    for (size_t i = n; i-- > 0;)
        if (got[i] != want[i])
            first_bad = i;
    ck_assert_msg(first_bad == n, "grad[%zu] = %a, want %a", first_bad,
                  got[first_bad % n], want[first_bad % n]);
    free(got);
    free(want);
}

/* ---- the misbehaving targets, in a table ---------------------------- */

typedef struct bad_case {
    const char *name;
    xc_grad_fn grad;
    xc__call_status status;
    int code;
    const char *detail; /* a substring of the detail */
    int kills_worker;   /* isolated mode restarts the worker */
    int inline_ok;      /* survivable in-process */
} bad_case;

static const bad_case bad[] = {
    {"segv", t_segv, XC__CALL_CRASHED, SIGSEGV, "SIGSEGV", 1, 0},
    {"abort", t_abort, XC__CALL_CRASHED, SIGABRT, "SIGABRT", 1, 0},
    {"fpe", t_fpe, XC__CALL_CRASHED, SIGFPE, "SIGFPE", 1, 0},
    {"exit3", t_exit3, XC__CALL_EXITED, 3, "status 3", 1, 0},
    {"stack", t_stack_overflow, XC__CALL_CRASHED, SIGSEGV, "SIGSEGV", 1, 0},
    {"logits", t_write_logits, XC__CALL_WROTE_INPUT, 0, "logits element 0",
     1, 1},
    {"labels", t_write_labels, XC__CALL_WROTE_INPUT, 0, "labels element 1",
     1, 1},
    {"past_end", t_past_end, XC__CALL_WROTE_OUTSIDE, 0,
     "grad element 21, past the last row", 1, 1},
    {"last_padding", t_last_padding, XC__CALL_WROTE_PADDING, 0,
     "padding of the last row", 1, 1},
    {"padding", t_padding, XC__CALL_WROTE_PADDING, 0, "row 0 at class 5", 0,
     1},
    {"before", t_before, XC__CALL_WROTE_OUTSIDE, 0, "grad element -1", 0, 1},
    {"far_before", t_far_before, XC__CALL_WROTE_OUTSIDE, 0,
     "before the buffer", 1, 0},
    {"read_past", t_read_past, XC__CALL_CRASHED, SIGSEGV,
     "read past the end of logits (element 19 of 19)", 1, 0},
    {"minus7", t_minus7, XC__CALL_RETURNED_ERROR, -7, "returned -7", 0, 1},
};
#define N_BAD ((int)(sizeof bad / sizeof bad[0]))

static void run_bad(const bad_case *b, xc_dtype t, int inline_mode)
{
    xc_target tg = make_target(t, b->grad);
    xc__exec *ex = make_exec(&tg, inline_mode, 2.0);
    xc__case *c = make_case(t, N, H, LD);
    double out[N * LD];
    xc__call_result res;
    xc__call_status s = xc__exec_grad(ex, c, POISON, out, &res);
    ck_assert_msg(s == b->status && res.status == s,
                  "%s/%s: got %s (%s), want %s", b->name, xc__dtype_name(t),
                  xc__call_status_str(s), res.detail,
                  xc__call_status_str(b->status));
    ck_assert_int_eq(res.code, b->code);
    ck_assert_msg(strstr(res.detail, b->detail) != NULL,
                  "%s: detail \"%s\" lacks \"%s\"", b->name, res.detail,
                  b->detail);
    /* The executor survives: the same target is correct on other sizes. */
    xc__case *c2 = make_case(t, N - 1, H, LD);
    assert_good_call(ex, c2, t);
    xc__case_free(c2);
    if (!inline_mode)
        ck_assert_uint_eq(xc__exec_restarts(ex), 1u + (size_t)b->kills_worker);
    xc__case_free(c);
    xc__exec_free(ex);
}

START_TEST(isolated_bad_targets)
{
    run_bad(&bad[_i / 2], dtype_of(_i), 0);
}
END_TEST

/* Registered only for the entries with inline_ok (see main). */
START_TEST(inline_bad_targets)
{
    run_bad(&bad[_i / 2], dtype_of(_i), 1);
}
END_TEST

/* ---- correct calls -------------------------------------------------- */

/* The toy's loss on C, computed the same way from the case's doubles. */
static double expect_loss(const xc__case *c)
{
    xc_problem p = {XC_F64, c->batch, c->classes, c->ld, c->logits,
                    c->labels, NULL, XC_REDUCE_SUM, NULL, -100};
    double loss = 0;
    toy_loss(&p, &loss, NULL);
    return loss;
}

START_TEST(good_grad_and_loss)
{
    xc_dtype t = dtype_of(_i);
    xc_target tg = make_target(t, toy_grad);
    xc__exec *ex = make_exec(&tg, _i / 2, 0);
    xc__case *c = make_case(t, N, H, LD);
    assert_good_call(ex, c, t);
    double loss = -1;
    xc__call_result res;
    ck_assert_int_eq(xc__exec_loss(ex, c, &loss, &res), XC__CALL_OK);
    ck_assert_msg(loss == expect_loss(c), "loss %a, want %a", loss,
                  expect_loss(c));
    ck_assert_uint_eq(xc__exec_restarts(ex), _i / 2 ? 0u : 1u);
    xc__case_free(c);
    xc__exec_free(ex);
}
END_TEST

START_TEST(no_loss_is_a_harness_error)
{
    xc_target tg = make_target(dtype_of(_i), toy_grad);
    tg.loss = NULL;
    tg.caps &= ~(uint32_t)XC_CAP_LOSS;
    xc__exec *ex = make_exec(&tg, _i / 2, 0);
    xc__case *c = make_case(tg.dtype, N, H, LD);
    double loss = 0;
    xc__call_result res;
    ck_assert_int_eq(xc__exec_loss(ex, c, &loss, &res),
                     XC__CALL_HARNESS_ERROR);
    ck_assert_ptr_nonnull(strstr(res.detail, "no loss()"));
    xc__case_free(c);
    xc__exec_free(ex);
}
END_TEST

/* An untouched gradient reads back as the poison: the whole buffer was
 * filled, twice the pattern per f64 element. */
START_TEST(untouched_grad_is_poison)
{
    xc_dtype t = dtype_of(_i);
    xc_target tg = make_target(t, t_untouched);
    xc__exec *ex = make_exec(&tg, _i / 2, 0);
    xc__case *c = make_case(t, N, H, LD);
    double out[N * LD], want;
    if (t == XC_F32) {
        uint32_t bits = POISON;
        float f;
        memcpy(&f, &bits, 4);
        want = f;
    } else {
        uint64_t bits = (uint64_t)POISON << 32 | POISON;
        memcpy(&want, &bits, 8);
    }
    ck_assert_int_eq(xc__exec_grad(ex, c, POISON, out, NULL), XC__CALL_OK);
    for (size_t r = 0; r < N; r++)
        for (size_t k = 0; k < LD; k++)
            ck_assert(out[r * LD + k] == (k < H ? want : 0.0));
    xc__case_free(c);
    xc__exec_free(ex);
}
END_TEST

START_TEST(isolated_runs_elsewhere_inline_here)
{
    xc_target tg = make_target(dtype_of(_i), t_pid);
    xc__exec *ex = make_exec(&tg, _i / 2, 0);
    xc__case *c = make_case(tg.dtype, N, H, LD);
    double out[N * LD];
    xc__call_result res;
    ck_assert_int_eq(xc__exec_grad(ex, c, POISON, out, &res),
                     XC__CALL_RETURNED_ERROR);
    if (_i / 2)
        ck_assert_int_eq(res.code, (int)getpid());
    else
        ck_assert_int_ne(res.code, (int)getpid());
    xc__case_free(c);
    xc__exec_free(ex);
}
END_TEST

/* ---- isolation: hangs, growth, dead workers ------------------------- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

START_TEST(hang_reported_within_timeout)
{
    xc_dtype t = dtype_of(_i);
    xc_target tg = make_target(t, t_hang);
    xc__exec *ex = make_exec(&tg, 0, 0.3);
    xc__case *c = make_case(t, N, H, LD);
    double out[N * LD];
    xc__call_result res;
    double t0 = now_s();
    ck_assert_int_eq(xc__exec_grad(ex, c, POISON, out, &res), XC__CALL_HUNG);
    double took = now_s() - t0;
    ck_assert_msg(took >= 0.3 && took <= 0.8, "hang reported after %g s", took);
    xc__case *c2 = make_case(t, N - 1, H, LD);
    assert_good_call(ex, c2, t);
    ck_assert_uint_eq(xc__exec_restarts(ex), 2);
    xc__case_free(c2);
    xc__case_free(c);
    xc__exec_free(ex);
}
END_TEST

/* A larger case grows the arena (a new worker, not a restart); buffers
 * stay right-aligned, so a small case after it is still guarded. */
START_TEST(arena_grows_and_stays_guarded)
{
    xc_dtype t = dtype_of(_i);
    xc_target tg = make_target(t, t_past_end);
    xc__exec *ex = make_exec(&tg, 0, 0);
    xc__case *big = make_case(t, 40, 1000, 1003);
    xc__case *small = make_case(t, N, H, LD);
    double out[N * LD];
    xc__call_result res;
    assert_good_call(ex, big, t);
    ck_assert_uint_eq(xc__exec_restarts(ex), 1);
    ck_assert_int_eq(xc__exec_grad(ex, small, POISON, out, &res),
                     XC__CALL_WROTE_OUTSIDE);
    assert_good_call(ex, big, t);
    ck_assert_uint_eq(xc__exec_restarts(ex), 2);
    xc__case_free(small);
    xc__case_free(big);
    xc__exec_free(ex);
}
END_TEST

/* The worker dies while idle: the next call finds it gone (its pidfd, or
 * without one the ring's EPIPE; no SIGPIPE kills this process) and goes
 * to a fresh worker. */
START_TEST(worker_dead_between_calls)
{
    xc_dtype t = dtype_of(_i);
    xc_target tg = make_target(t, t_alarm);
    xc__exec *ex = make_exec(&tg, 0, 0);
    xc__case *c = make_case(t, N, H, LD);
    assert_good_call(ex, c, t);
    struct timespec nap = {0, 300000000};
    nanosleep(&nap, NULL);
    assert_good_call(ex, c, t);
    ck_assert_uint_eq(xc__exec_restarts(ex), 2);
    xc__case_free(c);
    xc__exec_free(ex);
}
END_TEST

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    ck_assert_ptr_nonnull(d);
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

START_TEST(free_reaps_and_closes)
{
    int fds = count_fds();
    xc_target tg = make_target(dtype_of(_i), t_segv);
    xc__exec *ex = make_exec(&tg, 0, 0);
    xc__case *c = make_case(tg.dtype, N, H, LD);
    double out[N * LD];
    for (int k = 0; k < 3; k++)
        ck_assert_int_eq(xc__exec_grad(ex, c, POISON, out, NULL),
                         XC__CALL_CRASHED);
    xc__exec_free(ex);
    xc__case_free(c);
    ck_assert_int_eq(count_fds(), fds);
    errno = 0;
    ck_assert_int_eq(waitpid(-1, NULL, WNOHANG), -1);
    ck_assert_int_eq(errno, ECHILD);
}
END_TEST

/* 'Z' (a zombie nobody reaps in a container) or gone: not running. */
static int process_gone(pid_t pid)
{
    char path[64], state = 0;
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 1;
    int ok = fscanf(f, "%*d (%*[^)]) %c", &state) == 1;
    fclose(f);
    return ok && (state == 'Z' || state == 'X');
}

/* Tells its process id on small batches, hangs on batches of N. */
static int t_pid_then_hang(const xc_problem *p, void *g, void *c)
{
    if (p->batch == N)
        return t_hang(p, g, c);
    return t_pid(p, g, c);
}

/* The harness side of no_orphan_worker: reports its worker's pid on FD,
 * then waits on a hung call until it is killed. */
static void doomed_harness(int fd)
{
    xc_target tg = make_target(XC_F64, t_pid_then_hang);
    xc__exec *ex = make_exec(&tg, 0, 60);
    xc__case *small = make_case(XC_F64, N - 1, H, LD);
    xc__case *c = make_case(XC_F64, N, H, LD);
    double out[N * LD];
    xc__call_result res;
    xc__exec_grad(ex, small, POISON, out, &res);
    if (write(fd, &res.code, sizeof res.code) != (ssize_t)sizeof res.code)
        _exit(1);
    xc__exec_grad(ex, c, POISON, out, &res);
    _exit(2);
}

/* A harness killed in the middle of a call leaves no worker behind. */
START_TEST(no_orphan_worker)
{
    int fd[2], worker = 0, st = 0;
    ck_assert_int_eq(pipe(fd), 0);
    pid_t harness = fork();
    ck_assert_int_ge(harness, 0);
    if (harness == 0)
        doomed_harness(fd[1]);
    ck_assert_int_eq(read(fd[0], &worker, sizeof worker), sizeof worker);
    ck_assert_int_gt(worker, 0);
    struct timespec nap = {0, 100000000}; /* the worker is spinning */
    nanosleep(&nap, NULL);
    ck_assert(!process_gone(worker));
    kill(harness, SIGKILL);
    ck_assert_int_eq(waitpid(harness, &st, 0), harness);
    double t0 = now_s();
    while (!process_gone(worker) && now_s() - t0 < 3.0)
        usleep(10000);
    ck_assert_msg(process_gone(worker), "worker %d outlived its harness",
                  worker);
    close(fd[0]);
    close(fd[1]);
}
END_TEST

START_TEST(many_calls_one_worker)
{
    xc_dtype t = dtype_of(_i);
    xc_target tg = make_target(t, toy_grad);
    xc__exec *ex = make_exec(&tg, 0, 0);
    xc__case *c = make_case(t, N, H, LD);
    for (int k = 0; k < 2000; k++)
        assert_good_call(ex, c, t);
    ck_assert_uint_eq(xc__exec_restarts(ex), 1);
    xc__case_free(c);
    xc__exec_free(ex);
}
END_TEST

static void nap_us(long us)
{
    struct timespec nap = {us / 1000000, us % 1000000 * 1000};
    nanosleep(&nap, NULL);
}

/* toy_grad after 2 ms: longer than either side spins (SPIN_NS). */
static int t_slow(const xc_problem *p, void *g, void *c)
{
    nap_us(2000);
    return toy_grad(p, g, c);
}

/* toy_grad after a pause of 0 to 124 us, a different one each call: the
 * answers land before, near and after the end of the parent's spin. */
static int t_jitter(const xc_problem *p, void *g, void *c)
{
    static unsigned k;
    nap_us((long)(k++ * 37 % 125));
    return toy_grad(p, g, c);
}

static long pause_2ms(int k)
{
    (void)k;
    return 2000;
}

/* 0 to 124 us, and none every third call. */
static long pause_jitter(int k)
{
    return k % 3 ? (long)(k * 53 % 125) : 0;
}

/* CALLS good calls of TARGET in one worker, each with a timeout of
 * TIMEOUT s, the harness pausing PAUSE(k) us after call k. */
static void paced_calls(xc_dtype t, xc_grad_fn target, double timeout, int calls,
                        long (*pause)(int))
{
    xc_target tg = make_target(t, target);
    xc__exec *ex = make_exec(&tg, 0, timeout);
    xc__case *c = make_case(t, N, H, LD);
    for (int k = 0; k < calls; k++) {
        assert_good_call(ex, c, t);
        nap_us(pause(k));
    }
    ck_assert_uint_eq(xc__exec_restarts(ex), 1);
    xc__case_free(c);
    xc__exec_free(ex);
}

/* The handshake's sleeping path, both ways: each call outlasts the
 * parent's spin (it sleeps, and the worker must ring it), and the pause
 * between calls outlasts the worker's (it sleeps, and the parent must
 * ring it). A lost wake-up would leave a side asleep until the call's
 * 2 s timeout: a hang, and this test fails. */
START_TEST(slow_calls_wake_the_sleeping_side)
{
    paced_calls(dtype_of(_i), t_slow, 2, 20, pause_2ms);
}
END_TEST

/* Calls whose answers and next requests come at every moment around the
 * spins' end, where a side may take its sleeping flag back as the other
 * rings it: a ring left unread must only wake a side early, never pass
 * for a worker that died (an earlier shared-page protocol made that
 * mistake under ASan) nor leave a side asleep. */
START_TEST(calls_around_the_spin_budget)
{
    paced_calls(dtype_of(_i), t_jitter, 2, 3000, pause_jitter);
}
END_TEST

/* `--timeout` takes any positive number: a timeout of centuries is no
 * timeout, never an overflow (in nanoseconds or poll()'s milliseconds)
 * that would end the wait at once. The slow target makes the parent
 * sleep with that timeout. */
START_TEST(far_timeout_waits)
{
    paced_calls(dtype_of(_i), t_slow, 1e12, 1, pause_2ms);
}
END_TEST

/* ---- what the target sees ------------------------------------------- */

typedef struct seen {
    int labels, probs, weights; /* expected non-NULL */
    int64_t ignore_index;
    double logit_last, prob_last, weight_last; /* last element of each */
} seen;

/* Returns a bit per violated expectation (0: all as expected). */
static int t_inspect(const xc_problem *p, void *g, void *ctx)
{
    const seen *e = ctx;
    size_t last = last_padding(p) - 1;
    int bad = 0;
    (void)g;
    bad |= (p->labels != NULL) != e->labels;
    bad |= ((p->probs != NULL) != e->probs) << 1;
    bad |= ((p->weights != NULL) != e->weights) << 2;
    bad |= (p->ignore_index != e->ignore_index) << 3;
    bad |= (get(p->logits, p->dtype, last) != e->logit_last) << 4;
    if (p->probs)
        bad |= (get(p->probs, p->dtype, last) != e->prob_last) << 5;
    if (p->weights)
        bad |= (get(p->weights, p->dtype, p->classes - 1) !=
                e->weight_last) << 6;
    return bad;
}

static xc__case *prob_case(xc_dtype t)
{
    xc__case *c = xc__case_new(t, N, H, LD, XC__LABELS_PROB, 1);
    ck_assert_ptr_nonnull(c);
    for (size_t i = 0; i < N * LD; i++) {
        c->logits[i] = 0.1 * (double)i;
        c->probs[i] = (i % LD) < H ? 0.2 : 0;
    }
    for (size_t k = 0; k < H; k++)
        c->weights[k] = 1.0 + (double)k / 3;
    xc__case_round_to_dtype(c);
    return c;
}

static void check_seen(xc_dtype t, int inline_mode, const xc__case *c,
                       seen *e)
{
    xc_target tg = make_target(t, t_inspect);
    tg.ctx = e;
    xc__exec *ex = make_exec(&tg, inline_mode, 0);
    double out[N * LD];
    xc__call_result res;
    xc__exec_grad(ex, c, POISON, out, &res);
    ck_assert_msg(res.status == XC__CALL_OK, "%s: %s", res.detail,
                  xc__call_status_str(res.status));
    xc__exec_free(ex);
}

START_TEST(problem_built_from_case)
{
    xc_dtype t = dtype_of(_i);
    size_t last = (N - 1) * LD + H - 1;
    xc__case *c = make_case(t, N, H, LD);
    seen e = {1, 0, 0, -100, c->logits[last], 0, 0};
    check_seen(t, _i / 2, c, &e);
    c->has_ignore_index = 1;
    c->ignore_index = 4;
    e.ignore_index = 4;
    check_seen(t, _i / 2, c, &e);
    xc__case_free(c);
    c = prob_case(t);
    seen f = {0, 1, 1, -100, c->logits[last], c->probs[last],
              c->weights[H - 1]};
    check_seen(t, _i / 2, c, &f);
    xc__case_free(c);
}
END_TEST

/* A target that turns on flush-to-zero, denormals-are-zero and rounding
 * toward zero during its call, and leaves them on. */
static int t_sets_fp_mode(const xc_problem *p, void *grad, void *ctx)
{
#if defined(__x86_64__)
    unsigned csr;
    __asm__ volatile("stmxcsr %0" : "=m"(csr));
    csr |= 0x8040u; /* FTZ and DAZ */
    __asm__ volatile("ldmxcsr %0" : : "m"(csr));
#endif
    fesetround(FE_TOWARDZERO);
    return toy_grad(p, grad, ctx);
}

/* The inline executor puts the harness's floating-point mode back after a
 * call: inputs holding subnormals still compare equal to the case they
 * were filled from (a flushed conversion would call them written), and
 * the harness goes on rounding to nearest. */
START_TEST(inline_restores_the_fp_mode)
{
    xc_dtype t = dtype_of(_i);
    xc_target tg = make_target(t, t_sets_fp_mode);
    xc__exec *ex = make_exec(&tg, 1, 0);
    xc__case *c = make_case(t, N, H, LD);
    c->logits[1] = t == XC_F32 ? 0x1p-140 : 0x1p-1070; /* subnormal in the dtype */
    double out[N * LD];
    xc__call_result res;
    ck_assert_int_eq(xc__exec_grad(ex, c, POISON, out, &res), XC__CALL_OK);
    ck_assert_int_eq(fegetround(), FE_TONEAREST);
    volatile double tiny = 0x1p-1070;
    ck_assert(tiny * 0.5 != 0); /* no flush to zero */
    xc__case_free(c);
    xc__exec_free(ex);
}
END_TEST

/* xc__exec_inputs_intact, which the inline executor checks inputs with:
 * each input changed at one element (a value, or only a NaN's payload) is
 * named with that element, in f32 and f64, and untouched inputs pass. */
START_TEST(inputs_intact_names_the_changed_element)
{
    xc_dtype t = dtype_of(_i);
    size_t es = xc__dtype_size(t);
    xc__case *c = xc__case_new(t, 3, 5, 7, XC__LABELS_PROB, 1);
    ck_assert_ptr_nonnull(c);
    for (size_t i = 0; i < 3 * 7; i++) {
        c->logits[i] = 0.25 * (double)i - 2;
        c->probs[i] = 1.0 / 8;
    }
    c->logits[9] = NAN;
    for (size_t k = 0; k < 5; k++)
        c->weights[k] = 1 + (double)k;
    size_t n = xc__exec_extent(c);
    xc__exec_inputs in = {malloc(n * es), NULL, malloc(n * es), malloc(5 * es)};
    ck_assert(in.logits && in.probs && in.weights);
    void *bufs[4] = {in.logits, NULL, in.probs, in.weights};
    size_t at[4] = {9, 0, 12, 3}; /* logits: the NaN's payload */
    for (int which = 0; which < 4; which++) {
        if (!bufs[which])
            continue;
        xc__exec_fill_inputs(c, t, &in);
        int w = -1;
        size_t e = 0;
        ck_assert(xc__exec_inputs_intact(c, t, &in, &w, &e));
        unsigned char *byte = (unsigned char *)bufs[which] + at[which] * es;
        byte[which == 0 ? 0 : es - 1] ^= which == 0 ? 1 : 0x80; /* a payload bit, or the sign */
        ck_assert_int_eq(xc__exec_inputs_intact(c, t, &in, &w, &e), 0);
        ck_assert_int_eq(w, which);
        ck_assert_uint_eq(e, at[which]);
    }
    free(in.logits);
    free(in.probs);
    free(in.weights);
    xc__case_free(c);
    /* An index-label case: a changed label is named. */
    c = make_case(t, N, H, LD);
    n = xc__exec_extent(c);
    xc__exec_inputs idx = {malloc(n * es), malloc(N * sizeof(int64_t)), NULL, NULL};
    ck_assert(idx.logits && idx.labels);
    xc__exec_fill_inputs(c, t, &idx);
    int w = -1;
    size_t e = 0;
    ck_assert(xc__exec_inputs_intact(c, t, &idx, &w, &e));
    idx.labels[2] += 1;
    ck_assert(!xc__exec_inputs_intact(c, t, &idx, &w, &e) && w == 1 && e == 2);
    free(idx.logits);
    free(idx.labels);
    xc__case_free(c);
}
END_TEST

/* The inline executor keeps its blocks between calls of one shape: a write
 * to an input is still caught on a reused block, the next call gets fresh
 * inputs, and shape changes in either direction stay correct. */
START_TEST(inline_blocks_reused_across_calls)
{
    xc_dtype t = dtype_of(_i);
    xc_target tg = make_target(t, t_write_logits);
    xc__exec *ex = make_exec(&tg, 1, 0);
    xc__case *bad_shape = make_case(t, N, H, LD), *good = make_case(t, N - 1, H, LD);
    xc__case *wide = make_case(t, N - 1, 40, 45);
    double out[N * LD];
    xc__call_result res;
    for (int round = 0; round < 2; round++) {
        assert_good_call(ex, good, t);
        assert_good_call(ex, good, t);
        ck_assert_int_eq(xc__exec_grad(ex, bad_shape, POISON, out, &res),
                         XC__CALL_WROTE_INPUT);
        ck_assert_int_eq(xc__exec_grad(ex, bad_shape, POISON, out, &res),
                         XC__CALL_WROTE_INPUT);
        assert_good_call(ex, wide, t);
        assert_good_call(ex, good, t);
    }
    xc__case_free(wide);
    xc__case_free(good);
    xc__case_free(bad_shape);
    xc__exec_free(ex);
}
END_TEST

/* The scratch pool: blocks come back for requests they hold, aligned and
 * (on request) zeroed; blocks up to half XC__POOL_MIN_BLOCK are kept
 * apart, by power-of-two size class, a bounded number each; more frees
 * than slots do not leak (ASan checks). */
START_TEST(pool_reuses_blocks)
{
    enum { U = XC__POOL_MIN_BLOCK };
    xc__pool *p = xc__pool_new();
    ck_assert_ptr_nonnull(p);
    unsigned char *a = xc__pool_get(p, 4 * U);
    ck_assert_ptr_nonnull(a);
    ck_assert_uint_eq((uintptr_t)a % _Alignof(max_align_t), 0);
    memset(a, 0xab, 4 * U);
    xc__pool_put(p, a);
    ck_assert_ptr_eq(xc__pool_get(p, 3 * U), a); /* best fit: the only one */
    xc__pool_put(p, a);
    unsigned char *edge = xc__pool_get(p, U);
    xc__pool_put(p, edge);
    unsigned char *small = xc__pool_get(p, U / 2); /* edge would fit: a small block */
    ck_assert_ptr_ne(small, edge);
    ck_assert_uint_eq((uintptr_t)small % _Alignof(max_align_t), 0);
    memset(small, 0xcd, U / 2);
    size_t held = xc__pool_held(p);
    xc__pool_put(p, small); /* kept in its class, apart from edge's slot */
    ck_assert_uint_eq(xc__pool_held(p), held + 1);
    ck_assert_ptr_eq(xc__pool_get(p, U / 4 + 1), small); /* the same class */
    ck_assert_ptr_eq(xc__pool_get(p, U / 2 + 1), edge);  /* large: at least U */
    unsigned char *b100 = xc__pool_get(p, 100), *b64 = xc__pool_get(p, 64);
    memset(b100, 1, 100);
    memset(b64, 2, 64);
    xc__pool_put(p, b100);
    xc__pool_put(p, b64);
    ck_assert_ptr_eq(xc__pool_get(p, 65), b100); /* 128-byte class */
    ck_assert_ptr_eq(xc__pool_get(p, 1), b64);   /* 64-byte class */
    xc__pool_put(p, b64);
    xc__pool_put(p, b100);
    xc__pool_put(p, small);
    void *same[40];
    held = xc__pool_held(p);
    for (size_t i = 0; i < 40; i++)
        same[i] = xc__pool_get(p, 200 + i);
    for (size_t i = 0; i < 40; i++)
        xc__pool_put(p, same[i]);
    ck_assert_uint_gt(xc__pool_held(p), held); /* some kept ... */
    ck_assert_uint_lt(xc__pool_held(p), held + 40); /* ... not all */
    xc__pool_put(p, edge);
    unsigned char *z = xc__pool_get_zeroed(p, 4 * U);
    ck_assert_ptr_eq(z, a);
    for (size_t i = 0; i < 4 * U; i++)
        ck_assert_uint_eq(z[i], 0);
    unsigned char *big = xc__pool_get(p, 8 * U);
    ck_assert_ptr_ne(big, z);
    xc__pool_put(p, big);
    xc__pool_put(p, z);
    ck_assert_ptr_eq(xc__pool_get(p, 2 * U + 1), z); /* the smaller that holds it */
    xc__pool_put(p, z);
    void *many[100];
    for (size_t i = 0; i < 100; i++)
        many[i] = xc__pool_get(p, (i % 2 ? U : 16) + i);
    for (size_t i = 0; i < 100; i++)
        xc__pool_put(p, many[i]);
    xc__pool_free(p);
    void *plain = xc__pool_get(NULL, 10); /* NULL pool: malloc and free */
    ck_assert_ptr_nonnull(plain);
    xc__pool_put(NULL, plain);
}
END_TEST

START_TEST(status_strings_distinct)
{
    for (int a = XC__CALL_OK; a <= XC__CALL_HARNESS_ERROR; a++) {
        const char *sa = xc__call_status_str((xc__call_status)a);
        ck_assert_str_ne(sa, "unknown status");
        for (int b = a + 1; b <= XC__CALL_HARNESS_ERROR; b++)
            ck_assert_str_ne(sa, xc__call_status_str((xc__call_status)b));
    }
    ck_assert_str_eq(xc__call_status_str((xc__call_status)99),
                     "unknown status");
}
END_TEST

START_TEST(new_rejects_malformed_targets)
{
    xc_target tg = make_target(XC_F64, NULL);
    xc__exec_config cfg = {0, _i};
    ck_assert_ptr_null(xc__exec_new(&tg, &cfg));
    tg = make_target((xc_dtype)7, toy_grad);
    ck_assert_ptr_null(xc__exec_new(&tg, &cfg));
    ck_assert_ptr_null(xc__exec_new(NULL, &cfg));
}
END_TEST

/* ---- suite ---------------------------------------------------------- */

/* Loop index _i: bit 0 picks the dtype, _i / 2 the mode (1 = inline). */
static TCase *both_modes(const char *name, const TTest *test)
{
    TCase *tc = tcase_create(name);
    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, test, 0, 4);
    return tc;
}

static TCase *isolated_case(void)
{
    TCase *tc = tcase_create("isolated");
    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, isolated_bad_targets, 0, 2 * N_BAD);
    tcase_add_loop_test(tc, hang_reported_within_timeout, 0, 2);
    tcase_add_loop_test(tc, arena_grows_and_stays_guarded, 0, 2);
    tcase_add_loop_test(tc, worker_dead_between_calls, 0, 2);
    tcase_add_loop_test(tc, free_reaps_and_closes, 0, 2);
    tcase_add_loop_test(tc, many_calls_one_worker, 0, 2);
    tcase_add_loop_test(tc, slow_calls_wake_the_sleeping_side, 0, 2);
    tcase_add_loop_test(tc, calls_around_the_spin_budget, 0, 2);
    tcase_add_loop_test(tc, far_timeout_waits, 0, 2);
    tcase_add_test(tc, no_orphan_worker);
    return tc;
}

static TCase *inline_case(void)
{
    TCase *tc = tcase_create("inline");
    tcase_set_timeout(tc, 30);
    for (int i = 0; i < N_BAD; i++)
        if (bad[i].inline_ok)
            tcase_add_loop_test(tc, inline_bad_targets, 2 * i, 2 * i + 2);
    return tc;
}

static Suite *exec_suite(void)
{
    Suite *s = suite_create("exec");
    suite_add_tcase(s, isolated_case());
    suite_add_tcase(s, inline_case());
    suite_add_tcase(s, both_modes("good", good_grad_and_loss));
    suite_add_tcase(s, both_modes("no_loss", no_loss_is_a_harness_error));
    suite_add_tcase(s, both_modes("poison", untouched_grad_is_poison));
    suite_add_tcase(s, both_modes("process", isolated_runs_elsewhere_inline_here));
    suite_add_tcase(s, both_modes("problem", problem_built_from_case));
    TCase *misc = tcase_create("misc");
    tcase_add_test(misc, status_strings_distinct);
    tcase_add_test(misc, pool_reuses_blocks);
    tcase_add_loop_test(misc, inline_blocks_reused_across_calls, 0, 2);
    tcase_add_loop_test(misc, inputs_intact_names_the_changed_element, 0, 2);
    tcase_add_loop_test(misc, inline_restores_the_fp_mode, 0, 2);
    tcase_add_loop_test(misc, new_rejects_malformed_targets, 0, 2);
    suite_add_tcase(s, misc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(exec_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
