/* Shared by the registry's test plugins: a grad callback for descriptors
 * whose point is elsewhere. The bad plugins must be rejected before any
 * callback runs, so this one refuses every problem. */
#ifndef XC_TESTS_PLUGIN_COMMON_H
#define XC_TESTS_PLUGIN_COMMON_H

#include "xentcheck/target.h"

static inline int refuse_grad(const xc_problem *p, void *grad, void *ctx)
{
    (void)p;
    (void)grad;
    (void)ctx;
    return -1;
}

static inline int refuse_loss(const xc_problem *p, double *loss, void *ctx)
{
    (void)p;
    (void)loss;
    (void)ctx;
    return -1;
}

#define TEST_SUMMARY "registry test plugin"

#endif
