#include "array_writer.hh"

#include "../util/buffer_pool.hh"

#include <cassert>

namespace zarr {
namespace {

/// The most bytes an encoded chunk of `spec` takes: the space a shard
/// reserves per chunk.
uint64_t
encoded_chunk_bound(const ArraySpec& spec,
                    const Geometry& g,
                    const std::optional<codec::BloscPlanes>& planes)
{
    uint64_t per_chunk = g.chunk_bytes();
    if (planes) {
        per_chunk = round_up(planes->capacity(), kBufferAlignment);
    } else if (spec.codecs.compresses()) {
        per_chunk = round_up(spec.codecs.encoded_bound(per_chunk), kBufferAlignment);
    }
    return per_chunk;
}

} // namespace

ArrayWriter::ArrayWriter(const ArraySpec& spec,
                         storage::Store& store,
                         ThreadPool& pool,
                         FirstError& errors)
  : ArrayWriter(spec, store, pool, errors, plane_plan(spec))
{
}

ArrayWriter::ArrayWriter(ArraySpec spec,
                         storage::Store& store,
                         ThreadPool& pool,
                         FirstError& errors,
                         std::optional<codec::BloscPlanes> planes,
                         IoShare* io_share,
                         StagingPools* staging)
  : spec_(std::move(spec))
  , geometry_(spec_.dims, bytes_of(spec_.dtype), spec_.storage_order)
  , extent_(spec_, geometry_, store, errors)
  , scatter_(geometry_)
  , building_(choose_chunk_building(spec_, geometry_, planes, store.writes_in_place()))
{
    const SinkContext sink{ spec_, geometry_, store, pool, errors, extent_, io_share };
    if (spec_.version == ZarrVersion_2) {
        sink_ = make_chunk_files(sink);
    } else {
        sink_ = make_shard_writer(sink, encoded_chunk_bound(spec_, geometry_, planes));
    }
    builder_ = make_chunk_builder(
      building_, BuildContext{ spec_, geometry_, scatter_, *sink_, pool, errors, io_share, staging },
      std::move(planes));
}

ArrayWriter::~ArrayWriter() = default;

std::optional<codec::BloscPlanes>
ArrayWriter::plane_plan(const ArraySpec& spec)
{
    return zarr::plane_plan(spec);
}

void
ArrayWriter::append_frame(const uint8_t* frame)
{
    assert(frames() < geometry_.frame_capacity());
    // Counted first: a worker that completes this frame's row caps the
    // published extent by it.
    extent_.frame_appended();
    builder_->append(frame);
}

} // namespace zarr
