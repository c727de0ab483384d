/* Internal to targets/lib/torch*.cpp: softmax cross-entropy by libtorch.
 *
 * Both functions run torch::nn::functional::cross_entropy on the CPU in
 * P's dtype, on contiguous copies of P's buffers (libtorch never sees the
 * harness's memory, so strides, read-only pages and padding are ours to
 * handle). They throw what libtorch throws; the extern "C" callbacks in
 * torch.cpp catch it. P must hold exactly one of labels and probs.
 */
#ifndef XC_TARGETS_LIB_TORCH_XENT_H
#define XC_TARGETS_LIB_TORCH_XENT_H

#include "xentcheck/target.h"

/* The reduced loss libtorch computes, in P's dtype, widened to double. */
double xc__torch_loss(const xc_problem &p);

/* d loss / d logits by autograd (loss.backward(), logits.grad()), copied
 * into GRAD row by row: row r at GRAD + r * P.ld elements, padding untouched. */
void xc__torch_grad(const xc_problem &p, void *grad);

#endif
