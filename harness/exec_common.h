/* Pieces shared by the isolated and the inline executor.
 *
 * struct xc__exec is the common head of both executors: exec_common.c
 * dispatches the public calls of exec.h through its OPS, and each flavour
 * embeds the head as the first member of its own state. The helpers below
 * move a case in and out of dtype buffers laid out as a target sees them:
 * a logits, probs or grad buffer holds exactly xc__exec_extent() elements,
 * rows ld apart, the last row without padding, so a buffer can end right
 * against a guard.
 */
#ifndef XC_HARNESS_EXEC_COMMON_H
#define XC_HARNESS_EXEC_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "case.h"
#include "exec.h"
#include "xentcheck/target.h"

/* Bytes of poison kept before the gradient buffer, at least. */
#define XC__EXEC_ZONE_MIN 64

typedef struct xc__exec_ops {
    xc__call_status (*grad)(xc__exec *ex, const xc__case *c, uint32_t poison,
                            double *grad_out, xc__call_result *res);
    xc__call_status (*loss)(xc__exec *ex, const xc__case *c, double *loss_out,
                            xc__call_result *res);
    void (*destroy)(xc__exec *ex);
} xc__exec_ops;

struct xc__exec {
    const xc__exec_ops *ops;
    const xc_target *target; /* borrowed */
    double timeout_s;        /* resolved: never 0 */
    size_t restarts;         /* isolated: workers started, not counting a
                                new one for a larger arena; inline: 0 */
    xc__pool *pool;          /* scratch for the callers (xc__exec_pool) */
};

/* Flavour constructors: each fills the head and returns it, or NULL. */
xc__exec *xc__exec_isolated_new(const xc_target *target, double timeout_s);
xc__exec *xc__exec_inline_new(const xc_target *target, double timeout_s);

/* Input buffers of one call in the target's dtype; any may be NULL when the
 * case has no such input. */
typedef struct xc__exec_inputs {
    void *logits;
    int64_t *labels;
    void *probs;
    void *weights;
} xc__exec_inputs;

/* Elements of a logits/probs/grad buffer: (N - 1) * ld + H. */
size_t xc__exec_extent(const xc__case *c);
/* Byte sizes of each input buffer for case C in dtype T (0 when absent). */
size_t xc__exec_logits_bytes(const xc__case *c, xc_dtype t);
size_t xc__exec_labels_bytes(const xc__case *c);
size_t xc__exec_probs_bytes(const xc__case *c, xc_dtype t);
size_t xc__exec_weights_bytes(const xc__case *c, xc_dtype t);

/* Convert the case's values into IN (buffers sized as above). */
void xc__exec_fill_inputs(const xc__case *c, xc_dtype t,
                          const xc__exec_inputs *in);
/* The floating-point control state a target may change during a call
 * (rounding, flush-to-zero and denormals-are-zero, x87 precision): saved
 * before the call and put back after it, so that none of the harness's
 * own arithmetic (the inputs' check, the reference) runs in the target's
 * mode. On x86-64 the two control words, a few cycles (fesetenv costs a
 * hundred, once per call); elsewhere the whole environment. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
typedef struct xc__fp_state {
    unsigned mxcsr;
    unsigned short x87;
} xc__fp_state;

static inline void xc__fp_save(xc__fp_state *s)
{
    __asm__ volatile("stmxcsr %0" : "=m"(s->mxcsr));
    __asm__ volatile("fnstcw %0" : "=m"(s->x87));
}

static inline void xc__fp_restore(const xc__fp_state *s)
{
    xc__fp_state now;
    xc__fp_save(&now);
    if (now.x87 != s->x87)
        __asm__ volatile("fldcw %0" : : "m"(s->x87));
    if (now.mxcsr != s->mxcsr)
        __asm__ volatile("ldmxcsr %0" : : "m"(s->mxcsr));
}
#else
#include <fenv.h>
typedef struct xc__fp_state {
    fenv_t env;
} xc__fp_state;

static inline void xc__fp_save(xc__fp_state *s)
{
    fegetenv(&s->env);
}

static inline void xc__fp_restore(const xc__fp_state *s)
{
    fesetenv(&s->env);
}
#endif

/* Whether IN still holds what xc__exec_fill_inputs put there for C: 1 when
 * it does; else 0, with the input *WHICH (0 logits, 1 labels, 2 probs,
 * 3 weights) and its *ELEMENT that changed first. Compared with the case's
 * own values, converted as the fill converts them: no copy to keep. */
int xc__exec_inputs_intact(const xc__case *c, xc_dtype t, const xc__exec_inputs *in,
                           int *which, size_t *element);
/* The problem a target sees: pointers from IN, labels or probs NULL as the
 * case says, ignore_index -100 unless the case has one. */
void xc__exec_build_problem(const xc__case *c, xc_dtype t,
                            const xc__exec_inputs *in, xc_problem *p);

/* Fill BYTES (a multiple of 4, 4-aligned) with the 32-bit POISON. */
void xc__exec_poison_fill(void *buf, size_t bytes, uint32_t poison);
/* Index of the first 4-byte word of BUF that is not POISON, or BYTES / 4
 * when all are intact. */
size_t xc__exec_poison_first_bad(const void *buf, size_t bytes,
                                 uint32_t poison);
/* Check the padding [H, ld) of every row of GRAD (dtype T) still holds the
 * poison; on a write, set RES to XC__CALL_WROTE_PADDING and return 1. */
int xc__exec_check_padding(const xc__case *c, xc_dtype t, const void *grad,
                           uint32_t poison, xc__call_result *res);
/* GRAD (dtype T, extent elements) to OUT (batch * ld doubles, padding 0). */
void xc__exec_grad_to_double(const xc__case *c, xc_dtype t, const void *grad,
                             double *out);

/* Result helpers (exec_status.c): set status, code and a formatted detail. */
xc__call_status xc__exec_result(xc__call_result *res, xc__call_status s,
                                int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* "SIGSEGV" etc., or "signal N" (into BUF of SIZE) for unknown ones. */
const char *xc__signal_name(int sig, char *buf, size_t size);

#endif
