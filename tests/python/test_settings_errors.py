"""Every invalid setting is refused at creation with a message that names the
field and the value; nothing is created for a refused stream."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

import acquire_zarr as aqz
from streamkit import dims, settings

GOOD = lambda: dims(("t", 0, 2, 1), ("y", 8, 4, 1), ("x", 8, 4, 1))  # noqa: E731


def refused(s: aqz.StreamSettings, *patterns: str, exc=ValueError) -> None:
    with pytest.raises(exc) as info:
        aqz.ZarrStream(s)
    text = str(info.value)
    for p in patterns:
        assert p in text, f"{p!r} not in {text!r}"


def test_empty_store_path_is_refused(tmp_path):
    refused(aqz.StreamSettings(store_path="", dimensions=GOOD()), "store_path", "empty")


def test_too_few_dimensions_are_refused(tmp_path):
    refused(settings(tmp_path / "s.zarr", GOOD()[1:]), "dimension_count is 2")


def test_empty_dimension_name_is_refused(tmp_path):
    d = GOOD()
    d[1].name = ""
    refused(settings(tmp_path / "s.zarr", d), "dimensions[1].name", "''")


def test_duplicate_dimension_names_are_refused(tmp_path):
    d = GOOD()
    d[2].name = "y"
    refused(settings(tmp_path / "s.zarr", d), "dimensions[2].name 'y'", "unique")


@pytest.mark.parametrize("index", [0, 1, 2])
def test_zero_chunk_size_is_refused(tmp_path, index):
    d = GOOD()
    d[index].chunk_size_px = 0
    refused(settings(tmp_path / "s.zarr", d), f"dimensions[{index}].chunk_size_px is 0")


@pytest.mark.parametrize("index", [1, 2])
def test_zero_size_outside_the_append_dimension_is_refused(tmp_path, index):
    d = GOOD()
    d[index].array_size_px = 0
    refused(settings(tmp_path / "s.zarr", d), f"dimensions[{index}].array_size_px is 0")


def test_zero_size_on_a_middle_dimension_of_5d_is_refused(tmp_path):
    d = dims(("t", 0, 1, 1), ("c", 0, 1, 1), ("z", 4, 1, 1), ("y", 8, 4, 1), ("x", 8, 4, 1))
    refused(settings(tmp_path / "s.zarr", d), "dimensions[1].array_size_px is 0", "'c'")


@pytest.mark.parametrize("field,value", [
    ("data_type", 10), ("version", 4), ("downsampling_method", 7)])
def test_out_of_range_enums_are_refused_in_python(tmp_path, field, value):
    with pytest.raises(ValueError, match=f"{field} is {value}"):
        aqz.StreamSettings(store_path=str(tmp_path / "s.zarr"), dimensions=GOOD(), **{field: value})


def test_out_of_range_dimension_kind_is_refused(tmp_path):
    with pytest.raises(ValueError, match="Dimension.kind is 9"):
        aqz.Dimension(name="t", kind=9, array_size_px=0, chunk_size_px=1)


def test_compressor_without_codec_is_refused(tmp_path):
    c = aqz.CompressionSettings(compressor=aqz.Compressor.BLOSC1, codec=aqz.CompressionCodec.NONE)
    refused(settings(tmp_path / "s.zarr", GOOD(), compression=c), "compression_settings.codec is None")


def test_codec_without_compressor_is_refused(tmp_path):
    c = aqz.CompressionSettings(compressor=aqz.Compressor.NONE, codec=aqz.CompressionCodec.BLOSC_ZSTD)
    refused(settings(tmp_path / "s.zarr", GOOD(), compression=c),
            "compression_settings.compressor is None", "codec is 2")


def test_level_above_9_is_refused(tmp_path):
    c = aqz.CompressionSettings(compressor=aqz.Compressor.BLOSC1, codec=aqz.CompressionCodec.BLOSC_LZ4, level=10)
    refused(settings(tmp_path / "s.zarr", GOOD(), compression=c), "compression_settings.level is 10")


def test_shuffle_above_2_is_refused(tmp_path):
    c = aqz.CompressionSettings(compressor=aqz.Compressor.BLOSC1, codec=aqz.CompressionCodec.BLOSC_LZ4, shuffle=3)
    refused(settings(tmp_path / "s.zarr", GOOD(), compression=c), "compression_settings.shuffle is 3")


def test_zstd_alone_refuses_a_shuffle_naming_the_field(tmp_path):
    c = aqz.CompressionSettings(compressor=aqz.Compressor.ZSTD, codec=aqz.CompressionCodec.ZSTD, shuffle=1)
    refused(settings(tmp_path / "s.zarr", GOOD(), compression=c),
            "compression_settings.shuffle is 1: must be 0 (Zstd does not shuffle)")


def test_zstd_alone_refuses_a_level_above_22_naming_the_field(tmp_path):
    c = aqz.CompressionSettings(compressor=aqz.Compressor.ZSTD, codec=aqz.CompressionCodec.ZSTD, level=23)
    refused(settings(tmp_path / "s.zarr", GOOD(), compression=c),
            "compression_settings.level is 23: must be 0..22")


@pytest.mark.parametrize("compressor,codec,text", [
    (aqz.Compressor.ZSTD, aqz.CompressionCodec.BLOSC_ZSTD, "codec is 2 but compressor is Zstd: choose Zstd"),
    (aqz.Compressor.BLOSC1, aqz.CompressionCodec.ZSTD,
     "codec is 3 but compressor is Blosc1: choose BloscLZ4 or BloscZstd"),
    (aqz.Compressor.NONE, aqz.CompressionCodec.ZSTD, "set compressor to Zstd or codec to None")])
def test_zstd_alone_refuses_mixing_with_blosc(tmp_path, compressor, codec, text):
    c = aqz.CompressionSettings(compressor=compressor, codec=codec)
    refused(settings(tmp_path / "s.zarr", GOOD(), compression=c), "compression_settings.", text)


@pytest.mark.parametrize("key,segment", [
    ("..", ".."), ("a/../b", ".."), ("./a", "."), ("a/__meta", "__meta"),
    ("zarr.json", "zarr.json"), ("a/.zarray", ".zarray")])
def test_invalid_output_keys_are_refused(tmp_path, key, segment):
    refused(settings(tmp_path / "s.zarr", GOOD(), output_key=key), f"output_key '{key}'", f"'{segment}'")
    assert not (tmp_path / "s.zarr" / "b").exists()


def test_output_key_slashes_are_normalised(tmp_path):
    with aqz.ZarrStream(settings(tmp_path / "s.zarr", GOOD(), output_key="/a//b/")) as st:
        st.append(np.zeros((8, 8), np.uint16))
    assert (tmp_path / "s.zarr" / "a" / "b" / "zarr.json").is_file()


def test_store_path_that_is_a_file_is_refused_and_kept(tmp_path):
    f = tmp_path / "file.zarr"
    f.write_text("not a directory")
    refused(settings(f, GOOD()), "store_path", str(f), "not a directory")
    assert f.read_text() == "not a directory"


def test_store_path_under_a_file_is_unwritable(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    refused(settings(f / "s.zarr", GOOD()), "store_path", str(f / "s.zarr"))


def test_store_path_in_proc_is_unwritable():
    refused(aqz.StreamSettings(store_path="/proc/acquire-zarr-test.zarr", dimensions=GOOD()),
            "store_path '/proc/acquire-zarr-test.zarr'")


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write into a read-only directory")
def test_store_path_in_read_only_directory_is_refused(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir(mode=0o500)
    refused(settings(ro / "s.zarr", GOOD()), "store_path", "Permission denied")


def test_absurd_chunk_count_is_refused_quickly(tmp_path):
    d = dims(("t", 0, 1, 1), ("y", 65536, 1, 1), ("x", 65536, 1, 1))
    refused(settings(tmp_path / "s.zarr", d), "chunk_size_px", "open at once")
    assert not (tmp_path / "s.zarr").exists()


def test_absurd_chunk_bytes_are_refused(tmp_path):
    d = dims(("t", 0, 1000, 1), ("y", 100000, 100000, 1), ("x", 100000, 100000, 1))
    refused(settings(tmp_path / "s.zarr", d), "chunk_size_px", "limit")


def test_slab_larger_than_memory_is_refused(tmp_path):
    d = dims(("t", 0, 4000, 1), ("y", 16384, 256, 1), ("x", 16384, 256, 1))
    refused(settings(tmp_path / "s.zarr", d), "of memory", "'t'")


def test_negative_scale_is_refused(tmp_path):
    d = GOOD()
    d[2].scale = -0.5
    refused(settings(tmp_path / "s.zarr", d), "dimensions[2].scale is -0.5")


def test_custom_metadata_must_be_an_object():
    with pytest.raises(ValueError, match="not a JSON object"):
        aqz.StreamSettings(custom_metadata="[1]")
    with pytest.raises(ValueError, match="'ome'"):
        aqz.StreamSettings(custom_metadata='{"ome": {}}')


def s3_refused(tmp_path, patterns, store_path="exp/run.zarr", **s3):
    s3 = {"endpoint": "http://127.0.0.1:9", "bucket_name": "good-bucket", **s3}
    s = settings(tmp_path / "s.zarr", GOOD(), s3=aqz.S3Settings(**s3))
    s.store_path = store_path
    refused(s, *patterns)


@pytest.mark.parametrize("s3, patterns", [
    ({"endpoint": ""}, ["s3_settings.endpoint", "''"]),
    ({"endpoint": "ftp://example.com"}, ["s3_settings.endpoint", "'ftp://example.com'", "http"]),
    ({"endpoint": "http://host:99999"}, ["s3_settings.endpoint", "port"]),
    ({"endpoint": "http://host/path"}, ["s3_settings.endpoint", "no path"]),
    ({"bucket_name": "ab"}, ["s3_settings.bucket_name", "'ab'"]),
    ({"bucket_name": "Upper-Case"}, ["s3_settings.bucket_name", "'Upper-Case'"]),
    ({"bucket_name": "-starts-with-dash"}, ["s3_settings.bucket_name"]),
    ({"region": "US East"}, ["s3_settings.region", "'US East'"]),
])
def test_bad_s3_settings_name_the_field(tmp_path, s3, patterns):
    # Refused before any connection is attempted (nothing listens on port 9).
    s3_refused(tmp_path, patterns, **s3)


@pytest.mark.parametrize("store_path, pattern", [
    ("", "empty"), ("/", "empty"), ("a/../b", "'..'"), ("./a", "'.'"),
])
def test_bad_s3_prefix_is_refused(tmp_path, store_path, pattern):
    s3_refused(tmp_path, ["store_path", pattern], store_path=store_path)


def test_unknown_keyword_is_a_type_error():
    with pytest.raises(TypeError, match="colour"):
        aqz.StreamSettings(colour="red")
    with pytest.raises(TypeError, match="sizes"):
        aqz.Dimension(name="t", sizes=3)


def test_wrong_types_are_type_errors():
    with pytest.raises(TypeError, match="chunk_size_px"):
        aqz.Dimension(name="t", chunk_size_px="4")
    with pytest.raises(TypeError, match="compression"):
        aqz.StreamSettings(compression="lz4")
    with pytest.raises(TypeError, match="data_type"):
        aqz.StreamSettings(data_type=object())


def test_wrong_dtype_append_is_a_type_error(tmp_path):
    with aqz.ZarrStream(settings(tmp_path / "s.zarr", GOOD())) as st:
        with pytest.raises(TypeError, match="float32.*uint16"):
            st.append(np.zeros((8, 8), np.float32))
        st.append(np.ones((8, 8), np.uint16))
    import zarr
    assert zarr.open_array(str(tmp_path / "s.zarr" / "0"), mode="r").shape == (1, 8, 8)


@pytest.mark.parametrize("target", ["root", "home", "home-parent", "cwd", "cwd-parent"])
def test_overwrite_refuses_dangerous_directories(tmp_path, monkeypatch, target):
    home = tmp_path / "home" / "user"
    work = tmp_path / "work" / "here"
    for d in (home, work):
        d.mkdir(parents=True)
        (d / "precious.txt").write_text("keep")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)
    path = {"root": "/", "home": str(home), "home-parent": str(home.parent),
            "cwd": ".", "cwd-parent": ".."}[target]
    s = settings(tmp_path / "unused", GOOD(), overwrite=True)
    s.store_path = path
    refused(s, "refusing to overwrite")
    assert (home / "precious.txt").read_text() == "keep"
    assert (work / "precious.txt").read_text() == "keep"


def test_overwrite_of_a_store_inside_the_working_directory_is_fine(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "run.zarr").mkdir()
    (tmp_path / "run.zarr" / "old").write_text("x")
    s = settings(tmp_path / "unused", GOOD(), overwrite=True)
    s.store_path = "run.zarr"
    aqz.ZarrStream(s).close()
    assert not (tmp_path / "run.zarr" / "old").exists()


@pytest.mark.parametrize("key", ["../escape", "a/../../b", "a/./b"])
def test_output_key_cannot_escape_the_store(tmp_path, key):
    s = settings(tmp_path / "s.zarr", GOOD(), output_key=key)
    refused(s, "output_key")
    assert not (tmp_path / "escape").exists() and not (tmp_path / "b").exists()


def test_absolute_output_key_stays_inside_the_store(tmp_path):
    s = settings(tmp_path / "s.zarr", GOOD(), output_key="/abs/key")
    aqz.ZarrStream(s).close()
    assert (tmp_path / "s.zarr" / "abs" / "key").is_dir()
    assert not __import__("os").path.exists("/abs/key")
