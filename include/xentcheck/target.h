/* xentcheck plugin ABI, version 1.
 *
 * The one header a library author includes to expose a softmax-cross-entropy
 * gradient implementation ("target") to xentcheck. A plugin is a shared
 * object exporting XC_PLUGIN_SYMBOL, a function returning a table of targets.
 * The layout of everything below is fixed for ABI version 1: fields are never
 * reordered or removed; a future version bumps XC_ABI_VERSION.
 *
 * Mathematics (one row z of H logits, target distribution y, S = sum_k y_k):
 *   O_k = exp(z_k) / sum_i exp(z_i)
 *   l   = S logsumexp(z) - sum_{k: y_k != 0} y_k z_k
 *   dl/dz_k = O_k S - y_k
 * A batch of N rows is reduced by sum, or by mean (loss and gradient / N).
 * Terms with y_k == 0 contribute nothing, also where z_k == -inf (a masked
 * class): 0 * -inf never reaches the result.
 *
 * Extended semantics, each only for a target declaring its cap (PyTorch's
 * cross_entropy conventions):
 *   XC_CAP_UNNORMALIZED  probability rows with any sum S >= 0 (also 0).
 *   XC_CAP_WEIGHTS       class weights w[H]. Index labels: row weight
 *                        w_r = w[label_r], l_r = w_r (logsumexp(z_r) - z_r,label),
 *                        mean divides by sum_r w_r. Probability rows:
 *                        l_r = -sum_k w_k y_rk ln O_rk, gradient
 *                        O_rk sum_j w_j y_rj - w_k y_rk, mean divides by N.
 *   XC_CAP_IGNORE_INDEX  index labels only: a row whose label equals
 *                        ignore_index has weight 0 and a zero gradient row;
 *                        mean divides by the sum over the other rows. When
 *                        every row is ignored the gradient is all zeros and
 *                        the mean loss NaN (0/0) or 0.
 *
 * Contract of grad() (the harness checks every clause):
 *   - Exactly one of P->labels and P->probs is non-NULL. Without
 *     XC_CAP_IGNORE_INDEX every label is in [0, H).
 *   - GRAD receives the N x H gradient of the reduced loss, row r at
 *     GRAD + r * P->ld elements. The target must not write the padding
 *     [H, ld) of a row, nor before the first or past the last row.
 *   - It must not modify any input (logits, labels, probs, weights).
 *   - It must not read GRAD before writing it.
 *   - It must be deterministic: the same inputs give the same bits.
 *   - It returns 0 on success; any other value is an error that the harness
 *     reports as a failure. The harness never passes a problem outside the
 *     target's caps or max_classes, so a correct target never refuses one.
 * loss() writes the reduced loss, computed in the target's dtype and
 * returned as a double; it follows the same rules.
 *
 * Ownership: every pointer in xc_problem belongs to the harness and is valid
 * only during the call; a target keeps none of them. The table returned by
 * xentcheck_targets(), and the strings it points to, belong to the plugin and
 * must stay valid until the plugin is unloaded. CTX is passed back verbatim.
 *
 * The harness survives targets that break any of these rules: each call runs
 * in a separate process with read-only inputs and guarded outputs.
 */
#ifndef XENTCHECK_TARGET_H
#define XENTCHECK_TARGET_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define XC_ABI_VERSION 1u

typedef enum xc_dtype { XC_F32 = 1, XC_F64 = 2 } xc_dtype;

typedef enum xc_reduction { XC_REDUCE_SUM = 0, XC_REDUCE_MEAN = 1 } xc_reduction;

enum {                                   /* xc_target.caps */
    XC_CAP_INDEX_LABELS = 1u << 0,       /* labels as class indices      */
    XC_CAP_PROB_LABELS  = 1u << 1,       /* labels as probability rows   */
    XC_CAP_BATCH        = 1u << 2,       /* batch > 1 and ld > classes   */
    XC_CAP_MEAN         = 1u << 3,       /* XC_REDUCE_MEAN (SUM always)  */
    XC_CAP_LOSS         = 1u << 4,       /* loss() is provided           */
    XC_CAP_UNNORMALIZED = 1u << 5,       /* prob rows with any sum >= 0  */
    XC_CAP_WEIGHTS      = 1u << 6,       /* class weights                */
    XC_CAP_IGNORE_INDEX = 1u << 7,       /* ignore_index on index labels */
};

/* Every cap bit defined by ABI version 1; a target declaring others is
 * rejected. */
#define XC_CAPS_ALL_V1 0xffu

typedef struct xc_problem {
    xc_dtype       dtype;
    size_t         batch;     /* N >= 1 rows                                  */
    size_t         classes;   /* H >= 1 logits per row                        */
    size_t         ld;        /* elements between row starts of logits, probs
                                 and grad; ld >= classes                      */
    const void    *logits;    /* N rows of H, dtype                           */
    const int64_t *labels;    /* N indices in [0, H), or NULL                 */
    const void    *probs;     /* N rows of H, dtype, each summing to 1 (any
                                 sum >= 0 with XC_CAP_UNNORMALIZED); or NULL */
    xc_reduction   reduction;
    const void    *weights;   /* H class weights, dtype; NULL unless the
                                 target has XC_CAP_WEIGHTS                    */
    int64_t        ignore_index; /* a label equal to it is ignored (only with
                                 XC_CAP_IGNORE_INDEX); negative, e.g. -100     */
} xc_problem;

/* Gradient of the reduced loss into GRAD (see the contract above). */
typedef int (*xc_grad_fn)(const xc_problem *p, void *grad, void *ctx);
/* Reduced loss into *LOSS; optional (NULL = not provided). */
typedef int (*xc_loss_fn)(const xc_problem *p, double *loss, void *ctx);

typedef struct xc_target {
    uint32_t    abi_version;  /* XC_ABI_VERSION                               */
    const char *name;         /* unique, [A-Za-z0-9_.-]+                      */
    const char *summary;      /* one line: algorithm, library and version     */
    xc_dtype    dtype;
    uint32_t    caps;
    size_t      max_classes;  /* 0 = no limit                                 */
    int       (*grad)(const xc_problem *p, void *grad, void *ctx);
    int       (*loss)(const xc_problem *p, double *loss, void *ctx);  /* may be NULL */
    void       *ctx;
} xc_target;

#define XC_PLUGIN_SYMBOL "xentcheck_targets"

/* What a plugin exports: its table of targets and their number in *COUNT. */
const xc_target *xentcheck_targets(size_t *count);

#ifdef __cplusplus
}
#endif

#endif /* XENTCHECK_TARGET_H */
