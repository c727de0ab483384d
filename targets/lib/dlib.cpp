/* dlib target: the DNN loss layer loss_multiclass_log_ (dlib/dnn/loss.h),
 * f32 on the CPU. Its compute_loss_value_and_gradient() runs tt::softmax
 * on the subnetwork's output, writes scale (O - onehot(y)) into the
 * subnetwork's gradient input and returns the loss scale * sum of
 * -safe_log(O_y), where scale = 1 / num_samples: dlib's reduction is the
 * batch mean. The adapter only moves data: a dense (N, H, 1, 1) tensor in,
 * the gradient rows out (the padding of GRAD untouched). For
 * XC_REDUCE_SUM it calls the layer once per row (num_samples = 1, so
 * dlib's scale is exactly 1) and adds the rows' losses; it never rescales
 * what dlib computed. */
#include <cstdint>
#include <cstring>
#include <vector>

#include <dlib/dnn/loss.h>
#include <dlib/revision.h>

#include "cxx_call.h"
#include "libs.h"

namespace {

/* The smallest SUBNET the loss layer accepts: the logits are its output,
 * and the loss writes dL/dz into its gradient input. */
class logits_net {
public:
    logits_net(long n, long h)
    {
        out.set_size(n, h, 1, 1);
        grad.set_size(n, h, 1, 1);
    }
    const dlib::tensor &get_output() const { return out; }
    dlib::tensor &get_gradient_input() { return grad; }
    unsigned int sample_expansion_factor() const { return 1; }

    dlib::resizable_tensor out;
    dlib::resizable_tensor grad;
};

bool problem_ok(const xc_problem *p)
{
    if (p->dtype != XC_F32 || p->labels == nullptr || p->probs != nullptr)
        return false;
    for (size_t r = 0; r < p->batch; r++)
        if (p->labels[r] < 0 || static_cast<uint64_t>(p->labels[r]) >= p->classes)
            return false;
    return true;
}

/* Rows [R0, R0 + N) through one call of the loss layer; their gradient rows
 * into GRAD unless it is NULL. Returns dlib's loss (the mean over the N
 * rows). */
double run_rows(const xc_problem *p, size_t r0, size_t n, float *grad)
{
    const size_t h = p->classes;
    logits_net net(static_cast<long>(n), static_cast<long>(h));
    std::vector<unsigned long> truth(n);
    float *z = net.out.host_write_only();
    const float *logits = static_cast<const float *>(p->logits);
    for (size_t i = 0; i < n; i++) {
        std::memcpy(z + i * h, logits + (r0 + i) * p->ld, h * sizeof *z);
        truth[i] = static_cast<unsigned long>(p->labels[r0 + i]);
    }
    dlib::loss_multiclass_log_ layer;
    /* The network is the identity: its input tensor is its output. */
    double loss = layer.compute_loss_value_and_gradient(net.out, truth.cbegin(), net);
    const float *g = net.grad.host();
    for (size_t i = 0; grad != nullptr && i < n; i++)
        std::memcpy(grad + (r0 + i) * p->ld, g + i * h, h * sizeof *g);
    return loss;
}

/* The reduced loss, and the gradient into GRAD unless it is NULL. */
double run(const xc_problem *p, float *grad)
{
    if (p->reduction == XC_REDUCE_MEAN)
        return run_rows(p, 0, p->batch, grad);
    double total = 0;
    for (size_t r = 0; r < p->batch; r++)
        total += run_rows(p, r, 1, grad);
    return total;
}

int dlib_grad(const xc_problem *p, void *grad, void *ctx) noexcept
{
    (void)ctx;
    return xc__cxx_call(problem_ok(p), [&] { run(p, static_cast<float *>(grad)); });
}

int dlib_loss(const xc_problem *p, double *loss, void *ctx) noexcept
{
    (void)ctx;
    return xc__cxx_call(problem_ok(p), [&] { *loss = run(p, nullptr); });
}

#define XC_STR2(x) #x
#define XC_STR(x) XC_STR2(x)
#define DLIB_VERSION_STRING XC_STR(DLIB_MAJOR_VERSION) "." \
    XC_STR(DLIB_MINOR_VERSION) "." XC_STR(DLIB_PATCH_VERSION)

xc_target targets[] = {
    {
        XC_ABI_VERSION,
        "dlib.f32.multiclass_log",
        "dlib " DLIB_VERSION_STRING " loss_multiclass_log_::"
        "compute_loss_value_and_gradient: tt::softmax (CPU), gradient "
        "(O - onehot(y)) / num_samples, loss -safe_log(O_y); f32, mean as "
        "dlib's batch, sum as one call per row",
        XC_F32,
        XC_CAP_INDEX_LABELS | XC_CAP_BATCH | XC_CAP_MEAN | XC_CAP_LOSS,
        0,
        dlib_grad,
        dlib_loss,
        nullptr,
    },
};

} // namespace

extern "C" const xc_target *xc__dlib_targets(size_t *count)
{
    *count = sizeof targets / sizeof targets[0];
    return targets;
}
