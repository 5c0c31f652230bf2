"""The README's Python quick start: 10 frames of 1080x1920 uint16 into a
sharded Zarr v3 store with an unbounded time dimension."""

import acquire_zarr as aqz
import numpy as np

settings = aqz.StreamSettings(
    store_path="my_stream.zarr",
    data_type=aqz.DataType.UINT16,
    version=aqz.ZarrVersion.V3,
    overwrite=True,
)

settings.dimensions.extend([
    aqz.Dimension(name="t", type=aqz.DimensionType.TIME, array_size_px=0,
                  chunk_size_px=100, shard_size_chunks=10),
    aqz.Dimension(name="y", type=aqz.DimensionType.SPACE, array_size_px=1080,
                  chunk_size_px=270, shard_size_chunks=2),
    aqz.Dimension(name="x", type=aqz.DimensionType.SPACE, array_size_px=1920,
                  chunk_size_px=480, shard_size_chunks=2),
])

stream = aqz.ZarrStream(settings)

for i in range(10):
    stream.append(np.random.randint(0, 65535, (1080, 1920), dtype=np.uint16))

stream.close()  # or let the stream go out of scope
print("wrote my_stream.zarr")
