/* Softmax cross-entropy by libtorch: the problem's buffers copied into
 * tensors, at::cross_entropy_loss (what torch::nn::functional::cross_entropy
 * calls: log_softmax + nll_loss for class indices, -sum(w y log_softmax) for
 * probability rows), and autograd for the gradient. Everything numerical
 * is libtorch's; this file only moves data in and out. The per-operator
 * ATen headers, not <torch/torch.h>: a fraction of the compile time. */
#include <cstring>
#include <stdexcept>

#include <ATen/core/Reduction.h>
#include <ATen/core/Tensor.h>
#include <ATen/core/grad_mode.h>
#include <ATen/ops/cross_entropy_loss.h>
#include <ATen/ops/from_blob.h>

#include "torch_xent.h"

namespace {

/* PyTorch's default; the ABI's ignore_index is for index labels only and
 * libtorch rejects a non-negative one with probability targets. */
constexpr int64_t torch_default_ignore = -100;

at::ScalarType scalar_type(const xc_problem &p)
{
    return p.dtype == XC_F64 ? at::kDouble : at::kFloat;
}

size_t element_size(const xc_problem &p)
{
    return p.dtype == XC_F64 ? sizeof(double) : sizeof(float);
}

/* N rows of H elements, P.ld apart, as a contiguous N x H tensor of its own
 * (a copy: the harness's pages are read-only and valid only for the call). */
at::Tensor rows(const xc_problem &p, const void *data)
{
    const auto n = static_cast<int64_t>(p.batch);
    const auto h = static_cast<int64_t>(p.classes);
    const auto ld = static_cast<int64_t>(p.ld);
    return at::from_blob(const_cast<void *>(data), {n, h}, {ld, 1},
                         at::TensorOptions().dtype(scalar_type(p)))
        .clone(at::MemoryFormat::Contiguous);
}

at::Tensor labels(const xc_problem &p)
{
    const auto n = static_cast<int64_t>(p.batch);
    return at::from_blob(const_cast<int64_t *>(p.labels), {n},
                         at::TensorOptions().dtype(at::kLong))
        .clone();
}

at::Tensor class_weights(const xc_problem &p)
{
    const auto h = static_cast<int64_t>(p.classes);
    return at::from_blob(const_cast<void *>(p.weights), {h},
                         at::TensorOptions().dtype(scalar_type(p)))
        .clone();
}

int64_t reduction(const xc_problem &p)
{
    return p.reduction == XC_REDUCE_MEAN ? at::Reduction::Mean : at::Reduction::Sum;
}

/* Label smoothing 0, as the ABI has none. */
at::Tensor forward(const xc_problem &p, const at::Tensor &logits)
{
    const bool index = p.labels != nullptr;
    const at::Tensor target = index ? labels(p) : rows(p, p.probs);
    const at::Tensor weight = p.weights != nullptr ? class_weights(p) : at::Tensor();
    return at::cross_entropy_loss(logits, target, weight, reduction(p),
                                  index ? p.ignore_index : torch_default_ignore, 0.0);
}

/* G (contiguous N x H) into GRAD, one row of H at a time, P.ld apart. */
void copy_rows(const xc_problem &p, const at::Tensor &g, void *grad)
{
    const size_t es = element_size(p), row = p.classes * es;
    const auto *src = static_cast<const char *>(g.data_ptr());
    auto *dst = static_cast<char *>(grad);
    for (size_t r = 0; r < p.batch; r++)
        std::memcpy(dst + r * p.ld * es, src + r * row, row);
}

} // namespace

double xc__torch_loss(const xc_problem &p)
{
    at::NoGradGuard no_grad;
    return forward(p, rows(p, p.logits)).item<double>();
}

void xc__torch_grad(const xc_problem &p, void *grad)
{
    at::Tensor z = rows(p, p.logits).requires_grad_(true);
    forward(p, z).backward();
    const at::Tensor g = z.grad();
    if (!g.defined() || g.scalar_type() != scalar_type(p))
        throw std::runtime_error("libtorch gave no gradient of the logits");
    copy_rows(p, g.contiguous(), grad);
}
