/* PCG32 (XSH-RR, 64-bit state, 32-bit output), from O'Neill's algorithm.
 * Reference stream: initstate 42, initseq 54 gives 0xa15c02b7 0x7b47f409
 * 0xba1d3330 0x83d2f293 0xbfa4784b 0xcbed606e (pinned by tests/test_pcg32.c).
 */
#ifndef XC_HARNESS_PCG32_H
#define XC_HARNESS_PCG32_H

#include <stdint.h>

typedef struct xc__pcg32 {
    uint64_t state;
    uint64_t inc;   /* always odd */
} xc__pcg32;

#define XC__PCG32_MULT 6364136223846793005ULL

void xc__pcg32_seed(xc__pcg32 *g, uint64_t initstate, uint64_t initseq);

/* The next output; inline, as the per-class loops (the permutation's
 * shuffle, random signs) draw one per class. */
static inline uint32_t xc__pcg32_next(xc__pcg32 *g)
{
    uint64_t old = g->state;
    g->state = old * XC__PCG32_MULT + g->inc;
    uint32_t xorshifted = (uint32_t)(((old >> 18) ^ old) >> 27);
    uint32_t rot = (uint32_t)(old >> 59);
    return (xorshifted >> rot) | (xorshifted << ((32 - rot) & 31));
}

/* Uniform in [0, bound) without modulo bias; bound >= 1. */
static inline uint32_t xc__pcg32_below(xc__pcg32 *g, uint32_t bound)
{
    /* Reject the low values that would make some results more likely:
     * those below (2^32 - bound) mod bound. That threshold is below BOUND,
     * so a draw at or above BOUND is kept without its division (the same
     * draws are kept or rejected either way). */
    for (;;) {
        uint32_t r = xc__pcg32_next(g);
        if (r >= bound || r >= (uint32_t)(-bound) % bound)
            return r % bound;
    }
}

uint64_t xc__pcg32_next64(xc__pcg32 *g);
/* Uniform in [0, bound) for 64-bit bounds. */
uint64_t xc__pcg32_below64(xc__pcg32 *g, uint64_t bound);
/* Uniform double in [0, 1) with 53 random bits. */
double xc__pcg32_unit(xc__pcg32 *g);
/* Uniform in [lo, hi). */
double xc__pcg32_uniform(xc__pcg32 *g, double lo, double hi);
/* Standard normal (Box-Muller). */
double xc__pcg32_normal(xc__pcg32 *g);

#endif
