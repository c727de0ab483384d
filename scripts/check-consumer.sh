#!/bin/sh
# check-consumer.sh [BUILD_DIR]
# Uses xentcheck the way another project does: installs BUILD_DIR (default
# build) into a fresh temporary prefix, checks what landed there, then
#  - configures examples/plugin against the prefix (find_package through
#    CMAKE_PREFIX_PATH), builds it and runs its ctest;
#  - follows README's "Write a plugin in five minutes" literally: its C and
#    CMake blocks into an empty directory, then its three commands;
#  - builds the same plugin with pkg-config alone and runs the installed
#    xentcheck on it;
#  - checks that find_package(xentcheck 2) is refused (SameMajorVersion).
# Exits non-zero at the first failure. Leaves nothing behind.
set -eu
cd "$(dirname "$0")/.."
build=${1:-build}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix

step() { printf '\n== consumer: %s\n' "$*"; }

step "install $build into a fresh prefix"
cmake --install "$build" --prefix "$prefix"
for f in bin/xentcheck include/xentcheck/target.h share/man/man1/xentcheck.1; do
    [ -f "$prefix/$f" ] || { echo "consumer: $f was not installed" >&2; exit 1; }
done
config=$(find "$prefix" -name xentcheckConfig.cmake)
pc=$(find "$prefix" -name xentcheck.pc)
[ -n "$config" ] || { echo "consumer: no xentcheckConfig.cmake installed" >&2; exit 1; }
[ -n "$pc" ] || { echo "consumer: no xentcheck.pc installed" >&2; exit 1; }
"$prefix/bin/xentcheck" --version

step "examples/plugin with find_package(xentcheck 1) and ctest"
cmake -S examples/plugin -B "$tmp/example" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_C_FLAGS="-Wall -Wextra -Werror"
cmake --build "$tmp/example"
ctest --test-dir "$tmp/example" --output-on-failure
[ -f "$tmp/example/xentcheck/my_xent/junit.xml" ] ||
    { echo "consumer: no report in the example's build tree" >&2; exit 1; }

step "README's plugin section, followed literally"
# The first block of LANG (c, cmake) in that section of README.md.
readme_block() {
    awk -v lang="$1" '
        /^## / { in_sec = ($0 == "## Write a plugin in five minutes") }
        in_sec && !done && $0 == "```" lang { on = 1; next }
        on && /^```/ { on = 0; done = 1 }
        on' README.md
}
mkdir "$tmp/readme"
readme_block c > "$tmp/readme/my_xent.c"
readme_block cmake > "$tmp/readme/CMakeLists.txt"
if [ ! -s "$tmp/readme/my_xent.c" ] || [ ! -s "$tmp/readme/CMakeLists.txt" ]; then
    echo "consumer: README's plugin section has no C or CMake block" >&2
    exit 1
fi
cmp -s "$tmp/readme/my_xent.c" examples/plugin/my_xent.c ||
    { echo "consumer: README's my_xent.c differs from examples/plugin/my_xent.c" >&2; exit 1; }
(cd "$tmp/readme" &&
    cmake -S . -B build -DCMAKE_PREFIX_PATH="$prefix" &&
    cmake --build build &&
    ctest --test-dir build --output-on-failure)

step "the same plugin with pkg-config only"
PKG_CONFIG_PATH=$(dirname "$pc")
export PKG_CONFIG_PATH
cflags=$(pkg-config --cflags xentcheck)
bin=$(pkg-config --variable=xentcheck xentcheck)
echo "cflags: $cflags; xentcheck: $bin"
# shellcheck disable=SC2086 # cflags are words
cc -std=c11 -Wall -Wextra -Werror -O2 -fPIC -shared $cflags \
    examples/plugin/my_xent.c -o "$tmp/my_xent.so" -lm
(cd "$tmp" && "$bin" run --plugin ./my_xent.so --report pc-report --quiet)

step "find_package(xentcheck 2) is refused"
mkdir "$tmp/v2"
printf '%s\n' 'cmake_minimum_required(VERSION 3.20)' 'project(v2 NONE)' \
    'find_package(xentcheck 2 REQUIRED)' > "$tmp/v2/CMakeLists.txt"
if cmake -S "$tmp/v2" -B "$tmp/v2/build" -DCMAKE_PREFIX_PATH="$prefix" \
       > "$tmp/v2.log" 2>&1; then
    echo "consumer: find_package(xentcheck 2) accepted version 1" >&2
    exit 1
fi
# Refused for the version, not for want of finding the package.
grep -q 'compatible with requested version' "$tmp/v2.log" ||
    { cat "$tmp/v2.log"; exit 1; }
echo "refused, as expected"

echo
echo "consumer: passed"
