// What one Zarr array looks like: dimensions, type, codec, version, key.
#pragma once

#include "../codec/codec_chain.hh"
#include "zarr.types.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace zarr {

struct DimensionSpec
{
    std::string name;
    ZarrDimensionType type = ZarrDimensionType_Space;
    uint64_t size = 0;         // 0 on the append dimension: unbounded
    uint64_t chunk = 1;        // pixels per chunk
    uint64_t shard_chunks = 1; // chunks per shard (v3)
    std::string unit;          // "" for none
    double scale = 1.0;
};

/// The attributes of an array node (a JSON object as text), which the
/// caller may change while workers rewrite the array's metadata: v3 keeps
/// them in the array's zarr.json.
class NodeAttributes
{
  public:
    std::string get() const
    {
        std::lock_guard lock(mutex_);
        return text_;
    }
    void set(std::string text)
    {
        std::lock_guard lock(mutex_);
        text_ = std::move(text);
    }

  private:
    mutable std::mutex mutex_;
    std::string text_ = "{}";
};

struct ArraySpec
{
    std::vector<DimensionSpec> dims; // acquisition order, slowest to fastest;
                                     // >= 2 (2: one bounded frame)
    /// The stored axes: storage_order[k] is the index in `dims` of the k-th
    /// (storage_order.hh). Empty: acquisition order.
    std::vector<size_t> storage_order;
    ZarrDataType dtype = ZarrDataType_uint8;
    ZarrVersion version = ZarrVersion_3;
    codec::CodecChain codecs; // how chunks are encoded; bytes alone by default
    std::string key; // the array's key in the store, e.g. "0" or "a/b"
    /// The node's attributes (v3); null: none.
    std::shared_ptr<const NodeAttributes> attributes;
    /// Bytes of buffers the writer prefills at creation, at most: this
    /// array's share of the stream's io_policy::kMaxPrefillBytes (all of it
    /// when unset).
    std::optional<uint64_t> prefill_bytes;
};

/// Bytes per element of `dtype`.
size_t
bytes_of(ZarrDataType dtype);

/// Lower-case name: "uint8" ... "float64".
const char*
dtype_name(ZarrDataType dtype);

bool
is_float(ZarrDataType dtype);

/// `key` + "/" + `name`, or `name` when `key` is empty.
std::string
join_key(const std::string& key, const std::string& name);

} // namespace zarr
