// A stream: validated settings, a store, a thread pool and the first error,
// shared by its arrays (an ArrayStream each, keyed by output key).
#pragma once

#include "../storage/store.hh"
#include "../util/buffer_pool.hh"
#include "../util/error.hh"
#include "../util/thread_pool.hh"
#include "array_stream.hh"
#include "settings.hh"

#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>

namespace zarr {

/// One pool for every array of `plan` (`planes`: each level's plane_plan(),
/// per array): each array's budgets added up (the first array's config
/// alone for a single array, as io_policy sizes it), but for the compute
/// budget of arrays whose every level is compressed plane by plane: theirs
/// is a few frames to keep the workers busy, and the workers are the same
/// for every array, so twice the largest of those is enough (what it saves
/// is staged frames: plane_chunks.cpp).
ThreadPool::Config
shared_pool_config(const StreamPlan& plan,
                   const std::vector<std::vector<std::optional<codec::BloscPlanes>>>& planes);

class Stream
{
  public:
    /// Validates, creates the store and writes the initial metadata.
    explicit Stream(const ZarrStreamSettings* settings);
    /// Closes if not closed yet; failures are logged.
    ~Stream();

    Stream(const Stream&) = delete;
    Stream& operator=(const Stream&) = delete;

    /// Appends up to `n` bytes (`data` NULL: zeros) to the array at `key`
    /// (NULL or "": the only array); `accepted` receives how many were
    /// taken (also when this throws). On a stream built from arrays, an
    /// append that would overflow a bounded array is refused whole.
    void append(const char* key, const uint8_t* data, size_t n, size_t& accepted);

    /// Writes acquire.json. Throws WillNotOverwrite if one exists and
    /// `overwrite` is false.
    void write_custom_metadata(std::string_view json_text, bool overwrite);

    /// Merges the JSON object `json_text` into the attributes of the node
    /// at `array_key` (NULL or "": the root), or stores it under
    /// attributes[metadata_key]; written at once.
    void write_attributes(const char* array_key,
                          const char* metadata_key,
                          std::string_view json_text);

    /// Bytes the stream's buffers hold now.
    size_t memory_usage() const;

    /// Flushes, syncs and writes final metadata. Throws the first failure.
    /// Idempotent.
    void close();

  private:
    void prepare_store();
    void remove_replaced_arrays();
    [[noreturn]] void close_after_failure();
    void write_hierarchy();
    void check_open() const;
    /// The array at `key`; NULL or "" is the only array.
    ArrayStream& array(const char* key);
    /// Throws KeyNotFound for `key`, listing the keys there are.
    [[noreturn]] void no_such_key(const std::string& key, const std::string& what) const;

    StreamPlan plan_;
    std::unique_ptr<storage::Store> store_;
    FirstError errors_; // the first failure of any array, or of the pool
    /// Failures of jobs that belong to no array (recorded in errors_ too):
    /// they stop every array.
    FirstError pool_errors_{ &errors_ };
    BufferPoolRegistry buffers_; // the arrays' buffer pools
    StagingPools staging_;       // the arrays' staged frames
    std::map<std::string, std::unique_ptr<ArrayStream>> arrays_; // by output key
    /// Every group the stream wrote, with the top-level attribute keys of
    /// the OME-NGFF metadata it wrote there (which callers may not replace).
    std::map<std::string, std::set<std::string>> groups_;
    std::unique_ptr<ThreadPool> pool_; // destroyed first: jobs use the rest
    bool closed_ = false;
};

} // namespace zarr
