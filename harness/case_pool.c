/* The scratch pool: best-fit reuse of a bounded list of large free blocks,
 * and a short stack of free blocks per power-of-two size class for the
 * small ones. */
#include "case_pool.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Free blocks kept; one case of the properties holds fewer at once. */
#define POOL_SLOTS 48

/* Small requests (up to half XC__POOL_MIN_BLOCK) get blocks of a size
 * class, 64 B, 128 B, ... 8 KiB, each class keeping at most SMALL_KEEP
 * free blocks: a get or put is a push or pop, cheaper than the allocator's
 * bins (a fuzzer input's arrays are all this small), and the large
 * blocks' slots are left to the large. A larger request gets a large
 * block of at least XC__POOL_MIN_BLOCK, so that a block's capacity tells
 * which kind it is. */
#define SMALL_MIN 64
#define SMALL_CLASSES 8
#define SMALL_MAX ((size_t)SMALL_MIN << (SMALL_CLASSES - 1))
#define SMALL_KEEP 16
_Static_assert(SMALL_MAX < XC__POOL_MIN_BLOCK, "a small block's capacity tells it apart");

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
    header *small[SMALL_CLASSES][SMALL_KEEP];
    size_t small_count[SMALL_CLASSES];
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
    for (size_t c = 0; c < SMALL_CLASSES; c++)
        for (size_t i = 0; i < p->small_count[c]; i++)
            free(p->small[c][i]);
    free(p);
}

/* The size class of a small block of BYTES (<= SMALL_MAX). */
static size_t small_class(size_t bytes)
{
    size_t c = 0;
    while (((size_t)SMALL_MIN << c) < bytes)
        c++;
    return c;
}

static void *small_get(xc__pool *p, size_t bytes)
{
    size_t c = small_class(bytes);
    if (p->small_count[c])
        return p->small[c][--p->small_count[c]] + 1;
    header *h = malloc(sizeof(header) + ((size_t)SMALL_MIN << c));
    if (!h)
        return NULL;
    h->cap = (size_t)SMALL_MIN << c;
    return h + 1;
}

static void small_put(xc__pool *p, header *h)
{
    size_t c = small_class(h->cap);
    if (p->small_count[c] < SMALL_KEEP)
        p->small[c][p->small_count[c]++] = h;
    else
        free(h);
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
    if (bytes <= SMALL_MAX)
        return small_get(p, bytes);
    if (bytes < XC__POOL_MIN_BLOCK)
        bytes = XC__POOL_MIN_BLOCK;
    size_t i = best_fit(p, bytes);
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
        small_put(p, h);
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
    size_t held = p ? p->count : 0;
    for (size_t c = 0; p && c < SMALL_CLASSES; c++)
        held += p->small_count[c];
    return held;
}
