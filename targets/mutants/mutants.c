/* Mutants: deliberately broken targets that the harness must catch, one per
 * bug class seen in real softmax / cross-entropy code (each file's comment
 * says which). They live apart from the real targets and are listed only
 * when asked for (xentcheck list --mutants, run --mutants). Each declares
 * every cap its bug needs to be reachable; docs/mutants.md lists them. */
#include "mutants.h"
#include "registry.h"

#define ALL XC_CAPS_ALL_V1

/* A mutant whose bug is in GRAD (its loss is the correct one). */
#define MUT_GRAD(NAME, SUMMARY, DT, CAPS, GRAD)                              \
    {                                                                        \
        .abi_version = XC_ABI_VERSION, .name = "mutant." NAME,               \
        .summary = SUMMARY, .dtype = XC_##DT, .caps = (CAPS),                \
        .grad = (GRAD),                                                      \
        .loss = ((CAPS) & XC_CAP_LOSS) ? xc__xent_loss_##DT##_lc : NULL,     \
    }

/* A mutant whose bug is in LOSS (its gradient is the correct one). */
#define MUT_LOSS(NAME, SUMMARY, CAPS, LOSS)                                  \
    {                                                                        \
        .abi_version = XC_ABI_VERSION, .name = "mutant." NAME,               \
        .summary = SUMMARY, .dtype = XC_F64, .caps = (CAPS),                 \
        .grad = xc__f64_shifted_grad, .loss = (LOSS),                        \
    }

#define xc__xent_loss_F32_lc xc__xent_loss_f32
#define xc__xent_loss_F64_lc xc__xent_loss_f64

static const xc_target mutants[] = {
    /* overflow and masking */
    MUT_GRAD("no_max_shift", "missing max-shift: expf(z) / sum overflows (f32)",
             F32, ALL, xc__mut_no_max_shift_grad),
    MUT_GRAD("first_logit_shift", "shift by the first logit instead of the max (f32)",
             F32, ALL, xc__mut_first_logit_shift_grad),
    MUT_GRAD("logspace_no_shift", "log-space softmax exp(z - lse) with an unshifted lse",
             F64, ALL, xc__mut_logspace_no_shift_grad),
    MUT_GRAD("global_batch_max", "shift by the max of the whole batch, not of each row",
             F64, ALL, xc__mut_global_batch_max_grad),
    MUT_LOSS("masked_nan_loss", "NaN from masked classes: 0 * -inf in the loss's sum",
             ALL, xc__mut_masked_nan_loss_loss),
    MUT_GRAD("masked_row_div0", "division by zero on an all-masked row gives -inf",
             F64, ALL, xc__mut_masked_row_div0_grad),
    /* reductions, weights, ignore_index, targets */
    MUT_GRAD("mean_over_n", "wrong mean denominator: N instead of the weight sum "
             "(weights, ignore_index)", F64, ALL, xc__mut_mean_over_n_grad),
    MUT_GRAD("mean_count_not_weight", "weighted mean divided by the row count, "
             "not the weight sum", F64, ALL, xc__mut_mean_count_not_weight_grad),
    MUT_GRAD("prob_mean_weight_sum", "weighted mean of probability rows divided "
             "by the weighted mass, not N", F64, ALL, xc__mut_prob_mean_weight_sum_grad),
    MUT_GRAD("ignore_leak", "ignore_index rows leak their softmax into the gradient",
             F64, ALL, xc__mut_ignore_leak_grad),
    MUT_GRAD("ignore_in_denominator", "ignore_index rows counted in the mean's "
             "denominator", F64, ALL, xc__mut_ignore_in_denominator_grad),
    MUT_GRAD("soft_label_sum_one", "soft labels assumed to sum to 1: O - y, S dropped",
             F64, ALL, xc__mut_soft_label_sum_one_grad),
    MUT_GRAD("label_smoothing_leak", "label smoothing misapplied: eps 0.1 on "
             "unsmoothed index labels", F64, ALL, xc__mut_label_smoothing_leak_grad),
    MUT_GRAD("prob_label_sign", "sign error on the label term of probability rows",
             F64, ALL, xc__mut_prob_label_sign_grad),
    MUT_GRAD("grad_sum_under_mean", "loss/gradient mismatch: mean in the loss, "
             "not in the gradient", F64, ALL, xc__mut_grad_sum_under_mean_grad),
    MUT_LOSS("loss_sum_under_mean", "loss/gradient mismatch: loss of the sum under mean",
             ALL, xc__mut_loss_sum_under_mean_loss),
    MUT_LOSS("loss_unweighted", "loss missing the class weights", ALL,
             xc__mut_loss_unweighted_loss),
    /* indexing */
    MUT_GRAD("stride_uses_classes", "stride bug: row starts at r * H instead of r * ld",
             F64, ALL, xc__mut_stride_uses_classes_grad),
    MUT_GRAD("label_one_based", "label off-by-one: labels read as 1-based",
             F64, ALL, xc__mut_label_one_based_grad),
    MUT_GRAD("label_uint8", "label truncated to 8 bits (uint8 class maps)",
             F64, ALL, xc__mut_label_uint8_grad),
    MUT_GRAD("label_int16", "label truncated to a signed 16-bit index",
             F64, ALL, xc__mut_label_int16_grad),
    /* accuracy */
    MUT_GRAD("sum_f32_in_f64", "low-precision accumulation: f64 softmax summed in f32",
             F64, ALL, xc__mut_sum_f32_in_f64_grad),
    MUT_GRAD("sum_bf16", "low-precision accumulation: f32 sum rounded to bfloat16",
             F32, ALL, xc__mut_sum_bf16_grad),
    MUT_GRAD("fast_exp", "inaccurate exp: degree-4 polynomial, 4e-5 relative (f32)",
             F32, ALL, xc__mut_fast_exp_grad),
    MUT_GRAD("tiny_prob_zero", "zero gradient where the probability is below 1e-10",
             F64, ALL, xc__mut_tiny_prob_zero_grad),
    /* memory contract */
    MUT_GRAD("inplace_logits", "in-place input change: logits shifted and restored",
             F64, ALL, xc__mut_inplace_logits_grad),
    MUT_GRAD("oob_past_last_row", "out-of-bounds write: one row past the last",
             F64, ALL, xc__mut_oob_past_last_row_grad),
    MUT_GRAD("writes_padding", "writes the row padding [H, ld) (memset of the pitch)",
             F64, ALL, xc__mut_writes_padding_grad),
    MUT_GRAD("grad_accumulate", "reads the gradient before writing it (grad +=)",
             F64, ALL, xc__mut_grad_accumulate_grad),
    MUT_GRAD("nondeterministic_order", "nondeterminism: reduction order changes per call",
             F64, ALL, xc__mut_nondeterministic_order_grad),
    /* crashes, hangs, refusals */
    MUT_GRAD("crash_h1", "crash on H == 1", F64, ALL, xc__mut_crash_h1_grad),
    MUT_GRAD("crash_large_h", "crash on H > 1024 (fixed scratch buffer overrun, f32)",
             F32, ALL, xc__mut_crash_large_h_grad),
    MUT_GRAD("hang_block8", "hang when H is a multiple of 8 (zero-width tail loop)",
             F64, ALL, xc__mut_hang_block8_grad),
    MUT_GRAD("refuse_large_batch", "returns an error for batch > 64", F64, ALL,
             xc__mut_refuse_large_batch_grad),
};

const xc_target *xc__mutant_targets(size_t *count)
{
    *count = sizeof mutants / sizeof mutants[0];
    return mutants;
}
