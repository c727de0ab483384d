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

void xc__pcg32_seed(xc__pcg32 *g, uint64_t initstate, uint64_t initseq);
uint32_t xc__pcg32_next(xc__pcg32 *g);
uint64_t xc__pcg32_next64(xc__pcg32 *g);
/* Uniform in [0, bound) without modulo bias; bound >= 1. */
uint32_t xc__pcg32_below(xc__pcg32 *g, uint32_t bound);
/* Uniform in [0, bound) for 64-bit bounds. */
uint64_t xc__pcg32_below64(xc__pcg32 *g, uint64_t bound);
/* Uniform double in [0, 1) with 53 random bits. */
double xc__pcg32_unit(xc__pcg32 *g);
/* Uniform in [lo, hi). */
double xc__pcg32_uniform(xc__pcg32 *g, double lo, double hi);
/* Standard normal (Box-Muller). */
double xc__pcg32_normal(xc__pcg32 *g);

#endif
