/* libtorch 1.13 targets, the harness side: the table, and the loading of
 * the module xentcheck-torch.so (torch.cpp, torch_xent.cpp) on first use.
 *
 * Linked in, libtorch's static initialisers would cost every xentcheck
 * process about 1.4 s and 170 MB, also `list`, `replay` of other targets
 * and every test. So the table is plain C and the callbacks load the module
 * with dlopen when first called; xc__torch_prepare() loads it before the
 * check loop forks its worker, so that workers inherit it and never spend
 * their per-call timeout on loading. The module is looked up at
 *   $XENTCHECK_TORCH_MODULE, else
 *   <dir of the executable>/../<libdir>/xentcheck/xentcheck-torch.so
 *   (installed), else the build tree's copy (XC_TORCH_MODULE_BUILD). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libs.h"

typedef int (*grad_fn)(const xc_problem *p, void *grad, void *ctx);
typedef int (*loss_fn)(const xc_problem *p, double *loss, void *ctx);

static struct {
    pthread_once_t once;
    grad_fn grad;
    loss_fn loss;
    char error[512];      /* why the module could not be loaded */
} module = { PTHREAD_ONCE_INIT, NULL, NULL, "" };

/* <dir of the executable>/../LIBDIR/xentcheck/xentcheck-torch.so */
static int installed_path(char *buf, size_t len)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return -1;
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (!slash)
        return -1;
    *slash = 0;
    int w = snprintf(buf, len, "%s/../%s/xentcheck/xentcheck-torch.so", exe,
                     XC_TORCH_MODULE_SUBDIR);
    return w < 0 || (size_t)w >= len ? -1 : 0;
}

static void *open_module(void)
{
    const char *env = getenv("XENTCHECK_TORCH_MODULE");
    char path[PATH_MAX + 64];
    if (env && *env) {
        void *h = dlopen(env, RTLD_NOW | RTLD_LOCAL);
        if (!h)
            snprintf(module.error, sizeof module.error, "%s", dlerror());
        return h;
    }
    if (installed_path(path, sizeof path) == 0 && access(path, R_OK) == 0)
        return dlopen(path, RTLD_NOW | RTLD_LOCAL);
    void *h = dlopen(XC_TORCH_MODULE_BUILD, RTLD_NOW | RTLD_LOCAL);
    if (!h)
        snprintf(module.error, sizeof module.error, "%s (set XENTCHECK_TORCH_MODULE "
                 "to the module's path)", dlerror());
    return h;
}

static void load_module(void)
{
    void *h = open_module();
    if (!h) {
        if (!module.error[0])
            snprintf(module.error, sizeof module.error, "%s", dlerror());
        return;
    }
    int (*init)(void) = (int (*)(void))dlsym(h, "xc__torch_module_init");
    module.grad = (grad_fn)dlsym(h, "xc__torch_module_grad");
    module.loss = (loss_fn)dlsym(h, "xc__torch_module_loss");
    if (!init || !module.grad || !module.loss) {
        snprintf(module.error, sizeof module.error, "xentcheck-torch.so lacks its "
                 "entry points");
        module.grad = NULL;
        module.loss = NULL;
        return;
    }
    init();   /* one thread, before any fork; a failure reappears per call */
}

/* 0 when the module is loaded; else -1 after saying why (once). */
static int ready(void)
{
    static int told;
    pthread_once(&module.once, load_module);
    if (module.grad)
        return 0;
    if (!told++)
        fprintf(stderr, "xentcheck: cannot load the libtorch module: %s\n", module.error);
    return -1;
}

static int lazy_grad(const xc_problem *p, void *grad, void *ctx)
{
    return ready() == 0 ? module.grad(p, grad, ctx) : -1;
}

static int lazy_loss(const xc_problem *p, double *loss, void *ctx)
{
    return ready() == 0 ? module.loss(p, loss, ctx) : -1;
}

void xc__torch_prepare(void)
{
    (void)ready();
}

static xc_dtype f32 = XC_F32, f64 = XC_F64;

#define ALGORITHM                                                               \
    "libtorch " XC_TORCH_VERSION " at::cross_entropy_loss (F::cross_entropy): " \
    "log_softmax + nll_loss (indices), -sum(w y log_softmax) (probability "     \
    "rows); autograd backward; CPU, 1 thread"

static const xc_target targets[] = {
    { .abi_version = XC_ABI_VERSION, .name = "torch.f32.cross_entropy",
      .summary = ALGORITHM ", f32", .dtype = XC_F32, .caps = XC_CAPS_ALL_V1,
      .grad = lazy_grad, .loss = lazy_loss, .ctx = &f32 },
    { .abi_version = XC_ABI_VERSION, .name = "torch.f64.cross_entropy",
      .summary = ALGORITHM ", f64", .dtype = XC_F64, .caps = XC_CAPS_ALL_V1,
      .grad = lazy_grad, .loss = lazy_loss, .ctx = &f64 },
};

const xc_target *xc__torch_targets(size_t *count)
{
    *count = sizeof targets / sizeof targets[0];
    return targets;
}
