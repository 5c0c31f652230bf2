// Blosc1 compression through c-blosc's context API: one internal thread per
// call, so chunks are compressed in parallel by the caller's thread pool.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace zarr::codec {

enum class BloscCodec
{
    lz4,
    zstd,
};

struct BloscParams
{
    BloscCodec codec = BloscCodec::lz4;
    int level = 1;          // 0..9
    int shuffle = 1;        // 0 none, 1 byte, 2 bit
    size_t type_size = 1;   // bytes per element
};

/// The c-blosc compressor name ("lz4", "zstd").
const char*
blosc_codec_name(BloscCodec codec) noexcept;

/// Worst-case compressed size of `n` input bytes.
size_t
blosc_max_compressed_size(size_t n) noexcept;

/// Compresses `n` bytes of `src` into `dst`, which holds at least
/// blosc_max_compressed_size(n) bytes. Returns the compressed size. Throws
/// zarr::Error(CompressionError) on failure.
size_t
blosc_compress(const BloscParams& params,
               const uint8_t* src,
               size_t n,
               uint8_t* dst,
               size_t dst_capacity);

/// Builds one Blosc1 chunk from its planes (equal runs of whole blocks),
/// compressed one at a time, in order, as they become available.
///
/// c-blosc compresses every block of a chunk on its own: a block's streams
/// depend only on its bytes, the block size, the type size, the codec, the
/// level and the shuffle. So compressing each plane by a separate call with
/// the chunk's block size forced, then laying the planes' block streams out
/// behind one header and one table of block offsets, gives a Blosc1 chunk
/// that every reader decodes like one c-blosc made in a single call. The
/// chunk is assembled in place: each plane is compressed straight behind the
/// streams before it, and only the few bytes its own header overwrites are
/// put back.
class BloscPlanes
{
  public:
    /// A plan for chunks of `planes` planes of `plane_bytes` bytes, or
    /// nullopt where planes cannot be compressed separately (level 0, which
    /// c-blosc stores uncompressed; a plane under 4 KiB or not a whole
    /// number of blocks; a single plane) and the whole chunk is compressed at
    /// once instead.
    static std::optional<BloscPlanes> plan(const BloscParams& params,
                                           size_t plane_bytes,
                                           size_t planes);

    size_t plane_bytes() const noexcept { return plane_bytes_; }
    size_t planes() const noexcept { return planes_; }
    size_t block_bytes() const noexcept { return block_bytes_; }

    /// Worst-case size of an assembled chunk: the bytes a chunk buffer needs.
    size_t capacity() const noexcept;

    /// Where the first plane's streams go (after the header and offsets).
    size_t begin() const noexcept;

    /// Bytes a chunk buffer must have free after `end` to append a plane.
    size_t plane_room() const noexcept;

    /// Whether stage() byte-shuffles: the plan has Blosc's byte shuffle on
    /// elements of 2, 4 or 8 bytes, and c-blosc compresses a plane shuffled
    /// beforehand, with its own shuffle off, into the very streams it makes
    /// of the plane with its shuffle on (checked by plan() on a probe
    /// plane). The chunk's header still says shuffled, as it must.
    bool shuffles_staged() const noexcept { return shuffles_staged_; }
    /// True if planes are compressed block by block by libzstd directly
    /// rather than by c-blosc (same bytes; see try_compressing_zstd_blocks).
    bool compresses_zstd_blocks() const noexcept { return compresses_zstd_blocks_; }

    /// Copies a chunk's plane into `dst` in the form that append() and
    /// compress_plane() take (their `src`): `rows` rows of `row_bytes`,
    /// `src_stride` bytes apart in `src`, whose places in the plane are
    /// `plane_row_bytes` apart; shuffled within each block if
    /// shuffles_staged(). Bytes of the plane that no row covers (a tile at
    /// the array's edge) must be zero in `dst` beforehand. Uses streaming
    /// stores: end a batch with finish_streaming_copies().
    void stage(uint8_t* dst,
               size_t plane_row_bytes,
               const uint8_t* src,
               size_t src_stride,
               uint64_t rows,
               size_t row_bytes) const;

    /// Compresses `src` (plane_bytes() bytes, as stage() left them) as
    /// plane `plane` of a chunk whose streams so far end at its byte `end`;
    /// returns the new end. The chunk's bytes need not be in one buffer:
    /// `table` holds its first begin() bytes (header and offsets), `at` is
    /// where its byte `end` is, with `room` bytes (at least plane_room())
    /// free after it and lead() bytes before it that may be overwritten and
    /// are put back. Throws zarr::Error(CompressionError) on failure.
    size_t append(uint8_t* table,
                  uint8_t* at,
                  size_t room,
                  size_t end,
                  size_t plane,
                  const uint8_t* src) const;

    /// Writes the header of a chunk whose planes all ended at `end` (its
    /// size).
    void finish(uint8_t* chunk, size_t end) const;

    // Planes compressed apart from their chunk, then copied in: where a
    // chunk's buffer has no room for a plane in place.

    /// Bytes of a plane's own header and block offsets, as c-blosc writes
    /// them before the plane's streams.
    size_t lead() const noexcept;

    /// Bytes a buffer needs for compress_plane().
    size_t plane_scratch() const noexcept { return lead() + plane_room(); }

    /// Compresses `src` (plane_bytes() bytes, as stage() left them) alone
    /// into `out` (of
    /// `out_size` bytes, at least plane_scratch()): lead() bytes of header
    /// and offsets, then the plane's streams. Returns its size.
    size_t compress_plane(const uint8_t* src, uint8_t* out, size_t out_size) const;

    /// A zero plane compressed alone, as compress_plane() makes it (the
    /// padding past the array's edge).
    const std::vector<uint8_t>& zero_plane() const noexcept { return zero_plane_; }

    /// Records in the chunk's offset table (`table`: its first begin()
    /// bytes) where the blocks of plane `plane` start, from that plane
    /// compressed alone (`head`, `n` bytes), whose streams the chunk holds
    /// from byte `end` on; returns where they end.
    size_t place(uint8_t* table,
                 size_t end,
                 size_t plane,
                 const uint8_t* head,
                 size_t n) const;

  private:
    /// Worst-case bytes of a plane's streams.
    size_t streams_max() const noexcept;
    /// One c-blosc call for a plane, checked: the header must be the one the
    /// plan expects.
    size_t compress_into(const uint8_t* src, uint8_t* out, size_t out_size) const;
    /// Turns shuffles_staged() on if c-blosc, given a probe plane staged
    /// shuffled, makes the streams it makes of the plane as it is.
    void try_shuffling_staged();
    /// A plane's blocks compressed by libzstd directly, each with the
    /// calling thread's own compression context, laid out as c-blosc lays
    /// them out (see try_compressing_zstd_blocks).
    size_t compress_zstd_blocks(const uint8_t* src, uint8_t* out) const;
    /// Turns compresses_zstd_blocks_ on if compress_zstd_blocks makes, of
    /// probe planes, the bytes c-blosc makes.
    void try_compressing_zstd_blocks();

    BloscParams params_;
    size_t plane_bytes_ = 0;
    size_t planes_ = 0;
    size_t block_bytes_ = 0;
    size_t blocks_per_plane_ = 0;
    int forced_block_ = 0;           // the block size c-blosc is asked for
    uint8_t lead_[4] = {};           // version, codec version, flags, typesize
    bool shuffles_staged_ = false;
    BloscParams plane_params_;       // what each plane is compressed with
    uint8_t plane_lead_[4] = {};     // lead_ as those calls write it
    bool compresses_zstd_blocks_ = false;
    int zstd_level_ = 0;             // c-blosc's level, as libzstd's
    std::vector<uint8_t> zero_plane_; // a zero plane, compressed (one call)
};

} // namespace zarr::codec
