# Fuzzing (docs/fuzzing.md). Included from the Makefile.
#   make fuzz        build xentcheck-fuzz with clang into build-fuzz/ and fuzz
#                    FUZZ_TARGET (built-in, or from FUZZ_PLUGIN) for FUZZ_TIME s
#   make fuzz-smoke  CI: a fixed short run on the default target and the parsers
#   make fuzz-afl    build the AFL++ variants (plain, LAF float splitting,
#                    CMPLOG) into build-afl/ with fuzz/build.sh
#   make fuzz-oss    CI: build as OSS-Fuzz / ClusterFuzzLite do (fuzz/build.sh,
#                    defaults: libFuzzer + ASan/UBSan) into build-oss/ and run
#                    each binary briefly
# Artifacts land in build-fuzz/artifacts/; replay one with
#   ./build-fuzz/xentcheck replay [--plugin P] --target NAME ARTIFACT

FUZZ_DIR    := build-fuzz
FUZZ_TIME   ?= 60
FUZZ_TARGET ?= xc.f32.shifted
FUZZ_PLUGIN ?=
FUZZ_FLAGS  ?=
FUZZ_CC     ?= clang
FUZZ_CXX    ?= clang++

FUZZ_ENV  := XENTCHECK_TARGET=$(FUZZ_TARGET) $(if $(FUZZ_PLUGIN),XENTCHECK_PLUGIN=$(abspath $(FUZZ_PLUGIN)))
FUZZ_ARGS := -dict=corpus/fuzz.dict -artifact_prefix=$(FUZZ_DIR)/artifacts/ -print_final_stats=1

.PHONY: fuzz fuzz-build fuzz-smoke fuzz-afl fuzz-oss

fuzz-build: deps
	$(CMAKE) -S . -B $(FUZZ_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=$(FUZZ_CC) -DCMAKE_CXX_COMPILER=$(FUZZ_CXX) \
	  -DXC_FUZZ=ON -DBUILD_TESTING=OFF -DXC_HTML_PLOTS=OFF -DCMAKE_PROJECT_INCLUDE=$(CURDIR)/cmake/fuzz.cmake
	$(CMAKE) --build $(FUZZ_DIR) -j $(JOBS) --target xentcheck xentcheck-fuzz xentcheck-fuzz-parsers
	mkdir -p $(FUZZ_DIR)/corpus $(FUZZ_DIR)/corpus-parsers $(FUZZ_DIR)/artifacts

fuzz: fuzz-build
	$(FUZZ_ENV) ./$(FUZZ_DIR)/xentcheck-fuzz $(FUZZ_ARGS) -max_total_time=$(FUZZ_TIME) \
	  $(FUZZ_FLAGS) $(FUZZ_DIR)/corpus corpus/seeds

# Fixed seed and run counts (about 10 s each here): the same inputs on every
# CI run, so the smoke test never fails by chance.
fuzz-smoke: fuzz-build
	$(FUZZ_ENV) ./$(FUZZ_DIR)/xentcheck-fuzz $(FUZZ_ARGS) -seed=1 -runs=20000 \
	  $(FUZZ_DIR)/corpus corpus/seeds
	./$(FUZZ_DIR)/xentcheck-fuzz-parsers -dict=fuzz/parsers.dict -seed=1 -runs=100000 \
	  -artifact_prefix=$(FUZZ_DIR)/artifacts/ $(FUZZ_DIR)/corpus-parsers corpus/seeds corpus/regressions

fuzz-afl:
	CC=afl-clang-fast CXX=afl-clang-fast++ CFLAGS="-O2 -g" CXXFLAGS="-O2 -g" \
	  LIB_FUZZING_ENGINE=/usr/lib/afl/libAFLDriver.a OUT=$(CURDIR)/build-afl/plain fuzz/build.sh
	AFL_LLVM_LAF_ALL=1 CC=afl-clang-fast CXX=afl-clang-fast++ CFLAGS="-O2 -g" CXXFLAGS="-O2 -g" \
	  LIB_FUZZING_ENGINE=/usr/lib/afl/libAFLDriver.a OUT=$(CURDIR)/build-afl/laf fuzz/build.sh
	AFL_LLVM_CMPLOG=1 CC=afl-clang-fast CXX=afl-clang-fast++ CFLAGS="-O2 -g" CXXFLAGS="-O2 -g" \
	  LIB_FUZZING_ENGINE=/usr/lib/afl/libAFLDriver.a OUT=$(CURDIR)/build-afl/cmplog fuzz/build.sh

# The builders' way in (fuzz/build.sh, no CMake) broke once without
# anyone noticing: CI builds it and runs each binary on its seed corpus.
OSS_DIR := build-oss
fuzz-oss: deps
	OUT=$(CURDIR)/$(OSS_DIR) sh fuzz/build.sh
	rm -rf $(OSS_DIR)/seeds $(OSS_DIR)/seeds-parsers
	mkdir -p $(OSS_DIR)/seeds $(OSS_DIR)/seeds-parsers
	cd $(OSS_DIR)/seeds && unzip -q ../xentcheck-fuzz_seed_corpus.zip
	cd $(OSS_DIR)/seeds-parsers && unzip -q ../xentcheck-fuzz-parsers_seed_corpus.zip
	XENTCHECK_TARGET=$(FUZZ_TARGET) ./$(OSS_DIR)/xentcheck-fuzz -dict=$(OSS_DIR)/xentcheck-fuzz.dict \
	  -seed=1 -runs=5000 $(OSS_DIR)/seeds
	./$(OSS_DIR)/xentcheck-fuzz-parsers -dict=$(OSS_DIR)/xentcheck-fuzz-parsers.dict \
	  -seed=1 -runs=5000 $(OSS_DIR)/seeds-parsers
