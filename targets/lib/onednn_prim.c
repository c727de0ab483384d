/* oneDNN's softmax v2 primitive through its C API (see onednn_prim.h).
 *
 * The CPU engine and its stream are made once per process and kept until
 * exit (the harness's worker process serves many calls); descriptors and
 * primitives are made per call (oneDNN caches the JIT code itself).
 *
 * One thread, as the libtorch targets have (torch.cpp): Debian's oneDNN
 * runs on OpenMP, whose team would otherwise take every core, spinning
 * between calls, in every process that calls it. `run --jobs 2` on two
 * cores then had four spinning threads: the target's 400 cases took 3.1 s
 * instead of 0.9 s, past the default time budget, and its report stopped
 * early at 76 cases where the single run's checked 400. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* RTLD_DEFAULT */
#endif
#include "onednn_prim.h"

#include <dlfcn.h>
#include <stdio.h>

#include <dnnl.h>

/* omp_set_num_threads(1) when the process has an OpenMP runtime (oneDNN
 * built with OpenMP brings it); looked up rather than linked, so that a
 * oneDNN on another runtime (TBB, sequential) needs nothing here. */
static void single_thread(void)
{
    void (*set_threads)(int) = (void (*)(int))dlsym(RTLD_DEFAULT, "omp_set_num_threads");
    if (set_threads)
        set_threads(1);
}

typedef struct session {
    dnnl_engine_t engine;
    dnnl_stream_t stream;
    dnnl_memory_desc_t md;
    dnnl_primitive_desc_t fwd_pd;
} session;

static dnnl_engine_t engine;
static dnnl_stream_t stream;

static int engine_open(void)
{
    if (stream != NULL)
        return 0;
    single_thread();
    if (engine == NULL && dnnl_engine_create(&engine, dnnl_cpu, 0) != dnnl_success)
        return -1;
    return dnnl_stream_create(&stream, engine, dnnl_stream_default_flags) ==
                   dnnl_success ? 0 : -1;
}

static int session_open(session *x, const xc__dnnl_shape *s)
{
    dnnl_dims_t dims = { (dnnl_dim_t)s->batch, (dnnl_dim_t)s->classes };
    dnnl_dims_t strides = { (dnnl_dim_t)s->ld, 1 };
    dnnl_softmax_v2_desc_t d;
    *x = (session){ 0 };
    if (engine_open() != 0)
        return -1;
    x->engine = engine;
    x->stream = stream;
    if (dnnl_memory_desc_init_by_strides(&x->md, 2, dims, dnnl_f32, strides) !=
            dnnl_success ||
        dnnl_softmax_v2_forward_desc_init(&d, dnnl_forward_training,
                                          dnnl_softmax_log, &x->md, &x->md, 1) !=
            dnnl_success)
        return -1;
    return dnnl_primitive_desc_create(&x->fwd_pd, &d, NULL, x->engine, NULL) ==
                   dnnl_success ? 0 : -1;
}

static void session_close(session *x)
{
    if (x->fwd_pd)
        dnnl_primitive_desc_destroy(x->fwd_pd);
}

/* Run the primitive of PD on the NARGS buffers BUFS (argument ids IDS);
 * the memory objects wrap the caller's buffers. */
static int execute(session *x, dnnl_primitive_desc_t pd, int nargs,
                   const int *ids, void *const *bufs)
{
    dnnl_primitive_t prim = NULL;
    dnnl_exec_arg_t args[3] = { { 0 } };
    int rc = dnnl_primitive_create(&prim, pd) == dnnl_success ? 0 : -1;
    for (int i = 0; i < nargs; i++) {
        args[i].arg = ids[i];
        if (dnnl_memory_create(&args[i].memory, &x->md, x->engine, bufs[i]) !=
            dnnl_success)
            rc = -1;
    }
    if (rc == 0 && (dnnl_primitive_execute(prim, x->stream, nargs, args) !=
                        dnnl_success ||
                    dnnl_stream_wait(x->stream) != dnnl_success))
        rc = -1;
    for (int i = nargs - 1; i >= 0; i--)
        if (args[i].memory)
            dnnl_memory_destroy(args[i].memory);
    if (prim)
        dnnl_primitive_destroy(prim);
    return rc;
}

int xc__dnnl_logsoftmax_fwd(const xc__dnnl_shape *s, const float *src, float *dst)
{
    session x;
    static const int ids[] = { DNNL_ARG_SRC, DNNL_ARG_DST };
    /* oneDNN takes non-const handles; the forward pass only reads SRC. */
    void *bufs[] = { (void *)src, dst };
    int rc = session_open(&x, s);
    if (rc == 0)
        rc = execute(&x, x.fwd_pd, 2, ids, bufs);
    session_close(&x);
    return rc;
}

static int backward_pd(session *x, dnnl_primitive_desc_t *pd)
{
    dnnl_softmax_v2_desc_t d;
    if (dnnl_softmax_v2_backward_desc_init(&d, dnnl_softmax_log, &x->md, &x->md,
                                           &x->md, 1) != dnnl_success)
        return -1;
    return dnnl_primitive_desc_create(pd, &d, NULL, x->engine, x->fwd_pd) ==
                   dnnl_success ? 0 : -1;
}

int xc__dnnl_logsoftmax_bwd(const xc__dnnl_shape *s, const float *dst,
                            const float *diff_dst, float *diff_src)
{
    session x;
    dnnl_primitive_desc_t pd = NULL;
    static const int ids[] = { DNNL_ARG_DST, DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_SRC };
    void *bufs[] = { (void *)dst, (void *)diff_dst, diff_src };
    int rc = session_open(&x, s);
    if (rc == 0)
        rc = backward_pd(&x, &pd);
    if (rc == 0)
        rc = execute(&x, pd, 3, ids, bufs);
    if (pd)
        dnnl_primitive_desc_destroy(pd);
    session_close(&x);
    return rc;
}

const char *xc__dnnl_version(void)
{
    static char buf[32];
    const dnnl_version_t *v = dnnl_version();
    snprintf(buf, sizeof buf, "%d.%d.%d", v->major, v->minor, v->patch);
    return buf;
}
