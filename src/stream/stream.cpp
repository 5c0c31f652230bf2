#include "stream.hh"

#include "../util/log.hh"
#include "../zarr/io_policy.hh"
#include "../zarr/metadata.hh"

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

ArrayPlan
array_plan(const StreamPlan& plan)
{
    return { plan.output_key, plan.multiscale, plan.downsampling, plan.levels };
}

} // namespace

Stream::Stream(const ZarrStreamSettings* settings)
  : plan_(plan_stream(settings))
{
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

    // Each array paces the caller itself, from its own writers and the
    // pool's budgets (ArrayStream's constructor).
    arrays_.emplace(plan_.output_key,
                    std::make_unique<ArrayStream>(array_plan(plan_), *store_, *pool_,
                                                  errors_, std::move(planes)));

    write_hierarchy();
    size_t levels = 0;
    for (const auto& [key, array] : arrays_) {
        levels += array->plan().levels.size();
    }
    log::debug("stream created at '", storage::location(plan_.store), "': ",
               levels, " level(s), ", plan_.max_threads,
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
        for (const auto& [key, array] : arrays_) {
            const auto image_group = array->image_group();
            for (const auto& group : parent_groups(array->plan().levels.front().key)) {
                json attributes = json::object();
                if (group.empty()) {
                    attributes = plan_.root_attributes;
                }
                if (image_group && group == *image_group) {
                    // An image at the root takes the store's name.
                    attributes.update(array->image_attributes(storage::name(plan_.store)));
                }
                update_group(*store_, group, version, attributes);
            }
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

ArrayStream&
Stream::array(const std::string& key)
{
    if (key.empty() && arrays_.size() == 1) {
        return *arrays_.begin()->second;
    }
    const auto it = arrays_.find(key);
    if (it == arrays_.end()) {
        fail(ZarrStatusCode_InvalidArgument, "the stream has no array '", key, "'");
    }
    return *it->second;
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

    array("").append(data, n, accepted);
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
    // durable, and say in the error what is kept.
    std::string kept;
    try {
        for (const auto& [key, array] : arrays_) {
            kept += array->keep_stored();
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
