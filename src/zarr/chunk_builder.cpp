#include "chunk_builder.hh"

#include "io_policy.hh"
#include "storage_order.hh"

#include <algorithm>
#include <limits>

namespace zarr {

std::optional<codec::BloscPlanes>
plane_plan(const ArraySpec& spec)
{
    // A chunk stored in another order (storage_order.hh) may get its planes
    // out of order, or need them transposed as staged: compressed whole.
    if (!spec.codecs.compresses() || !planes_arrive_in_order(spec)) {
        return std::nullopt;
    }
    const Geometry g(spec.dims, bytes_of(spec.dtype));
    return spec.codecs.plane_encoder(static_cast<size_t>(g.chunk_plane_bytes()),
                                     static_cast<size_t>(g.planes_per_chunk()));
}

ChunkBuilding
choose_chunk_building(const ArraySpec& spec,
                      const Geometry& g,
                      const std::optional<codec::BloscPlanes>& planes,
                      bool store_writes_in_place)
{
    if (planes) {
        return ChunkBuilding::compressed_planes;
    }
    if (!spec.codecs.compresses() && store_writes_in_place &&
        g.chunk_plane_bytes() % kBufferAlignment == 0 && g.planes_per_chunk() > 1) {
        return ChunkBuilding::raw_planes;
    }
    return ChunkBuilding::whole;
}

std::unique_ptr<ChunkBuilder>
make_chunk_builder(ChunkBuilding how,
                   const BuildContext& context,
                   std::optional<codec::BloscPlanes> planes)
{
    switch (how) {
        case ChunkBuilding::whole:
            return make_whole_chunks(context);
        case ChunkBuilding::compressed_planes:
            return make_plane_chunks(context, std::move(*planes));
        case ChunkBuilding::raw_planes:
            return make_raw_planes(context);
    }
    return nullptr;
}

std::span<uint8_t>
thread_scratch(size_t n)
{
    thread_local AlignedBytes scratch;
    thread_local size_t size = 0;
    if (size < n) {
        scratch.reset();
        size = 0;
        scratch = allocate_aligned(round_up(n, kBufferAlignment));
        size = round_up(n, kBufferAlignment);
    }
    return { scratch.get(), size };
}

StagingPools::Share
StagingPools::want(size_t buffer_bytes, uint64_t in_flight, uint64_t staged)
{
    std::lock_guard lock(mutex_);
    auto [it, made] = pools_.try_emplace(buffer_bytes);
    if (made) {
        // No idle limit: buffers exist only once taken (or prefilled), and
        // the pool's byte budget bounds how many are taken at once.
        it->second = BufferPool::create(buffer_bytes, std::numeric_limits<size_t>::max());
    }
    return { it->second, in_flight + (made ? staged : 0) };
}

StagingPools::Share
staging_pool(const BuildContext& context,
             size_t buffer_bytes,
             uint64_t in_flight,
             uint64_t staged)
{
    if (context.staging != nullptr) {
        return context.staging->want(buffer_bytes, in_flight, staged);
    }
    return { BufferPool::create(buffer_bytes, static_cast<size_t>(in_flight + staged)),
             in_flight + staged };
}

uint64_t
prefill_share(const StagingPools::Share& share, uint64_t allowance, uint64_t most)
{
    const uint64_t size = share.pool->buffer_size();
    const uint64_t live = share.pool->live_buffers();
    const uint64_t mine =
      std::min({ share.own, allowance / size, most > live ? most - live : 0 });
    share.pool->prefill(static_cast<size_t>(live + mine), static_cast<size_t>(size));
    return mine * size;
}

uint64_t
prefill_allowance(const ArraySpec& spec)
{
    return std::min(spec.prefill_bytes.value_or(io_policy::kMaxPrefillBytes),
                    io_policy::kMaxPrefillBytes);
}

uint64_t
prefill_whole(BufferPool& pool, uint64_t count, uint64_t allowance)
{
    const uint64_t size = pool.buffer_size();
    count = std::min(count, allowance / size);
    pool.prefill(static_cast<size_t>(count), static_cast<size_t>(size));
    return count * size;
}

} // namespace zarr
