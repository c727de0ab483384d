/* The scratch pool: best-fit reuse of a bounded list of free blocks. */
#include "case_pool.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Free blocks kept; one case of the properties holds fewer at once. */
#define POOL_SLOTS 48

/* Each block starts with its capacity, padded to the strictest alignment. */
typedef union header {
    size_t cap;
    max_align_t align;
} header;

typedef struct slot {
    header *block;
    size_t cap;
} slot;

struct xc__pool {
    slot free[POOL_SLOTS];
    size_t count;
};

xc__pool *xc__pool_new(void)
{
    return calloc(1, sizeof(xc__pool));
}

void xc__pool_free(xc__pool *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->count; i++)
        free(p->free[i].block);
    free(p);
}

/* Index of the smallest free block holding BYTES, or COUNT. A block more
 * than twice the request (and a page) is left for a larger one: a small
 * request taking it would make the next large one allocate anew. */
static size_t best_fit(const xc__pool *p, size_t bytes)
{
    size_t best = p->count;
    for (size_t i = 0; i < p->count; i++)
        if (p->free[i].cap >= bytes && p->free[i].cap / 2 <= bytes + 4096 &&
            (best == p->count || p->free[i].cap < p->free[best].cap))
            best = i;
    return best;
}

void *xc__pool_get(xc__pool *p, size_t bytes)
{
    if (!p)
        return malloc(bytes ? bytes : 1);
    size_t i = bytes < XC__POOL_MIN_BLOCK ? p->count : best_fit(p, bytes);
    header *h;
    if (i < p->count) {
        h = p->free[i].block;
        p->free[i] = p->free[--p->count];
    } else {
        if (bytes > SIZE_MAX - sizeof(header))
            return NULL;
        h = malloc(sizeof(header) + bytes);
        if (!h)
            return NULL;
        h->cap = bytes;
    }
    return h + 1;
}

void *xc__pool_get_zeroed(xc__pool *p, size_t bytes)
{
    void *b = xc__pool_get(p, bytes);
    if (b)
        memset(b, 0, bytes);
    return b;
}

void xc__pool_put(xc__pool *p, void *block)
{
    if (!p || !block) {
        free(block);
        return;
    }
    header *h = (header *)block - 1;
    if (h->cap < XC__POOL_MIN_BLOCK) {
        free(h);
        return;
    }
    if (p->count == POOL_SLOTS) {
        /* Full: drop the smallest of the free blocks and this one. */
        size_t small = 0;
        for (size_t i = 1; i < p->count; i++)
            if (p->free[i].cap < p->free[small].cap)
                small = i;
        if (p->free[small].cap >= h->cap) {
            free(h);
            return;
        }
        free(p->free[small].block);
        p->free[small] = p->free[--p->count];
    }
    p->free[p->count++] = (slot){h, h->cap};
}

size_t xc__pool_held(const xc__pool *p)
{
    return p ? p->count : 0;
}
