/* libtorch 1.13 targets, the module side: the entry points of the shared
 * module xentcheck-torch.so, which torch_lazy.c loads on first use (linking
 * libtorch into every xentcheck process would cost each one about 1.4 s of
 * libtorch's static initialisers). at::cross_entropy_loss (the op behind
 * torch::nn::functional::cross_entropy) forward and its autograd backward
 * on the CPU, f32 and f64, every cap of ABI v1 (the extended semantics of
 * include/xentcheck/target.h are PyTorch's). The computation lives in
 * torch_xent.cpp; this file holds the rule that no C++ exception crosses
 * into C (each is caught, printed to stderr and returned as -1). */
#include <cstdio>
#include <exception>

#include <ATen/Parallel.h>
#include <c10/util/Exception.h>

#include "torch_xent.h"

namespace {

/* One intra-op thread, set once per process (first from the table, in the
 * harness's parent): results do not depend on the machine, and the isolated
 * executor, which forks workers without exec and assumes a single-threaded
 * parent, never forks with a pool running. at::set_num_threads() first
 * builds caffe2's pthreadpool at the default size (one worker thread on two
 * cores) and then rebuilds it with 1 thread, joining that worker before it
 * returns; OpenMP only records the count. */
void single_thread()
{
    static const bool done = [] {
        at::set_num_threads(1);
        return true;
    }();
    (void)done;
}

/* CTX is the target's dtype; P must match it and hold one kind of label. */
bool problem_ok(const xc_problem *p, const void *ctx)
{
    const auto want = *static_cast<const xc_dtype *>(ctx);
    return p != nullptr && p->dtype == want &&
           (p->labels == nullptr) != (p->probs == nullptr);
}

void report(const char *what)
{
    std::fprintf(stderr, "xentcheck torch adapter: %s\n", what);
}

/* Checks P, then runs BODY(*P): 0 when it returns, -1 when P is wrong or
 * anything throws (the message goes to stderr); nothing escapes. */
template <typename Body>
int guarded(const xc_problem *p, const void *ctx, Body body) noexcept
{
    try {
        if (!problem_ok(p, ctx))
            return -1;
        single_thread();
        body(*p);
        return 0;
    } catch (const c10::Error &e) { /* what() appends a long C++ backtrace */
        report(e.what_without_backtrace());
    } catch (const std::exception &e) {
        report(e.what());
    } catch (...) {
        report("unknown exception");
    }
    return -1;
}

} // namespace

/* The module's face (torch_lazy.h): CTX points at the target's dtype. */
extern "C" __attribute__((visibility("default"))) int xc__torch_module_init(void)
{
    try {
        single_thread();
        return 0;
    } catch (...) {
        return -1;   /* tried again by each call, which reports the error */
    }
}

extern "C" __attribute__((visibility("default")))
int xc__torch_module_grad(const xc_problem *p, void *grad, void *ctx)
{
    return guarded(p, ctx, [grad](const xc_problem &q) { xc__torch_grad(q, grad); });
}

extern "C" __attribute__((visibility("default")))
int xc__torch_module_loss(const xc_problem *p, double *loss, void *ctx)
{
    return guarded(p, ctx, [loss](const xc_problem &q) { *loss = xc__torch_loss(q); });
}
