# The two commands of README's quick start, plus the pieces they are made of.
#   make            install missing Debian packages, configure, build
#   make run        build, then check every built-in target (reports/)
#   make test       build and run the test suite, then again under ASan/UBSan
#   make test-asan  only the sanitizer build and suite (build-asan/)
#   make clean      remove both build directories and the fuzz-rate build
#   make install    build, then install into PREFIX (default /usr/local)
#   make bench      build, then print the figures README quotes: detection
#                   of the mutants, cost per case, gradcheck side by side,
#                   the fuzzer's inputs per second
# WERROR=1 turns warnings into errors (CI does); JOBS sets the parallelism;
# REQUIRE_LIBS=1 fails the configure when a real library's adapter cannot
# be built (CI does: no library target silently drops out).

BUILD_DIR := build
ASAN_DIR  := build-asan
JOBS      ?= 2
WERROR    ?= 0
CMAKE     ?= cmake
CTEST     ?= ctest
PREFIX    ?= /usr/local

REQUIRE_LIBS ?= 0
XC_WERROR := $(if $(filter 1 ON on yes YES true,$(WERROR)),ON,OFF)
CONFIGURE := -DCMAKE_BUILD_TYPE=RelWithDebInfo -DXC_WERROR=$(XC_WERROR)
ifneq ($(filter 1 ON on yes YES true,$(REQUIRE_LIBS)),)
CONFIGURE += $(foreach lib,SLEEF ONEDNN TORCH DLIB TINYDNN,-DXC_WITH_$(lib)=ON)
endif

.PHONY: all build deps run test test-asan clean bench

all: build

deps:
	@./scripts/install-deps.sh

build: deps
	$(CMAKE) -S . -B $(BUILD_DIR) $(CONFIGURE)
	$(CMAKE) --build $(BUILD_DIR) -j $(JOBS)

run: build
	./$(BUILD_DIR)/xentcheck run --report reports

# The plain suite first, then the instrumented one; the recipe stops at the
# first failure, so the exit status is that of the suite that failed.
test: build
	$(CTEST) --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS)
	$(MAKE) --no-print-directory test-asan

test-asan: deps
	$(CMAKE) -S . -B $(ASAN_DIR) $(CONFIGURE) -DXC_SANITIZE=ON
	$(CMAKE) --build $(ASAN_DIR) -j $(JOBS)
	$(CTEST) --test-dir $(ASAN_DIR) --output-on-failure -j $(JOBS)

# The benchmarks (bench/): python3-torch is installed for the gradcheck
# comparison only here.
bench: build
	./scripts/install-deps.sh --bench
	./$(BUILD_DIR)/bench/detect
	./$(BUILD_DIR)/bench/cost
	./bench/gradcheck.py $(BUILD_DIR)
	./bench/fuzz-rate.sh

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR) build-fuzz-rate build-fuzz-rate.log

# The CLI, the fuzzers when built, the header, the man page, the CMake
# package and xentcheck.pc (README, "Installing").
.PHONY: install
install: build
	$(CMAKE) --install $(BUILD_DIR) --prefix $(PREFIX)

# make fuzz, fuzz-smoke, fuzz-afl (docs/fuzzing.md)
include mk/fuzz.mk
