// v3: the shard assembler. Each chunk claims a byte range at the end of its
// shard (an atomic bump of the shard's end) and is written there by a
// positional write; small chunks are packed together first (see
// pack_chunk). Only the index stays in memory; it is written with its
// CRC32C after the shard's last chunk.
#include "chunk_sink.hh"

#include "../codec/crc32c.hh"
#include "../util/atomic_max.hh"
#include "../util/buffer_pool.hh"
#include "../util/little_endian.hh"
#include "io_policy.hh"

#include <atomic>
#include <cstring>
#include <limits>
#include <map>
#include <mutex>

namespace zarr {
namespace {

using io_policy::kMinDirectChunk;

/// A chunk stored in its shard, for the index.
struct IndexEntry
{
    uint64_t index; // of the chunk in its shard
    uint64_t at;    // offset in the shard (in a Pack: in the pack, until written)
    uint64_t n;
};

/// Small encoded chunks of one shard, back to back in one buffer, written
/// together (see pack_chunk).
struct Pack
{
    Buffer bytes;
    size_t used = 0;
    std::vector<IndexEntry> chunks;
};

struct Shard
{
    std::vector<uint64_t> key; // shard coordinates
    std::unique_ptr<storage::Sink> sink;
    std::atomic<uint64_t> end{ 0 }; // bytes reserved so far
    std::mutex mutex;
    std::vector<uint64_t> index; // (offset, nbytes) per inner chunk
    uint64_t written = 0;
    uint64_t expected = 0;
    // Chunks handed to store (the small ones counted under pack_mutex), and
    // the pack of small chunks being filled.
    std::atomic<uint64_t> arrived{ 0 };
    std::mutex pack_mutex;
    std::shared_ptr<Pack> pack;
};

/// Claims `n` bytes at the end of a shard (`end`: the bytes claimed so far),
/// from the next multiple of `align` if that is not 0; returns where.
uint64_t
claim(std::atomic<uint64_t>& end, uint64_t n, size_t align)
{
    if (align == 0) {
        return end.fetch_add(n);
    }
    uint64_t at = end.load();
    uint64_t offset = 0;
    do {
        offset = round_up(at, align);
    } while (!end.compare_exchange_weak(at, offset + n));
    return offset;
}

/// A shard's index as stored: (offset, nbytes) per inner chunk, little
/// endian, then their CRC32C.
std::vector<uint8_t>
encode_index(const std::vector<uint64_t>& entries)
{
    std::vector<uint8_t> index(8 * entries.size() + 4);
    for (size_t i = 0; i < entries.size(); ++i) {
        store_le64(index.data() + 8 * i, entries[i]);
    }
    store_le32(index.data() + 8 * entries.size(), codec::crc32c(index.data(), 8 * entries.size()));
    return index;
}

class ShardWriter;

/// An uncompressed chunk at its fixed place in its shard: the chunks inside
/// the array, in index order; the index follows the last of them.
class ShardChunk final : public PlacedChunk
{
  public:
    ShardChunk(ShardWriter& writer,
               std::vector<uint64_t> coords,
               std::shared_ptr<Shard> shard,
               uint64_t offset,
               uint64_t bytes)
      : writer_(writer)
      , coords_(std::move(coords))
      , shard_(std::move(shard))
      , offset_(offset)
      , bytes_(bytes)
    {
    }

    void write(uint64_t at, const uint8_t* src, size_t n) override
    {
        shard_->sink->write(offset_ + at, src, n);
    }

    void complete() override;

    bool needs_trailing_zeros() const noexcept override { return false; }

  private:
    ShardWriter& writer_;
    const std::vector<uint64_t> coords_;
    const std::shared_ptr<Shard> shard_;
    const uint64_t offset_;
    const uint64_t bytes_;
};

class ShardWriter final : public ChunkSink
{
  public:
    ShardWriter(const SinkContext& context, uint64_t chunk_bound)
      : c_(context)
      , chunk_bound_(chunk_bound)
    {
        if (c_.store.writes_in_place()) {
            packs_ = BufferPool::create(io_policy::kPackBytes, io_policy::kIdlePacks);
        }
    }

    void store(const std::vector<uint64_t>& coords,
               std::span<const std::span<uint8_t>> buffers,
               size_t n) override;

    std::shared_ptr<PlacedChunk> place(const std::vector<uint64_t>& coords) override
    {
        const auto& g = c_.geometry;
        auto shard = shard_for(shard_of(coords));
        const uint64_t offset = g.rank_in_shard(coords) * g.chunk_bytes();
        raise_to(shard->end, offset + g.chunk_bytes());
        return std::make_shared<ShardChunk>(*this, coords, std::move(shard), offset,
                                            g.chunk_bytes());
    }

    void finalize() override;

    /// Records a chunk stored at `offset` in its shard; finishes the shard
    /// when that was its last chunk.
    void chunk_stored(const std::vector<uint64_t>& coords,
                      const std::shared_ptr<Shard>& shard,
                      uint64_t offset,
                      uint64_t n)
    {
        const IndexEntry entry{ c_.geometry.index_in_shard(coords), offset, n };
        index_chunks(shard, std::span(&entry, 1));
    }

  private:
    /// Writes the shard that holds only the chunk at `coords` (its bytes:
    /// `parts`), with its index, as one whole object.
    void store_whole_shard(const std::vector<uint64_t>& coords,
                           const std::vector<uint64_t>& shard_coords,
                           std::span<const std::span<const uint8_t>> parts,
                           size_t n);
    /// Copies a small chunk (the first `n` bytes of `parts`) into its
    /// shard's pack; hands the pack to the I/O threads when full or when
    /// this was the shard's last chunk.
    void pack_chunk(const std::vector<uint64_t>& coords,
                    const std::shared_ptr<Shard>& shard,
                    std::span<const std::span<const uint8_t>> parts,
                    size_t n);
    /// Writes a pack at an aligned offset in its shard and indexes its
    /// chunks.
    void write_pack(const std::shared_ptr<Shard>& shard, Pack& pack);
    /// Writes the pack being filled for `shard`, if any.
    void write_open_pack(const std::shared_ptr<Shard>& shard);
    /// Records stored chunks in their shard's index; finishes the shard
    /// when they were its last.
    void index_chunks(const std::shared_ptr<Shard>& shard,
                      std::span<const IndexEntry> chunks);
    /// Coordinates of the shard holding `chunk`.
    std::vector<uint64_t> shard_of(const std::vector<uint64_t>& chunk) const;
    std::shared_ptr<Shard> shard_for(const std::vector<uint64_t>& shard);
    void finish_shard(Shard& shard);

    const SinkContext c_;
    const uint64_t chunk_bound_;
    // Packs of small chunks (in a store that writes in place).
    std::shared_ptr<BufferPool> packs_;
    std::mutex shards_mutex_;
    std::map<std::vector<uint64_t>, std::shared_ptr<Shard>> shards_;
};

void
ShardChunk::complete()
{
    writer_.chunk_stored(coords_, shard_, offset_, bytes_);
}

void
ShardWriter::store(const std::vector<uint64_t>& coords,
                   std::span<const std::span<uint8_t>> buffers,
                   size_t n)
{
    // The bytes of the chunk: the first n of the buffers, back to back.
    std::vector<std::span<const uint8_t>>& parts = first_bytes(buffers, n);

    // A shard of one chunk is whole once that chunk is: where objects are
    // written front to back (S3), the store gets it whole and picks one
    // PutObject or a multipart upload by its size (docs/s3.md).
    if (!c_.store.writes_in_place()) {
        const auto shard_coords = shard_of(coords);
        if (c_.geometry.chunks_expected_in_shard(shard_coords) == 1) {
            store_whole_shard(coords, shard_coords, parts, n);
            return;
        }
    }

    auto shard = shard_for(shard_of(coords));
    if (packs_ && n < kMinDirectChunk) {
        pack_chunk(coords, shard, parts, n);
        return;
    }

    // A large compressed chunk is placed on an aligned offset and its last
    // block zero-filled, so that it too bypasses the page cache: copying it
    // there costs the workers more CPU than compressing it, and concurrent
    // buffered writers of one shard serialise on the file. The index records
    // the chunk's own length; the gap after it is never read (the sharding
    // format locates chunks only through the index). That takes aligned
    // buffers, every one but the last filled to a multiple of the
    // alignment, and room in the last for the zeros.
    const size_t align = shard->sink->direct_alignment();
    bool pad = align != 0 && n >= kMinDirectChunk;
    for (size_t i = 0; pad && i < parts.size(); ++i) {
        const size_t room = i + 1 < parts.size() ? parts[i].size()
                                                 : round_up(parts[i].size(), align);
        pad = reinterpret_cast<uintptr_t>(parts[i].data()) % align == 0 &&
              room % align == 0 && room <= buffers[i].size();
    }
    uint64_t offset = 0;
    if (pad) {
        const size_t last = parts.back().size();
        const size_t padded = round_up(last, align);
        std::memset(buffers[parts.size() - 1].data() + last, 0, padded - last);
        parts.back() = std::span<const uint8_t>(parts.back().data(), padded);
        offset = claim(shard->end, round_up(n, align), align);
    } else {
        offset = claim(shard->end, n, 0);
    }
    shard->sink->write_parts(offset, parts);
    chunk_stored(coords, shard, offset, n);
    if (packs_ && ++shard->arrived == shard->expected) {
        write_open_pack(shard); // the shard's last chunk: its small ones too
    }
}

void
ShardWriter::store_whole_shard(const std::vector<uint64_t>& coords,
                               const std::vector<uint64_t>& shard_coords,
                               std::span<const std::span<const uint8_t>> parts,
                               size_t n)
{
    const auto& g = c_.geometry;
    std::vector<uint64_t> entries(2 * g.chunks_per_shard(), std::numeric_limits<uint64_t>::max());
    const uint64_t at = g.index_in_shard(coords);
    entries[2 * at] = 0;
    entries[2 * at + 1] = n;
    const std::vector<uint8_t> index = encode_index(entries);
    std::vector<std::span<const uint8_t>> whole(parts.begin(), parts.end());
    whole.emplace_back(index);
    c_.store.put_parts(chunk_key(c_.spec.key, g.stored(shard_coords), true), whole);
    c_.extent.object_stored(shard_coords[0]);
}

void
ShardWriter::pack_chunk(const std::vector<uint64_t>& coords,
                        const std::shared_ptr<Shard>& shard,
                        std::span<const std::span<const uint8_t>> parts,
                        size_t n)
{
    std::shared_ptr<Pack> ready[2];
    {
        std::lock_guard lock(shard->pack_mutex);
        if (shard->pack && shard->pack->used + n > shard->pack->bytes.size()) {
            ready[0] = std::move(shard->pack);
        }
        if (!shard->pack) {
            shard->pack = std::make_shared<Pack>();
            shard->pack->bytes = packs_->acquire();
        }
        Pack& pack = *shard->pack;
        size_t at = pack.used;
        for (const auto& part : parts) {
            std::memcpy(pack.bytes.data() + at, part.data(), part.size());
            at += part.size();
        }
        pack.chunks.push_back({ c_.geometry.index_in_shard(coords), pack.used, n });
        pack.used = at;
        // Counted after the chunk is in the pack: whoever counts the last
        // chunk of the shard finds every small one packed.
        if (++shard->arrived == shard->expected) {
            ready[1] = std::move(shard->pack);
        }
    }
    for (auto& pack : ready) {
        if (pack) {
            c_.pool.submit_io([this, shard, pack] { write_pack(shard, *pack); },
                              pack->used,
                              &c_.errors, // a failure is this array's: the others go on
                              c_.io_share);
        }
    }
}

void
ShardWriter::write_open_pack(const std::shared_ptr<Shard>& shard)
{
    std::shared_ptr<Pack> pack;
    {
        std::lock_guard lock(shard->pack_mutex);
        pack = std::move(shard->pack);
    }
    if (pack) {
        write_pack(shard, *pack);
    }
}

void
ShardWriter::write_pack(const std::shared_ptr<Shard>& shard, Pack& pack)
{
    if (c_.errors.failed()) {
        return;
    }
    // As a large chunk: on an aligned offset, zero-filled to the block, by
    // direct I/O. A small pack (the last of a shard of few or tiny chunks)
    // is written as it is, with no padding.
    size_t n = pack.used;
    size_t align = shard->sink->direct_alignment();
    if (n < kMinDirectChunk) {
        align = 0;
    } else if (align != 0) {
        n = round_up(n, align);
        std::memset(pack.bytes.data() + pack.used, 0, n - pack.used);
    }
    const uint64_t offset = claim(shard->end, n, align);
    shard->sink->write(offset, pack.bytes.data(), n);
    for (IndexEntry& e : pack.chunks) {
        e.at += offset;
    }
    index_chunks(shard, pack.chunks);
}

void
ShardWriter::index_chunks(const std::shared_ptr<Shard>& shard,
                          std::span<const IndexEntry> chunks)
{
    bool complete = false;
    {
        std::lock_guard lock(shard->mutex);
        for (const IndexEntry& e : chunks) {
            shard->index[2 * e.index] = e.at;
            shard->index[2 * e.index + 1] = e.n;
        }
        shard->written += chunks.size();
        complete = shard->written == shard->expected;
    }
    if (complete) {
        finish_shard(*shard);
    }
}

std::vector<uint64_t>
ShardWriter::shard_of(const std::vector<uint64_t>& chunk) const
{
    std::vector<uint64_t> shard(chunk.size());
    for (size_t d = 0; d < chunk.size(); ++d) {
        shard[d] = chunk[d] / c_.geometry.shard_chunks()[d];
    }
    return shard;
}

std::shared_ptr<Shard>
ShardWriter::shard_for(const std::vector<uint64_t>& coords)
{
    const auto& g = c_.geometry;
    std::lock_guard lock(shards_mutex_);
    auto& slot = shards_[coords];
    if (!slot) {
        auto shard = std::make_shared<Shard>();
        shard->key = coords;
        shard->index.assign(2 * g.chunks_per_shard(), std::numeric_limits<uint64_t>::max());
        shard->expected = g.chunks_expected_in_shard(coords);
        try {
            shard->sink = c_.store.open_sink(chunk_key(c_.spec.key, c_.geometry.stored(coords), true));
            shard->sink->reserve(shard->expected * chunk_bound_ +
                                 16 * g.chunks_per_shard() + 4);
        } catch (...) {
            shards_.erase(coords);
            throw;
        }
        slot = std::move(shard);
    }
    return slot;
}

void
ShardWriter::finish_shard(Shard& shard)
{
    const std::vector<uint8_t> index = encode_index(shard.index);
    std::shared_ptr<Shard> keep_alive;
    {
        std::lock_guard lock(shards_mutex_);
        auto it = shards_.find(shard.key);
        if (it != shards_.end()) {
            keep_alive = std::move(it->second);
            shards_.erase(it);
        }
    }
    shard.sink->write(shard.end.load(), index.data(), index.size());
    shard.sink->finalize();
    c_.extent.object_stored(shard.key[0]);
}

void
ShardWriter::finalize()
{
    std::vector<std::shared_ptr<Shard>> open;
    {
        std::lock_guard lock(shards_mutex_);
        for (auto& [coords, shard] : shards_) {
            open.push_back(shard);
        }
    }
    for (auto& shard : open) {
        try {
            // Its last chunks never came (the end of an unbounded array):
            // those packed wait here.
            write_open_pack(shard);
            finish_shard(*shard);
        } catch (const Error& e) {
            c_.errors.record(e.code(), e.what());
        }
    }
}

} // namespace

std::unique_ptr<ChunkSink>
make_shard_writer(const SinkContext& context, uint64_t chunk_bound)
{
    return std::make_unique<ShardWriter>(context, chunk_bound);
}

} // namespace zarr
