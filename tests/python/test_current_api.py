"""acquire-zarr's current Python API (0.5-0.10) on our package: the classes,
streams of several arrays with keyed appends, skip, attributes, memory and
key helpers, ZARR_MAX_THREADS and the error hierarchy; every store read back
with zarr-python and TensorStore."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import tensorstore as ts
import zarr

import acquire_zarr as aqz
from streamkit import blosc, dims


def frame_dims(t=0, y=6, x=8, chunk_t=2):
    return dims(("t", t, chunk_t, 1), ("y", y, 4, 2), ("x", x, 4, 2))


def array_settings(key, dtype=np.uint16, **kwargs):
    kwargs.setdefault("dimensions", frame_dims())
    return aqz.ArraySettings(output_key=key, data_type=dtype, **kwargs)


def stream_settings(path, arrays=(), version=aqz.ZarrVersion.V3, **kwargs):
    return aqz.StreamSettings(store_path=str(path), arrays=list(arrays), version=version,
                              overwrite=True, max_threads=2, **kwargs)


def read_both(path, key):
    """The array at `key` read by zarr-python and by TensorStore, which must agree."""
    a = zarr.open_array(str(path / key), mode="r")[...]
    is_v2 = (path / key / ".zarray").exists()
    spec = {"driver": "zarr" if is_v2 else "zarr3",
            "kvstore": {"driver": "file", "path": str(path / key)}}
    b = ts.open(spec, open=True, read=True).result().read().result()
    np.testing.assert_array_equal(a, b)
    return a


# ---- the classes -----------------------------------------------------------


@pytest.mark.parametrize("cls", [aqz.ArraySettings, aqz.FieldOfView, aqz.Well, aqz.Acquisition,
                                 aqz.Plate, aqz.StreamSettings])
def test_every_new_class_refuses_an_unknown_keyword(cls):
    with pytest.raises(TypeError, match="colour"):
        cls(colour="red")


def test_array_settings_have_the_documented_defaults():
    a = aqz.ArraySettings()
    assert a.output_key is None and a.dimensions == [] and a.data_type == aqz.DataType.UINT8
    assert a.compression is None and a.downsampling_method is None and a.max_levels == 0
    assert a.storage_dimension_order is None and a.is_ngff is False
    p = aqz.Plate()
    assert (p.path, p.name, p.row_names, p.column_names, p.wells, p.acquisitions) == \
        ("", None, [], [], [], [])
    f = aqz.FieldOfView(path="0")
    assert f.acquisition_id is None and f.array_settings == aqz.ArraySettings()
    acq = aqz.Acquisition(id=2)
    assert (acq.name, acq.description, acq.start_time, acq.end_time) == (None,) * 4
    s = aqz.StreamSettings()
    assert s.arrays == [] and s.hcs_plates == [] and s.plates is s.hcs_plates


def test_reprs_name_the_fields_and_count_nested_lists():
    fov = aqz.FieldOfView(path="0", acquisition_id=1, array_settings=array_settings(None))
    well = aqz.Well(row_name="A", column_name="1", images=[fov, fov])
    plate = aqz.Plate(path="p", name="P", row_names=["A"], column_names=["1"], wells=[well])
    assert repr(fov) == "FieldOfView(path='0', acquisition_id=1)"
    assert repr(well) == "Well(row_name='A', column_name='1', images=2)"
    assert repr(plate) == ("Plate(path='p', name='P', row_names=['A'], column_names=['1'], "
                           "wells=1, acquisitions=0)")
    assert repr(aqz.Acquisition(id=3, name="n")) == \
        "Acquisition(id=3, name='n', description=None, start_time=None, end_time=None)"
    r = repr(array_settings("k", downsampling_method=aqz.DownsamplingMethod.MEAN))
    assert r.startswith("ArraySettings(output_key='k', dimensions=[Dimension(name='t'")
    assert "downsampling_method=<DownsamplingMethod.MEAN: 1>" in r and "is_ngff=True" in r
    assert "hcs_plates=[Plate(path='p'" in repr(aqz.StreamSettings(plates=[plate]))


def test_plates_is_an_alias_of_hcs_plates():
    p = aqz.Plate(path="p")
    s = aqz.StreamSettings(plates=[p])
    assert s.hcs_plates == [p] and s.plates is s.hcs_plates
    s.plates = []
    assert s.hcs_plates == []
    with pytest.raises(TypeError, match="both hcs_plates= and plates="):
        aqz.StreamSettings(plates=[p], hcs_plates=[p])


def test_is_ngff_reads_true_while_a_downsampling_method_is_set():
    a = aqz.ArraySettings()
    a.downsampling_method = aqz.DownsamplingMethod.MEAN
    assert a.is_ngff
    a.is_ngff = False
    assert a.is_ngff  # still implied by the method
    a.downsampling_method = None
    assert not a.is_ngff  # the value last asked for
    a.is_ngff = True
    assert a.is_ngff


def test_new_settings_values_are_checked_when_set():
    with pytest.raises(TypeError, match="ArraySettings.max_levels must be an integer"):
        aqz.ArraySettings(max_levels="2")
    with pytest.raises(aqz.InvalidSettingsError, match="Acquisition.start_time is -1"):
        aqz.Acquisition(start_time=-1)
    with pytest.raises(TypeError, match="FieldOfView.array_settings must be ArraySettings"):
        aqz.FieldOfView(array_settings={})
    with pytest.raises(TypeError, match=r"storage_dimension_order\[1\] must be a dimension name"):
        aqz.ArraySettings(storage_dimension_order=["t", 1.5])
    assert aqz.ArraySettings(data_type="float32").data_type == aqz.DataType.FLOAT32


def test_lists_are_live_down_to_the_dimensions(tmp_path):
    s = stream_settings(tmp_path / "s.zarr")
    s.arrays.append(array_settings("a", dimensions=[]))
    s.arrays[0].dimensions.extend(frame_dims())
    s.arrays[0].dimensions[1].array_size_px = 5
    assert s.get_array_keys() == ["a"]
    with aqz.ZarrStream(s) as stream:
        stream.append(np.ones((5, 8), np.uint16), key="a")
    assert read_both(tmp_path / "s.zarr", "a").shape == (1, 5, 8)


def test_every_library_error_is_a_zarr_error_and_a_runtime_error():
    for cls, builtin in [(aqz.InvalidSettingsError, ValueError),
                         (aqz.InvalidArgumentError, ValueError),
                         (aqz.OverflowWriteError, ValueError), (aqz.ArrayKeyError, KeyError),
                         (aqz.StorageError, OSError), (aqz.WillNotOverwriteError, FileExistsError),
                         (aqz.NotYetImplementedError, NotImplementedError),
                         (aqz.ZarrMemoryError, MemoryError)]:
        assert issubclass(cls, builtin) and issubclass(cls, aqz.ZarrError), cls
    assert issubclass(aqz.ZarrError, RuntimeError)


# ---- streams of several arrays --------------------------------------------


@pytest.mark.parametrize("version", [aqz.ZarrVersion.V2, aqz.ZarrVersion.V3])
def test_interleaved_appends_to_several_arrays_read_back(tmp_path, version):
    rng = np.random.default_rng(7)
    data = {"pos0": rng.integers(0, 65535, (7, 6, 8), dtype=np.uint16),
            "pos1": rng.integers(0, 65535, (5, 6, 8), dtype=np.uint16),
            "deep/pos2": rng.integers(-128, 127, (9, 6, 8), dtype=np.int8)}
    arrays = [array_settings("pos0", compression=blosc()), array_settings("pos1"),
              array_settings("deep/pos2", dtype=np.int8, compression=blosc("zstd"))]
    path = tmp_path / "s.zarr"
    with aqz.ZarrStream(stream_settings(path, arrays, version)) as stream:
        # Round robin, in pieces that split frames: each array keeps its own place.
        sent = {k: 0 for k in data}
        while any(sent[k] < v.size for k, v in data.items()):
            for key, frames in data.items():
                flat = frames.reshape(-1)
                piece = flat[sent[key]:sent[key] + 29]
                if piece.size:
                    stream.append(piece, key=key)
                    sent[key] += piece.size
    for key, frames in data.items():
        np.testing.assert_array_equal(read_both(path, key), frames)


def test_a_stream_of_one_array_appends_without_a_key(tmp_path):
    path = tmp_path / "s.zarr"
    with aqz.ZarrStream(stream_settings(path, [array_settings("only")])) as stream:
        stream.append(np.full((2, 6, 8), 3, np.uint16))
        stream.append(np.full((6, 8), 4, np.uint16), key="only")
    assert read_both(path, "only")[:, 0, 0].tolist() == [3, 3, 4]


def test_an_unknown_key_raises_key_error_naming_the_keys(tmp_path):
    path = tmp_path / "s.zarr"
    with aqz.ZarrStream(stream_settings(path, [array_settings("a"), array_settings("b")])) as st:
        with pytest.raises(aqz.ArrayKeyError) as info:
            st.append(np.zeros((6, 8), np.uint16), key="c")
        assert isinstance(info.value, KeyError) and isinstance(info.value, RuntimeError)
        assert "'c'" in str(info.value) and "'a', 'b'" in str(info.value)
        with pytest.raises(KeyError, match="names one"):
            st.append(np.zeros((6, 8), np.uint16))
        with pytest.raises(KeyError):
            st.skip(16, key="c")
        st.append(np.ones((6, 8), np.uint16), key="b")
    assert read_both(path, "b").shape == (1, 6, 8) and read_both(path, "a").shape == (0, 6, 8)


def test_a_wrong_dtype_for_the_key_is_a_type_error(tmp_path):
    arrays = [array_settings("a"), array_settings("b", dtype=np.float32)]
    with aqz.ZarrStream(stream_settings(tmp_path / "s.zarr", arrays)) as st:
        st.append(np.zeros((6, 8), np.float32), key="b")
        with pytest.raises(TypeError, match="the array 'a' writes uint16"):
            st.append(np.zeros((6, 8), np.float32), key="a")


def test_a_bounded_array_refuses_an_overflowing_append_whole(tmp_path):
    path = tmp_path / "s.zarr"
    arrays = [array_settings("a", dimensions=frame_dims(t=3)), array_settings("b")]
    with aqz.ZarrStream(stream_settings(path, arrays)) as st:
        st.append(np.full((2, 6, 8), 1, np.uint16), key="a")
        with pytest.raises(aqz.OverflowWriteError, match="refused whole") as info:
            st.append(np.full((2, 6, 8), 2, np.uint16), key="a")
        assert isinstance(info.value, ValueError) and isinstance(info.value, RuntimeError)
        st.append(np.full((6, 8), 3, np.uint16), key="a")  # what fits still goes in
        with pytest.raises(aqz.OverflowWriteError):
            st.append(np.full((1,), 4, np.uint16), key="a")
        st.append(np.full((6, 8), 5, np.uint16), key="b")  # other arrays carry on
    assert read_both(path, "a")[:, 0, 0].tolist() == [1, 1, 3]
    assert read_both(path, "b")[:, 0, 0].tolist() == [5]


@pytest.mark.parametrize("version", [aqz.ZarrVersion.V2, aqz.ZarrVersion.V3])
def test_skip_appends_zeros_without_a_buffer(tmp_path, version):
    path = tmp_path / "s.zarr"
    frame = 6 * 8 * 2
    arrays = [array_settings("a", compression=blosc()), array_settings("b")]
    with aqz.ZarrStream(stream_settings(path, arrays, version)) as st:
        st.append(np.full((6, 8), 9, np.uint16), key="a")
        st.skip(2 * frame, key="a")
        st.append(np.full((6, 8), 9, np.uint16), key="a")
        st.skip(frame // 2, key="b")  # half a frame of zeros, the rest from data
        st.append(np.full((3, 8), 7, np.uint16), key="b")
        st.skip(0, key="b")
    assert read_both(path, "a")[:, 0, 0].tolist() == [9, 0, 0, 9]
    b = read_both(path, "b")
    assert b.shape == (1, 6, 8) and (b[0, :3] == 0).all() and (b[0, 3:] == 7).all()


def test_skip_on_a_seed_era_stream_appends_zeros(tmp_path):
    s = aqz.StreamSettings(store_path=str(tmp_path / "s.zarr"), dimensions=frame_dims(),
                           data_type=np.uint16, overwrite=True)
    with aqz.ZarrStream(s) as st:
        st.skip(6 * 8 * 2)
        st.append(np.full((6, 8), 2, np.uint16))
    assert read_both(tmp_path / "s.zarr", "0")[:, 0, 0].tolist() == [0, 2]


def test_write_custom_metadata_writes_attributes_on_array_streams(tmp_path):
    path = tmp_path / "s.zarr"
    arrays = [array_settings("a"), array_settings("grp/b", is_ngff=True)]
    with aqz.ZarrStream(stream_settings(path, arrays)) as st:
        assert st.write_custom_metadata('{"operator": "me"}') is True
        assert st.write_custom_metadata({"operator": "you", "n": 2}) is True
        assert st.write_custom_metadata({"exposure_ms": 10}, metadata_key="camera") is True
        assert st.write_custom_metadata({"stage": [1, 2]}, array_key="a") is True
        assert st.write_custom_metadata({"k": 1}, array_key="grp/b", metadata_key="extra")
        with pytest.raises(aqz.InvalidArgumentError, match="ome"):
            st.write_custom_metadata({"ome": {}})
        with pytest.raises(ValueError, match="JSON object"):
            st.write_custom_metadata("[1, 2]")
        with pytest.raises(aqz.ArrayKeyError, match="'nope'"):
            st.write_custom_metadata({}, array_key="nope")
        # Written at once, not at close.
        assert zarr.open_group(str(path), mode="r").attrs["camera"] == {"exposure_ms": 10}
    root = zarr.open_group(str(path), mode="r").attrs.asdict()
    assert root == {"operator": "you", "n": 2, "camera": {"exposure_ms": 10}}
    assert zarr.open_array(str(path / "a"), mode="r").attrs["stage"] == [1, 2]
    b = zarr.open_group(str(path / "grp" / "b"), mode="r").attrs.asdict()
    assert b["extra"] == {"k": 1} and "multiscales" in b["ome"]
    assert not (path / "acquire.json").exists()


def test_write_custom_metadata_on_a_seed_era_stream_writes_acquire_json(tmp_path):
    path = tmp_path / "s.zarr"
    s = aqz.StreamSettings(store_path=str(path), dimensions=frame_dims(), overwrite=True)
    with aqz.ZarrStream(s) as st:
        assert st.write_custom_metadata({"a": 1}) is True
        assert st.write_custom_metadata('{"a": 2}') is False  # kept, overwrite False
        assert st.write_custom_metadata('{"a": 3}', True) is True
        # A keyword selects the attributes instead.
        assert st.write_custom_metadata({"b": 4}, metadata_key="more") is True
    assert json.loads((path / "acquire.json").read_text()) == {"a": 3}
    assert zarr.open_group(str(path), mode="r").attrs["more"] == {"b": 4}


def test_get_array_keys_lists_arrays_and_fields_of_view():
    fov = aqz.FieldOfView(path="0", array_settings=aqz.ArraySettings(dimensions=frame_dims()))
    plate = aqz.Plate(path="plate", row_names=["A"], column_names=["1"],
                      wells=[aqz.Well(row_name="A", column_name="1", images=[fov])])
    s = aqz.StreamSettings(store_path="x.zarr", arrays=[array_settings("a/b"),
                                                        array_settings("c")], plates=[plate])
    assert sorted(s.get_array_keys()) == ["a/b", "c", "plate/A/1/0"]
    seed = aqz.StreamSettings(store_path="x.zarr", dimensions=frame_dims(), output_key="k")
    assert seed.get_array_keys() == ["k"]


def test_memory_figures_are_positive_and_the_estimate_bounds_the_usage(tmp_path):
    s = stream_settings(tmp_path / "s.zarr", [array_settings("a"), array_settings("b")])
    estimate = s.get_maximum_memory_usage()
    assert isinstance(estimate, int) and estimate > 0
    with aqz.ZarrStream(s) as st:
        st.append(np.ones((3, 6, 8), np.uint16), key="a")
        usage = st.get_current_memory_usage()
        assert isinstance(usage, int) and 0 < usage <= estimate
    with pytest.raises(aqz.ZarrError, match="closed"):
        st.get_current_memory_usage()


def threads_of_a_stream(tmp_path, monkeypatch, env):
    monkeypatch.setenv("ZARR_MAX_THREADS", env)
    before = len(os.listdir("/proc/self/task"))
    s = stream_settings(tmp_path / f"s{env}.zarr", [array_settings("a")])
    s.max_threads = 0
    with aqz.ZarrStream(s) as st:
        st.append(np.ones((4, 6, 8), np.uint16), key="a")
        return len(os.listdir("/proc/self/task")) - before


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts threads in /proc")
def test_max_threads_0_takes_zarr_max_threads_from_the_environment(tmp_path, monkeypatch):
    assert threads_of_a_stream(tmp_path, monkeypatch, "1") < \
        threads_of_a_stream(tmp_path, monkeypatch, "6")


def test_a_bad_zarr_max_threads_is_refused_naming_the_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("ZARR_MAX_THREADS", "many")
    s = stream_settings(tmp_path / "s.zarr", [array_settings("a")])
    s.max_threads = 0
    with pytest.raises(aqz.InvalidSettingsError, match="ZARR_MAX_THREADS is 'many'"):
        aqz.ZarrStream(s)
    s.max_threads = 2  # the variable only stands in for 0
    aqz.ZarrStream(s).close()


def test_default_max_threads_is_the_core_count_and_0_is_kept():
    assert aqz.StreamSettings().max_threads == (os.cpu_count() or 1)
    assert aqz.StreamSettings(max_threads=0).max_threads == 0


# ---- what each array becomes ----------------------------------------------


def test_ngff_flags_choose_plain_array_single_level_image_or_pyramid(tmp_path):
    from ome_zarr_models.v05.image import Image

    path = tmp_path / "s.zarr"
    arrays = [array_settings("plain"), array_settings("image", is_ngff=True),
              array_settings("pyramid", dimensions=frame_dims(y=16, x=16),
                             downsampling_method=aqz.DownsamplingMethod.MEAN)]
    with aqz.ZarrStream(stream_settings(path, arrays)) as st:
        st.append(np.ones((2, 6, 8), np.uint16), key="plain")
        st.append(np.ones((2, 6, 8), np.uint16), key="image")
        st.append(np.ones((2, 16, 16), np.uint16), key="pyramid")
    assert zarr.open(str(path / "plain"), mode="r").shape == (2, 6, 8)
    image = Image.from_zarr(zarr.open_group(str(path / "image"), mode="r"))
    assert [d.path for d in image.ome_attributes.multiscales[0].datasets] == ["0"]
    pyramid = Image.from_zarr(zarr.open_group(str(path / "pyramid"), mode="r"))
    assert len(pyramid.ome_attributes.multiscales[0].datasets) > 1
    assert read_both(path, "pyramid/0").shape == (2, 16, 16)


def test_max_levels_caps_the_pyramid(tmp_path):
    path = tmp_path / "s.zarr"
    arrays = [array_settings("p", dimensions=frame_dims(y=64, x=64), max_levels=1,
                             downsampling_method=aqz.DownsamplingMethod.MAX)]
    with aqz.ZarrStream(stream_settings(path, arrays)) as st:
        st.append(np.ones((2, 64, 64), np.uint16), key="p")
    group = zarr.open_group(str(path / "p"), mode="r")
    assert sorted(group.array_keys()) == ["0", "1"]
    assert read_both(path, "p/1").shape == (2, 32, 32)


def test_storage_dimension_order_names_are_checked_before_the_library(tmp_path):
    bad = array_settings("a", storage_dimension_order=["t", "x", "q"])
    with pytest.raises(aqz.InvalidSettingsError,
                       match=r"arrays\[0\].storage_dimension_order\[2\] is 'q'"):
        aqz.ZarrStream(stream_settings(tmp_path / "s.zarr", [bad]))
    short = array_settings("a", storage_dimension_order=["t", "x"])
    with pytest.raises(aqz.InvalidSettingsError, match="each of the 3 dimensions"):
        aqz.ZarrStream(stream_settings(tmp_path / "s.zarr", [short]))


def test_arrays_together_with_seed_era_dimensions_are_refused_naming_both(tmp_path):
    s = stream_settings(tmp_path / "s.zarr", [array_settings("a")], dimensions=frame_dims())
    with pytest.raises(aqz.InvalidSettingsError, match="arrays.*dimensions"):
        aqz.ZarrStream(s)


def test_duplicate_keys_are_refused_naming_both_arrays(tmp_path):
    s = stream_settings(tmp_path / "s.zarr", [array_settings("a"), array_settings("/a/")])
    with pytest.raises(aqz.InvalidSettingsError, match=r"arrays\[0\].*arrays\[1\]"):
        aqz.ZarrStream(s)


def test_a_non_array_in_the_lists_is_a_type_error_naming_the_place(tmp_path):
    s = stream_settings(tmp_path / "s.zarr", [array_settings("a")])
    s.arrays.append("b")
    with pytest.raises(TypeError, match=r"arrays\[1\] must be ArraySettings"):
        aqz.ZarrStream(s)


@pytest.mark.parametrize("version", [aqz.ZarrVersion.V2, aqz.ZarrVersion.V3])
def test_storage_dimension_order_by_name_stores_the_array_transposed(tmp_path, version):
    path = tmp_path / "s.zarr"
    d = dims(("t", 0, 2, 1), ("c", 3, 1, 1), ("z", 4, 2, 1), ("y", 6, 4, 2), ("x", 8, 4, 2))
    arrays = [array_settings("moved", dimensions=d, storage_dimension_order=["t", "z", "c", "x", "y"])]
    rng = np.random.default_rng(5)
    frames = rng.integers(0, 65535, (2 * 12, 6, 8), dtype=np.uint16)
    with aqz.ZarrStream(stream_settings(path, arrays, version)) as st:
        st.append(frames, key="moved")
    expected = frames.reshape(2, 3, 4, 6, 8).transpose(0, 2, 1, 4, 3)
    np.testing.assert_array_equal(read_both(path, "moved"), expected)


def test_a_two_dimensional_array_holds_one_frame(tmp_path):
    path = tmp_path / "s.zarr"
    arrays = [array_settings("image", dimensions=dims(("y", 6, 4, 2), ("x", 8, 4, 2)))]
    frame = np.arange(48, dtype=np.uint16).reshape(6, 8)
    with aqz.ZarrStream(stream_settings(path, arrays)) as st:
        st.append(frame[:2], key="image")  # a frame may come in pieces
        st.append(frame[2:], key="image")
        with pytest.raises(aqz.OverflowWriteError):
            st.append(frame, key="image")
    np.testing.assert_array_equal(read_both(path, "image"), frame)


def test_compressor_none_with_a_codec_is_uncompressed_on_array_streams(tmp_path):
    path = tmp_path / "s.zarr"
    none = aqz.CompressionSettings(compressor=aqz.Compressor.NONE,
                                   codec=aqz.CompressionCodec.BLOSC_LZ4, level=5)
    with aqz.ZarrStream(stream_settings(path, [array_settings("a", compression=none)])) as st:
        st.append(np.full((2, 6, 8), 6, np.uint16), key="a")
    assert (read_both(path, "a") == 6).all()
    codecs = json.loads((path / "a" / "zarr.json").read_text())["codecs"][0]["configuration"]
    assert [c["name"] for c in codecs["codecs"]] == ["bytes"]
