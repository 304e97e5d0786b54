# A thin wrapper over the CMake presets (CMakePresets.json).
SAMPLE ?= fixtures/dumps/cs_deadlock.full.dmp.gz

.PHONY: all deps build demo check check-asan fuzz sweep bench clean

all: build

deps:
	./.ci/install-deps

build: deps
	cmake --preset default >/dev/null
	cmake --build --preset default

demo: build
	./build/dumptriage analyze $(SAMPLE) --images fixtures/bin --images fixtures/wine-dlls

check: build
	ctest --preset default

check-asan: deps
	cmake --preset asan >/dev/null
	cmake --build --preset asan
	ctest --preset asan

fuzz: deps
	cmake --preset fuzz >/dev/null
	cmake --build --preset fuzz

sweep: build
	cd build && DT_SWEEP_CUTS=64 DT_SWEEP_MUTATIONS=1000 ctest -R damage_sweep --output-on-failure

# The benchmark (docs/performance.md); e.g. BENCH_ARGS="--quick --check tests/bench/baseline.txt"
bench: build
	./build/tests/dt-bench $(BENCH_ARGS)

clean:
	rm -rf build build-asan build-fuzz
