/* PCG32 XSH-RR: 64-bit LCG state, output = rotate(xorshift(state)). */
#include "pcg32.h"

#include <math.h>

static void step(xc__pcg32 *g)
{
    g->state = g->state * XC__PCG32_MULT + g->inc;
}

void xc__pcg32_seed(xc__pcg32 *g, uint64_t initstate, uint64_t initseq)
{
    g->state = 0;
    g->inc = (initseq << 1) | 1u;
    step(g);
    g->state += initstate;
    step(g);
}

uint64_t xc__pcg32_next64(xc__pcg32 *g)
{
    uint64_t hi = xc__pcg32_next(g);
    return (hi << 32) | xc__pcg32_next(g);
}

uint64_t xc__pcg32_below64(xc__pcg32 *g, uint64_t bound)
{
    if (bound <= UINT32_MAX)
        return xc__pcg32_below(g, (uint32_t)bound);
    for (;;) {
        uint64_t r = xc__pcg32_next64(g);
        if (r >= bound || r >= (uint64_t)(-bound) % bound)
            return r % bound;
    }
}

double xc__pcg32_unit(xc__pcg32 *g)
{
    return (double)(xc__pcg32_next64(g) >> 11) * 0x1p-53;
}

double xc__pcg32_uniform(xc__pcg32 *g, double lo, double hi)
{
    return lo + (hi - lo) * xc__pcg32_unit(g);
}

double xc__pcg32_normal(xc__pcg32 *g)
{
    double u1 = 1.0 - xc__pcg32_unit(g); /* (0, 1]: log is finite */
    double u2 = xc__pcg32_unit(g);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}
