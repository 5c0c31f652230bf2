// v2: every chunk is an object of its own.
#include "chunk_sink.hh"

#include <mutex>

namespace zarr {
namespace {

class ChunkFile final : public PlacedChunk
{
  public:
    ChunkFile(const SinkContext& context, std::vector<uint64_t> coords)
      : c_(context)
      , coords_(std::move(coords))
    {
    }

    void write(uint64_t at, const uint8_t* src, size_t n) override
    {
        file().write(at, src, n);
    }

    void complete() override
    {
        file().finalize();
        c_.extent.object_stored(coords_[0]);
    }

    bool needs_trailing_zeros() const noexcept override { return true; }

  private:
    /// The chunk's file, opened by the first call, whichever I/O thread
    /// makes it: creating a file and reserving its space takes long enough
    /// that doing it for a slab of chunks on the appending thread makes its
    /// appends wait (benchmarks/README.md: v2-file-open).
    storage::Sink& file()
    {
        std::call_once(opened_, [&] {
            auto sink = c_.store.open_sink(chunk_key(c_.spec.key, c_.geometry.stored(coords_), false));
            sink->reserve(c_.geometry.chunk_bytes());
            sink_ = std::move(sink);
        });
        return *sink_;
    }

    const SinkContext c_;
    const std::vector<uint64_t> coords_;
    std::once_flag opened_;
    std::unique_ptr<storage::Sink> sink_;
};

class ChunkFiles final : public ChunkSink
{
  public:
    explicit ChunkFiles(const SinkContext& context)
      : c_(context)
    {
    }

    void store(const std::vector<uint64_t>& coords,
               std::span<const std::span<uint8_t>> buffers,
               size_t n) override
    {
        c_.store.put_parts(chunk_key(c_.spec.key, c_.geometry.stored(coords), false), first_bytes(buffers, n));
        c_.extent.object_stored(coords[0]);
    }

    std::shared_ptr<PlacedChunk> place(const std::vector<uint64_t>& coords) override
    {
        return std::make_shared<ChunkFile>(c_, coords);
    }

    void finalize() override {} // every chunk is finished when stored

  private:
    const SinkContext c_;
};

} // namespace

std::unique_ptr<ChunkSink>
make_chunk_files(const SinkContext& context)
{
    return std::make_unique<ChunkFiles>(context);
}

std::string
chunk_key(const std::string& array_key, const std::vector<uint64_t>& coords, bool v3)
{
    std::string key = array_key;
    if (v3) {
        key += "/c";
    }
    for (uint64_t c : coords) {
        key += '/';
        key += std::to_string(c);
    }
    return key;
}

std::vector<std::span<const uint8_t>>&
first_bytes(std::span<const std::span<uint8_t>> buffers, size_t n)
{
    thread_local std::vector<std::span<const uint8_t>> parts;
    parts.clear();
    for (size_t i = 0, left = n; left > 0; ++i) {
        const size_t k = std::min(left, buffers[i].size());
        parts.emplace_back(buffers[i].data(), k);
        left -= k;
    }
    return parts;
}

} // namespace zarr
