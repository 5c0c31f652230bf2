#include "stream.hh"

#include "../util/log.hh"
#include "../zarr/io_policy.hh"
#include "../zarr/metadata.hh"

#include <algorithm>

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

/// Groups holding `plan`'s node, from the root down: an image group and its
/// parents, or a plain array's parents (none for an array at the root).
std::vector<std::string>
groups_of(const ArrayPlan& plan)
{
    if (plan.image) {
        return parent_groups(join_key(plan.output_key, "0"));
    }
    if (plan.output_key.empty()) {
        return {};
    }
    return parent_groups(plan.output_key);
}

/// Splits io_policy::kMaxPrefillBytes among the arrays by their frame size,
/// so that a stream of many arrays faults in as much at creation as a
/// stream of one. Each level of an array prefills within its part (lower
/// levels need a fraction of it).
void
share_prefill(StreamPlan& plan)
{
    if (plan.arrays.size() < 2) {
        return;
    }
    std::vector<uint64_t> frame_bytes;
    uint64_t total = 0;
    for (const auto& array : plan.arrays) {
        const ArraySpec& full = array.levels.front();
        frame_bytes.push_back(Geometry(full.dims, bytes_of(full.dtype)).frame_bytes());
        total += frame_bytes.back();
    }
    for (size_t a = 0; a < plan.arrays.size(); ++a) {
        const auto share = static_cast<uint64_t>(
          static_cast<double>(io_policy::kMaxPrefillBytes) *
          (static_cast<double>(frame_bytes[a]) / static_cast<double>(total)));
        for (auto& level : plan.arrays[a].levels) {
            level.prefill_bytes = share;
        }
    }
}

} // namespace

/// Shared budgets beyond what the largest array alone would get are capped
/// here: the arrays' slabs seldom complete at once, and the caller waits
/// (backpressure) when they do.
constexpr size_t kMaxSharedBudget = size_t{ 1 } << 30;

ThreadPool::Config
shared_pool_config(const StreamPlan& plan,
                   const std::vector<std::vector<std::optional<codec::BloscPlanes>>>& planes)
{
    ThreadPool::Config config{};
    size_t largest = 0, largest_io = 0, planes_largest = 0, planes_sum = 0, whole_sum = 0;
    for (size_t a = 0; a < plan.arrays.size(); ++a) {
        const ThreadPool::Config c =
          io_policy::pool_config(plan.arrays[a].levels, planes[a], plan.max_threads);
        largest = std::max(largest, c.byte_budget);
        largest_io = std::max(largest_io, c.io_budget);
        if (std::ranges::all_of(planes[a], [](const auto& p) { return p.has_value(); })) {
            planes_largest = std::max(planes_largest, c.byte_budget);
            planes_sum += c.byte_budget;
        } else {
            whole_sum += c.byte_budget;
        }
        if (a == 0) {
            config = c;
            continue;
        }
        config.max_queued_jobs += c.max_queued_jobs - 2 * plan.max_threads;
        config.io_budget += c.io_budget;
    }
    config.byte_budget = whole_sum + std::min(planes_sum, 2 * planes_largest);
    config.byte_budget = std::min(config.byte_budget, std::max(largest, kMaxSharedBudget));
    config.io_budget = std::min(config.io_budget, std::max(largest_io, kMaxSharedBudget));
    return config;
}

Stream::Stream(const ZarrStreamSettings* settings)
  : plan_(plan_stream(settings))
{
    share_prefill(plan_);
    // How each level compresses (a c-blosc probe): decided once, here.
    std::vector<std::vector<std::optional<codec::BloscPlanes>>> planes;
    for (const auto& array : plan_.arrays) {
        planes.emplace_back();
        for (const auto& level : array.levels) {
            planes.back().push_back(ArrayWriter::plane_plan(level));
        }
    }
    pool_ = std::make_unique<ThreadPool>(shared_pool_config(plan_, planes), pool_errors_);

    // Only now, with the settings checked and the threads started, is the
    // store touched (and, with overwrite, emptied).
    prepare_store();

    // Each array paces the caller itself, from its own writers and the
    // pool's budgets (ArrayStream's constructor). Its buffer pools are
    // counted as the stream's memory.
    {
        const BufferPoolRegistry::Scope counted(buffers_);
        for (size_t a = 0; a < plan_.arrays.size(); ++a) {
            arrays_.emplace(plan_.arrays[a].output_key,
                            std::make_unique<ArrayStream>(plan_.arrays[a], *store_, *pool_,
                                                          errors_, std::move(planes[a]),
                                                          staging_));
        }
    }

    write_hierarchy();
    size_t levels = 0;
    for (const auto& [key, array] : arrays_) {
        levels += array->plan().levels.size();
    }
    log::debug("stream created at '", storage::location(plan_.store), "': ",
               arrays_.size(), " array(s), ", levels, " level(s), ", plan_.max_threads,
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
    if (!plan_.overwrite) {
        remove_replaced_arrays();
    }
}

void
Stream::remove_replaced_arrays()
{
    // An array written where one exists replaces it: its old chunks go
    // first, so none of them shows through the new array (a shorter shape,
    // another chunk grid, or a row the new stream has not written yet).
    // Levels beyond the new pyramid's go too. An array at the store root is
    // left alone: its node is the whole store, other arrays included.
    const auto is_array = [this](const std::string& key) {
        return store_->exists(join_key(key, "zarr.json")) ||
               store_->exists(join_key(key, ".zarray"));
    };
    for (const ArrayPlan& array : plan_.arrays) {
        for (const ArraySpec& level : array.levels) {
            if (!level.key.empty() && is_array(level.key)) {
                store_->erase_node(level.key);
            }
        }
        if (!array.image) {
            continue;
        }
        for (size_t n = array.levels.size();; ++n) {
            const std::string stale = join_key(array.output_key, std::to_string(n));
            if (!is_array(stale)) {
                break;
            }
            store_->erase_node(stale);
        }
    }
}

void
Stream::write_hierarchy()
{
    const ZarrVersion version = plan_.version;
    try {
        // Every group's attributes, merged before anything is written, so
        // that each group document is written once; parents sort first.
        std::map<std::string, json> groups;
        const auto group = [&groups](const std::string& key) -> json& {
            return groups.try_emplace(key, json::object()).first->second;
        };
        for (const auto& [key, array] : arrays_) {
            for (const auto& g : groups_of(array->plan())) {
                group(g);
            }
            if (const auto image = array->image_group()) {
                // An image at the root takes the store's name.
                const json ome = array->image_attributes(storage::name(plan_.store));
                group(*image).update(ome);
                for (const auto& [name, value] : ome.items()) {
                    groups_[*image].insert(name);
                }
            }
        }
        for (const auto& g : plan_.groups) {
            for (const auto& parent : parent_groups(g.key)) {
                group(parent);
            }
            group(g.key).update(g.attributes);
            for (const auto& [name, value] : g.attributes.items()) {
                groups_[g.key].insert(name);
            }
        }
        for (auto& [key, attributes] : groups) {
            if (key.empty()) {
                json root = plan_.root_attributes;
                root.update(attributes);
                attributes = std::move(root);
            }
            groups_[key];
            update_group(*store_, key, version, attributes);
        }
        if (!groups.contains("") && !plan_.root_attributes.empty()) {
            // The root is the one plain array: its node takes them.
            arrays_.at("")->set_node_attributes(plan_.root_attributes);
        }
        for (const auto& [key, array] : arrays_) {
            array->write_metadata();
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
Stream::no_such_key(const std::string& key, const std::string& what) const
{
    constexpr size_t kListed = 16;
    std::string keys;
    size_t n = 0;
    for (const auto& [k, array] : arrays_) {
        if (n++ == kListed) {
            keys += cat(", ... (", arrays_.size(), " in all)");
            break;
        }
        keys += cat(n == 1 ? "" : ", ", "'", k, "'");
    }
    fail(ZarrStatusCode_KeyNotFound, what, " '", key, "': the stream's array keys are ", keys);
}

ArrayStream&
Stream::array(const char* key)
{
    if (key == nullptr || key[0] == '\0') {
        if (arrays_.size() == 1) {
            return *arrays_.begin()->second;
        }
        no_such_key(key == nullptr ? "NULL" : "", cat("the stream has ", arrays_.size(),
                                                      " arrays, so an append names one; key"));
    }
    std::string normalised;
    try {
        normalised = normalize_output_key(key);
    } catch (const Error&) {
        no_such_key(key, "no array has the key");
    }
    const auto it = arrays_.find(normalised);
    if (it == arrays_.end()) {
        no_such_key(key, "no array has the key");
    }
    return *it->second;
}

void
Stream::append(const char* key, const uint8_t* data, size_t n, size_t& accepted)
{
    accepted = 0;
    check_open();
    // One array's failure refuses that array's appends only: the others
    // write to their own files and go on (close reports the failure).
    ArrayStream& target = array(key);
    pool_errors_.rethrow();
    target.rethrow_failure();
    if (n == 0) {
        return;
    }
    target.append(data, n, accepted, plan_.from_arrays);
    pool_errors_.rethrow();
    target.rethrow_failure();
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
Stream::write_attributes(const char* array_key,
                         const char* metadata_key,
                         std::string_view json_text)
{
    check_open();
    const json parsed = json::parse(json_text.begin(), json_text.end(), nullptr, false);
    if (parsed.is_discarded() || !parsed.is_object()) {
        fail(ZarrStatusCode_InvalidArgument, "the attributes must be a JSON object, got '",
             std::string(json_text.substr(0, 200)), "'");
    }
    const std::string name = metadata_key == nullptr ? "" : metadata_key;
    const json update = name.empty() ? parsed : json{ { name, parsed } };

    std::string key;
    try {
        key = normalize_output_key(array_key == nullptr ? "" : array_key);
    } catch (const Error&) {
        no_such_key(array_key, "no node has the key");
    }
    const auto group = groups_.find(key);
    for (const auto& [attribute, value] : update.items()) {
        if (attribute == "ome" ||
            (group != groups_.end() && group->second.contains(attribute))) {
            fail(ZarrStatusCode_InvalidArgument, "the attribute '", attribute, "' of '", key,
                 "' holds the OME-NGFF metadata the stream writes: use another ",
                 name.empty() ? "key in the JSON object" : "metadata_key");
        }
    }
    if (group != groups_.end()) {
        update_group(*store_, key, plan_.version, update);
        return;
    }
    const auto it = arrays_.find(key);
    if (it == arrays_.end()) {
        no_such_key(key, "no array or group has the key");
    }
    json merged = it->second->node_attributes();
    merged.update(update);
    it->second->set_node_attributes(merged);
}

size_t
Stream::memory_usage() const
{
    size_t bytes = buffers_.bytes_held();
    for (const auto& [key, array] : arrays_) {
        bytes += array->staging_bytes();
    }
    return bytes;
}

void
Stream::close()
{
    if (closed_) {
        return;
    }
    closed_ = true;

    for (const auto& [key, array] : arrays_) {
        array->flush();
    }
    pool_->wait_idle();
    for (const auto& [key, array] : arrays_) {
        array->finalize_shards();
    }
    if (errors_.failed()) {
        close_after_failure();
    }
    try {
        for (const auto& [key, array] : arrays_) {
            array->write_metadata();
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
    // durable, and say in the error what each array keeps (and why, for
    // an array that failed otherwise than the first).
    std::string first;
    ZarrStatusCode code = ZarrStatusCode_InternalError;
    try {
        errors_.rethrow();
    } catch (const Error& e) {
        first = e.what();
        code = e.code();
    }
    std::string kept;
    for (const auto& [key, array] : arrays_) {
        const std::string name = key.empty() ? std::string("the root array") : cat("'", key, "'");
        const auto own = array->failure();
        if (own && *own != first) {
            kept += cat("; ", name, " failed too: ", *own);
        }
        try {
            kept += array->keep_stored();
        } catch (const Error& e) {
            kept += cat("; what ", name, " keeps is unknown: ", e.what());
        }
    }
    try {
        store_->sync();
    } catch (const Error& e) {
        kept += cat("; what is kept may not be durable: ", e.what());
    }
    throw Error(code, first + kept);
}

} // namespace zarr
