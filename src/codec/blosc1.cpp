#include "blosc1.hh"

#include "../util/buffer_pool.hh"
#include "../util/error.hh"
#include "../util/little_endian.hh"
#include "../util/row_copy.hh"
#include "shuffle.hh"
#include "zstd_context.hh"

#include <blosc.h>
#include <zstd.h>
#include <algorithm>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace zarr::codec {

const char*
blosc_codec_name(BloscCodec codec) noexcept
{
    switch (codec) {
        case BloscCodec::lz4:
            return BLOSC_LZ4_COMPNAME;
        case BloscCodec::zstd:
            return BLOSC_ZSTD_COMPNAME;
    }
    return "?";
}

size_t
blosc_max_compressed_size(size_t n) noexcept
{
    return n + BLOSC_MAX_OVERHEAD;
}

namespace {

/// One c-blosc call on one internal thread; `block` 0 lets c-blosc choose
/// the block size.
int
compress_forced(const BloscParams& params,
                const uint8_t* src,
                size_t n,
                uint8_t* dst,
                size_t dst_capacity,
                int block)
{
    return blosc_compress_ctx(params.level,
                              params.shuffle,
                              params.type_size,
                              n,
                              src,
                              dst,
                              dst_capacity,
                              blosc_codec_name(params.codec),
                              block,
                              1);
}

} // namespace

size_t
blosc_compress(const BloscParams& params,
               const uint8_t* src,
               size_t n,
               uint8_t* dst,
               size_t dst_capacity)
{
    if (n > static_cast<size_t>(BLOSC_MAX_BUFFERSIZE)) {
        fail(ZarrStatusCode_CompressionError,
             "chunk of ",
             n,
             " bytes exceeds Blosc1's limit of ",
             BLOSC_MAX_BUFFERSIZE,
             " bytes");
    }
    // Blosc treats type sizes above 255 as 1; ours are at most 8.
    const int written = compress_forced(params, src, n, dst, dst_capacity,
                                        0); // automatic block size
    if (written <= 0) {
        fail(ZarrStatusCode_CompressionError,
             "blosc_compress_ctx failed (code ",
             written,
             ") compressing ",
             n,
             " bytes with ",
             blosc_codec_name(params.codec),
             " level ",
             params.level,
             " shuffle ",
             params.shuffle);
    }
    return static_cast<size_t>(written);
}

namespace {

// The Blosc1 chunk header: version, codec version, flags, type size, then
// little-endian uncompressed size, block size and compressed size; a table
// of 32-bit block offsets follows it.
constexpr size_t kHeaderBytes = 16;
constexpr size_t kFlagsAt = 2;
constexpr size_t kNbytesAt = 4;
constexpr size_t kBlocksizeAt = 8;
constexpr size_t kCbytesAt = 12;
constexpr size_t kMinPlaneBytes = 4096;
constexpr size_t kMaxBlocksPerPlane = 32;

/// A probe plane of `n` bytes: runs for the codec to find under noise it
/// cannot (`runs`), or noise alone.
std::vector<uint8_t>
probe_plane(size_t n, bool runs)
{
    std::vector<uint8_t> plane(n);
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < n; ++i) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        plane[i] = runs ? static_cast<uint8_t>(i / 97 + (x & 3)) : static_cast<uint8_t>(x >> 11);
    }
    return plane;
}

} // namespace

std::optional<BloscPlanes>
BloscPlanes::plan(const BloscParams& params, size_t plane_bytes, size_t planes)
{
    const size_t chunk = plane_bytes * planes;
    if (params.level <= 0 || planes < 2 || plane_bytes < kMinPlaneBytes ||
        chunk > static_cast<size_t>(BLOSC_MAX_BUFFERSIZE) / 2) {
        return std::nullopt;
    }
    // The block size c-blosc picks for the whole chunk, tuned to the codec
    // and level; if it does not divide a plane, one block per plane.
    // c-blosc scales a forced size by the type size for the codecs that
    // split blocks into byte streams, so each size is tried both ways and
    // the block size actually used is read back from the header.
    // c-blosc's choice depends on the input size only up to sizes far below
    // 16 MiB: a larger chunk is probed with 16 MiB of zeros.
    const size_t ts = std::max<size_t>(1, params.type_size);
    const size_t probe = std::max(plane_bytes, std::min<size_t>(chunk, size_t{ 16 } << 20));
    // calloc: large zero buffers come as untouched zero pages, read for
    // free, where a vector would write every byte first.
    const std::unique_ptr<uint8_t, decltype(&std::free)> zeros(
      static_cast<uint8_t*>(std::calloc(probe, 1)), &std::free);
    const auto out = std::make_unique_for_overwrite<uint8_t[]>(probe + BLOSC_MAX_OVERHEAD);
    if (!zeros || compress_forced(params, zeros.get(), probe, out.get(),
                                  probe + BLOSC_MAX_OVERHEAD, 0) <= 0) {
        return std::nullopt;
    }
    const size_t natural = load_le32(out.get() + kBlocksizeAt);
    for (const size_t want : { natural, natural / ts, plane_bytes, plane_bytes / ts }) {
        if (want == 0 || want > static_cast<size_t>(INT_MAX)) {
            continue;
        }
        BloscPlanes p;
        p.params_ = params;
        p.plane_bytes_ = plane_bytes;
        p.planes_ = planes;
        const size_t room = 2 * plane_bytes + BLOSC_MAX_OVERHEAD;
        std::vector<uint8_t> zero(room);
        const int n = compress_forced(params, zeros.get(), plane_bytes, zero.data(),
                                      room, static_cast<int>(want));
        if (n <= 0 || (zero[kFlagsAt] & BLOSC_MEMCPYED) != 0) {
            continue;
        }
        const size_t block = load_le32(zero.data() + kBlocksizeAt);
        if (block == 0 || plane_bytes % block != 0 || block % ts != 0 ||
            plane_bytes / block > kMaxBlocksPerPlane) {
            continue;
        }
        p.block_bytes_ = block;
        p.blocks_per_plane_ = plane_bytes / block;
        p.forced_block_ = static_cast<int>(want);
        std::memcpy(p.lead_, zero.data(), sizeof p.lead_);
        if (load_le32(zero.data() + kHeaderBytes) != p.lead()) {
            continue;
        }
        zero.resize(static_cast<size_t>(n));
        p.zero_plane_ = std::move(zero);
        p.plane_params_ = params;
        std::memcpy(p.plane_lead_, p.lead_, sizeof p.lead_);
        p.try_shuffling_staged();
        p.try_compressing_zstd_blocks();
        return p;
    }
    return std::nullopt;
}

size_t
BloscPlanes::begin() const noexcept
{
    return kHeaderBytes + 4 * blocks_per_plane_ * planes_;
}

size_t
BloscPlanes::lead() const noexcept
{
    return kHeaderBytes + 4 * blocks_per_plane_;
}

size_t
BloscPlanes::streams_max() const noexcept
{
    // Per block, at worst: each of its byte streams stored raw behind its
    // 4-byte length.
    const size_t ts = std::max<size_t>(1, params_.type_size);
    return blocks_per_plane_ * (block_bytes_ + 4 * ts);
}

size_t
BloscPlanes::plane_room() const noexcept
{
    // Plus one block of slack for the codec's own bounds.
    return streams_max() + block_bytes_ + 64;
}

size_t
BloscPlanes::capacity() const noexcept
{
    return begin() + (planes_ - 1) * streams_max() + plane_room();
}

size_t
BloscPlanes::place(uint8_t* table,
                   size_t end,
                   size_t plane,
                   const uint8_t* head,
                   size_t n) const
{
    for (size_t b = 0; b < blocks_per_plane_; ++b) {
        store_le32(table + kHeaderBytes + 4 * (plane * blocks_per_plane_ + b),
                   static_cast<uint32_t>(end + load_le32(head + kHeaderBytes + 4 * b) -
                                         lead()));
    }
    return end + n - lead();
}

void
BloscPlanes::try_shuffling_staged()
{
    const size_t ts = params_.type_size;
    if (params_.shuffle != BLOSC_SHUFFLE || !shuffles_type_size(ts) ||
        block_bytes_ % ts != 0) {
        return;
    }
    const std::vector<uint8_t> plane = probe_plane(plane_bytes_, true);
    const size_t room = plane_scratch();
    // Aligned as the staging buffers are, so the probe takes the same path.
    const AlignedBytes staged = allocate_aligned(plane_bytes_);
    uint8_t* const aligned = staged.get();
    std::vector<uint8_t> as_is(room), shuffled(room);
    shuffles_staged_ = true;
    stage(aligned, plane_bytes_, plane.data(), plane_bytes_, 1, plane_bytes_);
    finish_streaming_copies();
    BloscParams unshuffled = params_;
    unshuffled.shuffle = BLOSC_NOSHUFFLE;
    const int a = compress_forced(params_, plane.data(), plane_bytes_, as_is.data(), room,
                                  forced_block_);
    const int b = compress_forced(unshuffled, aligned, plane_bytes_, shuffled.data(), room,
                                  forced_block_);
    // The same streams, sizes and offsets; flags differing in the shuffle
    // bit only.
    shuffles_staged_ =
      a > 0 && a == b && as_is[0] == shuffled[0] && as_is[1] == shuffled[1] &&
      as_is[kFlagsAt] == (shuffled[kFlagsAt] | BLOSC_DOSHUFFLE) &&
      (shuffled[kFlagsAt] & BLOSC_DOSHUFFLE) == 0 && as_is[3] == shuffled[3] &&
      std::memcmp(as_is.data() + 4, shuffled.data() + 4, static_cast<size_t>(a) - 4) == 0;
    if (shuffles_staged_) {
        plane_params_ = unshuffled;
        std::memcpy(plane_lead_, shuffled.data(), sizeof plane_lead_);
    }
}

void
BloscPlanes::stage(uint8_t* dst,
                   size_t plane_row_bytes,
                   const uint8_t* src,
                   size_t src_stride,
                   uint64_t rows,
                   size_t row_bytes) const
{
    if (!shuffles_staged_) {
        copy_rows(dst, plane_row_bytes, src, src_stride, rows, row_bytes);
        return;
    }
    // c-blosc shuffles each block on its own: byte j of the block's
    // element i goes to block_start + j * (elements per block) + i. A row
    // is a run of elements of the plane, cut where it crosses blocks.
    const size_t ts = params_.type_size;
    const size_t per_block = block_bytes_ / ts;
    for (uint64_t r = 0; r < rows; ++r) {
        size_t e = r * plane_row_bytes / ts;
        size_t n = row_bytes / ts;
        const uint8_t* s = src + r * src_stride;
        while (n > 0) {
            const size_t block = e / per_block;
            const size_t i = e % per_block;
            const size_t k = std::min(n, per_block - i);
            shuffle_bytes(s, k, ts, dst + block * block_bytes_ + i, per_block);
            s += k * ts;
            e += k;
            n -= k;
        }
    }
}

void
BloscPlanes::try_compressing_zstd_blocks()
{
    // c-blosc 1.x compresses each zstd block as one stream (it never splits
    // zstd blocks into byte streams), at zstd level 2 * level - 1 up to its
    // level 9, which is zstd's highest. Planes staged unshuffled (or already
    // shuffled) are what those streams are made of.
    if (params_.codec != BloscCodec::zstd || plane_params_.shuffle != BLOSC_NOSHUFFLE ||
        params_.level < 1 || params_.level > 9) {
        return;
    }
    zstd_level_ = params_.level < 9 ? 2 * params_.level - 1 : ZSTD_maxCLevel();
    // Both probe planes must come out byte for byte as c-blosc makes them;
    // it stores the blocks of noise as they are.
    const std::vector<uint8_t> runs = probe_plane(plane_bytes_, true);
    const std::vector<uint8_t> noise = probe_plane(plane_bytes_, false);
    const size_t room = plane_scratch();
    std::vector<uint8_t> theirs(room), ours(room);
    for (const auto* probe : { &runs, &noise }) {
        const int n = compress_forced(plane_params_, probe->data(), plane_bytes_,
                                      theirs.data(), room, forced_block_);
        const size_t m = n > 0 ? compress_zstd_blocks(probe->data(), ours.data()) : 0;
        if (n <= 0 || m != static_cast<size_t>(n) ||
            std::memcmp(theirs.data(), ours.data(), m) != 0) {
            return;
        }
    }
    compresses_zstd_blocks_ = true;
}

size_t
BloscPlanes::compress_zstd_blocks(const uint8_t* src, uint8_t* out) const
{
    // As c-blosc lays a chunk out: the header, the blocks' offsets, then per
    // block its compressed size and bytes, or (if libzstd cannot make it
    // smaller) its size and the block as it is.
    ZSTD_CCtx* cctx = thread_zstd_context();
    std::memcpy(out, plane_lead_, sizeof plane_lead_);
    store_le32(out + kNbytesAt, static_cast<uint32_t>(plane_bytes_));
    store_le32(out + kBlocksizeAt, static_cast<uint32_t>(block_bytes_));
    size_t at = lead();
    for (size_t b = 0; b < blocks_per_plane_; ++b) {
        const uint8_t* block = src + b * block_bytes_;
        uint8_t* stream = out + at + 4;
        store_le32(out + kHeaderBytes + 4 * b, static_cast<uint32_t>(at));
        size_t n = ZSTD_compressCCtx(cctx, stream, block_bytes_, block, block_bytes_,
                                     zstd_level_);
        if (ZSTD_isError(n) || n == 0 || n >= block_bytes_) {
            std::memcpy(stream, block, block_bytes_);
            n = block_bytes_;
        }
        store_le32(out + at, static_cast<uint32_t>(n));
        at += 4 + n;
    }
    store_le32(out + kCbytesAt, static_cast<uint32_t>(at));
    return at;
}

size_t
BloscPlanes::compress_into(const uint8_t* src, uint8_t* out, size_t out_size) const
{
    if (compresses_zstd_blocks_ && out_size >= lead() + streams_max()) {
        return compress_zstd_blocks(src, out);
    }
    const int n =
      compress_forced(plane_params_, src, plane_bytes_, out, out_size, forced_block_);
    if (n <= 0 || std::memcmp(out, plane_lead_, sizeof plane_lead_) != 0 ||
        load_le32(out + kBlocksizeAt) != block_bytes_ ||
        load_le32(out + kHeaderBytes) != lead()) {
        fail(ZarrStatusCode_CompressionError,
             "blosc_compress_ctx returned ", n, " (flags ",
             int{ n > 0 ? out[kFlagsAt] : uint8_t{ 0 } }, ") compressing a plane of ",
             plane_bytes_, " bytes with ", blosc_codec_name(params_.codec), " level ",
             params_.level, " shuffle ", params_.shuffle, " in blocks of ",
             block_bytes_, " bytes");
    }
    return static_cast<size_t>(n);
}

size_t
BloscPlanes::compress_plane(const uint8_t* src, uint8_t* out, size_t out_size) const
{
    if (out_size < plane_scratch()) {
        fail(ZarrStatusCode_InternalError, "buffer of ", out_size,
             " bytes is too small for a plane compressed alone (", plane_scratch(),
             ")");
    }
    return compress_into(src, out, out_size);
}

size_t
BloscPlanes::append(uint8_t* table,
                    uint8_t* at,
                    size_t room,
                    size_t end,
                    size_t plane,
                    const uint8_t* src) const
{
    if (room < plane_room()) {
        fail(ZarrStatusCode_InternalError, "chunk buffer has ", room,
             " bytes free after byte ", end, ", less than a plane needs (",
             plane_room(), ")");
    }
    // The plane's own header and offsets land on the last bytes of the
    // streams before it (or on the chunk's offset table): keep them aside,
    // and put them back whether or not compression succeeds.
    const size_t lead = this->lead();
    uint8_t* const head_at = at - lead;
    uint8_t kept[kHeaderBytes + 4 * kMaxBlocksPerPlane];
    uint8_t head[kHeaderBytes + 4 * kMaxBlocksPerPlane];
    std::memcpy(kept, head_at, lead);
    size_t n = 0;
    try {
        n = compress_into(src, head_at, room + lead);
    } catch (...) {
        std::memcpy(head_at, kept, lead);
        throw;
    }
    std::memcpy(head, head_at, lead);
    std::memcpy(head_at, kept, lead);
    return place(table, end, plane, head, n);
}

void
BloscPlanes::finish(uint8_t* chunk, size_t end) const
{
    std::memcpy(chunk, lead_, sizeof lead_);
    // Blosc1 sizes fit in 32 bits (plan() refuses larger chunks).
    store_le32(chunk + kNbytesAt, static_cast<uint32_t>(plane_bytes_ * planes_));
    store_le32(chunk + kBlocksizeAt, static_cast<uint32_t>(block_bytes_));
    store_le32(chunk + kCbytesAt, static_cast<uint32_t>(end));
}

} // namespace zarr::codec
