// Blosc1 as a chunk codec: whole chunks through c-blosc (blosc1.hh), chunks
// of planes through BloscPlanes, and numcodecs' "blosc" metadata.
#pragma once

#include "chunk_codec.hh"

namespace zarr::codec {

class BloscChunkCodec final : public ChunkCodec
{
  public:
    /// Takes `params` as they are: the registry checks settings before
    /// making one.
    explicit BloscChunkCodec(const BloscParams& params) noexcept
      : params_(params)
    {
    }

    const char* name() const noexcept override { return "blosc"; }
    size_t encoded_bound(size_t n) const noexcept override;
    size_t encode(const uint8_t* src,
                  size_t n,
                  uint8_t* dst,
                  size_t dst_capacity) const override;
    json v2_metadata() const override;
    json v3_metadata() const override;
    std::optional<BloscPlanes> plane_encoder(size_t plane_bytes,
                                             size_t planes) const override;

  private:
    BloscParams params_;
};

} // namespace zarr::codec
