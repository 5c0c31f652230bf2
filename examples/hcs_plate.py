"""An OME-NGFF high-content-screening plate (acquire-zarr's current API): a
2 x 3 plate of which 3 wells are imaged, 2 fields of view in well A/1 and
one in the others, one acquisition; each field of view is a z-stack of
2 channels.

Writes hcs_plate.zarr:
    experiment/                 the plate group (attributes.ome.plate)
    experiment/A/1/             a well group (attributes.ome.well)
    experiment/A/1/fov0/0       a field of view: an OME-NGFF image group, level 0
Each field of view is an array whose key is its path: "experiment/A/1/fov0".
"""

import acquire_zarr as aqz
import numpy as np

CHANNELS, PLANES, HEIGHT, WIDTH = 2, 3, 256, 256


def field_of_view(path: str) -> aqz.FieldOfView:
    return aqz.FieldOfView(
        path=path,
        acquisition_id=0,
        array_settings=aqz.ArraySettings(  # no output_key: the key is the plate path
            data_type=aqz.DataType.UINT16,
            dimensions=[
                aqz.Dimension(name="c", kind=aqz.DimensionType.CHANNEL, array_size_px=CHANNELS,
                              chunk_size_px=1, shard_size_chunks=1),
                aqz.Dimension(name="z", kind=aqz.DimensionType.SPACE, array_size_px=PLANES,
                              chunk_size_px=PLANES, shard_size_chunks=1, unit="micrometer", scale=2.0),
                aqz.Dimension(name="y", kind=aqz.DimensionType.SPACE, array_size_px=HEIGHT,
                              chunk_size_px=128, shard_size_chunks=2, unit="micrometer", scale=0.325),
                aqz.Dimension(name="x", kind=aqz.DimensionType.SPACE, array_size_px=WIDTH,
                              chunk_size_px=128, shard_size_chunks=2, unit="micrometer", scale=0.325),
            ],
            compression=aqz.CompressionSettings(compressor=aqz.Compressor.BLOSC1,
                                                codec=aqz.CompressionCodec.BLOSC_ZSTD,
                                                level=1, shuffle=1),
        ),
    )


plate = aqz.Plate(
    path="experiment",
    name="Drug screen, plate 1",
    row_names=["A", "B"],
    column_names=["1", "2", "3"],
    wells=[
        aqz.Well(row_name="A", column_name="1", images=[field_of_view("fov0"), field_of_view("fov1")]),
        aqz.Well(row_name="A", column_name="2", images=[field_of_view("fov0")]),
        aqz.Well(row_name="B", column_name="3", images=[field_of_view("fov0")]),
    ],
    acquisitions=[aqz.Acquisition(id=0, name="first pass", start_time=1_764_000_000_000,
                                  end_time=1_764_000_600_000)],
)

settings = aqz.StreamSettings(
    store_path="hcs_plate.zarr",
    hcs_plates=[plate],
    version=aqz.ZarrVersion.V3,
    overwrite=True,
)
keys = sorted(settings.get_array_keys())
print("fields of view:", ", ".join(keys))

stream = aqz.ZarrStream(settings)
for i, key in enumerate(keys):
    # The whole c/z stack of one field of view in one append: c slowest.
    stack = np.empty((CHANNELS, PLANES, HEIGHT, WIDTH), dtype=np.uint16)
    stack[:] = np.arange(CHANNELS * PLANES).reshape(CHANNELS, PLANES, 1, 1) + 100 * i
    stream.append(stack, key=key)
stream.close()
print("wrote hcs_plate.zarr")
