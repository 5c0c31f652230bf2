// A stream: validated settings, a store, the array writers, and the frame
// staging that lets callers append any number of bytes.
#pragma once

#include "../storage/store.hh"
#include "../util/error.hh"
#include "../util/thread_pool.hh"
#include "../zarr/array_writer.hh"
#include "../zarr/pyramid.hh"
#include "settings.hh"

#include <memory>
#include <string_view>
#include <vector>

namespace zarr {

class Stream
{
  public:
    /// Validates, creates the store and writes the initial metadata.
    explicit Stream(const ZarrStreamSettings* settings);
    /// Closes if not closed yet; failures are logged.
    ~Stream();

    Stream(const Stream&) = delete;
    Stream& operator=(const Stream&) = delete;

    /// Appends up to `n` bytes; `accepted` receives how many were taken
    /// (also when this throws).
    void append(const uint8_t* data, size_t n, size_t& accepted);

    /// Writes acquire.json. Throws WillNotOverwrite if one exists and
    /// `overwrite` is false.
    void write_custom_metadata(std::string_view json_text, bool overwrite);

    /// Flushes, syncs and writes final metadata. Throws the first failure.
    /// Idempotent.
    void close();

  private:
    void prepare_store();
    [[noreturn]] void close_after_failure();
    void write_hierarchy();
    void push_frame(const uint8_t* frame);
    void feed(size_t level, const uint8_t* frame);
    void check_open() const;

    StreamPlan plan_;
    std::unique_ptr<storage::Store> store_;
    FirstError errors_;
    std::vector<std::unique_ptr<ArrayWriter>> writers_; // one per level
    std::vector<std::unique_ptr<Downsampler>> downsamplers_; // level k -> k+1
    std::unique_ptr<ThreadPool> pool_; // destroyed first: jobs use the rest

    uint64_t frame_bytes_ = 0;
    std::unique_ptr<uint8_t[]> staging_; // a partial frame
    uint64_t staged_ = 0;
    size_t element_align_ = 1; // alignment frames need (for downsampling)
    uint64_t frames_ = 0;
    uint64_t frame_capacity_ = 0;
    uint64_t frames_per_slab_ = 1; // level 0
    uint64_t pace_period_ = 1;     // level-0 frames between groups of completed chunks
    uint64_t io_pace_period_ = 0;  // the same, where paced on the I/O budget; 0: not
    bool closed_ = false;
};

} // namespace zarr
