/* tiny-dnn target: the unfused chain rule of tiny-dnn 1.0.0a3, float_t =
 * float (CNN_USE_DOUBLE unset). Per batch, as tiny-dnn's network does:
 *   O     = activation::softmax::f by function::itef, what the softmax
 *           layer's forward_activation runs (max-shifted, the exp sum
 *           recomputed for every element: O(H^2)),
 *   l_r   = cross_entropy_multiclass::f(O_r, t_r) = sum_k -t_k log O_k,
 *   dL/dO = cross_entropy_multiclass::df(O_r, t_r) = -t_k / O_k,
 *   dL/dz = the Jacobian product of backward_activation: for each k,
 *           vectorize::dot(dL/dO, activation::softmax::df(O, k)), O(H^2).
 * Debian's package cannot compile feedforward_layer.h (layer.h -> node.h ->
 * util/image.h includes "third_party/stb/stb_image.h", which the +ds
 * repack removed), so backward_activation's three-line loop over k
 * (feedforward_layer.h, the !h_.one_hot() branch) is repeated below with
 * the same tiny-dnn calls; every operation on a number is tiny-dnn's.
 * The adapter builds the target rows t (one-hot from index labels, or the
 * probability rows as given, of any sum), adds the rows' losses in float_t
 * as network::get_loss does and, for the mean, multiplies by
 * float_t(1) / N as layer::update_weight does (rcp_batch_size). */
/* tiny_dnn/util/util.h uses std::reverse and std::max_element without
 * including <algorithm>; libstdc++ under g++ happens to bring it in, under
 * clang (the fuzz build) it does not. */
#include <algorithm>
#include <cstdint>

#include <tiny_dnn/activations/activation_function.h>
#include <tiny_dnn/lossfunctions/loss_function.h>
#include <tiny_dnn/util/product.h>

#include "cxx_call.h"
#include "libs.h"

namespace {

using tiny_dnn::tensor_t;
using tiny_dnn::vec_t;
typedef tiny_dnn::float_t real;
typedef tiny_dnn::cross_entropy_multiclass xent;
typedef tiny_dnn::activation::softmax softmax;

static_assert(sizeof(real) == sizeof(float), "tiny-dnn built with float_t = float");

bool problem_ok(const xc_problem *p)
{
    if (p->dtype != XC_F32 || (p->labels == nullptr) == (p->probs == nullptr))
        return false;
    for (size_t r = 0; p->labels != nullptr && r < p->batch; r++)
        if (p->labels[r] < 0 || static_cast<uint64_t>(p->labels[r]) >= p->classes)
            return false;
    return true;
}

/* N rows of H values of the strided array A (logits or probabilities). */
tensor_t rows_of(const xc_problem *p, const void *a)
{
    const real *v = static_cast<const real *>(a);
    tensor_t t(p->batch);
    for (size_t r = 0; r < p->batch; r++)
        t[r].assign(v + r * p->ld, v + r * p->ld + p->classes);
    return t;
}

/* The target rows: one-hot from index labels, else the probability rows. */
tensor_t targets_of(const xc_problem *p)
{
    if (p->probs != nullptr)
        return rows_of(p, p->probs);
    tensor_t t(p->batch, vec_t(p->classes, real(0)));
    for (size_t r = 0; r < p->batch; r++)
        t[r][static_cast<size_t>(p->labels[r])] = real(1);
    return t;
}

/* O = softmax(z) of every row, as feedforward_layer::forward_activation. */
tensor_t forward(const softmax &h, const xc_problem *p)
{
    tensor_t z = rows_of(p, p->logits);
    tensor_t o(p->batch);
    for (size_t r = 0; r < p->batch; r++) {
        o[r].resize(p->classes);
        h.itef(o[r], z[r], p->classes);
    }
    return o;
}

/* feedforward_layer::backward_activation, softmax (not one-hot) branch:
 * D_Z[c] = dot(D_O, dO/dz_c) for one row. */
void backward(const softmax &h, const vec_t &d_o, const vec_t &o, vec_t &d_z)
{
    const tiny_dnn::serial_size_t len = static_cast<tiny_dnn::serial_size_t>(d_o.size());
    for (tiny_dnn::serial_size_t c = 0; c < len; c++) {
        vec_t df = h.df(o, c);
        d_z[c] = vectorize::dot(&d_o[0], &df[0], len);
    }
}

void grad_rows(const xc_problem *p, float *grad)
{
    softmax h;
    tensor_t o = forward(h, p);
    tensor_t t = targets_of(p);
    tensor_t d_z(p->batch, vec_t(p->classes));
    for (size_t r = 0; r < p->batch; r++)
        backward(h, xent::df(o[r], t[r]), o[r], d_z[r]);
    real rcp = real(1) / static_cast<real>(p->batch);
    for (size_t r = 0; r < p->batch; r++)
        for (size_t k = 0; k < p->classes; k++)
            grad[r * p->ld + k] = p->reduction == XC_REDUCE_MEAN ? d_z[r][k] * rcp
                                                                 : d_z[r][k];
}

real loss_rows(const xc_problem *p)
{
    tensor_t o = forward(softmax(), p);
    tensor_t t = targets_of(p);
    real sum = real(0);
    for (size_t r = 0; r < p->batch; r++)
        sum += xent::f(o[r], t[r]);
    if (p->reduction == XC_REDUCE_MEAN)
        sum *= real(1) / static_cast<real>(p->batch);
    return sum;
}

int tinydnn_grad(const xc_problem *p, void *grad, void *ctx) noexcept
{
    (void)ctx;
    return xc__cxx_call(problem_ok(p), [&] { grad_rows(p, static_cast<float *>(grad)); });
}

int tinydnn_loss(const xc_problem *p, double *loss, void *ctx) noexcept
{
    (void)ctx;
    return xc__cxx_call(problem_ok(p), [&] { *loss = loss_rows(p); });
}

xc_target targets[] = {
    {
        XC_ABI_VERSION,
        "tinydnn.f32.softmax_xent",
        "tiny-dnn 1.0.0a3 (Debian 1.0.0a3+ds-3) unfused chain rule: "
        "activation::softmax forward, cross_entropy_multiclass::f and ::df "
        "(-y/O), softmax Jacobian product (df(O, k) . dL/dO, O(H^2)); f32",
        XC_F32,
        XC_CAP_INDEX_LABELS | XC_CAP_PROB_LABELS | XC_CAP_BATCH | XC_CAP_MEAN |
            XC_CAP_LOSS | XC_CAP_UNNORMALIZED,
        /* O(H^2) forward and backward: at H = 128 the harness's largest
         * batch (256 rows) takes 36 ms per grad() call, 22 ms per loss()
         * (measured, 2-core machine, RelWithDebInfo). */
        128,
        tinydnn_grad,
        tinydnn_loss,
        nullptr,
    },
};

} // namespace

extern "C" const xc_target *xc__tinydnn_targets(size_t *count)
{
    *count = sizeof targets / sizeof targets[0];
    return targets;
}
