#!/bin/bash -eu
# ClusterFuzzLite / OSS-Fuzz build step: the builder has set CC, CXX,
# CFLAGS, CXXFLAGS, LIB_FUZZING_ENGINE and OUT; fuzz/build.sh honours them.
"$SRC/xentcheck/fuzz/build.sh"
