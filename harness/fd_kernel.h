/* The per-class loops of the finite differences (fd.c), four classes at a
 * time where the processor has AVX2: building a row of the direction and
 * summing the moved coordinates' gradient and bounds. The portable kernels
 * run the same operations in the same order, so both give the same bits
 * (the file is compiled without contraction, as reference_grad.c is;
 * tests/test_fd.c compares them).
 */
#ifndef XC_HARNESS_FD_KERNEL_H
#define XC_HARNESS_FD_KERNEL_H

#include <stddef.h>

#include "xentcheck/target.h"

/* z + d and z - d both exact in dtype T (fd.c says why the test is sound). */
int xc__fd_exact_step(xc_dtype t, double z, double delta);

/* One row of the direction: class k moves by +-H (SIGN's sign) when
 * SIGN[k] != 0 and z_k +- H are exact in T, and, with HALVES, z_k +- H/2
 * too; DELTA[k] is then +-H, else 0. Returns how many classes moved; sets
 * *DOWN (*UP) when one moved by -H (+H). */
typedef struct xc__fd_row {
    xc_dtype dtype;
    const double *z;
    const signed char *sign;
    size_t n;
    double h;
    int halves;
} xc__fd_row;

size_t xc__fd_row_direction(const xc__fd_row *row, double *delta, int *down, int *up);
size_t xc__fd_row_direction_with(int use_vector, const xc__fd_row *row, double *delta,
                                 int *down, int *up);

/* Sums over the moved classes (DELTA[k] != 0) of sign(delta_k) g_k, |g_k|
 * and b_k, in double-double, class k into lane k mod 4 (so that both
 * kernels add the same terms in the same order): at least as accurate as
 * long double sums, within 2 n u^2 of the sum of the terms' magnitudes. */
enum { XC__FD_DOT = 0, XC__FD_MAG, XC__FD_BOUND, XC__FD_SUMS };
typedef struct xc__fd_sums {
    double hi[XC__FD_SUMS][4], lo[XC__FD_SUMS][4];
} xc__fd_sums;

void xc__fd_sums_row(const double *g, const double *b, const double *delta, size_t n,
                     xc__fd_sums *acc);
void xc__fd_sums_row_with(int use_vector, const double *g, const double *b,
                          const double *delta, size_t n, xc__fd_sums *acc);
/* Sum WHICH, the lanes added in order, rounded once to long double. A
 * term +-inf or NaN, or lanes whose doubles overflow (terms near DBL_MAX),
 * give +-inf or NaN: fd.c then sums in long double. */
long double xc__fd_sums_value(const xc__fd_sums *acc, int which);

int xc__fd_has_vector(void);

#endif
