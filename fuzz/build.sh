#!/bin/sh
# Build xentcheck's fuzz targets the OSS-Fuzz / ClusterFuzzLite way.
#
# Honours the variables those builders set, with local defaults for a
# plain libFuzzer + ASan + UBSan build:
#   CC, CXX              compilers (clang, clang++)
#   CFLAGS, CXXFLAGS     compile flags; the builders put the sanitizers and
#                        -fsanitize=fuzzer-no-link here
#   LIB_FUZZING_ENGINE   the engine, linked with $CXX (libFuzzer:
#                        -fsanitize=fuzzer; AFL++: libAFLDriver.a)
#   OUT                  where the binaries and their files go (build-fuzz)
#   WORK                 scratch for objects ($OUT/obj)
# Writes, for each of xentcheck-fuzz and xentcheck-fuzz-parsers:
#   $OUT/<target>, <target>_seed_corpus.zip, <target>.dict, <target>.options
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
: "${CC:=clang}"
: "${CXX:=clang++}"
: "${CFLAGS:=-O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link $SAN}"
: "${CXXFLAGS:=$CFLAGS}"
: "${LIB_FUZZING_ENGINE:=-fsanitize=fuzzer $SAN}"
: "${OUT:=$ROOT/build-fuzz}"
: "${WORK:=$OUT/obj}"
mkdir -p "$OUT" "$WORK"

INC="-I$ROOT/include -I$ROOT/harness -I$ROOT/targets -I$ROOT/targets/lib"
LIBS="-lmpfr -lgmp -lcjson -ldl -lm"
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
export CC CFLAGS INC WORK ROOT

obj_of() {
    echo "$WORK/$(echo "${1#"$ROOT"/}" | tr / _).o"
}

# Compile the sources given, JOBS at a time; objects named by obj_of.
compile() {
    # shellcheck disable=SC2016,SC2086 # expanded by the inner shell; lists
    printf '%s\n' "$@" | xargs -P "$JOBS" -n 1 sh -c '
        o="$WORK/$(echo "${1#"$ROOT"/}" | tr / _).o"
        exec $CC -std=gnu11 $CFLAGS $INC -DXC_VERSION_STRING="\"fuzz\"" -c "$1" -o "$o"' sh
}

# The core as CMakeLists.txt builds it: harness/*.c but main.c and the
# fuzz_*.c entry points, the targets and mutants, and the table of
# real-library targets, empty here (no XC_HAVE_<LIB>: the fuzzers attack
# the built-in targets, the mutants and plugins).
srcs=""
for src in "$ROOT"/harness/*.c "$ROOT"/targets/*.c "$ROOT"/targets/mutants/*.c \
           "$ROOT"/targets/lib/registry_libs.c "$ROOT"/targets/lib/findings.c; do
    case "$(basename "$src")" in main.c | fuzz_*.c) continue ;; esac
    srcs="$srcs $src"
done
# Coverage feedback from the code under test only, as cmake/fuzz.cmake does
# (fuzz/coverage-ignore.txt says why), for libFuzzer-style instrumentation;
# AFL++'s compilers take their own lists.
FULL_CFLAGS=$CFLAGS
CORE_CFLAGS=$CFLAGS
case "$CFLAGS" in
*fuzzer-no-link* | *sanitize-coverage*)
    CORE_CFLAGS="$CFLAGS -fsanitize-coverage-ignorelist=$ROOT/fuzz/coverage-ignore.txt" ;;
esac
# The files CMakeLists.txt gives flags of their own are compiled below.
plain=""
for src in $srcs; do
    case "$(basename "$src")" in reference_dd.c | reference_grad.c | compare_kernel.c | fd_kernel.c | bounds_upward.c) ;;
    *) plain="$plain $src" ;; esac
done
# shellcheck disable=SC2086
CFLAGS=$CORE_CFLAGS compile $plain
# The files CMakeLists.txt gives flags of their own: the double-double
# reference evaluated as written, the bounds' upward rounding honoured.
for dd in reference_dd.c reference_grad.c compare_kernel.c fd_kernel.c; do
    # shellcheck disable=SC2086
    $CC -std=gnu11 $CORE_CFLAGS -ffp-contract=off -DXC_DD_NO_CONTRACT $INC \
        -DXC_VERSION_STRING="\"fuzz\"" \
        -c "$ROOT/harness/$dd" -o "$(obj_of "$ROOT/harness/$dd")"
done
# shellcheck disable=SC2086
$CC -std=gnu11 $CORE_CFLAGS -frounding-math $INC -DXC_VERSION_STRING="\"fuzz\"" \
    -c "$ROOT/harness/bounds_upward.c" -o "$(obj_of "$ROOT/harness/bounds_upward.c")"
objs=""
for src in $srcs; do objs="$objs $(obj_of "$src")"; done
rm -f "$WORK/libxentcheck_fuzz.a"
# shellcheck disable=SC2086
ar rcs "$WORK/libxentcheck_fuzz.a" $objs

# NAME from the entry-point sources (compiled with the core's flags: the
# harness's own code gives no coverage feedback) and PARSERS, the harness
# sources that are the code under test of this binary: compiled again with
# coverage, into objects of their own whose definitions take precedence
# over the archive's uninstrumented copies.
link() {
    name=$1
    entries=$2
    parsers=$3
    objs=""
    for src in $entries; do
        CFLAGS=$CORE_CFLAGS compile "$ROOT/harness/$src"
        objs="$objs $(obj_of "$ROOT/harness/$src")"
    done
    for src in $parsers; do
        o="$WORK/covered_$src.o"
        # shellcheck disable=SC2086
        $CC -std=gnu11 $FULL_CFLAGS $INC -DXC_VERSION_STRING="\"fuzz\"" -c "$ROOT/harness/$src" -o "$o"
        objs="$objs $o"
    done
    # shellcheck disable=SC2086
    $CXX $CXXFLAGS $objs "$WORK/libxentcheck_fuzz.a" $LIB_FUZZING_ENGINE $LIBS -o "$OUT/$name"
}

link xentcheck-fuzz "fuzz_entry.c fuzz_mutator.c" ""
link xentcheck-fuzz-parsers "" "fuzz_parsers.c casefile.c report_read.c bytes_case.c"

# Seed corpora (zip -j: flat, as the builders expect), dictionaries, options.
rm -f "$OUT/xentcheck-fuzz_seed_corpus.zip" "$OUT/xentcheck-fuzz-parsers_seed_corpus.zip"
zip -q -j "$OUT/xentcheck-fuzz_seed_corpus.zip" "$ROOT"/corpus/seeds/*.bin
zip -q -j "$OUT/xentcheck-fuzz-parsers_seed_corpus.zip" "$ROOT"/corpus/seeds/*.case \
    "$ROOT"/corpus/regressions/*.case
cp "$ROOT/corpus/fuzz.dict" "$OUT/xentcheck-fuzz.dict"
cp "$ROOT/fuzz/parsers.dict" "$OUT/xentcheck-fuzz-parsers.dict"
printf '[libfuzzer]\nmax_len = 4096\ntimeout = 25\n' >"$OUT/xentcheck-fuzz.options"
printf '[libfuzzer]\nmax_len = 65536\ntimeout = 25\n' >"$OUT/xentcheck-fuzz-parsers.options"
