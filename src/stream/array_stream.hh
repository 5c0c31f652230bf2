// One array of a stream: the writers of its levels, the downsamplers between
// them, the staging of a partial frame, and the pacing of the caller. The
// stream around it owns the store, the pool and the first error, which all
// its arrays share.
#pragma once

#include "../storage/store.hh"
#include "../util/error.hh"
#include "../util/thread_pool.hh"
#include "../zarr/array_writer.hh"
#include "../zarr/metadata.hh"
#include "../zarr/pyramid.hh"
#include "settings.hh"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace zarr {

class ArrayStream
{
  public:
    /// Creates the writer of each level, which compresses as `planes` says
    /// (one entry per level, decided where the pool is sized), and the
    /// downsamplers between levels. Writes nothing to `store` yet. Its
    /// writers take staging buffers from `staging` (the stream's).
    ArrayStream(ArrayPlan plan,
                storage::Store& store,
                ThreadPool& pool,
                FirstError& errors,
                std::vector<std::optional<codec::BloscPlanes>> planes,
                StagingPools& staging);

    ArrayStream(const ArrayStream&) = delete;
    ArrayStream& operator=(const ArrayStream&) = delete;

    const ArrayPlan& plan() const noexcept { return plan_; }

    /// The group that describes this array as an OME-NGFF image (its output
    /// key), or none for a plain array node.
    std::optional<std::string> image_group() const;

    /// The OME-NGFF attributes of image_group(). `store_name` names the
    /// image when the array is at the root.
    json image_attributes(const std::string& store_name) const;

    /// Writes every level's array document, with the frames appended so far.
    void write_metadata();

    /// Takes up to `n` (> 0) bytes of `data` (NULL: zeros); `accepted`
    /// receives how many were taken (also when this throws). Bytes beyond a
    /// bounded append dimension: with `whole`, nothing is taken
    /// (WriteOutOfBounds), else what fits is (Overflow).
    void append(const uint8_t* data, size_t n, size_t& accepted, bool whole);

    /// Sets the attributes of the plain array node (a JSON object) and
    /// rewrites its metadata at once: v2 .zattrs, v3 zarr.json.
    void set_node_attributes(const json& attributes);

    /// The attributes of the plain array node.
    json node_attributes() const;

    /// Bytes of the partial-frame staging buffer.
    uint64_t staging_bytes() const noexcept { return frame_bytes_; }

    /// Frames appended so far, and the bytes of a partial frame after them.
    uint64_t frames() const noexcept { return frames_; }
    uint64_t staged() const noexcept { return staged_; }

    /// First step of closing: pushes a partial frame (padded with zeros),
    /// then hands every level's partial chunks to the pool. A failure is
    /// recorded (this array's and the stream's first error), not thrown.
    void flush();

    /// Second step of closing, once the pool is idle: finishes the shards.
    /// A failure is recorded, as by flush().
    void finalize_shards();

    /// Throws this array's first failure, if any (its writes stop there;
    /// the stream's other arrays go on).
    void rethrow_failure() const { errors_.rethrow(); }

    /// The message of this array's first failure, if any.
    std::optional<std::string> failure() const;

    /// After a failure: rewrites each level's metadata to show only what
    /// was stored, and returns the text (to append to the error) that says
    /// what is kept. Throws if the metadata cannot be written.
    std::string keep_stored();

  private:
    void push_frame(const uint8_t* frame);
    /// Copies `n` bytes from `data` (NULL: zeros) to `to`.
    static void copy_in(uint8_t* to, const uint8_t* data, size_t n);
    /// Throws for an append of `n` bytes that exceeds `room`.
    [[noreturn]] void refuse(size_t n, uint64_t room, bool whole) const;
    void feed(size_t level, const uint8_t* frame);

    ArrayPlan plan_;
    /// This array's failures (also recorded in the stream's): one array's
    /// failure stops its writers, not the others', whose data is kept.
    FirstError errors_;
    std::shared_ptr<NodeAttributes> attributes_ = std::make_shared<NodeAttributes>();
    storage::Store& store_;
    ThreadPool& pool_;
    std::vector<std::unique_ptr<ArrayWriter>> writers_;      // one per level
    std::vector<std::unique_ptr<Downsampler>> downsamplers_; // level k -> k+1

    uint64_t frame_bytes_ = 0;
    std::unique_ptr<uint8_t[]> staging_; // a partial frame
    uint64_t staged_ = 0;
    size_t element_align_ = 1; // alignment frames need (for downsampling)
    uint64_t frames_ = 0;
    uint64_t frame_capacity_ = 0;
    uint64_t frames_per_slab_ = 1; // level 0
    uint64_t pace_period_ = 1;     // level-0 frames between groups of completed chunks
    uint64_t io_pace_period_ = 0;  // the same, where paced on the I/O budget; 0: not
    IoShare io_share_;             // this array's I/O jobs in the pool
};

} // namespace zarr
