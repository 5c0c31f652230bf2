// Standalone zstd as a chunk codec: each chunk is one zstd frame made by
// libzstd (with its content size, without a checksum), described as
// numcodecs' "zstd" (v2) and the Zarr v3 "zstd" codec. Chunks are encoded
// whole: a zstd frame cannot be assembled from planes compressed apart.
#include "chunk_codec.hh"
#include "zstd_context.hh"

#include "../util/error.hh"

#include <nlohmann/json.hpp>

#include <memory>

namespace zarr::codec {
namespace {

class ZstdChunkCodec final : public ChunkCodec
{
  public:
    /// `level` is 0 (libzstd's default, 3) or 1..22; the registry checks it.
    explicit ZstdChunkCodec(int level) noexcept
      : level_(level)
    {
    }

    const char* name() const noexcept override { return "zstd"; }

    size_t encoded_bound(size_t n) const noexcept override { return ZSTD_compressBound(n); }

    size_t encode(const uint8_t* src,
                  size_t n,
                  uint8_t* dst,
                  size_t dst_capacity) const override
    {
        const size_t written =
          ZSTD_compressCCtx(thread_zstd_context(), dst, dst_capacity, src, n, level_);
        if (ZSTD_isError(written)) {
            fail(ZarrStatusCode_CompressionError, "ZSTD_compressCCtx failed (",
                 ZSTD_getErrorName(written), ") compressing ", n, " bytes at level ",
                 level_, " into ", dst_capacity);
        }
        return written;
    }

    // The level as the settings give it, 0 included, as acquire-zarr 0.10
    // writes it: readers ignore it, and numcodecs and the v3 spec read 0 as
    // zstd's default level too.
    json v2_metadata() const override { return { { "id", "zstd" }, { "level", level_ } }; }

    json v3_metadata() const override
    {
        return { { "name", "zstd" },
                 { "configuration", { { "level", level_ }, { "checksum", false } } } };
    }

  private:
    int level_;
};

} // namespace

/// The registry's factory (registry.cpp): Zstd.
std::shared_ptr<const ChunkCodec>
make_zstd(const CodecSettings& s)
{
    return std::make_shared<const ZstdChunkCodec>(s.level);
}

} // namespace zarr::codec
