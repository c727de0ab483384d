#!/bin/sh
# How many inputs a second xentcheck-fuzz checks on one core (issue 6 asks
# for 100k at H <= 16; README "Performance" quotes this script's figures).
#
# Builds the throughput variant of the fuzzer (libFuzzer coverage, -O2, no
# sanitizers: fuzz/build.sh with those flags) into $OUT, then fuzzes each
# TARGET from an empty corpus with a fixed seed (-max_len=64, the corpus
# dictionary), pinned to one core, and prints the rate libFuzzer reports.
# Each target runs twice: with the decoder's default class limit (H <= 64;
# -max_len bounds the input, not H, since missing logits read as zero) and
# with XENTCHECK_FUZZ_MAX_H=16, the issue's H <= 16.
#
#   bench/fuzz-rate.sh [SECONDS]        default 20 s per run
# Environment: OUT (build-fuzz-rate), TARGETS (xc.f32.shifted xc.f64.shifted),
# MAX_HS (64 16), CC / CXX (clang / clang++), CORPUS_TMP (/dev/shm: where
# the corpus directories go; below).
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECONDS_PER_TARGET=${1:-20}
: "${OUT:=$ROOT/build-fuzz-rate}"
: "${TARGETS:=xc.f32.shifted xc.f64.shifted}"
: "${MAX_HS:=64 16}"
: "${CC:=clang}"
: "${CXX:=clang++}"

case "$SECONDS_PER_TARGET" in
'' | *[!0-9]*) echo "usage: bench/fuzz-rate.sh [SECONDS]" >&2; exit 2 ;;
esac

flags="-fsanitize=fuzzer-no-link -O2 -g"
echo "building the throughput fuzzer into $OUT (fuzz/build.sh, $flags)" >&2
CC=$CC CXX=$CXX CFLAGS="$flags" CXXFLAGS="$flags" LIB_FUZZING_ENGINE=-fsanitize=fuzzer \
    OUT=$OUT sh "$ROOT/fuzz/build.sh" >"$OUT.log" 2>&1 || {
    echo "fuzz-rate: the build failed; see $OUT.log" >&2
    exit 1
}

# One core: the last one the machine has (taskset when present).
pin=""
if command -v taskset >/dev/null 2>&1; then
    pin="taskset -c $(($(nproc) - 1))"
fi

# The corpus directories on a RAM file system when there is one: libFuzzer
# writes every input that adds coverage as a file, and on this VM's ext4
# creating a file cost about 2 ms (inode allocation), 12-15% of a run,
# which measures the disk, not the fuzzer. CORPUS_TMP overrides.
: "${CORPUS_TMP:=/dev/shm}"
[ -d "$CORPUS_TMP" ] && [ -w "$CORPUS_TMP" ] || CORPUS_TMP=${TMPDIR:-/tmp}
work=$(mktemp -d "$CORPUS_TMP/xentcheck-fuzz-rate.XXXXXX")
echo "corpus directories under $CORPUS_TMP" >&2
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

printf '%-18s %6s %8s %12s %10s\n' target max_H seconds inputs exec/s
for target in $TARGETS; do
    for max_h in $MAX_HS; do
        run="$work/$target-$max_h"
        mkdir -p "$run"
        # shellcheck disable=SC2086 # $pin is a command prefix or nothing
        XENTCHECK_TARGET=$target XENTCHECK_FUZZ_MAX_H=$max_h $pin "$OUT/xentcheck-fuzz" \
            -seed=1 -max_len=64 -dict="$ROOT/corpus/fuzz.dict" \
            -max_total_time="$SECONDS_PER_TARGET" -print_final_stats=1 "$run" \
            >"$run.log" 2>&1 || {
            echo "fuzz-rate: $target stopped early (a finding?); see its log:" >&2
            tail -n 30 "$run.log" >&2
            exit 1
        }
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$run.log")
        rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$run.log")
        printf '%-18s %6s %8s %12s %10s\n' "$target" "$max_h" "$SECONDS_PER_TARGET" \
            "$runs" "$rate"
    done
done
