#!/usr/bin/env bash
# The wheel in dist/ is all a Python user needs: installed into a fresh venv
# with only third-party packages beside it (its [test] extra), it is the
# acquire_zarr that Python imports (not python/ of this tree), auditwheel
# finds it consistent with its manylinux tag, every library its extension
# loads resolves inside the wheel or to the manylinux allow-list (ldd), and
# the Python test suite passes against it (the README's quick start, the S3
# tests against SeaweedFS, and the rest).
#   PYTHON=python3 CHECK_PYTHON=.venv/bin/python tests/packaging/test_wheel_... VENV_DIR [PYTEST ARGS]
# CHECK_PYTHON has auditwheel (its allow-list and `auditwheel show`).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
venv=$1
shift
check_py=${CHECK_PYTHON:-$repo/.venv/bin/python} # (a venv: not resolved to its base)
wheels=("$repo"/dist/acquire_zarr-*.whl)
[ ${#wheels[@]} -eq 1 ] || { echo "expected one wheel in dist/, found: ${wheels[*]}" >&2; exit 1; }
wheel=${wheels[0]}

rm -rf "$venv"
"${PYTHON:-python3}" -m venv "$venv"
venv=$(realpath "$venv")
"$venv/bin/python" -m pip install -q --disable-pip-version-check "$wheel[test]"

echo "== auditwheel show $(basename "$wheel")"
tag=$(basename "$wheel" .whl | awk -F- '{print $NF}')
"$check_py" -m auditwheel show "$wheel" | tee "$venv/auditwheel-show.txt"
tr -s ' \n' ' ' <"$venv/auditwheel-show.txt" | grep -q "consistent with the following platform tag: \"$tag\"" \
  || { echo "auditwheel does not find the wheel consistent with $tag" >&2; exit 1; }

# Run from inside the venv: neither the working directory nor pytest's
# rootdir insertion (tests/python) has an acquire_zarr package.
cd "$venv"
pkg=$(bin/python -c 'import acquire_zarr, pathlib; print(pathlib.Path(acquire_zarr.__file__).resolve().parent)')
case "$pkg" in
  "$venv"/*) echo "acquire_zarr imported from $pkg" ;;
  *) echo "acquire_zarr imported from $pkg, not from the wheel in $venv" >&2; exit 1 ;;
esac

echo "== ldd: the extension and the libraries bundled with it"
site=$(dirname "$pkg")
"$check_py" "$repo/packaging/elfdeps.py" check "$pkg:$site/acquire_zarr.libs" \
  "$pkg"/_core*.so "$site"/acquire_zarr.libs/*

echo "== the Python test suite against the installed wheel"
bin/python -m pytest -q -p no:cacheprovider -c "$repo/pyproject.toml" --rootdir "$repo" \
  "$@" "$repo/tests/python"
