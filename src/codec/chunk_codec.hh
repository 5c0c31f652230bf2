// The interface of a chunk codec: a bytes-to-bytes transform of one whole
// chunk (a compressor), with the metadata that tells readers how to undo it.
// Codecs are made by the registry (registry.hh) and composed by a CodecChain
// (codec_chain.hh); each lives in its own file.
#pragma once

#include "blosc1.hh"
#include "zarr.types.h"

#include <nlohmann/json_fwd.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>

namespace zarr::codec {

using json = nlohmann::ordered_json;

/// What a codec's factory is given: the compression settings, already
/// checked against the codec's row in the registry, and the one fact about
/// the array that a codec may use.
struct CodecSettings
{
    ZarrCompressionCodec codec = ZarrCompressionCodec_None;
    int level = 0;
    int shuffle = 0;
    size_t item_bytes = 1; // bytes per array element (Blosc's typesize)
};

class ChunkCodec
{
  public:
    virtual ~ChunkCodec() = default;

    /// The codec's name in the metadata, e.g. "blosc".
    virtual const char* name() const noexcept = 0;

    /// Worst-case encoded size of a chunk of `n` bytes: what encode()'s
    /// destination must hold.
    virtual size_t encoded_bound(size_t n) const noexcept = 0;

    /// Encodes the `n` bytes of `src` into `dst` (`dst_capacity` bytes, at
    /// least encoded_bound(n)); returns the encoded size. Called by many
    /// threads at once. Throws zarr::Error(CompressionError) on failure.
    virtual size_t encode(const uint8_t* src,
                          size_t n,
                          uint8_t* dst,
                          size_t dst_capacity) const = 0;

    /// The Zarr v2 `compressor` object.
    virtual json v2_metadata() const = 0;

    /// The codec's entry in a Zarr v3 `codecs` list.
    virtual json v3_metadata() const = 0;

    /// How chunks of `planes` planes of `plane_bytes` bytes are encoded one
    /// plane at a time as the planes arrive, or nullopt (the default) where
    /// chunks are encoded whole. Only Blosc1's chunk format lets a chunk be
    /// assembled from planes encoded apart (see BloscPlanes).
    virtual std::optional<BloscPlanes> plane_encoder(size_t plane_bytes,
                                                     size_t planes) const;
};

} // namespace zarr::codec
