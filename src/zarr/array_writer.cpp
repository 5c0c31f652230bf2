#include "array_writer.hh"

#include "../codec/blosc1.hh"
#include "../codec/crc32c.hh"
#include "../util/log.hh"
#include "metadata.hh"

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cstring>
#include <limits>

namespace zarr {

struct ArrayWriter::Shard
{
    std::unique_ptr<storage::Sink> sink;
    std::atomic<uint64_t> end{ 0 }; // bytes reserved so far
    std::mutex mutex;
    std::vector<uint64_t> index; // (offset, nbytes) per inner chunk
    uint64_t written = 0;
    uint64_t expected = 0;
};

namespace {

void
store_le64(uint8_t* dst, uint64_t v)
{
    for (int i = 0; i < 8; ++i) {
        dst[i] = static_cast<uint8_t>(v >> (8 * i));
    }
}

void
store_le32(uint8_t* dst, uint32_t v)
{
    for (int i = 0; i < 4; ++i) {
        dst[i] = static_cast<uint8_t>(v >> (8 * i));
    }
}

} // namespace

ArrayWriter::ArrayWriter(ArraySpec spec,
                         storage::Store& store,
                         ThreadPool& pool,
                         FirstError& errors)
  : spec_(std::move(spec))
  , geometry_(spec_.dims, bytes_of(spec_.dtype))
  , store_(store)
  , pool_(pool)
  , errors_(errors)
{
    const auto& g = geometry_;
    const size_t n = g.ndim();
    const uint64_t bpe = g.bytes_per_element();
    const uint64_t chy = g.chunk_shape()[n - 2];
    const uint64_t chx = g.chunk_shape()[n - 1];
    const uint64_t cy = g.chunk_counts()[n - 2];
    const uint64_t cx = g.chunk_counts()[n - 1];

    chunk_row_bytes_ = chx * bpe;
    frame_row_bytes_ = g.frame_width() * bpe;
    for (uint64_t ty = 0; ty < cy; ++ty) {
        for (uint64_t tx = 0; tx < cx; ++tx) {
            const uint64_t y0 = ty * chy;
            const uint64_t x0 = tx * chx;
            tiles_.push_back(Tile{
              .src_offset = (y0 * g.frame_width() + x0) * bpe,
              .rows = std::min(chy, g.frame_height() - y0),
              .row_bytes = std::min(chx, g.frame_width() - x0) * bpe,
              .slab_offset = ty * cx + tx,
            });
        }
    }

    chunk_strides_.assign(n - 2, 1);
    for (size_t d = 0; d + 2 < n; ++d) {
        for (size_t e = d + 1; e < n; ++e) {
            chunk_strides_[d] *= g.chunk_shape()[e];
        }
    }

    open_.resize(g.chunks_per_slab());
    coords_.resize(n - 2);
    if (spec_.version == ZarrVersion_2) {
        objects_per_row_ = g.chunks_per_slab();
        row_extent_ = g.chunk_shape()[0];
    } else {
        objects_per_row_ = 1;
        for (size_t d = 1; d < n; ++d) {
            objects_per_row_ *= ceil_div(g.chunk_counts()[d], g.shard_chunks()[d]);
        }
        row_extent_ = g.chunk_shape()[0] * g.shard_chunks()[0];
    }
    // Keep enough idle buffers to refill a whole slab without allocating.
    buffers_ = BufferPool::create(g.chunk_bytes(), 2 * g.chunks_per_slab());
}

ArrayWriter::~ArrayWriter() = default;

uint64_t
ArrayWriter::slab_bytes() const noexcept
{
    return geometry_.chunks_per_slab() * geometry_.chunk_bytes();
}

uint64_t
ArrayWriter::append_extent() const noexcept
{
    if (!geometry_.unbounded()) {
        return geometry_.sizes()[0];
    }
    return ceil_div(frames(), geometry_.frames_per_append_index());
}

void
ArrayWriter::append_frame(const uint8_t* frame)
{
    assert(frames_ < geometry_.frame_capacity());
    // Counted first: a worker that completes this frame's row caps the
    // published extent by it.
    ++frames_;
    scatter(frame);
}

Buffer&
ArrayWriter::open_chunk(uint64_t slab_index)
{
    Buffer& buffer = open_[slab_index];
    if (!buffer) {
        buffer = buffers_->acquire();
        // Recycled buffers hold old data: a chunk that reaches past the
        // array's end has padding that no frame overwrites.
        if (geometry_.is_edge_chunk(geometry_.chunk_coords(open_slab_, slab_index))) {
            std::memset(buffer.data(), 0, buffer.size());
        }
    }
    return buffer;
}

void
ArrayWriter::scatter(const uint8_t* frame)
{
    const auto& g = geometry_;
    const size_t n_outer = g.ndim() - 2;
    const auto& chunk = g.chunk_shape();
    const auto& sizes = g.sizes();
    g.frame_coords(scattered_, coords_.data());

    const uint64_t slab = coords_[0] / chunk[0];
    if (slab != open_slab_) {
        assert(std::none_of(open_.begin(), open_.end(), [](const Buffer& b) {
            return static_cast<bool>(b);
        }));
        open_slab_ = slab;
    }

    uint64_t outer_chunk = 0;
    uint64_t local = 0;
    bool completes = true;
    for (size_t d = 0; d < n_outer; ++d) {
        if (d > 0) {
            outer_chunk = outer_chunk * g.chunk_counts()[d] + coords_[d] / chunk[d];
        }
        const uint64_t within = coords_[d] % chunk[d];
        local += within * chunk_strides_[d];
        const bool last_in_chunk = within == chunk[d] - 1;
        const bool last_in_array = sizes[d] != 0 && coords_[d] == sizes[d] - 1;
        completes = completes && (last_in_chunk || last_in_array);
    }
    const uint64_t base = outer_chunk * g.tiles_per_frame();
    const uint64_t local_bytes = local * g.bytes_per_element();

    for (const Tile& tile : tiles_) {
        const uint64_t slab_index = base + tile.slab_offset;
        if (frame == nullptr && !open_[slab_index]) {
            continue; // padding only matters for chunks holding data
        }
        uint8_t* dst = open_chunk(slab_index).data() + local_bytes;
        if (frame != nullptr) {
            const uint8_t* src = frame + tile.src_offset;
            for (uint64_t r = 0; r < tile.rows; ++r) {
                std::memcpy(dst, src, tile.row_bytes);
                dst += chunk_row_bytes_;
                src += frame_row_bytes_;
            }
        } else {
            for (uint64_t r = 0; r < tile.rows; ++r) {
                std::memset(dst, 0, tile.row_bytes);
                dst += chunk_row_bytes_;
            }
        }
    }
    ++scattered_;

    if (completes) {
        for (const Tile& tile : tiles_) {
            submit_chunk(base + tile.slab_offset);
        }
    }
}

void
ArrayWriter::flush()
{
    const auto& g = geometry_;
    if (scattered_ % g.frames_per_slab() == 0) {
        return;
    }
    const uint64_t slab_end =
      std::min((scattered_ / g.frames_per_slab() + 1) * g.frames_per_slab(),
               g.frame_capacity());
    while (scattered_ < slab_end) {
        scatter(nullptr);
    }
    assert(std::none_of(open_.begin(), open_.end(), [](const Buffer& b) {
        return static_cast<bool>(b);
    }));
}

void
ArrayWriter::submit_chunk(uint64_t slab_index)
{
    if (!open_[slab_index]) {
        return;
    }
    auto chunk = std::make_shared<Buffer>(std::move(open_[slab_index]));
    auto coords = geometry_.chunk_coords(open_slab_, slab_index);
    pool_.submit(
      [this, coords = std::move(coords), chunk = std::move(chunk)] {
          write_chunk(coords, *chunk);
      },
      geometry_.chunk_bytes());
}

std::string
ArrayWriter::chunk_key(const std::vector<uint64_t>& coords, bool v3) const
{
    std::string key = spec_.key;
    if (v3) {
        key += "/c";
    }
    for (uint64_t c : coords) {
        key += '/';
        key += std::to_string(c);
    }
    return key;
}

void
ArrayWriter::write_chunk(const std::vector<uint64_t>& coords, const Buffer& chunk)
{
    if (errors_.failed()) {
        return; // the stream already failed; do not pile up more errors
    }
    const uint8_t* data = chunk.data();
    size_t n = chunk.size();

    // One scratch buffer per worker thread, grown once: the steady state
    // allocates nothing.
    thread_local std::vector<uint8_t> scratch;
    if (spec_.compression.enabled) {
        const size_t capacity = codec::blosc_max_compressed_size(n);
        if (scratch.size() < capacity) {
            scratch.resize(capacity);
        }
        n = codec::blosc_compress(
          spec_.compression.blosc, data, n, scratch.data(), scratch.size());
        data = scratch.data();
    }

    if (spec_.version == ZarrVersion_2) {
        store_.put(chunk_key(coords, false), data, n);
        row_object_done(coords[0]);
        return;
    }

    std::vector<uint64_t> shard_coords(coords.size());
    for (size_t d = 0; d < coords.size(); ++d) {
        shard_coords[d] = coords[d] / geometry_.shard_chunks()[d];
    }
    auto shard = shard_for(shard_coords);
    const uint64_t offset = shard->end.fetch_add(n);
    shard->sink->write(offset, data, n);

    bool complete = false;
    {
        std::lock_guard lock(shard->mutex);
        const uint64_t i = geometry_.index_in_shard(coords);
        shard->index[2 * i] = offset;
        shard->index[2 * i + 1] = n;
        complete = ++shard->written == shard->expected;
    }
    if (complete) {
        finish_shard(shard_coords, *shard);
    }
}

std::shared_ptr<ArrayWriter::Shard>
ArrayWriter::shard_for(const std::vector<uint64_t>& coords)
{
    std::lock_guard lock(shards_mutex_);
    auto& slot = shards_[coords];
    if (!slot) {
        auto shard = std::make_shared<Shard>();
        shard->index.assign(2 * geometry_.chunks_per_shard(),
                            std::numeric_limits<uint64_t>::max());
        shard->expected = geometry_.chunks_expected_in_shard(coords);
        try {
            shard->sink = store_.open_sink(chunk_key(coords, true));
            uint64_t per_chunk = geometry_.chunk_bytes();
            if (spec_.compression.enabled) {
                per_chunk = codec::blosc_max_compressed_size(per_chunk);
            }
            shard->sink->reserve(shard->expected * per_chunk +
                                 16 * geometry_.chunks_per_shard() + 4);
        } catch (...) {
            shards_.erase(coords);
            throw;
        }
        slot = std::move(shard);
    }
    return slot;
}

void
ArrayWriter::finish_shard(const std::vector<uint64_t>& coords, Shard& shard)
{
    const size_t n_entries = shard.index.size();
    std::vector<uint8_t> index(8 * n_entries + 4);
    for (size_t i = 0; i < n_entries; ++i) {
        store_le64(index.data() + 8 * i, shard.index[i]);
    }
    store_le32(index.data() + 8 * n_entries,
               codec::crc32c(index.data(), 8 * n_entries));
    std::shared_ptr<Shard> keep_alive;
    {
        std::lock_guard lock(shards_mutex_);
        auto it = shards_.find(coords);
        if (it != shards_.end()) {
            keep_alive = std::move(it->second);
            shards_.erase(it);
        }
    }
    shard.sink->write(shard.end.load(), index.data(), index.size());
    shard.sink->finalize();
    row_object_done(coords[0]);
}

void
ArrayWriter::row_object_done(uint64_t row)
{
    if (!geometry_.unbounded()) {
        return; // the metadata has the full shape from the start
    }
    if (errors_.failed()) {
        return; // after a failure a row may miss objects: count none
    }
    std::lock_guard lock(progress_mutex_);
    if (++row_done_[row] < objects_per_row_) {
        return;
    }
    while (!row_done_.empty() && row_done_.begin()->first == rows_complete_ &&
           row_done_.begin()->second == objects_per_row_) {
        row_done_.erase(row_done_.begin());
        ++rows_complete_;
    }
    const uint64_t extent = stored_extent();
    if (extent > published_extent_ && !errors_.failed()) {
        // Atomic replace, in order (under the lock): a reader sees the
        // extent grow, and a crash leaves the last one written.
        write_array_metadata(store_, spec_, extent);
        published_extent_ = extent;
    }
}

void
ArrayWriter::finalize_shards()
{
    std::vector<std::pair<std::vector<uint64_t>, std::shared_ptr<Shard>>> open;
    {
        std::lock_guard lock(shards_mutex_);
        for (auto& [coords, shard] : shards_) {
            open.emplace_back(coords, shard);
        }
    }
    for (auto& [coords, shard] : open) {
        try {
            finish_shard(coords, *shard);
        } catch (const Error& e) {
            errors_.record(e.code(), e.what());
        }
    }
}

uint64_t
ArrayWriter::write_metadata_of_stored_rows()
{
    std::lock_guard lock(progress_mutex_);
    if (!geometry_.unbounded()) {
        return append_extent();
    }
    published_extent_ = stored_extent();
    write_array_metadata(store_, spec_, published_extent_);
    return published_extent_;
}

uint64_t
ArrayWriter::stored_extent() const
{
    // A row padded at close is not all data: never beyond the frames
    // appended (close writes the exact extent last).
    return std::min(rows_complete_ * row_extent_, append_extent());
}

void
ArrayWriter::write_metadata()
{
    std::lock_guard lock(progress_mutex_);
    published_extent_ = append_extent();
    write_array_metadata(store_, spec_, published_extent_);
}

} // namespace zarr
