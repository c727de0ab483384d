/* The inline executor: the target runs in this process.
 *
 * Used where something else catches crashes (libFuzzer, AFL++): a crash or
 * a hang takes the process down, and the timeout is not enforced. Every
 * input is a separate heap block of exactly its size, so a sanitizer sees a
 * read past its end; writes to inputs are found by comparing them with the
 * case they were filled from, writes around the gradient by poison
 * canaries on both sides. A floating-point mode the target sets during a
 * call (flush-to-zero, say) is undone after it, before those checks. The
 * blocks are kept from one call to the next while their sizes stay the same
 * (a check calls the target about a dozen times on one shape), so a large
 * case does not page-fault fresh memory on every call.
 */
#include "exec_common.h"

#include <stdlib.h>
#include <string.h>

typedef struct call_bufs {
    xc__exec_inputs in;       /* what the target gets */
    size_t in_bytes[4];       /* current size of each input block */
    unsigned char *grad_block;
    size_t grad_bytes;
    size_t grad_total;        /* size of grad_block */
} call_bufs;

typedef struct inl {
    xc__exec head;
    call_bufs b;              /* kept between calls */
} inl;

static const char *const input_names[4] = {"logits", "labels", "probs",
                                           "weights"};

static void **input_slot(xc__exec_inputs *in, int i)
{
    void **slots[4] = {&in->logits, (void **)&in->labels, &in->probs,
                       &in->weights};
    return slots[i];
}

static size_t input_bytes(const xc__case *c, xc_dtype t, int i)
{
    switch (i) {
    case 0: return xc__exec_logits_bytes(c, t);
    case 1: return xc__exec_labels_bytes(c);
    case 2: return xc__exec_probs_bytes(c, t);
    default: return xc__exec_weights_bytes(c, t);
    }
}

static void free_bufs(call_bufs *b)
{
    for (int i = 0; i < 4; i++)
        free(*input_slot(&b->in, i));
    free(b->grad_block);
    *b = (call_bufs){0};
}

/* Input I as a block of exactly N bytes (none when 0): the block of the
 * last call when its size matches. 0 or -1 (out of memory). */
static int size_input(call_bufs *b, int i, size_t n)
{
    if (b->in_bytes[i] == n && (n == 0 || *input_slot(&b->in, i)))
        return 0;
    free(*input_slot(&b->in, i));
    *input_slot(&b->in, i) = n ? malloc(n) : NULL;
    b->in_bytes[i] = n;
    if (n && !*input_slot(&b->in, i)) {
        free_bufs(b);
        return -1;
    }
    return 0;
}

/* Size and fill the inputs; 0 or -1 (out of memory). */
static int make_inputs(const xc__case *c, xc_dtype t, call_bufs *b)
{
    for (int i = 0; i < 4; i++)
        if (size_input(b, i, input_bytes(c, t, i)) != 0)
            return -1;
    xc__exec_fill_inputs(c, t, &b->in);
    return 0;
}

/* The gradient with XC__EXEC_ZONE_MIN bytes of poison on either side. */
static int make_grad(const xc__case *c, xc_dtype t, uint32_t poison,
                     call_bufs *b)
{
    b->grad_bytes = xc__exec_extent(c) * xc__dtype_size(t);
    size_t total = b->grad_bytes + 2 * XC__EXEC_ZONE_MIN;
    if (total != b->grad_total || !b->grad_block) {
        free(b->grad_block);
        b->grad_block = malloc(total);
        b->grad_total = b->grad_block ? total : 0;
    }
    if (!b->grad_block) {
        free_bufs(b);
        return -1;
    }
    xc__exec_poison_fill(b->grad_block, total, poison);
    return 0;
}

static int check_inputs(const xc__case *c, xc_dtype t, call_bufs *b,
                        xc__call_result *res)
{
    int which;
    size_t at;
    if (xc__exec_inputs_intact(c, t, &b->in, &which, &at))
        return 0;
    xc__exec_result(res, XC__CALL_WROTE_INPUT, 0, "wrote %s element %zu",
                    input_names[which], at);
    return 1;
}

static int check_zones(const call_bufs *b, const xc__case *c, xc_dtype t,
                       uint32_t poison, xc__call_result *res)
{
    size_t es = xc__dtype_size(t), words = XC__EXEC_ZONE_MIN / 4;
    size_t bad = xc__exec_poison_first_bad(b->grad_block, XC__EXEC_ZONE_MIN,
                                           poison);
    if (bad < words) {
        size_t dist = XC__EXEC_ZONE_MIN - bad * 4;
        xc__exec_result(res, XC__CALL_WROTE_OUTSIDE, 0,
                        "wrote grad element -%zu, before the buffer",
                        (dist + es - 1) / es);
        return 1;
    }
    const unsigned char *after = b->grad_block + XC__EXEC_ZONE_MIN +
                                 b->grad_bytes;
    bad = xc__exec_poison_first_bad(after, XC__EXEC_ZONE_MIN, poison);
    size_t last = (c->batch - 1) * c->ld, elem = (b->grad_bytes + bad * 4) / es;
    if (bad < words && elem < last + c->ld) {
        /* Past the last row's H elements but within its ld: its padding. */
        xc__exec_result(res, XC__CALL_WROTE_PADDING, 0,
                        "wrote the padding of the last row (row %zu, "
                        "element %zu of ld %zu)", c->batch - 1, elem - last, c->ld);
        return 1;
    }
    if (bad < words) {
        xc__exec_result(res, XC__CALL_WROTE_OUTSIDE, 0,
                        "wrote grad element %zu, past the last row "
                        "(buffer of %zu elements)",
                        (b->grad_bytes + bad * 4) / es, b->grad_bytes / es);
        return 1;
    }
    return 0;
}

static xc__call_status oom(xc__call_result *res)
{
    return xc__exec_result(res, XC__CALL_HARNESS_ERROR, 0,
                           "out of memory for the call buffers");
}

static xc__call_status verdict(int rc, xc__call_result *res)
{
    if (rc != 0)
        return xc__exec_result(res, XC__CALL_RETURNED_ERROR, rc,
                               "target returned %d", rc);
    return xc__exec_result(res, XC__CALL_OK, 0, "ok");
}

static xc__call_status inline_grad(xc__exec *ex, const xc__case *c,
                                   uint32_t poison, double *grad_out,
                                   xc__call_result *res)
{
    xc_dtype t = ex->target->dtype;
    call_bufs *b = &((inl *)ex)->b;
    if (make_inputs(c, t, b) != 0 || make_grad(c, t, poison, b) != 0)
        return oom(res);
    xc_problem p;
    xc__exec_build_problem(c, t, &b->in, &p);
    void *grad = b->grad_block + XC__EXEC_ZONE_MIN;
    xc__fp_state fp;
    xc__fp_save(&fp);
    int rc = ex->target->grad(&p, grad, ex->target->ctx);
    xc__fp_restore(&fp);
    if (!check_inputs(c, t, b, res) && !check_zones(b, c, t, poison, res) &&
        !xc__exec_check_padding(c, t, grad, poison, res) &&
        verdict(rc, res) == XC__CALL_OK)
        xc__exec_grad_to_double(c, t, grad, grad_out);
    return res->status;
}

static xc__call_status inline_loss(xc__exec *ex, const xc__case *c,
                                   double *loss_out, xc__call_result *res)
{
    xc_dtype t = ex->target->dtype;
    call_bufs *b = &((inl *)ex)->b;
    if (make_inputs(c, t, b) != 0)
        return oom(res);
    xc_problem p;
    xc__exec_build_problem(c, t, &b->in, &p);
    double loss = 0;
    xc__fp_state fp;
    xc__fp_save(&fp);
    int rc = ex->target->loss(&p, &loss, ex->target->ctx);
    xc__fp_restore(&fp);
    if (!check_inputs(c, t, b, res) && verdict(rc, res) == XC__CALL_OK)
        *loss_out = loss;
    return res->status;
}

static void inline_destroy(xc__exec *ex)
{
    free_bufs(&((inl *)ex)->b);
    free(ex);
}

static const xc__exec_ops inline_ops = {inline_grad, inline_loss,
                                        inline_destroy};

xc__exec *xc__exec_inline_new(const xc_target *target, double timeout_s)
{
    inl *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->head.ops = &inline_ops;
    w->head.target = target;
    w->head.timeout_s = timeout_s;
    w->head.restarts = 0; /* no worker process */
    return &w->head;
}
