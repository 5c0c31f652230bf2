"""One writer, one scenario, one run, printing a JSON result line. Run by
run.py in the writer's own virtual environment (acquire-zarr from PyPI shares
our module name, so it cannot share a process or an environment with us).

    python writer.py --writer ours --scenario lz4-v3 --frames 256 --out DIR
                     [--mode throughput|sustained|overhead] [--rate FPS]

throughput: stream the frames in a tight loop, make them durable, read a
sample back; GiB/s, append latencies, peak RSS, CPU seconds.
sustained: the camera model of camera.py at --rate frames/s: passed or not.
overhead: the streaming writers' tight loop of appends timed as a whole
(no per-call timer): microseconds per append.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from collections import deque
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from camera import Camera  # noqa: E402
from scenarios import POOL, SCENARIOS, Scenario, scenario_pool  # noqa: E402
import sustained  # noqa: E402


def fsync_tree(path: Path) -> None:
    """fdatasync every file and fsync every directory: what our close does."""
    for root, dirs, files in os.walk(path):
        for name in files:
            fd = os.open(os.path.join(root, name), os.O_RDONLY)
            try:
                os.fdatasync(fd)
            finally:
                os.close(fd)
        fd = os.open(root, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def tree_bytes(path: Path) -> int:
    return sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(path) for f in fs)


# --- S3 (the s3-v3 scenario): run.py starts the server and sets these -------------------

def s3_location() -> tuple[str, str]:
    return os.environ["BENCH_S3_ENDPOINT"], os.environ["BENCH_S3_BUCKET"]


def s3_options() -> dict:
    endpoint, _ = s3_location()
    return {"key": os.environ["AWS_ACCESS_KEY_ID"], "secret": os.environ["AWS_SECRET_ACCESS_KEY"],
            "client_kwargs": {"endpoint_url": endpoint, "region_name": "us-east-1"}}


def s3_store(prefix: str):
    """A zarr-python store for s3://bucket/prefix."""
    import zarr
    _, bucket = s3_location()
    return zarr.storage.FsspecStore.from_url(f"s3://{bucket}/{prefix}", storage_options=s3_options())


def s3_bytes(prefix: str) -> int:
    import s3fs
    _, bucket = s3_location()
    return int(s3fs.S3FileSystem(**s3_options()).du(f"{bucket}/{prefix}"))


def make_durable(s: Scenario, store: Path) -> None:
    if not s.s3:  # on S3 a completed upload is durable
        fsync_tree(store)


# --- timing -----------------------------------------------------------------------------

class Calls:
    """Times a writer's append (or write) calls. The timed region starts with
    the first call (BENCHMARKS.md: from the first append to the end of a
    durable close), so opening or creating the store and stacking the peers'
    append-chunk are not in it; main() reports them apart as setup_s."""

    def __init__(self) -> None:
        self.first: float | None = None
        self.first_cpu = 0.0
        self.latencies: list[float] = []

    def call(self, fn) -> None:
        if self.first is None:
            self.first_cpu = cpu_seconds()
        t0 = time.perf_counter()
        if self.first is None:
            self.first = t0
        fn()
        self.latencies.append(time.perf_counter() - t0)


def cpu_seconds() -> float:
    """User + system CPU of this process, all its threads included."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


# --- streaming writers (one append call per frame) -------------------------------------

def run_ours(s: Scenario, frames: int, store: Path, pool, calls: Calls) -> list[Path]:
    if s.arrays > 1:  # the current API, the very script acquire-zarr runs
        return run_current_api(s, frames, store, pool, calls, durable_close=True)
    stream = ours_stream(s, store)
    for i in range(frames):
        calls.call(lambda: stream.append(pool[i % POOL]))
    stream.close()  # durable: fdatasync of every file
    return [store / "0"]


def ours_stream(s: Scenario, store: Path):
    """Our stream for a one-array scenario, through the seed-era settings."""
    import acquire_zarr as aqz

    kinds = {"time": aqz.DimensionType.TIME, "channel": aqz.DimensionType.CHANNEL,
             "space": aqz.DimensionType.SPACE}
    compression = None
    if s.codec:
        compression = aqz.CompressionSettings(
            compressor=aqz.Compressor.BLOSC1,
            codec=aqz.CompressionCodec.BLOSC_LZ4 if s.codec == "lz4" else aqz.CompressionCodec.BLOSC_ZSTD,
            level=1, shuffle=1)
    s3 = None
    if s.s3:
        endpoint, bucket = s3_location()
        s3 = aqz.S3Settings(endpoint=endpoint, bucket_name=bucket, region="us-east-1")
    settings = aqz.StreamSettings(
        store_path=store.name if s.s3 else str(store), s3=s3,
        data_type=np.dtype(s.dtype), overwrite=True, max_threads=os.cpu_count(),
        version=aqz.ZarrVersion.V3 if s.version == 3 else aqz.ZarrVersion.V2,
        compression=compression, multiscale=s.multiscale,
        downsampling_method=aqz.DownsamplingMethod.MEAN,
        dimensions=[aqz.Dimension(name=n, kind=kinds[k], array_size_px=size, chunk_size_px=chunk,
                                  shard_size_chunks=shard) for n, k, size, chunk, shard in s.dims])
    return aqz.ZarrStream(settings)


def run_current_api(s: Scenario, frames: int, store: Path, pool, calls: Calls,
                    durable_close: bool) -> list[Path]:
    """acquire-zarr's current API (0.5+): one ArraySettings per array, one
    append per frame with its array's key, round-robin over the arrays as a
    multi-position acquisition produces them. The same code runs against
    acquire-zarr from PyPI and against ours."""
    stream = current_api_stream(s, store)
    keys = s.keys()
    for f in range(frames // s.arrays):
        for a, key in enumerate(keys):
            frame = pool[s.pool_index(a, f)]
            calls.call(lambda: stream.append(frame, key=key))
    stream.close()
    if not durable_close:
        make_durable(s, store)  # acquire-zarr's close does not promise durability; make it equal
    # with a downsampling method, each key is an image group and "<key>/0" level 0
    return [store / key / "0" if s.multiscale else store / key for key in keys]


def current_api_stream(s: Scenario, store: Path):
    import acquire_zarr as aqz

    kinds = {"time": aqz.DimensionType.TIME, "channel": aqz.DimensionType.CHANNEL,
             "space": aqz.DimensionType.SPACE}
    kwargs = {}
    if s.codec:
        kwargs["compression"] = aqz.CompressionSettings(
            compressor=aqz.Compressor.BLOSC1,
            codec=aqz.CompressionCodec.BLOSC_LZ4 if s.codec == "lz4" else aqz.CompressionCodec.BLOSC_ZSTD,
            level=1, shuffle=1)
    if s.multiscale:
        kwargs["downsampling_method"] = aqz.DownsamplingMethod.MEAN
    arrays = [aqz.ArraySettings(
        output_key=key, data_type=np.dtype(s.dtype),
        dimensions=[aqz.Dimension(name=n, kind=kinds[k], array_size_px=size, chunk_size_px=chunk,
                                  shard_size_chunks=shard) for n, k, size, chunk, shard in s.dims],
        **kwargs) for key in s.keys()]
    kwargs = {}
    if s.s3:
        endpoint, bucket = s3_location()
        kwargs["s3"] = aqz.S3Settings(endpoint=endpoint, bucket_name=bucket, region="us-east-1")
    settings = aqz.StreamSettings(store_path=store.name if s.s3 else str(store), arrays=arrays,
                                  version=aqz.ZarrVersion.V3, max_threads=os.cpu_count(),
                                  overwrite=True, **kwargs)
    return aqz.ZarrStream(settings)


def run_acquire_zarr_pypi(s: Scenario, frames: int, store: Path, pool, calls: Calls) -> list[Path]:
    if s.version != 3:
        raise NotImplementedError("acquire-zarr no longer writes Zarr v2")
    return run_current_api(s, frames, store, pool, calls, durable_close=False)


# --- chunk-batched writers (one write per append-chunk, as their users do) -----------

def batch_blocks(s: Scenario, pool) -> list[np.ndarray]:
    """One append-chunk of frames per array. batch_frames is a multiple of
    POOL, so every batch of an array holds the same frames in the same order.
    The arrays' blocks are views into one stack of batch_frames + arrays - 1
    frames (array a starts at pool frame a), so 4 arrays cost 3 frames more
    than one, not 3 blocks more."""
    n = s.batch_frames
    assert n % POOL == 0
    stack = np.stack([pool[i % POOL] for i in range(n + s.arrays - 1)])
    return [stack[a:a + n].reshape((s.dims[0][3], *s.outer_sizes, s.height, s.width)) for a in range(s.arrays)]


def v3_codecs(s: Scenario) -> list:
    inner = [{"name": "bytes", "configuration": {"endian": "little"}}]
    if s.codec:
        inner.append({"name": "blosc", "configuration": {"cname": s.codec, "clevel": 1, "shuffle": "shuffle",
                                                         "typesize": np.dtype(s.dtype).itemsize,
                                                         "blocksize": 0}})
    return [{"name": "sharding_indexed", "configuration": {
        "chunk_shape": list(s.chunks()), "codecs": inner,
        "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}],
        "index_location": "end"}}]


def tensorstore_spec(s: Scenario, shape: list[int], path: Path) -> dict:
    if s.version == 3:
        metadata = {"shape": shape, "data_type": s.dtype,
                    "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(s.shards())}},
                    "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
                    "fill_value": 0, "codecs": v3_codecs(s), "dimension_names": [d[0] for d in s.dims]}
        kvstore = {"driver": "file", "path": str(path)}
        if s.s3:
            endpoint, bucket = s3_location()
            kvstore = {"driver": "s3", "bucket": bucket, "path": path.name + "/", "endpoint": endpoint,
                       "aws_region": "us-east-1", "aws_credentials": {"type": "environment"}}
        return {"driver": "zarr3", "kvstore": kvstore, "metadata": metadata}
    compressor = None
    if s.codec:
        compressor = {"id": "blosc", "cname": s.codec, "clevel": 1, "shuffle": 1, "blocksize": 0}
    metadata = {"shape": shape, "chunks": list(s.chunks()), "dtype": np.dtype(s.dtype).str, "compressor": compressor,
                "fill_value": 0, "order": "C", "filters": None, "dimension_separator": "/"}
    return {"driver": "zarr", "kvstore": {"driver": "file", "path": str(path)}, "metadata": metadata}


# Write futures one array may have in flight in multi-array scenarios (as
# behind the camera: sustained.py).
TENSORSTORE_IN_FLIGHT = sustained.TENSORSTORE_IN_FLIGHT


def tensorstore_open(s: Scenario, frames: int, store: Path):
    """The scenario's arrays sized for `frames`: (arrays, paths, shape)."""
    import tensorstore as ts

    if s.multiscale:
        raise NotImplementedError("tensorstore writes no pyramids")
    shape = list(s.shape(frames))
    paths = [store] if s.arrays == 1 else [store / key for key in s.keys()]
    arrays = [ts.open(tensorstore_spec(s, shape, p), create=True, delete_existing=True).result()
              for p in paths]
    return arrays, paths, shape


def run_tensorstore(s: Scenario, frames: int, store: Path, pool, calls: Calls) -> list[Path]:
    arrays, paths, shape = tensorstore_open(s, frames, store)
    blocks = batch_blocks(s, pool)
    steps = shape[0]
    per = blocks[0].shape[0]
    if s.arrays == 1:
        for t in range(0, steps, per):
            n = min(per, steps - t)
            calls.call(lambda: arrays[0][t:t + n].write(blocks[0][:n]).result())
    else:
        # Concurrent writes: each call issues one array's append-chunk and
        # waits only for that array's oldest write when too many are pending.
        pending: list[deque] = [deque() for _ in arrays]

        def issue(a: int, t: int, n: int) -> None:
            if len(pending[a]) == TENSORSTORE_IN_FLIGHT:
                pending[a].popleft().result()
            pending[a].append(arrays[a][t:t + n].write(blocks[a][:n]))

        for t in range(0, steps, per):
            n = min(per, steps - t)
            for a in range(len(arrays)):
                calls.call(lambda: issue(a, t, n))
        for queue in pending:  # in the timed region, not a call of its own
            for future in queue:
                future.result()
    make_durable(s, store)
    return paths


def run_zarr_python(s: Scenario, frames: int, store: Path, pool, calls: Calls) -> list[Path]:
    import zarr

    if s.multiscale:
        raise NotImplementedError("zarr-python writes no pyramids")
    shape = s.shape(frames)
    kwargs = {}
    if s.version == 3:
        if s.codec:
            kwargs["compressors"] = [zarr.codecs.BloscCodec(cname=s.codec, clevel=1, shuffle="shuffle",
                                                            typesize=np.dtype(s.dtype).itemsize)]
        else:
            kwargs["compressors"] = None
        kwargs["shards"] = s.shards()
        kwargs["dimension_names"] = [d[0] for d in s.dims]
    else:
        from numcodecs import Blosc
        kwargs["compressors"] = Blosc(cname=s.codec, clevel=1, shuffle=1) if s.codec else None
        kwargs["chunk_key_encoding"] = {"name": "v2", "separator": "/"}
    paths = [store] if s.arrays == 1 else [store / key for key in s.keys()]
    arrays = [zarr.create_array(store=s3_store(p.name) if s.s3 else str(p), shape=shape,
                                chunks=s.chunks(), dtype=s.dtype,
                                fill_value=0, zarr_format=s.version, overwrite=True, **kwargs)
              for p in paths]
    blocks = batch_blocks(s, pool)
    per = blocks[0].shape[0]
    for t in range(0, shape[0], per):  # one array after the other: zarr-python's writes block
        n = min(per, shape[0] - t)
        for array, block in zip(arrays, blocks):
            calls.call(lambda: array.__setitem__(slice(t, t + n), block[:n]))
    make_durable(s, store)
    return paths


WRITERS = {"ours": run_ours, "acquire-zarr": run_acquire_zarr_pypi,
           "tensorstore": run_tensorstore, "zarr-python": run_zarr_python}


def verify(s: Scenario, frames: int, array_paths: list[Path], pool, out: Path) -> str:
    """Reads a sample of frames of every array back with zarr-python; ''
    when all match. On S3 an array's key is its path relative to `out`."""
    import zarr

    if len(array_paths) != s.arrays:
        return f"{len(array_paths)} arrays written, {s.arrays} expected"
    per_array = frames // s.arrays
    sample = sorted({0, 1, per_array // 2, per_array - 1, *range(0, per_array, 37)})
    for a, path in enumerate(array_paths):
        if s.s3:
            array = zarr.open_array(s3_store(str(path.relative_to(out))), mode="r")
        else:
            array = zarr.open_array(str(path), mode="r")
        expected_shape = s.shape(frames)
        if tuple(array.shape) != expected_shape:
            return f"{path.name}: shape {array.shape} != {expected_shape}"
        for f in sample:
            t, rest = divmod(f, s.frames_per_append)
            index = (t, *np.unravel_index(rest, s.outer_sizes)) if s.outer_sizes else (t,)
            if not np.array_equal(array[tuple(int(i) for i in index)], pool[s.pool_index(a, f)]):
                return f"{path.name}: frame {f} differs"
    return ""


def start_peak_rss_window() -> bool:
    """Returns the memory freed by data generation to the system and resets
    the peak resident set size, so that the peak reported covers streaming
    (the frames pool stays resident and counts). Linux only (clear_refs 5,
    Linux 4.0+); False where the peak cannot be reset."""
    import ctypes
    import gc
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_rss_mib(windowed: bool) -> float:
    if windowed:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_pool(s: Scenario, path: Path | None) -> list[np.ndarray]:
    if path is None:
        return scenario_pool(s)
    stack = np.load(path)
    assert stack.shape == (POOL, s.height, s.width) and stack.dtype == np.dtype(s.dtype), path
    return list(stack)


MODULES = {"ours": "acquire_zarr", "acquire-zarr": "acquire_zarr", "tensorstore": "tensorstore",
           "zarr-python": "zarr"}


def throughput(args, s: Scenario, frames: int, store: Path, pool, result: dict) -> None:
    windowed = start_peak_rss_window()
    calls = Calls()
    cpu0 = cpu_seconds()  # frames generated, the writer's module imported
    started = time.perf_counter()
    array_paths = WRITERS[args.writer](s, frames, store, pool, calls)
    ended = time.perf_counter()
    cpu = cpu_seconds() - cpu0
    lat = np.array(calls.latencies) * 1e3
    gib = result["raw_bytes"] / 2**30
    result.update(
        status="ok",
        seconds=ended - calls.first,
        setup_s=calls.first - started,
        gib_per_s=gib / (ended - calls.first),
        frames_per_s=frames / (ended - calls.first),
        cpu_s=cpu,
        cpu_s_per_gib=cpu / gib,
        cpu_setup_s=calls.first_cpu - cpu0,
        latency_ms={"p50": float(np.percentile(lat, 50)), "p99": float(np.percentile(lat, 99)),
                    "max": float(lat.max()), "calls": len(lat)},
        latencies_ms=[round(float(x), 3) for x in lat],
        peak_rss_mib=peak_rss_mib(windowed),
        peak_rss_covers="streaming" if windowed else "process",
        bytes_on_disk=s3_bytes(store.name) if s.s3 else tree_bytes(store),
    )
    error = verify(s, frames, array_paths, pool, args.out)
    result["correct"] = not error
    if error:
        result["status"] = f"WRONG DATA: {error}"


def streaming_stream(writer: str, s: Scenario, store: Path):
    """A streaming writer's open stream: ours through the seed-era settings
    for one array (as run_ours), the current API otherwise."""
    if writer not in ("ours", "acquire-zarr"):
        raise NotImplementedError(f"{writer} writes whole append-chunks")
    if writer == "ours" and s.arrays == 1:
        return ours_stream(s, store)
    if s.version != 3:
        raise NotImplementedError("acquire-zarr no longer writes Zarr v2")
    return current_api_stream(s, store)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--writer", choices=list(WRITERS), required=True)
    parser.add_argument("--scenario", choices=list(SCENARIOS), required=True)
    parser.add_argument("--frames", type=int, default=256)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--mode", choices=("throughput", "sustained", "overhead"), default="throughput")
    parser.add_argument("--rate", type=float, default=0.0, help="sustained: frames/s, 0 = unpaced")
    parser.add_argument("--pool", type=Path, default=None,
                        help="the scenario's frames as .npy (run.py writes it once); else generated")
    args = parser.parse_args()

    s = SCENARIOS[args.scenario]
    frames = args.frames - args.frames % s.frame_multiple or s.frame_multiple
    pool = load_pool(s, args.pool)
    store = args.out / f"{args.writer}-{s.id}.zarr"
    result = {"writer": args.writer, "scenario": s.id, "mode": args.mode, "frames": frames,
              "raw_bytes": frames * s.frame_bytes}
    __import__(MODULES[args.writer])
    try:
        if args.mode == "throughput":
            throughput(args, s, frames, store, pool, result)
        elif args.mode == "overhead":
            stream = streaming_stream(args.writer, s, store)
            result.update(status="ok", **sustained.overhead(s, frames, pool, stream))
        else:
            camera = Camera(args.rate, s.buffer_frames)
            if args.writer == "tensorstore":
                arrays, _, _ = tensorstore_open(s, frames, store)
                out = sustained.tensorstore(s, frames, pool, camera, arrays)
                make_durable(s, store)
            else:
                stream = streaming_stream(args.writer, s, store)
                out = sustained.streaming(s, frames, pool, camera, stream)
                if args.writer != "ours":
                    make_durable(s, store)
            result.update(status="ok", rate=args.rate, **out)
    except NotImplementedError as e:
        result["status"] = f"n/a: {e}"
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
