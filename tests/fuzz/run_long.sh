#!/usr/bin/env bash
# A long fuzzing run of tests/fuzz/fuzz_stream (libFuzzer, ASan + UBSan).
#
#   tests/fuzz/run_long.sh [SECONDS] [JOBS]      (defaults: 3600 s, 1 job)
#
# Needs clang and its runtimes (Debian: apt-get install clang
# libclang-rt-14-dev), cmake and ninja. Builds into build/fuzz (or
# $FUZZ_BUILD_DIR) with the project's ACQUIRE_ZARR_FUZZ option, then fuzzes
# in fork mode: a crash is saved and the run goes on, so one run can find
# several bugs. Everything it writes stays in the build directory:
#   $BUILD/tests/fuzz/corpus-long/   the growing corpus (seeded from
#                                   tests/fuzz/corpus/ and the earlier findings
#                                   in tests/fuzz/crashes/; neither is written)
#   $BUILD/tests/fuzz/crashes-long/  crash-*, oom-*, timeout-* inputs
#   $BUILD/tests/fuzz/tmp/           the stores (one temporary directory per
#                                   process, deleted after every input)
# At the end every crash input is replayed once and its first report line
# printed, grouped, so that duplicates are easy to see. To investigate one:
#   AZ_FUZZ_TRACE=1 AZ_FUZZ_LOG=1 $BUILD/tests/fuzz/fuzz_stream CRASH_FILE
# Keep a reproducer by copying it to tests/fuzz/crashes/ and describing it in
# tests/fuzz/crashes/README.md.
#
# Environment:
#   FUZZ_BUILD_DIR       build directory (default: build/fuzz)
#   FUZZ_SOURCE_DIR      CMake source directory (default: the repository)
#   BUILD_JOBS           parallel compile jobs (default 2)
#   AZ_FUZZ_MAX_THREADS  see fuzz_stream.cpp (default 64)
#   FUZZ_RSS_MB          libFuzzer -rss_limit_mb (default 2048)
set -euo pipefail

seconds=${1:-3600}
jobs=${2:-1}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${FUZZ_BUILD_DIR:-$root/build/fuzz}

if ! command -v clang++ >/dev/null; then
    echo "run_long.sh: clang++ not found (Debian: apt-get install clang libclang-rt-14-dev)" >&2
    exit 2
fi

CC=clang CXX=clang++ cmake -S "${FUZZ_SOURCE_DIR:-$root}" -B "$build" -G Ninja \
    -DCMAKE_BUILD_TYPE=Debug -DACQUIRE_ZARR_FUZZ=ON >/dev/null
cmake --build "$build" --target fuzz_stream -j "${BUILD_JOBS:-2}"

fuzzer=$(find "$build" -name fuzz_stream -type f -perm -u+x | head -n 1)
if [ -z "$fuzzer" ]; then
    echo "run_long.sh: no fuzz_stream in $build (is tests/fuzz wired into tests/CMakeLists.txt?)" >&2
    exit 2
fi
work=$(dirname "$fuzzer")
mkdir -p "$work/corpus-long" "$work/crashes-long" "$work/tmp"

echo "fuzzing for $seconds s with $jobs job(s); crashes go to $work/crashes-long/"
set +e
(
    cd "$work"
    AZ_FUZZ_TMPDIR="$work/tmp" \
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
    UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
    "$fuzzer" -fork="$jobs" -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1 \
        -max_total_time="$seconds" -rss_limit_mb="${FUZZ_RSS_MB:-2048}" -timeout=60 \
        -artifact_prefix="$work/crashes-long/" \
        "$work/corpus-long" "$here/corpus" "$here/crashes"
)
status=$?
set -e
# Leftover stores of processes that died in a crash.
rm -rf "$work"/tmp/az-fuzz-*

shopt -s nullglob
found=("$work"/crashes-long/crash-* "$work"/crashes-long/oom-* "$work"/crashes-long/timeout-*)
echo "libFuzzer exit status $status; ${#found[@]} crash/oom/timeout input(s)"
for f in "${found[@]}"; do
    first=$(AZ_FUZZ_TMPDIR="$work/tmp" ASAN_OPTIONS=detect_leaks=0 timeout 120 "$fuzzer" "$f" 2>&1 |
            grep -v 'Running 1 inputs' |
            grep -m1 -E 'runtime error|fuzz_stream: |ERROR: (Address|Leak)Sanitizer|terminate|deadly signal|out-of-memory|timeout' |
            sed -E 's/0x[0-9a-fA-F]+/ADDR/g; s/[0-9]+ bytes/N bytes/g' || true)
    echo "${first:-"(did not reproduce)"}"
done | sort | uniq -c | sort -rn
rm -rf "$work"/tmp/az-fuzz-*
[ ${#found[@]} -eq 0 ]
