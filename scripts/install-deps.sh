#!/bin/sh
# Install the Debian packages xentcheck needs to build and test, only when
# some are missing. Needs root for the install; as another user it names
# what is missing and fails.
set -eu

# compilers and build: gcc (default), clang (the libFuzzer binary), cmake,
# make, pkg-config; libraries: Check (+ subunit, which its pkg-config names),
# MPFR and GMP (the exact reference), cJSON (reports and JSON input);
# xmllint validates the JUnit report in the tests.
PACKAGES="cmake gcc clang make pkg-config check libsubunit-dev libmpfr-dev
libgmp-dev libcjson-dev libxml2-utils"
# groff formats the man page in its test (tests/man/check-man.sh); zip
# and unzip pack and unpack fuzz/build.sh's seed corpora (make fuzz-oss).
PACKAGES="$PACKAGES groff-base zip unzip"
# Real libraries checked as built-in targets (targets/lib/). oneDNN's
# CMake package looks for OpenCL (its GPU runtime), which libdnnl-dev only
# recommends; libtorch, dlib and tiny-dnn are C++ (g++), and tiny-dnn's
# headers include cereal's without the package depending on it.
PACKAGES="$PACKAGES libsleef-dev libdnnl-dev ocl-icd-opencl-dev"
PACKAGES="$PACKAGES g++ libtorch-dev libdlib-dev tiny-dnn libcereal-dev"
# index.html: its charting libraries come from the npm registry at build
# time (npm ci), and its test renders it in headless Chromium.
PACKAGES="$PACKAGES chromium"
# make bench: PyTorch's gradcheck, timed beside xentcheck (bench/gradcheck.py).
if [ "${1:-}" = "--bench" ]; then
    PACKAGES="$PACKAGES python3-torch"
fi
if ! command -v npm >/dev/null 2>&1; then
    PACKAGES="$PACKAGES nodejs npm"
fi

missing=""
for pkg in $PACKAGES; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
    if [ "$status" != "installed" ]; then
        missing="$missing $pkg"
    fi
done

if [ -z "$missing" ]; then
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "xentcheck: missing Debian packages:$missing" >&2
    echo "xentcheck: install them as root: apt-get install$missing" >&2
    exit 1
fi

echo "xentcheck: installing missing Debian packages:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update
# shellcheck disable=SC2086 # one word per package
apt-get install -y --no-install-recommends $missing
