#!/usr/bin/env bash
# The `make dist-c` tarball, unpacked somewhere new, is all a C user needs:
# every library libacquire_zarr loads resolves inside the tarball or to the
# manylinux allow-list (ldd), and tests/packaging/consumer builds against it
# with find_package(acquire-zarr) and with pkg-config, runs, and checks what
# it wrote.
#   PYTHON=.venv/bin/python tests/packaging/test_c_tarball_... TARBALL WORK_DIR
set -euo pipefail
tarball=$(realpath "$1")
work=$2
here=$(cd "$(dirname "$0")" && pwd)
py=${PYTHON:-python3}

rm -rf "$work"
mkdir -p "$work/unpacked" "$work/run-cmake" "$work/run-pkgconfig"
work=$(realpath "$work")
tar -xzf "$tarball" -C "$work/unpacked"
prefix=$(echo "$work"/unpacked/acquire-zarr-*)

echo "== ldd: libacquire_zarr and what it bundles"
"$py" "$here/../../packaging/elfdeps.py" check "$prefix" "$prefix"/lib/*.so.*

# The same check refuses the system's libcurl, which loads some 30 libraries
# from /usr/lib (so a pass above is not the check passing everything).
system_curl=$(cc -print-file-name=libcurl.so)
if "$py" "$here/../../packaging/elfdeps.py" check "$prefix" "$system_curl" >/dev/null 2>&1; then
  echo "FAILED: the ldd check accepted $system_curl" >&2
  exit 1
fi

echo "== find_package(acquire-zarr) from the tarball"
# Only the tarball's prefix: no system package directory is searched.
cmake -S "$here/consumer" -B "$work/cmake-build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF \
    -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF >/dev/null
cmake --build "$work/cmake-build" >/dev/null
"$py" "$here/../../packaging/elfdeps.py" check "$prefix" "$work/cmake-build/consumer"
(cd "$work/run-cmake" && "$work/cmake-build/consumer")

echo "== pkg-config acquire-zarr from the tarball"
flags=$(PKG_CONFIG_LIBDIR="$prefix/lib/pkgconfig" pkg-config --cflags --libs acquire-zarr)
libdir=$(PKG_CONFIG_LIBDIR="$prefix/lib/pkgconfig" pkg-config --variable=libdir acquire-zarr)
# shellcheck disable=SC2086 # the flags are words
cc -std=c99 "$here/consumer/consumer.c" $flags -Wl,-rpath,"$libdir" -o "$work/consumer-pc"
"$py" "$here/../../packaging/elfdeps.py" check "$prefix" "$work/consumer-pc"
(cd "$work/run-pkgconfig" && "$work/consumer-pc")
echo "c tarball: the find_package and pkg-config consumers ran from the tarball alone"
