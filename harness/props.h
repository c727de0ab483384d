/* Properties: what xentcheck checks of a target on one case.
 *
 * Each property has a stable name (printed, in reports, in case files).
 * props.c runs them all on a base case; they share the base call's results
 * (xc__prop_base) and report violations through the environment's sink.
 */
#ifndef XC_HARNESS_PROPS_H
#define XC_HARNESS_PROPS_H

#include <stddef.h>
#include <stdint.h>

#include "case.h"
#include "exec.h"
#include "pcg32.h"
#include "reference.h"
#include "tolerance.h"

#define XC__P_REFERENCE_GRAD "reference_grad"
#define XC__P_REFERENCE_LOSS "reference_loss"
#define XC__P_FD "fd_consistency"
#define XC__P_SHIFT "shift_invariance"
#define XC__P_ROW_SUM "row_sum"
#define XC__P_BOUNDS "bounds"
#define XC__P_FINITE "finite"
#define XC__P_PERMUTATION "permutation"
#define XC__P_BATCH "batch_consistency"
#define XC__P_DETERMINISM "determinism"
#define XC__P_INPUTS "inputs_unchanged"
#define XC__P_POISON "no_read_before_write"
#define XC__P_PADDING "padding_untouched"
#define XC__P_GUARD "guard_untouched"
#define XC__P_NONFINITE "nonfinite_isolation"
#define XC__P_MASKED "masked_rows"
#define XC__P_RETURN "return_code"
#define XC__P_CRASH "no_crash"
#define XC__P_HANG "no_hang"

/* Every property name, in a fixed order; NULL-terminated. */
extern const char *const xc__property_names[];

typedef struct xc__prop_sink {
    /* A violation of PROPERTY on (base) case C; MESSAGE is multi-line. */
    void (*fail)(void *ctx, const char *property, const xc__case *c,
                 const char *message);
    /* Property PROPERTY was evaluated (for the per-property report). */
    void (*ran)(void *ctx, const char *property);
    /* Accuracy of the base gradient: worst scaled error (u) and worst
     * error/bound over the case's compared elements. */
    void (*accuracy)(void *ctx, const xc__case *c, double worst_scaled,
                     double worst_ratio, size_t elements);
    void *ctx;
} xc__prop_sink;

typedef struct xc__prop_env {
    const xc_target *target;
    xc__exec *exec;
    double tol_factor;
    xc__prop_sink sink;
    int harness_error;      /* set when the harness itself failed (memory) */
    int stop;               /* set by the sink: make no further calls */
} xc__prop_env;

/* Run every applicable property on case C. Returns the number of
 * violations reported (0 = the case passed). */
size_t xc__props_run_case(xc__prop_env *env, const xc__case *c);

/* The fuzzer's cheaper pass: the base call with every property that needs
 * at most the loss besides it (reference_grad, finite, row_sum, bounds,
 * reference_loss, and the call-status properties), then only PART (mod
 * XC__PROP_PARTS) of the groups that make further calls: determinism and
 * no_read_before_write; fd_consistency; shift_invariance and permutation;
 * batch_consistency; nonfinite_isolation; masked_rows. What a group draws
 * does not depend on the others, so every violation it reports is
 * reported by xc__props_run_case on the same case too. */
#define XC__PROP_PARTS 6u
size_t xc__props_run_part(xc__prop_env *env, const xc__case *c, unsigned part);

/* A number that moves on from case to case, for properties that take
 * turns (FD directions, fuzzing's parts): the index within a run, the
 * seed across fuzzing inputs (all of index 0). */
uint64_t xc__props_turn(const xc__case *c);

/* Shared state of the properties on one case (internal to props_*.c). */
typedef struct xc__prop_base {
    xc__prop_env *env;
    const xc__case *c;
    xc__ref ref;
    xc__bounds bounds;
    xc__pool *pool;         /* the executor's scratch pool (or NULL) */
    double *grad;           /* target's gradient, batch * ld */
    int grad_ok;            /* the base call succeeded and was finite */
    xc__pcg32 rng;          /* the running group's stream of this case */
    size_t failures;
} xc__prop_base;

/* Report a violation (formats MESSAGE printf-style). */
void xc__prop_fail(xc__prop_base *b, const char *property, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void xc__prop_ran(xc__prop_base *b, const char *property);

/* Call the target's grad/loss on V (a variant of the base case, or the base
 * case itself); a failed call is reported under the property its status
 * implies, with DURING naming the property being evaluated. Returns 0 when
 * the call succeeded. */
int xc__prop_call_grad(xc__prop_base *b, const xc__case *v, uint32_t poison,
                       double *out, const char *during);
int xc__prop_call_loss(xc__prop_base *b, const xc__case *v, double *out,
                       const char *during);

/* "f32 N=2 H=3 ld=4 index labels, mean, weights, ignore_index=-100" */
void xc__case_describe(const xc__case *c, char *buf, size_t len);
/* "0x1.8p+0 (1.5)" exactly for the dtype */
void xc__fmt_value(char *buf, size_t len, long double v, xc_dtype t);

/* Compare computed gradient G (batch * ld) of case V against reference REF
 * with bounds BD for the rows where ROW_MASK is NULL or non-zero; reports
 * the worst violation under PROPERTY, introduced by WHAT_FMT and its
 * arguments (printf; formatted only then). Returns 0 on a violation, 2
 * when every element is clearly within its bound (as
 * xc__prop_clearly_within), 1 when all hold but some only by the MPFR
 * arbiter's decision. */
int xc__prop_compare(xc__prop_base *b, const xc__case *v, const xc__ref *ref,
                     const xc__bounds *bd, const double *g,
                     const unsigned char *row_mask, const char *property,
                     const char *what_fmt, ...)
    __attribute__((format(printf, 8, 9)));

/* 1 when every element of G selected as in xc__prop_compare is finite and
 * below its bound by more than twice the reference's own error: then
 * xc__prop_compare would pass it without the MPFR arbiter. Reports
 * nothing. */
int xc__prop_clearly_within(const xc__case *v, const xc__ref *ref,
                            const xc__bounds *bd, const double *g,
                            const unsigned char *row_mask);

/* The individual properties (props_*.c). */
void xc__prop_reference(xc__prop_base *b);      /* reference_grad, finite, row_sum, bounds */
void xc__prop_loss(xc__prop_base *b);           /* reference_loss */
void xc__prop_fd(xc__prop_base *b);             /* fd_consistency */
void xc__prop_memory(xc__prop_base *b);         /* determinism, no_read_before_write */
void xc__prop_metamorphic(xc__prop_base *b);    /* shift_invariance, permutation */
void xc__prop_batch(xc__prop_base *b);          /* batch_consistency */
void xc__prop_nonfinite(xc__prop_base *b);      /* nonfinite_isolation */
void xc__prop_masked(xc__prop_base *b);         /* masked_rows */

#define XC__POISON_A 0xffc0deadu  /* a NaN in f32 and in f64 */
#define XC__POISON_B 0x4b5a5a5au  /* a large finite value */

#endif
