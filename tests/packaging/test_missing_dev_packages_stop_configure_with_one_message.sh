#!/usr/bin/env bash
# Configuring on a machine without the -dev packages (simulated: every CMake
# search is re-rooted into an empty directory and pkg-config looks only
# there) fails with one message that names every Debian package and vcpkg
# port to install and the make targets that install them.
#   tests/packaging/test_missing_dev_packages_... WORK_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$1
rm -rf "$work"
mkdir -p "$work/empty"
work=$(realpath "$work")

set +e
PKG_CONFIG_LIBDIR="$work/empty" PKG_CONFIG_PATH="" \
  cmake -S "$here/../.." -B "$work/build" -G Ninja -DBUILD_TESTING=ON \
    -DCMAKE_FIND_ROOT_PATH="$work/empty" -DCMAKE_FIND_ROOT_PATH_MODE_PACKAGE=ONLY \
    -DCMAKE_FIND_ROOT_PATH_MODE_LIBRARY=ONLY -DCMAKE_FIND_ROOT_PATH_MODE_INCLUDE=ONLY \
    >"$work/out.txt" 2>&1
rc=$?
set -e

fail() { cat "$work/out.txt"; echo "FAILED: $*" >&2; exit 1; }
[ "$rc" -ne 0 ] || fail "configure succeeded without any dependency"
[ "$(grep -c 'CMake Error' "$work/out.txt")" -eq 1 ] || fail "expected exactly one CMake error"
for debian in libblosc-dev libzstd-dev nlohmann-json3-dev libcurl4-openssl-dev libssl-dev \
              libpugixml-dev libinih-dev libgtest-dev; do
  grep -q "sudo apt-get install.* $debian" "$work/out.txt" || fail "no $debian in the apt-get line"
done
for port in blosc zstd nlohmann-json 'curl\[openssl\]' openssl pugixml inih gtest; do
  grep -q "vcpkg install.* $port" "$work/out.txt" || fail "no $port in the vcpkg line"
done
grep -q 'make wheel' "$work/out.txt" && grep -q 'make demo' "$work/out.txt" \
  || fail "the message does not point to make wheel / make demo"
echo "missing -dev packages: configure stopped with one message naming them all"
