"""Several arrays in one stream (acquire-zarr's current API): a time-lapse at
two stage positions, each an OME-NGFF image with a 2-level pyramid, plus a
plain array of per-frame stage readings. Frames arrive round-robin, as the
stage visits the positions, and each append names its array.

Writes multi_array.zarr:
    pos0/  pos1/   OME-NGFF image groups (levels 0 and 1), t/c/y/x uint16
    overview/      a plain 512 x 512 uint8 array (y, x)
    pos0/zarr.json and pos1/zarr.json also hold attributes.stage (write_custom_metadata)
"""

import acquire_zarr as aqz
import numpy as np

TIMEPOINTS, CHANNELS, HEIGHT, WIDTH = 4, 2, 256, 320
OVERVIEW = 512


def position(key: str) -> aqz.ArraySettings:
    return aqz.ArraySettings(
        output_key=key,
        data_type=aqz.DataType.UINT16,
        dimensions=[
            aqz.Dimension(name="t", kind=aqz.DimensionType.TIME, array_size_px=0,
                          chunk_size_px=2, shard_size_chunks=1, unit="second", scale=30.0),
            aqz.Dimension(name="c", kind=aqz.DimensionType.CHANNEL, array_size_px=CHANNELS,
                          chunk_size_px=1, shard_size_chunks=1),
            aqz.Dimension(name="y", kind=aqz.DimensionType.SPACE, array_size_px=HEIGHT,
                          chunk_size_px=128, shard_size_chunks=2, unit="micrometer", scale=0.65),
            aqz.Dimension(name="x", kind=aqz.DimensionType.SPACE, array_size_px=WIDTH,
                          chunk_size_px=128, shard_size_chunks=2, unit="micrometer", scale=0.65),
        ],
        compression=aqz.CompressionSettings(compressor=aqz.Compressor.BLOSC1,
                                            codec=aqz.CompressionCodec.BLOSC_LZ4,
                                            level=1, shuffle=1),
        downsampling_method=aqz.DownsamplingMethod.MEAN,  # an image group with a pyramid
        max_levels=1,                                     # level 0 and one downsampled level
    )


overview = aqz.ArraySettings(
    output_key="overview",  # no downsampling_method and is_ngff False: a plain array
    data_type=aqz.DataType.UINT8,
    dimensions=[  # two dimensions: one bounded image, filled by one frame
        aqz.Dimension(name="y", kind=aqz.DimensionType.SPACE, array_size_px=OVERVIEW,
                      chunk_size_px=OVERVIEW, shard_size_chunks=1),
        aqz.Dimension(name="x", kind=aqz.DimensionType.SPACE, array_size_px=OVERVIEW,
                      chunk_size_px=OVERVIEW, shard_size_chunks=1),
    ],
)

settings = aqz.StreamSettings(
    store_path="multi_array.zarr",
    arrays=[position("pos0"), position("pos1"), overview],
    version=aqz.ZarrVersion.V3,
    overwrite=True,
)
print("arrays:", ", ".join(sorted(settings.get_array_keys())))

stream = aqz.ZarrStream(settings)
# A low-magnification scan first: where the positions are.
yy, xx = np.mgrid[0:OVERVIEW, 0:OVERVIEW]
stream.append(((yy + xx) % 256).astype(np.uint8), key="overview")
for t in range(TIMEPOINTS):
    for p, key in enumerate(["pos0", "pos1"]):
        # The stage moves to position p, then one frame per channel.
        for c in range(CHANNELS):
            frame = np.full((HEIGHT, WIDTH), 1000 * p + 100 * c + t, dtype=np.uint16)
            stream.append(frame, key=key)

# Attributes of one array's node, under their own key (merged with the OME
# metadata, which stays as the library writes it).
for key, (x_um, y_um) in {"pos0": (0.0, 0.0), "pos1": (1500.0, 0.0)}.items():
    stream.write_custom_metadata({"x_um": x_um, "y_um": y_um}, array_key=key, metadata_key="stage")
stream.close()
print("wrote multi_array.zarr")
