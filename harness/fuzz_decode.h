/* What the fuzz entry points share (fuzz_entry.c, fuzz_mutator.c): the
 * target under test and how bytes are decoded for it (bytes_case.h).
 *
 * The target comes from the environment, by the rule of xc__bytes_target():
 *   XENTCHECK_PLUGIN  a plugin to load (one path)
 *   XENTCHECK_TARGET  the target's name; without it the plugin's first
 *                     target, or xc.f32.shifted without a plugin
 * Mutants are allowed (they are what the fuzzer is measured on).
 */
#ifndef XC_HARNESS_FUZZ_DECODE_H
#define XC_HARNESS_FUZZ_DECODE_H

#include "bytes_case.h"

/* Set up on first use (LLVMFuzzerInitialize calls it; AFL++'s driver calls
 * LLVMFuzzerInitialize too). Exits with status 2 when the plugin or the
 * target cannot be found: a fuzz binary's main decides, as main() would. */
const xc__bytes_config *xc__fuzz_bytes_config(void);
const xc_target *xc__fuzz_target(void);

#endif
