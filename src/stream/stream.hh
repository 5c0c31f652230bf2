// A stream: validated settings, a store, a thread pool and the first error,
// shared by its arrays (an ArrayStream each, keyed by output key; one today).
#pragma once

#include "../storage/store.hh"
#include "../util/error.hh"
#include "../util/thread_pool.hh"
#include "array_stream.hh"
#include "settings.hh"

#include <map>
#include <memory>
#include <string>
#include <string_view>

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
    void check_open() const;
    /// The array at `key`; "" is also the only array, whatever its key.
    ArrayStream& array(const std::string& key);

    StreamPlan plan_;
    std::unique_ptr<storage::Store> store_;
    FirstError errors_;
    std::map<std::string, std::unique_ptr<ArrayStream>> arrays_; // by output key
    std::unique_ptr<ThreadPool> pool_; // destroyed first: jobs use the rest
    bool closed_ = false;
};

} // namespace zarr
