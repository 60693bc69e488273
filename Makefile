# carerules: the two commands a newcomer runs (see README.md).
#   make demo   builds and runs the shipped rulesets over the sample data
#   make test   builds and runs every test (ctest, pytest, ruleset tests)
BUILD   ?= build
JOBS    ?= 2
PYTHON  ?= /usr/bin/python3
CMAKE_FLAGS ?=
LAUNCHER := $(shell command -v ccache >/dev/null 2>&1 && echo -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
WERROR  := $(if $(CI),-DCARERULES_WERROR=ON,)

.PHONY: all deps build demo test test-cpp test-python test-rulesets sanitize tsan fuzz bench clean

all: build

deps:
	@bash scripts/install-deps.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DPython3_EXECUTABLE=$(PYTHON) $(LAUNCHER) $(WERROR) $(CMAKE_FLAGS)

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j$(JOBS)

demo: build
	@bash scripts/demo.sh $(BUILD)

test: build
	@bash scripts/run-tests.sh $(BUILD)

# AddressSanitizer + UndefinedBehaviorSanitizer build running the C++ and ruleset tests.
sanitize: deps
	cmake -S . -B $(BUILD)-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCARERULES_SANITIZE=ON \
	  -DCARERULES_BUILD_PYTHON=OFF -DPython3_EXECUTABLE=$(PYTHON) $(LAUNCHER)
	cmake --build $(BUILD)-asan -j$(JOBS)
	@SKIP_PYTHON=1 SKIP_FUZZ=1 bash scripts/run-tests.sh $(BUILD)-asan

# ThreadSanitizer build running the tests that share one ruleset between threads (C++ API,
# batches, C ABI) and the HTTP service's tests against a TSan-built server.
tsan: deps
	cmake -S . -B $(BUILD)-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCARERULES_TSAN=ON \
	  -DCARERULES_BUILD_PYTHON=OFF -DPython3_EXECUTABLE=$(PYTHON) $(LAUNCHER)
	cmake --build $(BUILD)-tsan -j$(JOBS) --target unit_tests c_api_test carerules_cli
	TSAN_OPTIONS=halt_on_error=1 $(BUILD)-tsan/tests/unit_tests --gtest_filter='threads.*:batch.*:CliChunks.*'
	TSAN_OPTIONS=halt_on_error=1 $(BUILD)-tsan/tests/c_api_test .
	$(PYTHON) bench/peers/gen.py --n 5000 --out $(BUILD)-tsan/peers
	TSAN_OPTIONS=halt_on_error=1 $(BUILD)-tsan/bin/carerules eval -r bench/peers/workload.rules \
	  $(BUILD)-tsan/peers/records.jsonl --asof 2024-06-01 --threads 3 --format jsonl > /dev/null
	TSAN_OPTIONS=halt_on_error=1 CARERULES_BIN=$(CURDIR)/$(BUILD)-tsan/bin/carerules \
	  $(PYTHON) -m pytest -q -p no:cacheprovider tests/cli/test_serve.py

# The side-by-side benchmark (bench/peers/run.py): carerules, the hand-written limit and the
# peers installed by bench/peers/install-peers.sh (run that once, by hand; peers not installed
# are reported as skipped), on a Release build. Not part of `make test`.
bench: deps
	cmake -S . -B $(BUILD)-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DCARERULES_BUILD_BENCH=ON \
	  -DCARERULES_BUILD_PYTHON=OFF -DPython3_EXECUTABLE=$(PYTHON) $(LAUNCHER)
	cmake --build $(BUILD)-release -j$(JOBS) --target carerules_cli peers_limit peers_carerules
	$(PYTHON) bench/peers/run.py --build $(BUILD)-release

# libFuzzer targets (clang) for FUZZ_SECONDS each, seeded from the committed corpora
# (tests/fuzz/corpus), the language tests and the shipped rulesets; new inputs land in
# $(BUILD)-fuzz/corpus and findings in $(BUILD)-fuzz/findings. `make test` replays the
# committed corpora and fuzzes a few seconds (scripts/fuzz-smoke.sh).
FUZZ_SECONDS ?= 60
fuzz: deps
	cmake -S . -B $(BUILD)-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCARERULES_FUZZ=ON \
	  -DCARERULES_BUILD_TESTS=OFF -DCARERULES_BUILD_PYTHON=OFF $(LAUNCHER) \
	  -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link,address,undefined"
	cmake --build $(BUILD)-fuzz -j$(JOBS)
	mkdir -p $(BUILD)-fuzz/corpus/compile $(BUILD)-fuzz/corpus/facts $(BUILD)-fuzz/corpus/diff \
	  $(BUILD)-fuzz/corpus/c_api $(BUILD)-fuzz/corpus/serve \
	  $(BUILD)-fuzz/findings
	cp tests/lang/*.rules tests/lang/spec/*.rules rulesets/*.rules rulesets/*/*.rules $(BUILD)-fuzz/corpus/compile/
	cp examples/data/cases/*.json $(BUILD)-fuzz/corpus/facts/
	for t in compile facts diff c_api serve; do \
	  $(BUILD)-fuzz/tests/fuzz/$${t}_fuzz -max_len=4096 -max_total_time=$(FUZZ_SECONDS) \
	    -artifact_prefix=$(BUILD)-fuzz/findings/$$t- $(BUILD)-fuzz/corpus/$$t tests/fuzz/corpus/$$t \
	    || exit 1; \
	done

clean:
	rm -rf $(BUILD) $(BUILD)-asan $(BUILD)-tsan $(BUILD)-fuzz
