# A thin wrapper over the CMake presets (CMakePresets.json).
SAMPLE ?= fixtures/dumps/cs_deadlock.mini.dmp.gz

.PHONY: all deps build demo check check-asan fuzz clean

all: build

deps:
	./.ci/install-deps

build: deps
	cmake --preset default >/dev/null
	cmake --build --preset default

demo: build
	./build/dumptriage info $(SAMPLE)

check: build
	ctest --preset default

check-asan: deps
	cmake --preset asan >/dev/null
	cmake --build --preset asan
	ctest --preset asan

fuzz: deps
	cmake --preset fuzz >/dev/null
	cmake --build --preset fuzz

clean:
	rm -rf build build-asan build-fuzz
