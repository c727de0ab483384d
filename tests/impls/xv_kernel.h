/* The implementations of xv_variant.h, written once per element type.
 *
 * Included twice by xv_impls.h, which defines first:
 *   XK_T           float or double
 *   XK_S(f)        f's name for this type (f##_f32, f##_f64)
 *   XK_DTYPE       its xc_dtype
 *   XK_EXP XK_EXP2 XK_LOG XK_LOG1P XK_FMA XK_LDEXP   libm functions of the type
 *   XK_MIN         smallest positive normal number
 *   XK_EXP_HI      largest argument with a finite exp
 *   XK_EXP_LO      below it exp rounds to 0
 *   XK_LN2_HI XK_LN2_LO   Cody-Waite split of ln 2 (n * HI exact)
 *   XK_POLY_DEG    Taylor degree of the accurate polynomial exp
 * Every arithmetic operation goes through fl(), which flushes a subnormal
 * result to zero when the variant asks for flush-to-zero; inputs are read
 * through ld(), which does the same (denormals-are-zero).
 */

/* ---- arithmetic, optionally flushed ---------------------------------- */

static XK_T XK_S(fl)(const xv_variant *v, XK_T x)
{
    if (v->ftz && x != 0 && fabs((double)x) < XK_MIN)
        return x * 0;
    return x;
}

static XK_T XK_S(ld)(const xv_variant *v, const void *p, size_t i)
{
    return XK_S(fl)(v, ((const XK_T *)p)[i]);
}

static XK_T XK_S(add)(const xv_variant *v, XK_T a, XK_T b)
{
    return XK_S(fl)(v, a + b);
}

static XK_T XK_S(sub)(const xv_variant *v, XK_T a, XK_T b)
{
    return XK_S(fl)(v, a - b);
}

static XK_T XK_S(mul)(const xv_variant *v, XK_T a, XK_T b)
{
    return XK_S(fl)(v, a * b);
}

static XK_T XK_S(dvd)(const xv_variant *v, XK_T a, XK_T b)
{
    return XK_S(fl)(v, a / b);
}

/* One step of the softmax sum (where the accumulation bugs live). */
static XK_T XK_S(acc)(const xv_variant *v, XK_T a, XK_T b)
{
    XK_T s = a + b;
    if (v->bug == XV_BUG_HALF_SUM)
        s = (XK_T)xv_round_bits((double)s, 11);
    else if (v->bug == XV_BUG_F32_ACC)
        s = (XK_T)(float)s;
    return XK_S(fl)(v, s);
}

/* ---- summation orders ------------------------------------------------ */

static XK_T XK_S(sum_fwd)(const xv_variant *v, const XK_T *x, size_t n)
{
    XK_T s = 0;
    for (size_t k = 0; k < n; k++)
        s = XK_S(acc)(v, s, x[k]);
    return s;
}

static XK_T XK_S(sum_rev)(const xv_variant *v, const XK_T *x, size_t n)
{
    XK_T s = 0;
    for (size_t k = n; k-- > 0;)
        s = XK_S(acc)(v, s, x[k]);
    return s;
}

/* LANES (a power of two, <= 8) interleaved partial sums, combined as a
 * tree: what a SIMD loop does. */
static XK_T XK_S(sum_lanes)(const xv_variant *v, const XK_T *x, size_t n,
                            size_t lanes)
{
    XK_T a[8] = {0};
    for (size_t k = 0; k < n; k++)
        a[k % lanes] = XK_S(acc)(v, a[k % lanes], x[k]);
    for (size_t w = lanes / 2; w > 0; w /= 2)
        for (size_t i = 0; i < w; i++)
            a[i] = XK_S(acc)(v, a[i], a[i + w]);
    return a[0];
}

static XK_T XK_S(sum_pairwise)(const xv_variant *v, const XK_T *x, size_t n)
{
    if (n <= 2)
        return n == 0 ? 0 : n == 1 ? x[0] : XK_S(acc)(v, x[0], x[1]);
    size_t h = n / 2;
    return XK_S(acc)(v, XK_S(sum_pairwise)(v, x, h),
                     XK_S(sum_pairwise)(v, x + h, n - h));
}

static XK_T XK_S(sum_kahan)(const xv_variant *v, const XK_T *x, size_t n)
{
    XK_T s = 0, c = 0;
    for (size_t k = 0; k < n; k++) {
        XK_T y = XK_S(sub)(v, x[k], c);
        XK_T t = XK_S(add)(v, s, y);
        c = XK_S(sub)(v, XK_S(sub)(v, t, s), y);
        s = t;
    }
    return s;
}

static XK_T XK_S(sum)(const xv_variant *v, const XK_T *x, size_t n)
{
    switch (v->sum) {
    case XV_SUM_REV: return XK_S(sum_rev)(v, x, n);
    case XV_SUM_LANES4: return XK_S(sum_lanes)(v, x, n, 4);
    case XV_SUM_LANES8: return XK_S(sum_lanes)(v, x, n, 8);
    case XV_SUM_PAIRWISE: return XK_S(sum_pairwise)(v, x, n);
    case XV_SUM_KAHAN: return XK_S(sum_kahan)(v, x, n);
    default: return XK_S(sum_fwd)(v, x, n);
    }
}

/* ---- exp ------------------------------------------------------------- */

/* exp(x) = 2^n exp(r), n = rint(x log2 e), r = x - n ln 2 (|r| <= ln2/2),
 * exp(r) by its Taylor polynomial of DEGREE in Horner form. */
static XK_T XK_S(poly_exp)(XK_T x, int degree)
{
    if (isnan(x))
        return x;
    if (x > (XK_T)XK_EXP_HI)
        return (XK_T)INFINITY;
    if (x < (XK_T)XK_EXP_LO)
        return 0;
    XK_T n = (XK_T)nearbyint((double)(x * (XK_T)XV_LOG2E));
    XK_T r = (x - n * (XK_T)XK_LN2_HI) - n * (XK_T)XK_LN2_LO;
    XK_T p = (XK_T)xv_inv_fact[degree];
    for (int i = degree - 1; i >= 0; i--)
        p = p * r + (XK_T)xv_inv_fact[i];
    return XK_LDEXP(p, (int)n);
}

static XK_T XK_S(xexp)(const xv_variant *v, XK_T x)
{
    XK_T y;
    switch (v->exp) {
    case XV_EXP_POLY: y = XK_S(poly_exp)(x, XK_POLY_DEG); break;
    case XV_EXP_POLY3: y = XK_S(poly_exp)(x, 3); break;
    case XV_EXP_SCALED: y = XK_EXP(x) * (XK_T)1.001; break;
    case XV_EXP_EXP2: y = XK_EXP2(x * (XK_T)XV_LOG2E); break;
    default: y = XK_EXP(x); break;
    }
    return XK_S(fl)(v, y);
}

/* ---- one row: max, sum, softmax -------------------------------------- */

typedef struct XK_S(xv_row) {
    XK_T m;     /* the shift */
    XK_T s;     /* sum of exp(z - m) */
    XK_T ls;    /* log s */
    int empty;  /* no logit above -inf: no softmax */
} XK_S(xv_row);

static XK_T XK_S(row_max)(const xv_variant *v, const XK_T *z, size_t n)
{
    XK_T m = -(XK_T)INFINITY;
    for (size_t k = 0; k < n; k++) {
        XK_T x = XK_S(ld)(v, z, k);
        if (x > m)
            m = x;
    }
    return m;
}

/* Single pass: the running max m and the sum s rescaled whenever m grows. */
static void XK_S(stats_online)(const xv_variant *v, const XK_T *z, size_t n,
                               XK_S(xv_row) *st)
{
    XK_T m = -(XK_T)INFINITY, s = 0;
    for (size_t k = 0; k < n; k++) {
        XK_T x = XK_S(ld)(v, z, k);
        if (x == -(XK_T)INFINITY)
            continue;   /* a masked class adds exp(-inf) = 0 */
        if (x > m) {
            s = XK_S(add)(v, XK_S(mul)(v, s, XK_S(xexp)(v, XK_S(sub)(v, m, x))), 1);
            m = x;
        } else {
            s = XK_S(acc)(v, s, XK_S(xexp)(v, XK_S(sub)(v, x, m)));
        }
    }
    st->m = m;
    st->s = s;
}

/* Streaming log-sum-exp: every step rounds a value of magnitude |lse|.
 * Reported as m = lse, s = 1 (so log s = 0). */
static void XK_S(stats_logaddexp)(const xv_variant *v, const XK_T *z, size_t n,
                                  XK_S(xv_row) *st)
{
    XK_T lse = -(XK_T)INFINITY;
    for (size_t k = 0; k < n; k++) {
        XK_T x = XK_S(ld)(v, z, k);
        if (x == -(XK_T)INFINITY)
            continue;
        XK_T hi = x > lse ? x : lse, lo = x > lse ? lse : x;
        lse = XK_S(add)(v, hi, XK_S(fl)(v, XK_LOG1P(XK_S(xexp)(v, XK_S(sub)(v, lo, hi)))));
    }
    st->m = lse;
    st->s = 1;
}

/* Two-pass statistics; E receives exp(z_k - m). FORCED_MAX, when not NaN,
 * replaces the row max as the shift (the batch-max bug). */
static void XK_S(stats_two_pass)(const xv_variant *v, const XK_T *z, size_t n,
                                 XK_T forced_max, XK_T *e, XK_S(xv_row) *st)
{
    XK_T m = XK_S(row_max)(v, z, n);
    st->empty = m == -(XK_T)INFINITY;
    if (!isnan(forced_max))
        m = forced_max;
    if (v->bug == XV_BUG_NO_SHIFT)
        m = 0;
    for (size_t k = 0; k < n; k++)
        e[k] = XK_S(xexp)(v, XK_S(sub)(v, XK_S(ld)(v, z, k), m));
    st->m = m;
    st->s = XK_S(sum)(v, e, n);
}

static void XK_S(stats)(const xv_variant *v, const XK_T *z, size_t n,
                        XK_T forced_max, XK_T *e, XK_S(xv_row) *st)
{
    if (v->alg == XV_ONLINE || v->alg == XV_LOGADDEXP) {
        if (v->alg == XV_ONLINE)
            XK_S(stats_online)(v, z, n, st);
        else
            XK_S(stats_logaddexp)(v, z, n, st);
        st->empty = st->m == -(XK_T)INFINITY;
    } else {
        XK_S(stats_two_pass)(v, z, n, forced_max, e, st);
    }
    st->ls = XK_S(fl)(v, XK_LOG(st->s));
}

/* O into O (which holds exp(z - m) from stats() for the two-pass forms). */
static void XK_S(softmax)(const xv_variant *v, const XK_T *z, size_t n,
                          const XK_S(xv_row) *st, XK_T *o)
{
    XK_T lse = XK_S(add)(v, st->m, st->ls);
    for (size_t k = 0; k < n; k++) {
        XK_T zk = XK_S(ld)(v, z, k);
        switch (v->alg) {
        case XV_ONLINE:
            o[k] = XK_S(dvd)(v, XK_S(xexp)(v, XK_S(sub)(v, zk, st->m)), st->s);
            break;
        case XV_LOGSHIFT:
            o[k] = XK_S(xexp)(v, XK_S(sub)(v, XK_S(sub)(v, zk, st->m), st->ls));
            break;
        case XV_LSE:
        case XV_LOGADDEXP:
            o[k] = XK_S(xexp)(v, XK_S(sub)(v, zk, lse));
            break;
        default:
            o[k] = XK_S(dvd)(v, o[k], st->s);
            break;
        }
    }
}

/* The largest probability, scaled by (1 + bug_rel). */
static void XK_S(bump_top)(const xv_variant *v, XK_T *o, size_t n)
{
    size_t top = 0;
    for (size_t k = 1; k < n; k++)
        if (o[k] > o[top])
            top = k;
    o[top] = (XK_T)(o[top] * (XK_T)(1 + v->bug_rel));
}

/* ---- problem semantics ----------------------------------------------- */

static const XK_T *XK_S(row_of)(const void *base, const xc_problem *p, size_t r)
{
    return (const XK_T *)base + r * p->ld;
}

static int XK_S(ignored)(const xc_problem *p, size_t r)
{
    return p->labels != NULL && p->labels[r] == p->ignore_index;
}

static XK_T XK_S(class_w)(const xv_variant *v, const xc_problem *p, size_t k,
                          int use_w)
{
    return use_w && p->weights ? XK_S(ld)(v, p->weights, k) : (XK_T)1;
}

static XK_T XK_S(row_w)(const xv_variant *v, const xc_problem *p, size_t r,
                        int use_w)
{
    if (XK_S(ignored)(p, r))
        return 0;
    return XK_S(class_w)(v, p, (size_t)p->labels[r], use_w);
}

/* D: 1 (sum); N (mean of prob rows); the sum of row weights of the
 * non-ignored rows (mean of index labels; N when nothing is weighted). */
static XK_T XK_S(denom)(const xv_variant *v, const xc_problem *p, int use_w)
{
    if (p->reduction != XC_REDUCE_MEAN)
        return 1;
    XK_T d = 0;
    if (p->probs != NULL)
        d = (XK_T)p->batch;
    for (size_t r = 0; p->probs == NULL && r < p->batch; r++) {
        int leak = v->bug == XV_BUG_IGNORED_DENOM && XK_S(ignored)(p, r);
        d = XK_S(add)(v, d, leak ? (XK_T)1 : XK_S(row_w)(v, p, r, use_w));
    }
    if (v->bug == XV_BUG_MEAN_NM1 && d > 1)
        d = d - 1;
    return d;
}

/* x / D, or x * (1/D) with the reciprocal computed once. */
static XK_T XK_S(per_mean)(const xv_variant *v, XK_T x, XK_T d, XK_T inv)
{
    return v->recip_mean ? XK_S(mul)(v, x, inv) : XK_S(dvd)(v, x, d);
}

typedef struct XK_S(xv_ctx) {
    const xv_variant *v;
    const xc_problem *p;
    int use_w;      /* class weights in the gradient */
    XK_T d, inv;    /* mean denominator and its reciprocal */
    XK_T forced;    /* batch-max bug: the shared shift, else NaN */
} XK_S(xv_ctx);

static XK_T XK_S(index_target)(const XK_S(xv_ctx) *cx, size_t r, size_t k)
{
    XK_T y = (size_t)cx->p->labels[r] == k ? (XK_T)1 : (XK_T)0;
    if (cx->v->bug == XV_BUG_SMOOTHING) {
        XK_T eps = (XK_T)cx->v->bug_rel;
        y = (1 - eps) * y + eps / (XK_T)cx->p->classes;
    }
    return y;
}

/* Index labels: g_k = c (O_k - y_k), c = w_r / D; or fma(O_k, c, -c y_k). */
static void XK_S(grad_index)(const XK_S(xv_ctx) *cx, size_t r, XK_T *g)
{
    const xv_variant *v = cx->v;
    XK_T w = XK_S(row_w)(v, cx->p, r, cx->use_w);
    XK_T c = XK_S(per_mean)(v, w, cx->d, cx->inv);
    for (size_t k = 0; k < cx->p->classes; k++) {
        XK_T y = XK_S(index_target)(cx, r, k);
        if (v->fma_grad)
            g[k] = XK_S(fl)(v, XK_FMA(g[k], c, -XK_S(mul)(v, c, y)));
        else
            g[k] = XK_S(per_mean)(v, XK_S(mul)(v, w, XK_S(sub)(v, g[k], y)),
                                  cx->d, cx->inv);
    }
}

/* Probability rows: g_k = (Y O_k - v_k y_k) / D with Y = sum_j v_j y_j;
 * or fma(O_k, Y/D, -v_k y_k / D). */
static void XK_S(grad_prob)(const XK_S(xv_ctx) *cx, size_t r, XK_T *g)
{
    const xv_variant *v = cx->v;
    const XK_T *y = XK_S(row_of)(cx->p->probs, cx->p, r);
    size_t n = cx->p->classes;
    XK_T Y = 0;
    for (size_t k = 0; k < n; k++)
        Y = XK_S(add)(v, Y, XK_S(mul)(v, XK_S(class_w)(v, cx->p, k, cx->use_w),
                                      XK_S(ld)(v, y, k)));
    if (v->bug == XV_BUG_S_DROPPED && cx->p->weights == NULL)
        Y = 1;
    XK_T a = XK_S(per_mean)(v, Y, cx->d, cx->inv);
    for (size_t k = 0; k < n; k++) {
        XK_T t = XK_S(mul)(v, XK_S(class_w)(v, cx->p, k, cx->use_w), XK_S(ld)(v, y, k));
        if (v->fma_grad)
            g[k] = XK_S(fl)(v, XK_FMA(g[k], a, -XK_S(per_mean)(v, t, cx->d, cx->inv)));
        else
            g[k] = XK_S(per_mean)(v, XK_S(sub)(v, XK_S(mul)(v, Y, g[k]), t),
                                  cx->d, cx->inv);
    }
}

static void XK_S(fill)(XK_T *g, size_t n, XK_T x)
{
    for (size_t k = 0; k < n; k++)
        g[k] = x;
}

static void XK_S(grad_row)(const XK_S(xv_ctx) *cx, size_t r, XK_T *g)
{
    const xv_variant *v = cx->v;
    const xc_problem *p = cx->p;
    const XK_T *z = XK_S(row_of)(p->logits, p, r);
    if (XK_S(ignored)(p, r) || cx->d == 0) {
        XK_S(fill)(g, p->classes, 0);
        return;
    }
    XK_S(xv_row) st;
    XK_S(stats)(v, z, p->classes, cx->forced, g, &st);
    if (st.empty) {
        XK_S(fill)(g, p->classes, v->masked_nan ? (XK_T)NAN : (XK_T)0);
        return;
    }
    XK_S(softmax)(v, z, p->classes, &st, g);
    if (v->bug == XV_BUG_TOP_REL)
        XK_S(bump_top)(v, g, p->classes);
    if (p->labels != NULL)
        XK_S(grad_index)(cx, r, g);
    else
        XK_S(grad_prob)(cx, r, g);
}

/* The batch-max bug's shared shift: the largest logit of the whole batch. */
static XK_T XK_S(forced_shift)(const xv_variant *v, const xc_problem *p)
{
    if (v->bug != XV_BUG_BATCH_MAX)
        return (XK_T)NAN;
    XK_T m = -(XK_T)INFINITY;
    for (size_t r = 0; r < p->batch; r++) {
        XK_T x = XK_S(row_max)(v, XK_S(row_of)(p->logits, p, r), p->classes);
        if (x > m)
            m = x;
    }
    return m == -(XK_T)INFINITY ? (XK_T)NAN : m;
}

static void XK_S(ctx_init)(XK_S(xv_ctx) *cx, const xv_variant *v,
                           const xc_problem *p, int use_w)
{
    cx->v = v;
    cx->p = p;
    cx->use_w = use_w;
    cx->d = XK_S(denom)(v, p, use_w);
    cx->inv = XK_S(dvd)(v, 1, cx->d);
    cx->forced = XK_S(forced_shift)(v, p);
}

static int XK_S(problem_ok)(const xc_problem *p)
{
    return p != NULL && p->dtype == XK_DTYPE && p->logits != NULL &&
           p->batch > 0 && p->classes > 0 && p->ld >= p->classes &&
           (p->labels == NULL) != (p->probs == NULL);
}

static int XK_S(xv_grad)(const xc_problem *p, void *grad, const xv_variant *v)
{
    if (!XK_S(problem_ok)(p) || grad == NULL)
        return -1;
    XK_S(xv_ctx) cx;
    XK_S(ctx_init)(&cx, v, p, v->bug != XV_BUG_W_LOSS_ONLY);
    for (size_t r = 0; r < p->batch; r++)
        XK_S(grad_row)(&cx, r, (XK_T *)grad + r * p->ld);
    return 0;
}

/* ---- loss ------------------------------------------------------------ */

/* -ln O_k in the algorithm's own form. */
static XK_T XK_S(neg_log_o)(const xv_variant *v, XK_T zk, const XK_S(xv_row) *st)
{
    switch (v->alg) {
    case XV_LOGSHIFT:
        return -XK_S(sub)(v, XK_S(sub)(v, zk, st->m), st->ls);
    case XV_LSE:
    case XV_LOGADDEXP:
        return XK_S(sub)(v, XK_S(add)(v, st->m, st->ls), zk);
    default:
        return XK_S(add)(v, XK_S(sub)(v, st->m, zk), st->ls);
    }
}

static XK_T XK_S(row_loss)(const XK_S(xv_ctx) *cx, size_t r, XK_T *scratch)
{
    const xv_variant *v = cx->v;
    const xc_problem *p = cx->p;
    const XK_T *z = XK_S(row_of)(p->logits, p, r);
    XK_T w = p->labels != NULL ? XK_S(row_w)(v, p, r, 1) : (XK_T)1;
    if (w == 0)
        return 0;
    XK_S(xv_row) st;
    XK_S(stats)(v, z, p->classes, cx->forced, scratch, &st);
    if (p->labels != NULL)
        return XK_S(mul)(v, w, XK_S(neg_log_o)(v, XK_S(ld)(v, z, (size_t)p->labels[r]), &st));
    const XK_T *y = XK_S(row_of)(p->probs, p, r);
    XK_T acc = 0;
    for (size_t k = 0; k < p->classes; k++) {
        XK_T wy = XK_S(mul)(v, XK_S(class_w)(v, p, k, 1), XK_S(ld)(v, y, k));
        if (wy != 0)    /* never 0 * -inf at a masked class */
            acc = XK_S(add)(v, acc, XK_S(mul)(v, wy, XK_S(neg_log_o)(v, XK_S(ld)(v, z, k), &st)));
    }
    return acc;
}

static int XK_S(xv_loss)(const xc_problem *p, double *loss, const xv_variant *v)
{
    if (!XK_S(problem_ok)(p) || loss == NULL)
        return -1;
    XK_T *scratch = malloc(p->classes * sizeof *scratch);
    if (scratch == NULL)
        return -1;
    XK_S(xv_ctx) cx;
    XK_S(ctx_init)(&cx, v, p, 1);
    XK_T total = 0;
    for (size_t r = 0; r < p->batch; r++)
        total = XK_S(add)(v, total, XK_S(row_loss)(&cx, r, scratch));
    free(scratch);
    /* Every row ignored under mean: 0/0 (or 0 * inf) = NaN, accepted. */
    if (p->reduction == XC_REDUCE_MEAN)
        total = XK_S(per_mean)(v, total, cx.d, cx.inv);
    *loss = (double)total;
    return 0;
}
