/* A pool of reusable scratch blocks.
 *
 * A check allocates the same large arrays (references, bounds, gradients,
 * variant cases) on every case; fresh megabytes cost page faults and brk/
 * munmap churn that exceed the arithmetic. A pool keeps the blocks a case
 * gave back for the next one. The executor owns one (xc__exec_pool) for the
 * properties' arrays; every function taking a pool accepts NULL, meaning
 * plain malloc/free.
 *
 * Ownership: a block from xc__pool_get(P, ...) goes back with
 * xc__pool_put(P, ...) of the same P (or NULL for NULL); xc__pool_free
 * releases every block the pool holds, and must come after every block was
 * put back.
 */
#ifndef XC_HARNESS_CASE_POOL_H
#define XC_HARNESS_CASE_POOL_H

#include <stddef.h>

typedef struct xc__pool xc__pool;

/* The smallest large block. Requests up to half of it are served apart,
 * by size class (powers of two from 64 B, a few free blocks each): a
 * search of the large blocks' slots cost more than the allocator for them,
 * and they would crowd the large blocks out. Larger requests get a large
 * block of at least this size. */
#define XC__POOL_MIN_BLOCK 16384

/* Returns NULL on out of memory. */
xc__pool *xc__pool_new(void);
void xc__pool_free(xc__pool *p);

/* A block of at least BYTES, uninitialised, aligned for any object type;
 * NULL on out of memory. */
void *xc__pool_get(xc__pool *p, size_t bytes);
/* The same, zero-filled. */
void *xc__pool_get_zeroed(xc__pool *p, size_t bytes);
/* Give BLOCK back (NULL: nothing). */
void xc__pool_put(xc__pool *p, void *block);
/* The number of free blocks P keeps (0 for NULL). */
size_t xc__pool_held(const xc__pool *p);

#endif
