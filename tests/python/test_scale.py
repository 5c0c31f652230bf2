"""At scale: 200 arrays in one stream (a 96-well plate with two fields of
view per well, and 8 flat arrays beside it), fed in a random interleaving of
whole and partial frames, each read back against its own input."""

from __future__ import annotations

import numpy as np
import pytest
import zarr

import acquire_zarr as aqz
from streamkit import dims

ROWS = "ABCDEFGH"
COLUMNS = [str(c) for c in range(1, 13)]
H, W = 24, 20


def array_settings(**kwargs):
    return aqz.ArraySettings(dimensions=dims(("t", 0, 2, 1), ("y", H, 16, 2), ("x", W, 16, 2)),
                             data_type=np.uint16, **kwargs)


@pytest.mark.parametrize("version", [aqz.ZarrVersion.V2, aqz.ZarrVersion.V3], ids=["v2", "v3"])
def test_200_arrays_interleaved_in_random_order_read_back(tmp_path, version):
    wells = [aqz.Well(row_name=r, column_name=c,
                      images=[aqz.FieldOfView(path=str(f), acquisition_id=0,
                                              array_settings=array_settings())
                              for f in range(2)])
             for r in ROWS for c in COLUMNS]
    plate = aqz.Plate(path="plate", name="scale", row_names=list(ROWS), column_names=COLUMNS,
                      wells=wells, acquisitions=[aqz.Acquisition(id=0, name="only")])
    flat = [array_settings(output_key=f"flat/{i}") for i in range(8)]
    store = tmp_path / "scale.zarr"
    settings = aqz.StreamSettings(store_path=str(store), version=version, overwrite=True,
                                  max_threads=2, arrays=flat, hcs_plates=[plate])
    keys = settings.get_array_keys()
    assert len(keys) == 200 and len(set(keys)) == 200

    rng = np.random.default_rng(200)
    frames = {k: rng.integers(0, 65536, (int(rng.integers(1, 6)), H, W), dtype=np.uint16)
              for k in keys}
    # Each array's bytes in pieces (whole frames, half frames, several
    # frames at once), the pieces of all arrays shuffled together while
    # keeping each array's own order.
    pieces = []
    for key, data in frames.items():
        pixels = data.reshape(-1)
        cuts = np.sort(rng.choice(np.arange(1, pixels.size), size=3, replace=False))
        pieces.append([(key, part) for part in np.split(pixels, cuts)])
    order = rng.permutation(np.concatenate([[i] * len(p) for i, p in enumerate(pieces)]))
    with aqz.ZarrStream(settings) as stream:
        for i in order:
            key, part = pieces[i].pop(0)
            stream.append(part, key=key)
    for key, data in frames.items():
        # A field of view is an image group (level "0"); a flat array a node.
        node = store / key / "0" if key.startswith("plate/") else store / key
        got = zarr.open_array(str(node), mode="r")[...]
        np.testing.assert_array_equal(got, data, err_msg=key)


def test_many_large_arrays_share_one_prefill_at_creation(tmp_path):
    """16 arrays of 2048 x 2048 uint16 frames, LZ4 plane by plane: each array
    alone would fault in up to 256 MiB of buffers at creation; together they
    share that much, so creating the stream costs what creating one does
    (a 96-well plate of such arrays would otherwise touch 24 GiB up front)."""
    def large(key):
        return aqz.ArraySettings(
            output_key=key, data_type=np.uint16,
            compression=aqz.CompressionSettings(compressor=aqz.Compressor.BLOSC1,
                                                codec=aqz.CompressionCodec.BLOSC_LZ4,
                                                level=1, shuffle=1),
            dimensions=dims(("t", 0, 32, 1), ("y", 2048, 256, 8), ("x", 2048, 256, 8)))

    def created_bytes(n):
        settings = aqz.StreamSettings(store_path=str(tmp_path / f"{n}.zarr"), overwrite=True,
                                      max_threads=2, arrays=[large(f"a{i}") for i in range(n)])
        stream = aqz.ZarrStream(settings)
        try:
            return stream.get_current_memory_usage()
        finally:
            stream.close()

    one, sixteen = created_bytes(1), created_bytes(16)
    assert one > 64 << 20  # one array prefills its first chunks' buffers
    # Sixteen arrays' buffers at creation: one prefill's worth, plus at most
    # 16 MiB that each array holds whatever its share (its frame staging).
    # Each prefilling alone made it 2.8 GiB.
    assert sixteen < one + 16 * (16 << 20), (one >> 20, sixteen >> 20)
