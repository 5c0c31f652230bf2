"""What lands on disk matches docs/format.md byte for byte where it matters."""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import acquire_zarr as aqz
from streamkit import (assert_readers_see, blosc, crc32c, dims, expected_array, load_json,
                       random_frames, settings, shard_index, stream)

V2, V3 = aqz.ZarrVersion.V2, aqz.ZarrVersion.V3

V2_DTYPES = {np.uint8: "|u1", np.uint16: "<u2", np.uint32: "<u4", np.uint64: "<u8",
             np.int8: "|i1", np.int16: "<i2", np.int32: "<i4", np.int64: "<i8",
             np.float32: "<f4", np.float64: "<f8"}

MISSING = 2**64 - 1


def test_crc32c_helper_matches_the_check_value():
    assert crc32c(b"123456789") == 0xE3069283


@pytest.mark.parametrize("dtype,expected", list(V2_DTYPES.items()), ids=lambda v: str(v))
def test_v2_array_metadata_is_exactly_the_documented_document(tmp_path, dtype, expected):
    d = dims(("t", 0, 2, 1), ("y", 5, 4, 1), ("x", 6, 4, 1))
    stream(tmp_path / "s.zarr", d, random_frames(3, 5, 6, dtype), version=V2)
    meta = load_json(tmp_path / "s.zarr" / "0" / ".zarray")
    assert meta == {
        "zarr_format": 2, "shape": [3, 5, 6], "chunks": [2, 4, 4], "dtype": expected,
        "compressor": None, "fill_value": 0.0 if np.dtype(dtype).kind == "f" else 0,
        "order": "C", "filters": None, "dimension_separator": "/",
    }
    assert load_json(tmp_path / "s.zarr" / ".zgroup") == {"zarr_format": 2}


@pytest.mark.parametrize("codec,shuffle", [("lz4", 0), ("lz4", 1), ("zstd", 2)])
def test_v2_blosc_compressor_entry_names_codec_level_and_shuffle(tmp_path, codec, shuffle):
    d = dims(("t", 0, 2, 1), ("y", 5, 4, 1), ("x", 6, 4, 1))
    stream(tmp_path / "s.zarr", d, random_frames(3, 5, 6, np.uint16), version=V2,
           compression=blosc(codec, 5, shuffle))
    meta = load_json(tmp_path / "s.zarr" / "0" / ".zarray")
    assert meta["compressor"] == {"id": "blosc", "cname": codec, "clevel": 5,
                                  "shuffle": shuffle, "blocksize": 0}


def test_v2_chunk_keys_are_slash_separated_and_chunks_padded_whole(tmp_path):
    d = dims(("t", 0, 2, 1), ("c", 3, 2, 1), ("y", 5, 4, 1), ("x", 6, 4, 1))
    stream(tmp_path / "s.zarr", d, random_frames(3 * 3, 5, 6, np.uint16), version=V2)
    root = tmp_path / "s.zarr" / "0"
    keys = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and p.name != ".zarray")
    expected = sorted(f"{t}/{c}/{y}/{x}" for t in range(2) for c in range(2) for y in range(2) for x in range(2))
    assert keys == expected
    for key in keys:
        assert (root / key).stat().st_size == 2 * 2 * 4 * 4 * 2  # padded full chunk


def test_v3_group_and_array_documents(tmp_path):
    d = dims(("t", 0, 2, 3), ("y", 10, 4, 2), ("x", 9, 4, 2))
    stream(tmp_path / "s.zarr", d, random_frames(5, 10, 9, np.int16), version=V3,
           compression=blosc("zstd", 3, 2))
    group = load_json(tmp_path / "s.zarr" / "zarr.json")
    assert set(group) == {"zarr_format", "node_type", "attributes", "consolidated_metadata"}
    assert group["zarr_format"] == 3 and group["node_type"] == "group"
    assert group["consolidated_metadata"] is None
    meta = load_json(tmp_path / "s.zarr" / "0" / "zarr.json")
    assert meta["zarr_format"] == 3 and meta["node_type"] == "array"
    assert meta["shape"] == [5, 10, 9]
    assert meta["data_type"] == "int16"
    assert meta["chunk_grid"] == {"name": "regular", "configuration": {"chunk_shape": [6, 8, 8]}}
    assert meta["chunk_key_encoding"] == {"name": "default", "configuration": {"separator": "/"}}
    assert meta["fill_value"] == 0
    assert meta["dimension_names"] == ["t", "y", "x"]
    assert meta["attributes"] == {} and meta["storage_transformers"] == []
    (codec,) = meta["codecs"]
    assert codec["name"] == "sharding_indexed"
    assert codec["configuration"] == {
        "chunk_shape": [2, 4, 4],
        "codecs": [
            {"name": "bytes", "configuration": {"endian": "little"}},
            {"name": "blosc", "configuration": {"cname": "zstd", "clevel": 3, "shuffle": "bitshuffle",
                                                "typesize": 2, "blocksize": 0}},
        ],
        "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}],
        "index_location": "end",
    }


@pytest.mark.parametrize("shuffle,name", [(0, "noshuffle"), (1, "shuffle"), (2, "bitshuffle")])
def test_v3_blosc_shuffle_names(tmp_path, shuffle, name):
    d = dims(("t", 0, 2, 1), ("y", 4, 4, 1), ("x", 4, 4, 1))
    stream(tmp_path / "s.zarr", d, random_frames(2, 4, 4, np.float64), compression=blosc("lz4", 1, shuffle))
    meta = load_json(tmp_path / "s.zarr" / "0" / "zarr.json")
    config = meta["codecs"][0]["configuration"]["codecs"][1]["configuration"]
    assert config["shuffle"] == name and config["typesize"] == 8
    assert meta["fill_value"] == 0.0


def test_v3_uncompressed_shards_index_and_crc(tmp_path):
    # y: 10 px, chunk 4, shard 2 chunks -> shards of 8 px: shard 1 holds one
    # real chunk (px 8-9) and one chunk past the edge (never written).
    d = dims(("t", 0, 2, 2), ("y", 10, 4, 2), ("x", 4, 4, 1))
    frames = random_frames(3, 10, 4, np.uint16)
    stream(tmp_path / "s.zarr", d, frames)
    root = tmp_path / "s.zarr" / "0"
    shards = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and p.name != "zarr.json")
    assert shards == ["c/0/0/0", "c/0/1/0"]
    chunk_bytes = 2 * 4 * 4 * 2
    n = 2 * 2 * 1
    for key, real in (("c/0/0/0", {(0, 0), (1, 0), (0, 1), (1, 1)}), ("c/0/1/0", {(0, 0), (1, 0)})):
        data = (root / key).read_bytes()
        entries = shard_index(data, n)
        assert len(data) == len(real) * chunk_bytes + 16 * n + 4
        for i, (offset, nbytes) in enumerate(entries):
            t, y = divmod(i, 2)
            if (t, y) in real:
                assert nbytes == chunk_bytes and offset + nbytes <= len(data) - (16 * n + 4)
            else:
                assert (offset, nbytes) == (MISSING, MISSING)
    # The inner chunk (t-chunk 0, y-chunk 0) of shard 0 holds frames 0-1, rows 0-3.
    data = (root / "c/0/0/0").read_bytes()
    offset, nbytes = shard_index(data, n)[0]
    chunk = np.frombuffer(data[offset:offset + nbytes], dtype="<u2").reshape(2, 4, 4)
    np.testing.assert_array_equal(chunk, frames[0:2, 0:4, :])


@pytest.mark.parametrize("codec,codec_id,shuffle,flag", [
    ("lz4", 1, 1, 0x01), ("zstd", 4, 2, 0x04), ("lz4", 1, 0, 0x00)])
def test_v3_blosc_inner_chunk_headers(tmp_path, codec, codec_id, shuffle, flag):
    d = dims(("t", 0, 2, 1), ("y", 12, 8, 2), ("x", 8, 8, 1))
    stream(tmp_path / "s.zarr", d, random_frames(2, 12, 8, np.uint32), compression=blosc(codec, 4, shuffle))
    data = (tmp_path / "s.zarr" / "0" / "c" / "0" / "0" / "0").read_bytes()
    entries = shard_index(data, 2)
    for offset, nbytes in entries:
        header = data[offset:offset + 16]
        assert header[0] == 2  # blosc format version
        flags = header[2]
        assert flags & 0x05 == flag
        assert flags >> 5 == codec_id
        assert header[3] == 4  # typesize
        (uncompressed,) = struct.unpack("<I", header[4:8])
        (stored,) = struct.unpack("<I", header[12:16])
        assert uncompressed == 2 * 8 * 8 * 4  # the full padded inner chunk
        assert stored == nbytes


def test_v2_blosc_chunk_headers(tmp_path):
    d = dims(("t", 0, 2, 1), ("y", 5, 4, 1), ("x", 6, 4, 1))
    stream(tmp_path / "s.zarr", d, random_frames(3, 5, 6, np.uint16), version=V2,
           compression=blosc("zstd", 1, 1))
    for chunk in (tmp_path / "s.zarr" / "0").rglob("*"):
        if chunk.is_file() and chunk.name != ".zarray":
            data = chunk.read_bytes()
            assert data[0] == 2 and data[2] >> 5 == 4 and data[3] == 2
            assert struct.unpack("<I", data[4:8])[0] == 2 * 4 * 4 * 2
            assert struct.unpack("<I", data[12:16])[0] == len(data)


def test_custom_metadata_goes_to_acquire_json_and_is_kept_unless_overwritten(tmp_path):
    d = dims(("t", 0, 2, 1), ("y", 4, 4, 1), ("x", 4, 4, 1))
    with aqz.ZarrStream(settings(tmp_path / "s.zarr", d)) as st:
        assert st.write_custom_metadata('{"objective": "20x", "na": 0.75}') is True
        assert st.write_custom_metadata('{"objective": "40x"}') is False
        text = (tmp_path / "s.zarr" / "acquire.json").read_text()
        assert json.loads(text) == {"objective": "20x", "na": 0.75}
        assert "\n" in text.strip()  # pretty-printed
        assert st.write_custom_metadata('{"objective": "40x"}', overwrite=True) is True
        with pytest.raises(ValueError, match="not valid JSON"):
            st.write_custom_metadata("{nope")
        with pytest.raises(ValueError, match="JSON object"):
            st.write_custom_metadata("[1, 2]")
    assert load_json(tmp_path / "s.zarr" / "acquire.json") == {"objective": "40x"}


@pytest.mark.parametrize("version", [V2, V3], ids=["v2", "v3"])
def test_settings_custom_metadata_goes_to_root_attributes(tmp_path, version):
    d = dims(("t", 0, 2, 1), ("y", 4, 4, 1), ("x", 4, 4, 1))
    s = settings(tmp_path / "s.zarr", d, version=version, custom_metadata='{"operator": "ada", "run": 7}')
    with aqz.ZarrStream(s):
        pass
    if version == V3:
        attrs = load_json(tmp_path / "s.zarr" / "zarr.json")["attributes"]
        assert "ome" in attrs
    else:
        attrs = load_json(tmp_path / "s.zarr" / ".zattrs")
        assert "multiscales" in attrs
    assert attrs["operator"] == "ada" and attrs["run"] == 7
    assert not (tmp_path / "s.zarr" / "acquire.json").exists()


def test_overwrite_true_deletes_old_contents(tmp_path):
    store = tmp_path / "s.zarr"
    store.mkdir()
    (store / "stale.txt").write_text("old")
    (store / "old_array").mkdir()
    d = dims(("t", 0, 2, 1), ("y", 4, 4, 1), ("x", 4, 4, 1))
    stream(store, d, random_frames(1, 4, 4, np.uint16), overwrite=True)
    assert not (store / "stale.txt").exists() and not (store / "old_array").exists()


def test_overwrite_false_keeps_unrelated_files(tmp_path):
    store = tmp_path / "s.zarr"
    store.mkdir()
    (store / "notes.txt").write_text("keep me")
    d = dims(("t", 0, 2, 1), ("y", 4, 4, 1), ("x", 4, 4, 1))
    stream(store, d, random_frames(1, 4, 4, np.uint16), overwrite=False)
    assert (store / "notes.txt").read_text() == "keep me"


def test_no_temporary_files_left_behind(tmp_path):
    d = dims(("t", 0, 2, 1), ("y", 4, 4, 1), ("x", 4, 4, 1))
    stream(tmp_path / "s.zarr", d, random_frames(5, 4, 4, np.uint16))
    leftovers = [p for p in (tmp_path / "s.zarr").rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []


def test_metadata_is_written_at_create(tmp_path):
    d = dims(("t", 0, 2, 1), ("y", 4, 4, 1), ("x", 4, 4, 1))
    st = aqz.ZarrStream(settings(tmp_path / "s.zarr", d))
    try:
        import zarr
        a = zarr.open_array(str(tmp_path / "s.zarr" / "0"), mode="r")
        assert a.shape == (0, 4, 4)
    finally:
        st.close()


def supports_direct_io(directory: Path) -> bool:
    probe = directory / ".direct-probe"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | getattr(os, "O_DIRECT", 0), 0o644)
    except OSError:
        return False
    finally:
        probe.unlink(missing_ok=True)
    os.close(fd)
    return hasattr(os, "O_DIRECT")


@pytest.mark.parametrize("codec", ["lz4", "zstd"])
def test_large_compressed_chunks_are_block_aligned_in_their_shards(tmp_path, codec):
    """Compressed inner chunks of 256 KiB and more are placed on 4 KiB
    boundaries (written by direct I/O where the filesystem allows it); the
    index records each chunk's own length, the gaps are zeros, and readers see
    the data. Small chunks stay packed back to back."""
    # 512x512 uint16 random inner chunks hardly compress (~512 KiB each);
    # the zero frames at the end give small chunks in the same array.
    d = dims(("t", 0, 2, 3), ("y", 1024, 512, 2), ("x", 1000, 512, 2))
    frames = random_frames(9, 1024, 1000, np.uint16, seed=7)
    frames[6:] = 0
    store = tmp_path / "s.zarr"
    stream(store, d, frames, compression=blosc(codec, 1, 1))
    assert_readers_see(store / "0", expected_array(frames, d), V3)

    aligned = supports_direct_io(tmp_path)
    n_inner = 3 * 2 * 2
    large = small = 0
    for shard_path in sorted((store / "0" / "c").rglob("*")):
        if not shard_path.is_file():
            continue
        data = shard_path.read_bytes()
        entries = sorted(e for e in shard_index(data, n_inner) if e != (MISSING, MISSING))
        end_of_chunks = len(data) - (16 * n_inner + 4)
        previous_end = 0
        previous_large = False
        for offset, nbytes in entries:
            assert offset >= previous_end, f"{shard_path}: chunks overlap"
            header = data[offset:offset + 16]
            assert header[0] == 2, "not a blosc1 chunk"
            assert struct.unpack("<I", header[12:16])[0] == nbytes, "index length != blosc cbytes"
            # whatever lies between chunks is zero padding, and only around
            # large chunks (their alignment, or the rest of their last block)
            assert data[previous_end:offset] == bytes(offset - previous_end)
            is_large = nbytes >= 256 << 10
            if aligned and (is_large or previous_large):
                assert offset - previous_end < 4096
            else:
                assert offset == previous_end, f"{shard_path}: chunk at {offset} not packed"
            if is_large:
                large += 1
                if aligned:
                    assert offset % 4096 == 0, f"{shard_path}: large chunk at {offset}"
            else:
                small += 1
            previous_end = offset + nbytes
            previous_large = is_large
        assert end_of_chunks - previous_end < 4096
    assert large > 0 and small > 0


REFUSE_DIRECT_SHIM = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <unistd.h>

/* Refuses every write to a file opened with O_DIRECT, as a filesystem with
   a logical block larger than 4 KiB would, and notes each refusal. True for
   a refused write. */
static int refuse_direct(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || !(flags & O_DIRECT)) {
        return 0;
    }
    const char* log = getenv("REFUSED_LOG");
    FILE* f = log ? fopen(log, "a") : NULL;
    if (f) {
        fputs("refused\n", f);
        fclose(f);
    }
    errno = EINVAL;
    return 1;
}

static ssize_t write_at(int fd, const void* buf, size_t n, off_t off)
{
    static ssize_t (*real)(int, const void*, size_t, off_t);
    if (!real) {
        real = (ssize_t (*)(int, const void*, size_t, off_t))dlsym(RTLD_NEXT, "pwrite64");
    }
    return refuse_direct(fd) ? -1 : real(fd, buf, n, off);
}

static ssize_t write_vector_at(int fd, const struct iovec* iov, int n, off_t off)
{
    static ssize_t (*real)(int, const struct iovec*, int, off_t);
    if (!real) {
        real = (ssize_t (*)(int, const struct iovec*, int, off_t))dlsym(RTLD_NEXT, "pwritev64");
    }
    return refuse_direct(fd) ? -1 : real(fd, iov, n, off);
}

ssize_t pwrite(int fd, const void* buf, size_t n, off_t off) { return write_at(fd, buf, n, off); }
ssize_t pwrite64(int fd, const void* buf, size_t n, off_t off) { return write_at(fd, buf, n, off); }
ssize_t pwritev(int fd, const struct iovec* iov, int n, off_t off) { return write_vector_at(fd, iov, n, off); }
ssize_t pwritev64(int fd, const struct iovec* iov, int n, off_t off) { return write_vector_at(fd, iov, n, off); }
"""

REFUSE_DIRECT_CHILD = r"""
import sys
sys.path.insert(0, {tests!r})
import numpy as np
import acquire_zarr as aqz
from streamkit import blosc, dims, random_frames, stream
frames = random_frames(*{shape!r}, np.uint16, seed=3)
d = dims(*{dims!r})
stream({raw!r}, d, frames)                                  # 512 KiB raw chunks
stream({lz4!r}, d, frames, compression=blosc("lz4", 1, 1))  # ~512 KiB compressed
"""
REFUSE_DIRECT_SHAPE = (6, 512, 1024)  # frames, height, width
REFUSE_DIRECT_DIMS = (("t", 0, 2, 2), ("y", 512, 512, 1), ("x", 1024, 256, 2))


def test_direct_writes_refused_after_open_fall_back_to_buffered(tmp_path):
    """A filesystem may accept O_DIRECT at open and still refuse the writes
    (EINVAL): the stream then writes buffered, loses nothing and reports no
    error. An LD_PRELOAD shim refuses every direct write."""
    if not supports_direct_io(tmp_path):
        pytest.skip("no O_DIRECT on this filesystem: nothing to refuse")
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler for the LD_PRELOAD shim")
    source = tmp_path / "refuse_direct.c"
    source.write_text(REFUSE_DIRECT_SHIM)
    shim = tmp_path / "refuse_direct.so"
    subprocess.run([compiler, "-shared", "-fPIC", "-O1", "-o", str(shim), str(source), "-ldl"],
                   check=True, capture_output=True)
    log = tmp_path / "refused.log"
    raw, lz4 = tmp_path / "raw.zarr", tmp_path / "lz4.zarr"
    code = REFUSE_DIRECT_CHILD.format(tests=str(Path(__file__).resolve().parent),
                                      shape=REFUSE_DIRECT_SHAPE, dims=REFUSE_DIRECT_DIMS,
                                      raw=str(raw), lz4=str(lz4))
    env = dict(os.environ, REFUSED_LOG=str(log),
               LD_PRELOAD=" ".join(filter(None, [os.environ.get("LD_PRELOAD"), str(shim)])))
    child = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                           text=True, timeout=300)
    assert child.returncode == 0, child.stderr[-2000:]
    assert log.exists() and log.read_text().count("refused") >= 2, \
        "the shim never saw a direct write: the test does not test the fallback"
    frames = random_frames(*REFUSE_DIRECT_SHAPE, np.uint16, seed=3)
    d = dims(*REFUSE_DIRECT_DIMS)
    for store in (raw, lz4):
        assert_readers_see(store / "0", expected_array(frames, d), V3)
