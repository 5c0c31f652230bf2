#include "array_stream.hh"

#include "../util/log.hh"
#include "../zarr/geometry.hh"

#include <algorithm>
#include <cstring>

namespace zarr {

ArrayStream::ArrayStream(ArrayPlan plan,
                         storage::Store& store,
                         ThreadPool& pool,
                         FirstError& errors,
                         std::vector<std::optional<codec::BloscPlanes>> planes,
                         StagingPools& staging)
  : plan_(std::move(plan))
  , errors_(&errors)
  , store_(store)
  , pool_(pool)
{
    if (!plan_.image) {
        plan_.levels.front().attributes = attributes_;
    }
    const auto& levels = plan_.levels;
    for (size_t k = 0; k < levels.size(); ++k) {
        writers_.push_back(std::make_unique<ArrayWriter>(
          levels[k], store_, pool_, errors_, std::move(planes[k]), &io_share_, &staging));
        if (k > 0) {
            downsamplers_.push_back(std::make_unique<Downsampler>(
              levels[k - 1], levels[k], plan_.downsampling));
        }
    }

    const Geometry geometry(levels.front().dims, bytes_of(levels.front().dtype));
    frame_bytes_ = geometry.frame_bytes();
    frame_capacity_ = geometry.frame_capacity();
    frames_per_slab_ = geometry.frames_per_slab();
    // Planes go to the workers with every frame: nothing to pace on the
    // workers' budget; compressed chunks are paced on the I/O budget.
    const uint64_t group_period =
      std::max<uint64_t>(1, frames_per_slab_ / geometry.groups_per_slab());
    pace_period_ = writers_.front()->compresses_planes() || writers_.front()->writes_planes()
                     ? 1
                     : group_period;
    // Not for S3: an I/O job that uploads a part holds its bytes for the
    // whole request, so the I/O threads' bytes fall in steps of a part, and
    // a caller waiting for them to fall below a mark waited for one
    // (benchmarks/README.md: s3-pacing).
    io_pace_period_ = writers_.front()->compresses_planes() && store_.writes_in_place()
                        ? group_period
                        : 0;
    staging_ = std::make_unique_for_overwrite<uint8_t[]>(frame_bytes_);
    // Only the downsampler reads frames as typed elements (the chunk scatter
    // copies bytes).
    element_align_ = levels.size() > 1 ? bytes_of(levels.front().dtype) : 1;
}

std::optional<std::string>
ArrayStream::image_group() const
{
    if (plan_.image) {
        return plan_.output_key;
    }
    return std::nullopt;
}

json
ArrayStream::image_attributes(const std::string& store_name) const
{
    const ArraySpec& full = plan_.levels.front();
    std::vector<OmeDataset> datasets;
    for (size_t k = 0; k < plan_.levels.size(); ++k) {
        OmeDataset ds{ std::to_string(k), {} };
        for (const auto& d : plan_.levels[k].dims) {
            ds.scale.push_back(d.scale);
        }
        datasets.push_back(std::move(ds));
    }
    const std::string& name = plan_.output_key.empty() ? store_name : plan_.output_key;
    json entry =
      ome_multiscales_entry(name, full.dims, datasets, full.version, full.storage_order);
    if (plan_.multiscale) {
        describe_downsampling(entry, plan_.downsampling);
    }
    return ome_group_attributes(entry, full.version);
}

void
ArrayStream::write_metadata()
{
    for (auto& writer : writers_) {
        writer->write_metadata();
    }
}

void
ArrayStream::feed(size_t level, const uint8_t* frame)
{
    writers_[level]->append_frame(frame);
    if (level < downsamplers_.size()) {
        downsamplers_[level]->push(
          frame, [this, level](const uint8_t* f) { feed(level + 1, f); });
    }
}

void
ArrayStream::push_frame(const uint8_t* frame)
{
    // Pace the caller. Chunks complete in groups (at the end of each slab
    // for t/y/x; for t/c/z/y/x with z in chunks of 4, every 4 frames), and
    // each group is handed to the workers at once. The further into the
    // period before the next group, the less may still be in flight, by one
    // frame's share of a group per frame: so the caller waits for the writers
    // a little on every frame, instead of all at once on the frame that
    // completes the next group (which would make that one append very slow).
    const uint64_t into = frames_ % pace_period_;
    if (into > 0) {
        const uint64_t budget = pool_.byte_budget();
        pool_.wait_for_bytes_at_most(
          static_cast<size_t>(budget - budget / frames_per_slab_ * into));
    }
    if (io_pace_period_ != 0) {
        // Chunks compressed plane by plane complete together at the end of
        // each group (every chunk of a slab, for t/y/x) and go to the I/O
        // threads in one burst. Where the storage is the bottleneck, the
        // last group's writes must be done by the time the next group
        // completes, or its burst stops the workers (and then the caller,
        // for as long as the writes take). So the caller waits for the I/O
        // threads a little on every frame: the further into the group, the
        // less of this array's writes may still be queued for them. Only
        // this array's: the arrays of a stream appended in turn complete
        // their groups on consecutive appends, and an array that waited for
        // the burst another one just queued would stall on every group.
        const uint64_t at = frames_ % io_pace_period_;
        const size_t budget = pool_.io_budget();
        pool_.wait_for_io_bytes_at_most(budget - budget / io_pace_period_ * at, &io_share_);
    }
    feed(0, frame);
    ++frames_;
}

void
ArrayStream::copy_in(uint8_t* to, const uint8_t* data, size_t n)
{
    if (data != nullptr) {
        std::memcpy(to, data, n);
    } else {
        std::memset(to, 0, n);
    }
}

void
ArrayStream::refuse(size_t n, uint64_t room, bool whole) const
{
    const auto& append_dim = plan_.levels.front().dims[0];
    const std::string where = plan_.output_key.empty() ? std::string("the root")
                                                        : cat("'", plan_.output_key, "'");
    if (whole && plan_.levels.front().dims.size() == 2) {
        fail(ZarrStatusCode_WriteOutOfBounds, "the 2-D array at ", where, " is one ",
             frame_bytes_, "-byte image and has room for ", room, " more bytes: the append of ",
             n, " bytes was refused whole, nothing was written");
    }
    if (whole) {
        fail(ZarrStatusCode_WriteOutOfBounds, "the array at ", where,
             " has room for ", room, " more bytes (its append dimension '",
             append_dim.name, "' holds ", append_dim.size, ", ", frame_capacity_,
             " frames; ", frames_, " appended): the append of ", n,
             " bytes was refused whole, nothing was written");
    }
    fail(ZarrStatusCode_Overflow, "the array is full: its append dimension '", append_dim.name,
         "' holds ", append_dim.size, " (", frame_capacity_, " frames); ", room, " of the ", n,
         " bytes were accepted and ", n - room, " refused");
}

void
ArrayStream::append(const uint8_t* data, size_t n, size_t& accepted, bool whole)
{
    // Bytes the array can still take (bounded append dimension).
    uint64_t room = UINT64_MAX;
    if (frame_capacity_ != UINT64_MAX) {
        if (__builtin_mul_overflow(frame_capacity_ - frames_, frame_bytes_, &room)) {
            room = UINT64_MAX;
        }
        room -= staged_;
    }
    if (whole && n > room) {
        refuse(n, room, true);
    }
    const size_t take = static_cast<size_t>(std::min<uint64_t>(n, room));
    // data NULL: zeros, copied from nowhere (the offsets below stay 0).
    const auto at = [data](size_t offset) { return data == nullptr ? nullptr : data + offset; };

    size_t done = 0;
    if (staged_ > 0) {
        const size_t fill = static_cast<size_t>(
          std::min<uint64_t>(take, frame_bytes_ - staged_));
        copy_in(staging_.get() + staged_, at(done), fill);
        staged_ += fill;
        done += fill;
        accepted = done;
        if (staged_ == frame_bytes_) {
            push_frame(staging_.get());
            staged_ = 0;
        }
    }
    bool zero_frame_ready = false;
    while (take - done >= frame_bytes_) {
        const uint8_t* frame = at(done);
        if (frame == nullptr) {
            // One zero frame, pushed as often as needed: writers and
            // downsamplers copy what they keep before push_frame returns.
            if (!zero_frame_ready) {
                std::memset(staging_.get(), 0, frame_bytes_);
                zero_frame_ready = true;
            }
            frame = staging_.get();
        } else if (reinterpret_cast<uintptr_t>(frame) % element_align_ != 0) {
            // The downsampler reads typed elements: a frame that starts
            // mid-element (after an odd-sized append) is realigned first.
            std::memcpy(staging_.get(), frame, frame_bytes_);
            frame = staging_.get();
            zero_frame_ready = false;
        }
        push_frame(frame);
        done += frame_bytes_;
        accepted = done;
    }
    if (done < take) {
        copy_in(staging_.get(), at(done), take - done);
        staged_ = take - done;
        done = take;
        accepted = done;
    }

    if (take < n) {
        refuse(n, take, false);
    }
}

void
ArrayStream::set_node_attributes(const json& attributes)
{
    attributes_->set(attributes.dump());
    const ArraySpec& full = plan_.levels.front();
    if (full.version == ZarrVersion_2) {
        store_.put_atomic(join_key(full.key, ".zattrs"), attributes.dump(4) + "\n");
    } else {
        writers_.front()->rewrite_metadata();
    }
}

json
ArrayStream::node_attributes() const
{
    return json::parse(attributes_->get());
}

void
ArrayStream::flush()
{
    try {
        if (staged_ > 0) {
            log::warning("closing with an incomplete frame (", staged_, " of ",
                         frame_bytes_, " bytes); the rest is padded with zeros");
            std::memset(staging_.get() + staged_, 0, frame_bytes_ - staged_);
            push_frame(staging_.get());
            staged_ = 0;
        }
        // Top-down: flushing level k may complete frames of level k+1.
        for (size_t k = 0; k < downsamplers_.size(); ++k) {
            downsamplers_[k]->flush([this, k](const uint8_t* f) { feed(k + 1, f); });
        }
        for (auto& writer : writers_) {
            writer->flush();
        }
    } catch (...) {
        // This array stops; the others still flush (Stream::close).
        errors_.record_current();
    }
}

void
ArrayStream::finalize_shards()
{
    try {
        for (auto& writer : writers_) {
            writer->finalize_shards();
        }
    } catch (...) {
        errors_.record_current(); // as in flush()
    }
}

std::optional<std::string>
ArrayStream::failure() const
{
    try {
        errors_.rethrow();
    } catch (const Error& e) {
        return e.what();
    }
    return std::nullopt;
}

std::string
ArrayStream::keep_stored()
{
    // Every level's metadata, the full resolution last; a level whose
    // metadata cannot be rewritten (a full disk) keeps what it showed.
    std::string unwritten; // why a rewrite failed, if one did
    uint64_t stored = 0;
    for (size_t k = writers_.size(); k-- > 0;) {
        try {
            stored = writers_[k]->write_metadata_of_stored_rows();
        } catch (const Error& e) {
            if (unwritten.empty()) {
                unwritten = e.what();
            }
            stored = writers_[k]->published_extent();
        }
    }
    const ArrayWriter& full = *writers_.front();
    const std::string path = store_.describe(full.spec().key);
    const auto& append_dim = full.spec().dims[0];
    const bool v2 = full.spec().version == ZarrVersion_2;
    if (!unwritten.empty() &&
        !store_.exists(join_key(full.spec().key, v2 ? ".zarray" : "zarr.json"))) {
        return cat("; '", path, "' keeps nothing: ", unwritten);
    }
    const std::string why =
      unwritten.empty()
        ? std::string(" (all stored before the failure)")
        : cat(" (what its metadata showed at the failure: rewriting it failed too: ",
              unwritten, ")");
    if (append_dim.size != 0) {
        return cat("; in '", path, "' what was not stored reads as the fill value (0)",
                   unwritten.empty() ? "" : why);
    }
    if (stored == full.append_extent() && unwritten.empty()) {
        return cat("; '", path, "' keeps all ", stored, " '", append_dim.name,
                   "' indices appended");
    }
    return cat("; '", path, "' keeps the first ", stored, " of the ", full.append_extent(),
               " '", append_dim.name, "' indices appended", why, "; the rest is lost");
}

} // namespace zarr
