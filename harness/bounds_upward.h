/* The gradient bounds' per-class pass, in doubles rounded upward.
 *
 * The only code of the bounds that runs in a rounding mode other than to
 * nearest, in a file of its own: it is compiled so that the compiler
 * honours the mode (-frounding-math, and clang's FENV_ACCESS pragma),
 * which makes every floating-point operation of the file a strict one.
 * tolerance.c, which computes the inputs below in long double (round to
 * nearest, raised by a relative margin and rounded up to double), and the
 * loss bound, need neither and are compiled normally.
 */
#ifndef XC_HARNESS_BOUNDS_UPWARD_H
#define XC_HARNESS_BOUNDS_UPWARD_H

#include <stddef.h>

/* The inputs of a finite row's bounds, each at least its exact value
 * (tolerance.c row_inputs_of says why): M, the row's constant part B of
 * beta, the allowance a, the factor F, the dtype's u and the reference's
 * errors R (relative to s_k) and R_a (absolute, reference.h). */
typedef struct xc__row_inputs {
    double m, row_beta, allowance, factor, u, rel_err, abs_err;
} xc__row_inputs;

/* The rows of one pass: COUNT rows of H classes; row i's logits at
 * Z + i LD, its scales at S + i H, its bounds written to B + i H; IN[i]
 * its inputs. Rows with FINITE[i] == 0 are left alone. */
typedef struct xc__upward_rows {
    const double *z;
    size_t ld;
    const double *s;
    double *b;
    size_t h, count;
    const xc__row_inputs *in;
    const unsigned char *finite;
} xc__upward_rows;

/* b_k = F (rel_k + a) + R s_k + R_a for every class of the finite rows of ROWS
 * (tolerance.c states the formula and why it is an upper bound), with
 * the rounding mode set to upward for the whole pass and the caller's
 * mode restored. */
void xc__bounds_upward_rows(const xc__upward_rows *rows);

/* The same with the AVX2 kernel (four classes at a time, the same bits)
 * when USE_VECTOR and the build has it, else the scalar loop; for the
 * tests that hold the two to each other. */
void xc__bounds_upward_rows_with(int use_vector, const xc__upward_rows *rows);
/* 1 when this machine and build run the AVX2 kernel. */
int xc__bounds_have_vector(void);

#endif
