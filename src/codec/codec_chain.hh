// The codecs a chunk goes through on its way to storage: the bytes codec
// (the elements as the caller's frames hold them, declared little-endian;
// it moves no byte), then at most one compressor. Built once per array from
// the settings (registry.hh), copied cheaply (the compressor is shared and
// immutable), and the one source of the codec metadata.
#pragma once

#include "chunk_codec.hh"

#include <cassert>
#include <memory>

namespace zarr::codec {

class CodecChain
{
  public:
    /// The bytes codec alone: chunks are stored as they are.
    CodecChain() = default;

    /// The bytes codec, then `compressor` (nullptr: none).
    explicit CodecChain(std::shared_ptr<const ChunkCodec> compressor) noexcept
      : compressor_(std::move(compressor))
    {
    }

    /// Whether chunks are encoded at all; if not, a chunk's bytes are its
    /// stored bytes.
    bool compresses() const noexcept { return compressor_ != nullptr; }

    /// The compressor, or nullptr.
    const ChunkCodec* compressor() const noexcept { return compressor_.get(); }

    /// Worst-case stored size of a chunk of `n` bytes.
    size_t encoded_bound(size_t n) const noexcept
    {
        return compressor_ ? compressor_->encoded_bound(n) : n;
    }

    /// Encodes a chunk (ChunkCodec::encode); only where compresses().
    size_t encode(const uint8_t* src, size_t n, uint8_t* dst, size_t dst_capacity) const
    {
        assert(compressor_);
        return compressor_->encode(src, n, dst, dst_capacity);
    }

    /// The compressor's plane encoder (ChunkCodec::plane_encoder), or
    /// nullopt without a compressor.
    std::optional<BloscPlanes> plane_encoder(size_t plane_bytes, size_t planes) const;

    /// The Zarr v2 `compressor` value: the compressor's object, or null.
    json v2_compressor() const;

    /// The Zarr v3 `codecs` list that chunks go through (inside a shard:
    /// the sharding codec's inner `codecs`).
    json v3_codecs() const;

  private:
    std::shared_ptr<const ChunkCodec> compressor_;
};

/// The Zarr v3 bytes codec, little-endian: the chain's first codec, and the
/// first of a shard index's codecs.
json
bytes_codec_v3();

} // namespace zarr::codec
