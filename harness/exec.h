/* Executors: how the harness calls a target on a case.
 *
 * Two implementations share this interface:
 *   - isolated (exec_isolated.c): the target runs in a forked worker process
 *     with inputs mapped read-only, the gradient buffer right-aligned against
 *     a PROT_NONE guard page, a poison-filled zone before it, and a per-call
 *     timeout. A crash, hang, exit, write to an input or out of bounds is
 *     reported in xc__call_result and the worker is restarted; the harness
 *     itself never dies.
 *   - inline (exec_inline.c): the target runs in this process (the fuzzer,
 *     where libFuzzer itself catches crashes); inputs are compared against a
 *     copy and guards checked by canaries instead of page protection.
 * Both convert the case to the target's dtype, pre-fill the whole gradient
 * buffer (rows and padding) with the poison pattern POISON, call the target,
 * check the padding and the zone before the buffer are still poison, and
 * convert the gradient back to double (batch * ld values; padding entries of
 * the output are left 0).
 */
#ifndef XC_HARNESS_EXEC_H
#define XC_HARNESS_EXEC_H

#include <stddef.h>
#include <stdint.h>

#include "case.h"
#include "case_pool.h"
#include "xentcheck/target.h"

typedef enum xc__call_status {
    XC__CALL_OK = 0,
    XC__CALL_RETURNED_ERROR,  /* target returned non-zero (code) */
    XC__CALL_CRASHED,         /* worker killed by a signal (code = signal) */
    XC__CALL_HUNG,            /* no answer within the per-call timeout */
    XC__CALL_EXITED,          /* worker called exit() (code = status) */
    XC__CALL_WROTE_INPUT,     /* wrote to logits/labels/probs/weights */
    XC__CALL_WROTE_PADDING,   /* wrote grad padding [H, ld) of a row */
    XC__CALL_WROTE_OUTSIDE,   /* wrote before or past the gradient buffer */
    XC__CALL_HARNESS_ERROR    /* out of memory, fork failed: not the target's fault */
} xc__call_status;

typedef struct xc__call_result {
    xc__call_status status;
    int code;             /* return value, signal number or exit status */
    char detail[256];     /* human-readable: which buffer, offset, signal */
} xc__call_result;

typedef struct xc__exec xc__exec;

typedef struct xc__exec_config {
    double timeout_s;     /* per call; 0 = default (XC__EXEC_DEFAULT_TIMEOUT) */
    int inline_mode;      /* 1 = run in this process (no isolation) */
} xc__exec_config;

/* A correct call on the largest default case (H = 65536) takes under 10 ms
 * here; half a second leaves a margin of 50 for slow libraries and loaded
 * machines while a hang costs little of the ~2 s run (--timeout raises it). */
#define XC__EXEC_DEFAULT_TIMEOUT 0.5

/* Create an executor for TARGET (borrowed: must outlive the executor).
 * Returns NULL on failure to allocate or fork. */
xc__exec *xc__exec_new(const xc_target *target, const xc__exec_config *cfg);
void xc__exec_free(xc__exec *ex);

/* Call TARGET->grad on case C with the gradient buffer pre-filled with the
 * 32-bit pattern POISON repeated (f32) or twice per element (f64). On
 * XC__CALL_OK, GRAD_OUT (C->batch * C->ld doubles) receives the gradient;
 * otherwise its content is unspecified. Returns RES->status. */
xc__call_status xc__exec_grad(xc__exec *ex, const xc__case *c, uint32_t poison,
                              double *grad_out, xc__call_result *res);

/* Call TARGET->loss on case C; *LOSS_OUT receives the loss on XC__CALL_OK. */
xc__call_status xc__exec_loss(xc__exec *ex, const xc__case *c, double *loss_out,
                              xc__call_result *res);

/* A scratch pool that lives as long as EX: the properties keep their large
 * arrays there between cases (created on first use; NULL when out of
 * memory, which the pool functions accept as plain malloc/free). */
xc__pool *xc__exec_pool(xc__exec *ex);

/* Number of times the worker was (re)started: 1 + crashes/hangs/exits. */
size_t xc__exec_restarts(const xc__exec *ex);

const char *xc__call_status_str(xc__call_status s);

#endif
