/* Bytes -> case: how fuzzer inputs become problems (and back).
 *
 * Any byte string decodes to a valid case for the target described by an
 * xc__bytes_config (dtype, caps, max_classes): sizes are small, every label
 * is in range, probability rows are normalised unless the target accepts
 * unnormalised ones, weights are non-negative. Missing bytes read as 0;
 * extra bytes are ignored. Values are decoded by bit pattern or from a
 * table of special values, never uniformly by value (uniform values are
 * almost all huge), so every exponent is as likely as any other.
 *
 * Layout (offsets in bytes):
 *   0  N: batch = 1 + b % max_batch (1 without XC_CAP_BATCH)
 *   1  H: classes = 1 + b % max_h (max_h also capped by max_classes)
 *   2  flags, each honoured only when the caps allow it:
 *        bit 0 probability rows instead of index labels
 *        bit 1 reduction mean
 *        bit 2 class weights
 *        bit 3 ignore_index (index labels)
 *        bit 4 padding: ld = H + 1 + (byte 3 & 7)
 *        bit 5 unnormalised probability rows
 *   3  bits 0-2 padding; bits 3-7 K: ignore_index = -K, or -100 when K = 0
 *   then the labels:
 *     index labels: N bytes, label = (b & 0x7f) % H; with ignore_index a
 *       set bit 7 makes the row ignored
 *     probability rows: per row, with unnormalised rows one byte for the
 *       row sum S = b / 64, then H bytes of relative mass; the row is
 *       scaled to sum S (1 when normalised); an all-zero row of a
 *       normalised target becomes one-hot at class 0
 *   then, with weights, H bytes: w_k = b / 32
 *   then N * H logits, row by row, each a tag byte and its payload:
 *     0x00-0x3f  special value (tag & 31) of the table in bytes_case.c:
 *                +-0, +-1, +-inf, NaN, the exp overflow threshold and its
 *                neighbours, the exp underflow threshold, smallest normal,
 *                smallest subnormal, largest finite, epsilon, ...
 *     0x40-0x7f  the small integer tag - 0x60 (-32 ... 31)
 *     0x80-0xbf  the previous logit moved by tag - 0xa0 ulps (0xa0: a tie;
 *                the first logit steps from 0)
 *     0xc0-0xdf  the raw bit pattern: 4 (f32) or 8 (f64) bytes, little endian
 *     0xe0-0xff  compact: byte E (bit 7 sign, bits 0-6 exponent - 64) and
 *                byte M (top significand bits): +-(1 + M/256) 2^(E - 64)
 * The logits then keep to the domain `run` draws base cases from (gen.h):
 * NaN and +inf become the largest finite value of their sign, -inf on a
 * class with target mass (the label, a positive probability) becomes the
 * most negative finite value, and a row of -inf only gets z_0 = 0.
 * Non-finite rows are made by the nonfinite_isolation property itself.
 * When weights and mean reduction meet index labels, a non-ignored row
 * whose label has weight 0 gets weight 1 (the denominator stays non-zero
 * unless every row is ignored), as the generator does.
 * The case's seed is a 64-bit FNV-1a hash of the bytes and its index 0, so
 * the properties' random choices are a function of the bytes too.
 */
#ifndef XC_HARNESS_BYTES_CASE_H
#define XC_HARNESS_BYTES_CASE_H

#include <stddef.h>
#include <stdint.h>

#include "case.h"
#include "registry.h"
#include "xentcheck/target.h"

typedef struct xc__bytes_config {
    xc_dtype dtype;
    uint32_t caps;          /* the target's caps */
    size_t max_classes;     /* the target's limit; 0 = none */
    size_t max_batch;       /* 0 = XC__BYTES_MAX_BATCH */
    size_t max_h;           /* 0 = XC__BYTES_MAX_H */
} xc__bytes_config;

#define XC__BYTES_MAX_BATCH 8
#define XC__BYTES_MAX_H 64

/* The configuration for TARGET with the default limits. */
xc__bytes_config xc__bytes_config_for(const xc_target *target);

/* The limits the fuzzer and `replay` share from the environment:
 * XENTCHECK_FUZZ_MAX_H, when set, is max_h (1 to XC__BYTES_MAX_H_LIMIT;
 * index labels come from 7 bits, so larger H would leave classes no label
 * can reach). Returns 0, or -1 with a message in ERR when it is set to
 * anything else. */
#define XC__BYTES_MAX_H_LIMIT 128
int xc__bytes_config_env(xc__bytes_config *cfg, char *err, size_t errlen);

/* Decode DATA (SIZE bytes, DATA may be NULL when SIZE is 0). Returns a new
 * case the caller frees, NULL only when out of memory. */
xc__case *xc__bytes_to_case(const uint8_t *data, size_t size,
                            const xc__bytes_config *cfg);

/* Encode C so that decoding gives C back: logits, labels, sizes and flags
 * exactly; probabilities and weights quantised to the byte scales above;
 * an ignore_index outside -1..-31 becomes -100. Writes at most CAP bytes
 * to OUT and returns the length needed (larger than CAP: nothing usable
 * was written), or 0 when C exceeds CFG's limits. */
size_t xc__case_to_bytes(const xc__case *c, const xc__bytes_config *cfg,
                         uint8_t *out, size_t cap);

/* The target raw bytes are decoded for, by the one rule the fuzzer and
 * `replay` share: NAME when non-empty; else the first target of the plugin
 * PLUGIN (when non-NULL and non-empty); else XC__BYTES_DEFAULT_TARGET.
 * NULL when that target is not in REG. */
#define XC__BYTES_DEFAULT_TARGET "xc.f32.shifted"
const xc__entry *xc__bytes_target(const xc__registry *reg, const char *name,
                                  const char *plugin);

/* The special value SLOT (0-31) of the table for DTYPE. */
double xc__bytes_special(xc_dtype dtype, unsigned slot);

#endif
