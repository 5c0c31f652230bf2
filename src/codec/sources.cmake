# The codec layer's sources, relative to src/. A codec is one file, listed
# here, plus its factory's declaration and its row in registry.cpp.
set(ACQUIRE_ZARR_CODEC_SOURCES
    codec/crc32c.cpp
    codec/shuffle.cpp
    codec/blosc1.cpp
    codec/codec_chain.cpp
    codec/registry.cpp
    codec/blosc_codec.cpp
    codec/zstd_codec.cpp)
