/* Known findings: genuine defects of the real libraries that their targets
 * show (harness/registry.h, xc__finding). Each is listed only when its
 * adapter is built in; each names the properties its target fails under a
 * default run and a committed case (corpus/findings/) that reproduces it.
 * README ("Real libraries") and docs/libraries.md explain every one. */
#include <stddef.h>

#include "registry.h"

#ifdef XC_HAVE_DLIB
static const char *const dlib_properties[] = { "reference_loss", "fd_consistency", NULL };
#endif
#ifdef XC_HAVE_TINYDNN
static const char *const tinydnn_properties[] = {
    "reference_grad", "reference_loss", "finite", "shift_invariance", "permutation", NULL };
#endif
#ifdef XC_HAVE_TORCH
static const char *const torch_properties[] = { "reference_loss", "fd_consistency", NULL };
#define TORCH_REASON                                                                  \
    "libtorch's cross_entropy with probability targets returns "                      \
    "-(log_softmax(z) * y * w).sum() (aten/src/ATen/native/LossNLL.cpp, "              \
    "cross_entropy_loss_prob_target): the product is formed where y_k = 0 too, so a "  \
    "masked class (z_k = -inf), or in f32 a logit gap beyond the float range, makes "   \
    "the loss NaN (0 * -inf) where the exact loss is finite; the finite differences "   \
    "of that loss are NaN as well. Index labels (nll_loss) and the autograd gradient " \
    "are right in every case"
#endif

static const xc__finding findings[] = {
#ifdef XC_HAVE_DLIB
    { "dlib.f32.multiclass_log",
      "dlib's loss_multiclass_log_ returns -safe_log(O_y) = -log(max(O_y, 1e-10)) "
      "(dlib/dnn/loss.h:323, dlib/dnn/utilities.h:71): the loss is clamped at "
      "-ln(1e-10) = 23.03 once the label's probability is below 1e-10, while the "
      "gradient O - y is not, so loss and gradient disagree (finite differences of "
      "the loss are 0 where the gradient is -1)",
      dlib_properties, "corpus/findings/dlib.f32.multiclass_log.case" },
#endif
#ifdef XC_HAVE_TINYDNN
    { "tinydnn.f32.softmax_xent",
      "tiny-dnn's unfused chain rule: cross_entropy_multiclass::df is -t/O and ::f "
      "is -t log O (tiny_dnn/lossfunctions/loss_function.h:168, 158), so a row turns "
      "NaN, and the loss with it, as soon as one probability underflows to 0 in f32 "
      "(a logit gap over about 103, or a masked -inf class); and softmax::df forms "
      "the Jacobian entries -O_i O_k (tiny_dnn/activations/activation_function.h:127), "
      "which are subnormal in f32 for small probabilities: thousands of ulp lost",
      tinydnn_properties, "corpus/findings/tinydnn.f32.softmax_xent.case" },
#endif
#ifdef XC_HAVE_TORCH
    { "torch.f32.cross_entropy", TORCH_REASON, torch_properties,
      "corpus/findings/torch.f32.cross_entropy.case" },
    { "torch.f64.cross_entropy", TORCH_REASON, torch_properties,
      "corpus/findings/torch.f64.cross_entropy.case" },
#endif
    { NULL, NULL, NULL, NULL },
};

const xc__finding *xc__library_findings(size_t *count)
{
    *count = sizeof findings / sizeof findings[0] - 1;
    return *count ? findings : NULL;
}
