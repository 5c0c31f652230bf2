#include "stream.hh"

#include "../util/log.hh"
#include "../zarr/geometry.hh"
#include "../zarr/io_policy.hh"
#include "../zarr/metadata.hh"

#include <algorithm>
#include <cstring>

namespace zarr {
namespace {

// Parents of `key` from the root down: "a/b/c" -> "", "a", "a/b".
std::vector<std::string>
parent_groups(const std::string& key)
{
    std::vector<std::string> parents{ "" };
    for (size_t pos = key.find('/'); pos != std::string::npos;
         pos = key.find('/', pos + 1)) {
        parents.push_back(key.substr(0, pos));
    }
    return parents;
}

} // namespace

Stream::Stream(const ZarrStreamSettings* settings)
  : plan_(plan_stream(settings))
{
    const Geometry geometry(plan_.array.dims, bytes_of(plan_.array.dtype));
    // How each level compresses (a c-blosc probe): decided once, here.
    std::vector<std::optional<codec::BloscPlanes>> planes;
    for (const auto& level : plan_.levels) {
        planes.push_back(ArrayWriter::plane_plan(level));
    }
    pool_ = std::make_unique<ThreadPool>(
      io_policy::pool_config(plan_.levels, planes, plan_.max_threads), errors_);

    // Only now, with the settings checked and the threads started, is the
    // store touched (and, with overwrite, emptied).
    prepare_store();

    for (size_t k = 0; k < plan_.levels.size(); ++k) {
        writers_.push_back(std::make_unique<ArrayWriter>(
          plan_.levels[k], *store_, *pool_, errors_, std::move(planes[k])));
        if (k > 0) {
            downsamplers_.push_back(std::make_unique<Downsampler>(
              plan_.levels[k - 1], plan_.levels[k], plan_.downsampling));
        }
    }

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
    io_pace_period_ = writers_.front()->compresses_planes() && store_->writes_in_place()
                        ? group_period
                        : 0;
    staging_ = std::make_unique_for_overwrite<uint8_t[]>(frame_bytes_);
    // Only the downsampler reads frames as typed elements (the chunk scatter
    // copies bytes).
    element_align_ = plan_.levels.size() > 1 ? bytes_of(plan_.array.dtype) : 1;

    write_hierarchy();
    log::debug("stream created at '", storage::location(plan_.store), "': ",
               writers_.size(), " level(s), ", plan_.max_threads,
               " thread(s), ", pool_->byte_budget(), " bytes in flight at most");
}

Stream::~Stream()
{
    try {
        close();
    } catch (const std::exception& e) {
        log::error("closing the stream at '", storage::location(plan_.store), "' failed: ",
                   e.what());
    }
}

void
Stream::prepare_store()
{
    store_ = storage::open_store(plan_.store, plan_.overwrite);
}

void
Stream::write_hierarchy()
{
    const ZarrVersion version = plan_.array.version;
    try {
        for (const auto& group : parent_groups(plan_.array.key)) {
            json attributes = json::object();
            if (group.empty()) {
                attributes = plan_.root_attributes;
            }
            const bool is_image_group =
              plan_.output_key.empty() ? group.empty()
                                       : (plan_.multiscale && group == plan_.output_key);
            if (is_image_group) {
                std::vector<OmeDataset> datasets;
                for (size_t k = 0; k < plan_.levels.size(); ++k) {
                    OmeDataset ds{ std::to_string(k), {} };
                    for (const auto& d : plan_.levels[k].dims) {
                        ds.scale.push_back(d.scale);
                    }
                    datasets.push_back(std::move(ds));
                }
                const std::string name = plan_.output_key.empty()
                                           ? storage::name(plan_.store)
                                           : plan_.output_key;
                json entry = ome_multiscales_entry(name, plan_.array.dims,
                                                   datasets, version);
                if (plan_.multiscale) {
                    describe_downsampling(entry, plan_.downsampling);
                }
                attributes.update(ome_group_attributes(entry, version));
            }
            update_group(*store_, group, version, attributes);
        }
        for (auto& writer : writers_) {
            writer->write_metadata();
        }
    } catch (const Error& e) {
        const bool keep = !store_->write_failure_means_bad_location() ||
                          e.code() == ZarrStatusCode_WillNotOverwrite;
        fail(keep ? e.code() : ZarrStatusCode_InvalidSettings, "store_path '",
             storage::location(plan_.store), "' is not writable: ", e.what());
    }
}

void
Stream::check_open() const
{
    if (closed_) {
        fail(ZarrStatusCode_InvalidArgument, "the stream is closed");
    }
}

void
Stream::feed(size_t level, const uint8_t* frame)
{
    writers_[level]->append_frame(frame);
    if (level < downsamplers_.size()) {
        downsamplers_[level]->push(
          frame, [this, level](const uint8_t* f) { feed(level + 1, f); });
    }
}

void
Stream::push_frame(const uint8_t* frame)
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
        const uint64_t budget = pool_->byte_budget();
        pool_->wait_for_bytes_at_most(
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
        // less may still be queued for them.
        const uint64_t at = frames_ % io_pace_period_;
        const size_t budget = pool_->io_budget();
        pool_->wait_for_io_bytes_at_most(
          static_cast<size_t>(budget - budget / io_pace_period_ * at));
    }
    feed(0, frame);
    ++frames_;
}

void
Stream::append(const uint8_t* data, size_t n, size_t& accepted)
{
    accepted = 0;
    check_open();
    errors_.rethrow();
    if (n == 0) {
        return;
    }
    if (data == nullptr) {
        fail(ZarrStatusCode_InvalidArgument, "data is NULL but bytes_in is ", n);
    }

    // Bytes the array can still take (bounded append dimension).
    uint64_t room = UINT64_MAX;
    if (frame_capacity_ != UINT64_MAX) {
        if (__builtin_mul_overflow(frame_capacity_ - frames_, frame_bytes_, &room)) {
            room = UINT64_MAX;
        }
        room -= staged_;
    }
    const size_t take = static_cast<size_t>(std::min<uint64_t>(n, room));

    size_t done = 0;
    if (staged_ > 0) {
        const size_t fill = static_cast<size_t>(
          std::min<uint64_t>(take, frame_bytes_ - staged_));
        std::memcpy(staging_.get() + staged_, data, fill);
        staged_ += fill;
        done += fill;
        accepted = done;
        if (staged_ == frame_bytes_) {
            push_frame(staging_.get());
            staged_ = 0;
        }
    }
    while (take - done >= frame_bytes_) {
        const uint8_t* frame = data + done;
        if (reinterpret_cast<uintptr_t>(frame) % element_align_ != 0) {
            // The downsampler reads typed elements: a frame that starts
            // mid-element (after an odd-sized append) is realigned first.
            std::memcpy(staging_.get(), frame, frame_bytes_);
            frame = staging_.get();
        }
        push_frame(frame);
        done += frame_bytes_;
        accepted = done;
    }
    if (done < take) {
        std::memcpy(staging_.get(), data + done, take - done);
        staged_ = take - done;
        done = take;
        accepted = done;
    }

    if (take < n) {
        fail(ZarrStatusCode_Overflow,
             "the array is full: its append dimension '", plan_.array.dims[0].name,
             "' holds ", plan_.array.dims[0].size, " (", frame_capacity_,
             " frames); ", take, " of the ", n, " bytes were accepted and ",
             n - take, " refused");
    }
    errors_.rethrow();
}

void
Stream::write_custom_metadata(std::string_view json_text, bool overwrite)
{
    check_open();
    json parsed = json::parse(json_text.begin(), json_text.end(), nullptr, false);
    if (parsed.is_discarded()) {
        fail(ZarrStatusCode_InvalidArgument, "custom_metadata is not valid JSON: '",
             std::string(json_text.substr(0, 200)), "'");
    }
    if (!parsed.is_object()) {
        fail(ZarrStatusCode_InvalidArgument,
             "custom_metadata must be a JSON object, got '",
             std::string(json_text.substr(0, 200)), "'");
    }
    const std::string key = "acquire.json";
    if (!overwrite && store_->exists(key)) {
        fail(ZarrStatusCode_WillNotOverwrite, "'", store_->describe(key),
             "' exists; pass overwrite=true to replace it");
    }
    store_->put_atomic(key, parsed.dump(4) + "\n");
}

void
Stream::close()
{
    if (closed_) {
        return;
    }
    closed_ = true;

    if (staged_ > 0) {
        log::warning("closing with an incomplete frame (", staged_, " of ",
                     frame_bytes_, " bytes); the rest is padded with zeros");
        std::memset(staging_.get() + staged_, 0, frame_bytes_ - staged_);
        push_frame(staging_.get());
        staged_ = 0;
    }
    // Top-down: flushing level k may complete frames of level k+1.
    for (size_t k = 0; k < downsamplers_.size(); ++k) {
        downsamplers_[k]->flush(
          [this, k](const uint8_t* f) { feed(k + 1, f); });
    }
    for (auto& writer : writers_) {
        writer->flush();
    }
    pool_->wait_idle();
    for (auto& writer : writers_) {
        writer->finalize_shards();
    }
    if (errors_.failed()) {
        close_after_failure();
    }
    try {
        for (auto& writer : writers_) {
            writer->write_metadata();
        }
        store_->sync();
    } catch (const Error& e) {
        errors_.record(e.code(), e.what());
    }
    errors_.rethrow();
}

void
Stream::close_after_failure()
{
    // Show readers only what was stored before the failure, make that
    // durable, and say in the error what is kept.
    std::string kept;
    try {
        const ArrayWriter& full = *writers_.front();
        for (size_t k = writers_.size(); k-- > 0;) {
            const uint64_t stored = writers_[k]->write_metadata_of_stored_rows();
            if (k == 0) {
                const auto& append_dim = full.spec().dims[0];
                kept = append_dim.size == 0
                         ? cat("; '", store_->describe(full.spec().key), "' keeps the first ",
                               stored, " of the ", full.append_extent(), " '",
                               append_dim.name, "' indices appended (all stored before the "
                               "failure); the rest is lost")
                         : cat("; in '", store_->describe(full.spec().key),
                               "' what was not stored reads as the fill value (0)");
            }
        }
        store_->sync();
    } catch (const Error& e) {
        kept = cat("; the metadata could not be rewritten either: ", e.what());
    }
    try {
        errors_.rethrow();
    } catch (const Error& e) {
        throw Error(e.code(), e.what() + kept);
    }
    throw Error(ZarrStatusCode_InternalError, "close_after_failure() without a failure");
}

} // namespace zarr
