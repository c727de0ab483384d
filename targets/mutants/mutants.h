/* Internal to targets/mutants/: the callbacks of the mutant targets, listed
 * in mutants.c. Each mutant file defines the callback its bug lives in; the
 * other callback of a mutant is the correct one of the built-in targets
 * (targets/xent.h). f32 mutants that only replace the softmax kernel use the
 * built-in driver xc__xent_grad_f32() with their own kernel. */
#ifndef XC_TARGETS_MUTANTS_MUTANTS_H
#define XC_TARGETS_MUTANTS_MUTANTS_H

#include <stddef.h>

#include "xent.h"
#include "xentcheck/target.h"

int xc__mut_crash_h1_grad(const xc_problem *p, void *grad, void *ctx);
int xc__mut_crash_large_h_grad(const xc_problem *p, void *grad, void *ctx);
int xc__mut_fast_exp_grad(const xc_problem *p, void *grad, void *ctx);
int xc__mut_first_logit_shift_grad(const xc_problem *p, void *grad, void *ctx);
int xc__mut_global_batch_max_grad(const xc_problem *p, void *grad, void *ctx);
int xc__mut_grad_accumulate_grad(const xc_problem *p, void *grad, void *ctx);
int xc__mut_grad_sum_under_mean_grad(const xc_problem *p, void *grad, void *ctx);
int xc__mut_hang_block8_grad(const xc_problem *p, void *grad, void *ctx);
int xc__mut_ignore_in_denominator_grad(const xc_problem *p, void *grad, void *ctx);
int xc__mut_ignore_leak_grad(const xc_problem *p, void *grad, void *ctx);
int xc__mut_inplace_logits_grad(const xc_problem *p, void *grad, void *ctx);
int xc__mut_label_int16_grad(const xc_problem *p, void *grad, void *ctx);
int xc__mut_label_one_based_grad(const xc_problem *p, void *grad, void *ctx);
int xc__mut_label_smoothing_leak_grad(const xc_problem *p, void *grad, void *ctx);
int xc__mut_label_uint8_grad(const xc_problem *p, void *grad, void *ctx);
int xc__mut_logspace_no_shift_grad(const xc_problem *p, void *grad, void *ctx);
int xc__mut_masked_row_div0_grad(const xc_problem *p, void *grad, void *ctx);
int xc__mut_mean_count_not_weight_grad(const xc_problem *p, void *grad, void *ctx);
int xc__mut_mean_over_n_grad(const xc_problem *p, void *grad, void *ctx);
int xc__mut_no_max_shift_grad(const xc_problem *p, void *grad, void *ctx);
int xc__mut_nondeterministic_order_grad(const xc_problem *p, void *grad, void *ctx);
int xc__mut_oob_past_last_row_grad(const xc_problem *p, void *grad, void *ctx);
int xc__mut_prob_label_sign_grad(const xc_problem *p, void *grad, void *ctx);
int xc__mut_prob_mean_weight_sum_grad(const xc_problem *p, void *grad, void *ctx);
int xc__mut_refuse_large_batch_grad(const xc_problem *p, void *grad, void *ctx);
int xc__mut_soft_label_sum_one_grad(const xc_problem *p, void *grad, void *ctx);
int xc__mut_stride_uses_classes_grad(const xc_problem *p, void *grad, void *ctx);
int xc__mut_sum_bf16_grad(const xc_problem *p, void *grad, void *ctx);
int xc__mut_sum_f32_in_f64_grad(const xc_problem *p, void *grad, void *ctx);
int xc__mut_tiny_prob_zero_grad(const xc_problem *p, void *grad, void *ctx);
int xc__mut_writes_padding_grad(const xc_problem *p, void *grad, void *ctx);
int xc__mut_loss_sum_under_mean_loss(const xc_problem *p, double *loss, void *ctx);
int xc__mut_loss_unweighted_loss(const xc_problem *p, double *loss, void *ctx);
int xc__mut_masked_nan_loss_loss(const xc_problem *p, double *loss, void *ctx);

#endif
