"""The Python surface of API.md: enums, settings classes, the stream object."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

import acquire_zarr as aqz
from streamkit import dims, settings

REPO = Path(__file__).resolve().parents[2]

ENUMS = {
    "DataType": ["UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64",
                 "FLOAT32", "FLOAT64"],
    "Compressor": ["NONE", "BLOSC1", "ZSTD"],
    "CompressionCodec": ["NONE", "BLOSC_LZ4", "BLOSC_ZSTD", "ZSTD"],
    "DimensionType": ["SPACE", "CHANNEL", "TIME", "OTHER"],
    "DownsamplingMethod": ["DECIMATE", "MEAN", "MIN", "MAX"],
    "LogLevel": ["DEBUG", "INFO", "WARNING", "ERROR", "NONE"],
}


def test_module_exports_every_documented_name():
    for name in ["StreamSettings", "ZarrStream", "Dimension", "DimensionType", "CompressionSettings",
                 "Compressor", "CompressionCodec", "S3Settings", "DataType", "ZarrVersion", "LogLevel",
                 "DownsamplingMethod", "set_log_level", "get_log_level", "__version__"]:
        assert hasattr(aqz, name), name
    assert aqz.__version__ == "0.2.0"


@pytest.mark.parametrize("enum_name", list(ENUMS))
def test_enum_members_match_the_c_values(enum_name):
    enum = getattr(aqz, enum_name)
    assert [m.name for m in enum] == ENUMS[enum_name]
    assert [m.value for m in enum] == list(range(len(ENUMS[enum_name])))


def test_zarr_version_values_are_2_and_3():
    assert aqz.ZarrVersion.V2.value == 2 and aqz.ZarrVersion.V3.value == 3


def test_settings_have_the_documented_defaults_and_readable_reprs():
    s = aqz.StreamSettings()
    assert s.store_path == "" and s.s3 is None and s.compression is None
    assert s.dimensions == [] and s.multiscale is False
    assert s.data_type == aqz.DataType.UINT8 and s.version == aqz.ZarrVersion.V3
    assert s.max_threads == (os.cpu_count() or 1)
    assert s.downsampling_method == aqz.DownsamplingMethod.DECIMATE
    assert s.output_key == "" and s.overwrite is False and s.custom_metadata is None
    c = aqz.CompressionSettings()
    assert (c.compressor, c.codec, c.level, c.shuffle) == (aqz.Compressor.NONE, aqz.CompressionCodec.NONE, 1, 0)
    r = repr(aqz.Dimension(name="t", kind=aqz.DimensionType.TIME, array_size_px=0, chunk_size_px=5))
    assert r.startswith("Dimension(name='t'") and "chunk_size_px=5" in r
    assert "bucket_name='b'" in repr(aqz.S3Settings(endpoint="e", bucket_name="b"))


def test_dimension_takes_positional_arguments_and_type_as_alias_of_kind():
    a = aqz.Dimension("z", aqz.DimensionType.SPACE, 10, 5, 2, "micrometer", 0.5)
    b = aqz.Dimension(name="z", type=aqz.DimensionType.SPACE, array_size_px=10, chunk_size_px=5,
                      shard_size_chunks=2, unit="micrometer", scale=0.5)
    assert a == b and a.type == a.kind == aqz.DimensionType.SPACE
    b.type = aqz.DimensionType.TIME
    assert b.kind == aqz.DimensionType.TIME


def test_dimensions_is_a_live_list(tmp_path):
    s = aqz.StreamSettings(store_path=str(tmp_path / "s.zarr"), data_type=np.uint16)
    s.dimensions.append(aqz.Dimension(name="t", kind=aqz.DimensionType.TIME, chunk_size_px=1))
    s.dimensions.extend(dims(("y", 4, 4, 1), ("q", 4, 4, 1)))
    s.dimensions[2] = aqz.Dimension(name="x", kind=aqz.DimensionType.SPACE, array_size_px=6, chunk_size_px=3)
    s.dimensions[1].array_size_px = 5
    assert [d.name for d in s.dimensions] == ["t", "y", "x"]
    with aqz.ZarrStream(s) as st:
        st.append(np.ones((5, 6), np.uint16))
    import zarr
    assert zarr.open_array(str(tmp_path / "s.zarr" / "0"), mode="r").shape == (1, 5, 6)


@pytest.mark.parametrize("given,expected", [
    (np.uint16, aqz.DataType.UINT16), (np.dtype("float32"), aqz.DataType.FLOAT32),
    ("int8", aqz.DataType.INT8), ("<u8", aqz.DataType.UINT64), (aqz.DataType.INT64, aqz.DataType.INT64),
    (9, aqz.DataType.FLOAT64)])
def test_data_type_accepts_numpy_types(given, expected):
    assert aqz.StreamSettings(data_type=given).data_type == expected


def test_unsupported_numpy_types_are_refused():
    with pytest.raises(ValueError, match="complex64"):
        aqz.StreamSettings(data_type=np.complex64)
    with pytest.raises(ValueError, match="not supported"):
        aqz.StreamSettings(data_type=">u2")


def test_log_level_reads_back_as_set_and_unknown_levels_are_refused():
    old = aqz.get_log_level()
    try:
        aqz.set_log_level(aqz.LogLevel.ERROR)
        assert aqz.get_log_level() == aqz.LogLevel.ERROR
        with pytest.raises(ValueError):
            aqz.set_log_level(17)
    finally:
        aqz.set_log_level(old)


def test_close_is_idempotent_and_context_manager_closes(tmp_path):
    d = dims(("t", 0, 1, 1), ("y", 4, 4, 1), ("x", 4, 4, 1))
    st = aqz.ZarrStream(settings(tmp_path / "s.zarr", d))
    assert st.is_active()
    st.close()
    st.close()
    assert not st.is_active()
    with pytest.raises(RuntimeError, match="closed"):
        st.append(np.zeros((4, 4), np.uint16))
    with aqz.ZarrStream(settings(tmp_path / "t.zarr", d)) as st2:
        assert st2.is_active()
    assert not st2.is_active()


def test_every_call_on_a_closed_stream_raises_runtime_error(tmp_path):
    """One error type for a closed stream, as acquire-zarr 0.10 raises for an
    append after close, whichever layer notices it first."""
    d = dims(("t", 0, 1, 1), ("y", 4, 4, 1), ("x", 4, 4, 1))
    st = aqz.ZarrStream(settings(tmp_path / "s.zarr", d))
    core = st._stream
    st.close()
    with pytest.raises(RuntimeError, match="closed"):
        st.append(np.zeros((4, 4), np.uint16))
    with pytest.raises(RuntimeError, match="closed"):
        st.write_custom_metadata("{}", overwrite=True)
    # The binding checks too, for a handle closed underneath the wrapper.
    with pytest.raises(RuntimeError, match="closed"):
        core.append(np.zeros((4, 4), np.uint16))
    with pytest.raises(RuntimeError, match="closed"):
        core.write_custom_metadata("{}", True)


def test_deleting_the_stream_flushes(tmp_path):
    d = dims(("t", 0, 4, 1), ("y", 4, 4, 1), ("x", 4, 4, 1))
    st = aqz.ZarrStream(settings(tmp_path / "s.zarr", d))
    st.append(np.full((3, 4, 4), 7, np.uint16))
    del st
    import zarr
    a = zarr.open_array(str(tmp_path / "s.zarr" / "0"), mode="r")
    assert a.shape == (3, 4, 4) and (a[...] == 7).all()


def test_gil_is_released_during_append(tmp_path):
    # A big append with one worker thread; another Python thread must run
    # while the library works (it would be blocked if the GIL were held).
    d = dims(("t", 0, 64, 1), ("y", 1024, 1024, 1), ("x", 1024, 1024, 1))
    data = np.ones((128, 1024, 1024), np.uint16)
    st = aqz.ZarrStream(settings(tmp_path / "s.zarr", d, max_threads=1,
                                 compression=aqz.CompressionSettings(
                                     compressor=aqz.Compressor.BLOSC1,
                                     codec=aqz.CompressionCodec.BLOSC_ZSTD, level=5, shuffle=1)))
    started = threading.Event()
    finished = threading.Event()
    ticks = []

    def appender():
        started.set()
        st.append(data)
        st.close()
        finished.set()

    t = threading.Thread(target=appender)
    t.start()
    started.wait()
    while not finished.is_set():
        ticks.append(1)  # pure-Python work, needs the GIL
        finished.wait(0.001)
    t.join()
    assert len(ticks) > 5


def test_examples_python_quick_start_runs(tmp_path):
    result = subprocess.run([sys.executable, str(REPO / "examples" / "stream_basic.py")], cwd=tmp_path,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    import zarr
    a = zarr.open_array(str(tmp_path / "my_stream.zarr" / "0"), mode="r")
    assert a.shape == (10, 1080, 1920)


def test_typing_stubs_ship_with_the_package():
    pkg = Path(aqz.__file__).parent
    assert (pkg / "py.typed").is_file()
    stub = (pkg / "__init__.pyi").read_text()
    for name in ["class StreamSettings", "class ZarrStream", "def append", "def set_log_level"]:
        assert name in stub


def test_readme_python_quick_start_runs_as_written(tmp_path):
    readme = (REPO / "README.md").read_text()
    start = readme.index("```python\nimport acquire_zarr as aqz")
    code = readme[start + len("```python\n"):readme.index("```", start + 10)]
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    import zarr
    a = zarr.open_array(str(tmp_path / "my_stream.zarr" / "0"), mode="r")
    assert a.shape == (10, 1080, 1920)
