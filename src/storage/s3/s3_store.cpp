// The S3 store: objects under "<prefix>/" in one bucket. Small objects go
// out with PutObject; an object that grows past one part (a shard, a large
// chunk) streams out as a multipart upload while it is written, so memory
// holds at most about one part per open object.
#include "../store.hh"
#include "client.hh"
#include "credentials.hh"

#include "../../util/error.hh"
#include "../../util/log.hh"

#include <pugixml.hpp>

#include <condition_variable>
#include <map>
#include <sstream>

namespace zarr::storage {

namespace {

using s3::Client;
using s3::Request;
using s3::Response;

constexpr size_t kMinPartSize = 5ull << 20;  // S3's minimum (all but the last part)
constexpr size_t kMaxParts = 10000;          // S3's maximum part count

std::string
xml_string(const pugi::xml_document& doc)
{
    std::ostringstream os;
    doc.save(os, "", pugi::format_raw);
    return os.str();
}

const uint8_t*
bytes(const std::string& s)
{
    return reinterpret_cast<const uint8_t*>(s.data());
}

class S3Store;

/// One object written front to back (positional writes may arrive out of
/// order from several threads; the bytes are queued until the gap before them
/// is filled). Complete parts upload from the writing thread as soon as they
/// fill, several at once when several threads write.
class S3Sink final : public Sink
{
  public:
    S3Sink(Client& client, std::string key, size_t part_size)
      : client_(client)
      , key_(std::move(key))
      , part_size_(part_size)
    {
    }
    ~S3Sink() override;

    void write(uint64_t offset, const uint8_t* data, size_t n) override;
    /// All parts arrive at once: a write in several calls would let the
    /// writes behind it pile up as early bytes while one of its calls
    /// uploads a part.
    void write_parts(uint64_t offset,
                     std::span<const std::span<const uint8_t>> parts) override;
    void reserve(uint64_t bytes) override;
    void finalize() override;

  private:
    void upload_part(int number, const std::vector<uint8_t>& part);
    void start_upload();
    void complete_upload();
    void abort_upload() noexcept;
    [[noreturn]] void failed(const std::string& what, const Response& r);

    Client& client_;
    const std::string key_;

    std::mutex mutex_;
    std::condition_variable idle_;
    size_t part_size_;
    uint64_t end_ = 0;               // bytes [0, end_) have arrived
    std::vector<uint8_t> head_;      // bytes not yet cut into parts
    std::map<uint64_t, std::vector<uint8_t>> early_; // arrived past a gap
    int parts_cut_ = 0;
    int in_flight_ = 0;
    std::vector<std::string> etags_; // per part number - 1
    std::string error_;
    bool finalized_ = false;

    std::mutex start_mutex_;   // serialises CreateMultipartUpload
    std::string upload_id_;    // guarded by start_mutex_ until set
    bool completed_ = false;
};

class S3Store final : public Store
{
  public:
    S3Store(s3::ClientConfig config, std::string prefix, size_t part_size)
      : client_(std::move(config))
      , prefix_(std::move(prefix))
      , part_size_(part_size)
    {
        probe();
    }

    std::unique_ptr<Sink> open_sink(const std::string& key) override
    {
        return std::make_unique<S3Sink>(client_, full(key), part_size_);
    }

    void put_parts(const std::string& key,
                   std::span<const std::span<const uint8_t>> parts) override
    {
        const size_t n = total_bytes(parts);
        if (n > part_size_) {
            Store::put_parts(key, parts); // a multipart upload
            return;
        }
        // One PutObject, which takes one body.
        if (parts.size() == 1) {
            put_object(full(key), parts[0].data(), n);
            return;
        }
        std::vector<uint8_t> body;
        body.reserve(n);
        for (const auto& part : parts) {
            body.insert(body.end(), part.begin(), part.end());
        }
        put_object(full(key), body.data(), n);
    }

    void put_atomic(const std::string& key, std::string_view data) override
    {
        // A PutObject replaces the object at once: readers see the old or the
        // new one, never a mix.
        put_object(full(key), reinterpret_cast<const uint8_t*>(data.data()), data.size());
    }

    std::optional<std::string> get(const std::string& key) override
    {
        Request req;
        req.key = full(key);
        Response r = client_.send(req);
        if (r.status == 404) {
            return std::nullopt;
        }
        if (!r.ok()) {
            fail(ZarrStatusCode_IOError, "cannot read '", client_.describe(req.key),
                 "': ", r.describe_error());
        }
        return std::move(r.body);
    }

    bool exists(const std::string& key) override
    {
        Request req;
        req.method = "HEAD";
        req.key = full(key);
        const Response r = client_.send(req);
        if (r.status == 404) {
            return false;
        }
        if (!r.ok()) {
            fail(ZarrStatusCode_IOError, "cannot look up '", client_.describe(req.key),
                 "': ", r.describe_error());
        }
        return true;
    }

    void clear() override;

    void sync() override
    {
        // Every finalized object is already complete on the server: PutObject
        // and CompleteMultipartUpload return only once the object is stored.
    }

    std::string describe(const std::string& key) const override
    {
        return client_.describe(full(key));
    }

    void put_object(const std::string& object_key, const uint8_t* data, size_t n)
    {
        Request req;
        req.method = "PUT";
        req.key = object_key;
        req.body = data;
        req.body_size = n;
        const Response r = client_.send(req);
        if (!r.ok()) {
            fail(ZarrStatusCode_IOError, "cannot write '", client_.describe(object_key),
                 "': ", r.describe_error());
        }
    }

  private:
    std::string full(const std::string& key) const
    {
        return key.empty() ? prefix_ : prefix_ + "/" + key;
    }

    /// Fails at create, with a clear reason, when the bucket is missing, the
    /// endpoint does not answer or the credentials are refused.
    void probe()
    {
        Request req;
        req.query = { { "list-type", "2" }, { "max-keys", "1" }, { "prefix", prefix_ + "/" } };
        req.max_attempts = 3;
        Response r;
        try {
            r = client_.send(req);
        } catch (const Error& e) {
            fail(ZarrStatusCode_IOError, "s3_settings.endpoint '", client_.base_url(),
                 "' is not reachable: ", e.what());
        }
        if (r.ok()) {
            return;
        }
        const std::string code = r.error_code();
        if (r.status == 404 || code == "NoSuchBucket") {
            fail(ZarrStatusCode_InvalidSettings, "s3_settings.bucket_name '",
                 client_.bucket(), "': no such bucket at ", client_.base_url(), " (",
                 r.describe_error(), ")");
        }
        if (r.status == 401 || r.status == 403) {
            fail(ZarrStatusCode_InvalidSettings, "S3 credentials were refused by ",
                 client_.base_url(), " for bucket '", client_.bucket(), "' (",
                 r.describe_error(),
                 "): check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or the credentials "
                 "file, and s3_settings.region");
        }
        fail(ZarrStatusCode_IOError, "cannot list s3://", client_.bucket(), "/", prefix_,
             "/ at ", client_.base_url(), ": ", r.describe_error());
    }

    Client client_;
    const std::string prefix_;
    const size_t part_size_;
};

void
S3Store::clear()
{
    // Only keys under "<prefix>/": "<prefix>x/..." belongs to someone else.
    const std::string under = prefix_ + "/";
    std::string token;
    do {
        Request list;
        list.query = { { "list-type", "2" }, { "prefix", under } };
        if (!token.empty()) {
            list.query.emplace_back("continuation-token", token);
        }
        const Response r = client_.send(list);
        if (!r.ok()) {
            fail(ZarrStatusCode_IOError, "cannot list '", client_.describe(under),
                 "': ", r.describe_error());
        }
        pugi::xml_document listing;
        if (!listing.load_buffer(r.body.data(), r.body.size())) {
            fail(ZarrStatusCode_IOError, "cannot list '", client_.describe(under),
                 "': the reply is not XML");
        }
        const auto result = listing.child("ListBucketResult");
        token = std::string(result.child_value("IsTruncated")) == "true"
                  ? result.child_value("NextContinuationToken")
                  : "";

        pugi::xml_document del;
        auto root = del.append_child("Delete");
        root.append_child("Quiet").text().set("true");
        size_t count = 0;
        for (auto item : result.children("Contents")) {
            const std::string key = item.child_value("Key");
            if (key.rfind(under, 0) != 0) {
                continue; // never outside the prefix, whatever the server says
            }
            root.append_child("Object").append_child("Key").text().set(key.c_str());
            ++count;
        }
        if (count == 0) {
            continue;
        }
        const std::string body = xml_string(del);
        Request req;
        req.method = "POST";
        req.query = { { "delete", "" } };
        req.headers = { { "content-md5", s3::md5_base64(body.data(), body.size()) },
                        { "content-type", "application/xml" } };
        req.body = bytes(body);
        req.body_size = body.size();
        const Response d = client_.send(req);
        pugi::xml_document reply;
        const bool parsed = d.ok() && reply.load_buffer(d.body.data(), d.body.size());
        const auto first_error = parsed ? reply.child("DeleteResult").child("Error")
                                        : pugi::xml_node();
        if (!d.ok() || first_error) {
            fail(ZarrStatusCode_IOError, "cannot delete the objects under '",
                 client_.describe(under), "': ",
                 first_error ? cat(first_error.child_value("Key"), ": ",
                                   first_error.child_value("Code"), " ",
                                   first_error.child_value("Message"))
                             : d.describe_error());
        }
        log::debug("deleted ", count, " objects under ", client_.describe(under));
    } while (!token.empty());
}

S3Sink::~S3Sink()
{
    if (!completed_) {
        std::unique_lock lock(mutex_);
        idle_.wait(lock, [&] { return in_flight_ == 0; });
        lock.unlock();
        abort_upload();
    }
}

void
S3Sink::reserve(uint64_t bytes)
{
    // S3 allows 10000 parts: grow the parts of a very large object.
    std::lock_guard lock(mutex_);
    if (parts_cut_ == 0 && bytes / part_size_ >= kMaxParts - 1) {
        part_size_ = static_cast<size_t>(bytes / (kMaxParts - 1) + 1);
    }
}

void
S3Sink::write(uint64_t offset, const uint8_t* data, size_t n)
{
    const std::span<const uint8_t> part(data, n);
    write_parts(offset, std::span(&part, 1));
}

void
S3Sink::write_parts(uint64_t offset, std::span<const std::span<const uint8_t>> parts)
{
    const size_t n = total_bytes(parts);
    std::vector<std::pair<int, std::vector<uint8_t>>> ready;
    {
        std::lock_guard lock(mutex_);
        if (!error_.empty()) {
            fail(ZarrStatusCode_IOError, error_);
        }
        if (finalized_) {
            fail(ZarrStatusCode_InternalError, "write to '", client_.describe(key_),
                 "' after it was finalized");
        }
        const uint64_t head_start = end_ - head_.size();
        if (offset < end_) {
            if (offset < head_start || offset + n > end_) {
                fail(ZarrStatusCode_InternalError, "S3 objects are written front to back: '",
                     client_.describe(key_), "' cannot take ", n, " bytes at offset ",
                     offset, " again");
            }
            auto at = head_.begin() + static_cast<ptrdiff_t>(offset - head_start);
            for (const auto& part : parts) {
                at = std::copy(part.begin(), part.end(), at);
            }
            return;
        }
        if (offset > end_) {
            auto& early = early_[offset];
            early.clear();
            early.reserve(n);
            for (const auto& part : parts) {
                early.insert(early.end(), part.begin(), part.end());
            }
            return;
        }
        if (head_.capacity() == 0) {
            head_.reserve(part_size_); // one allocation per part, not a doubling series
        }
        for (const auto& part : parts) {
            head_.insert(head_.end(), part.begin(), part.end());
        }
        end_ += n;
        for (auto it = early_.begin(); it != early_.end() && it->first == end_;
             it = early_.erase(it)) {
            head_.insert(head_.end(), it->second.begin(), it->second.end());
            end_ += it->second.size();
        }
        while (head_.size() >= part_size_) {
            // The part keeps the buffer; only the few bytes past it move.
            std::vector<uint8_t> part = std::move(head_);
            head_.reserve(part_size_ + n);
            head_.assign(part.begin() + static_cast<ptrdiff_t>(part_size_), part.end());
            part.resize(part_size_);
            ready.emplace_back(++parts_cut_, std::move(part));
            ++in_flight_;
        }
    }
    // Upload outside the lock: other threads keep writing (and uploading
    // their own parts) meanwhile.
    for (size_t i = 0; i < ready.size(); ++i) {
        try {
            upload_part(ready[i].first, ready[i].second);
        } catch (const std::exception& e) {
            std::lock_guard lock(mutex_);
            if (error_.empty()) {
                error_ = e.what();
            }
            in_flight_ -= static_cast<int>(ready.size() - i);
            idle_.notify_all();
            throw;
        }
        std::lock_guard lock(mutex_);
        --in_flight_;
        idle_.notify_all();
    }
}

void
S3Sink::start_upload()
{
    std::lock_guard lock(start_mutex_);
    if (!upload_id_.empty()) {
        return;
    }
    Request req;
    req.method = "POST";
    req.key = key_;
    req.query = { { "uploads", "" } };
    const Response r = client_.send(req);
    pugi::xml_document doc;
    if (!r.ok() || !doc.load_buffer(r.body.data(), r.body.size())) {
        failed("cannot start a multipart upload of", r);
    }
    upload_id_ = doc.child("InitiateMultipartUploadResult").child_value("UploadId");
    if (upload_id_.empty()) {
        failed("no UploadId in the reply to starting a multipart upload of", r);
    }
}

void
S3Sink::upload_part(int number, const std::vector<uint8_t>& part)
{
    start_upload();
    Request req;
    req.method = "PUT";
    req.key = key_;
    req.query = { { "partNumber", std::to_string(number) }, { "uploadId", upload_id_ } };
    req.body = part.data();
    req.body_size = part.size();
    const Response r = client_.send(req);
    if (!r.ok() || r.etag.empty()) {
        failed(cat("cannot upload part ", number, " of"), r);
    }
    std::lock_guard lock(mutex_);
    if (etags_.size() < static_cast<size_t>(number)) {
        etags_.resize(static_cast<size_t>(number));
    }
    etags_[static_cast<size_t>(number) - 1] = r.etag;
}

void
S3Sink::finalize()
{
    std::unique_lock lock(mutex_);
    if (finalized_) {
        return;
    }
    finalized_ = true;
    idle_.wait(lock, [&] { return in_flight_ == 0; });
    if (!error_.empty()) {
        fail(ZarrStatusCode_IOError, error_);
    }
    if (!early_.empty()) {
        fail(ZarrStatusCode_InternalError, "'", client_.describe(key_),
             "' is missing bytes ", end_, "..", early_.begin()->first,
             " at finalize");
    }
    std::vector<uint8_t> last = std::move(head_);
    const int parts = parts_cut_;
    lock.unlock();

    if (parts == 0) {
        Request req;
        req.method = "PUT";
        req.key = key_;
        req.body = last.data();
        req.body_size = last.size();
        const Response r = client_.send(req);
        if (!r.ok()) {
            failed("cannot write", r);
        }
        completed_ = true;
        return;
    }
    if (!last.empty()) {
        upload_part(parts + 1, last);
    }
    complete_upload();
}

void
S3Sink::complete_upload()
{
    pugi::xml_document doc;
    auto root = doc.append_child("CompleteMultipartUpload");
    for (size_t i = 0; i < etags_.size(); ++i) {
        auto part = root.append_child("Part");
        part.append_child("PartNumber").text().set(static_cast<unsigned>(i + 1));
        part.append_child("ETag").text().set(etags_[i].c_str());
    }
    const std::string body = xml_string(doc);
    Request req;
    req.method = "POST";
    req.key = key_;
    req.query = { { "uploadId", upload_id_ } };
    req.headers = { { "content-type", "application/xml" } };
    req.body = bytes(body);
    req.body_size = body.size();
    const Response r = client_.send(req);
    // S3 may answer 200 and still report an error in the body.
    pugi::xml_document reply;
    if (!r.ok() || (reply.load_buffer(r.body.data(), r.body.size()) && reply.child("Error"))) {
        Response shown = r;
        if (r.ok()) {
            shown.status = 500;
        }
        failed(cat("cannot complete the multipart upload (", etags_.size(), " parts) of"),
               shown);
    }
    completed_ = true;
    log::debug("wrote ", client_.describe(key_), " in ", etags_.size(), " parts");
}

void
S3Sink::abort_upload() noexcept
{
    std::string id;
    {
        std::lock_guard lock(start_mutex_);
        id = upload_id_;
    }
    if (id.empty()) {
        return;
    }
    try {
        Request req;
        req.method = "DELETE";
        req.key = key_;
        req.query = { { "uploadId", id } };
        const Response r = client_.send(req);
        if (!r.ok() && r.status != 404) {
            log::error("cannot abort the multipart upload of '", client_.describe(key_),
                       "': ", r.describe_error());
        }
    } catch (const std::exception& e) {
        log::error("cannot abort the multipart upload of '", client_.describe(key_),
                   "': ", e.what());
    }
}

void
S3Sink::failed(const std::string& what, const Response& r)
{
    {
        std::lock_guard lock(mutex_);
        if (error_.empty()) {
            error_ = cat(what, " '", client_.describe(key_), "': ", r.describe_error());
        }
    }
    throw Error(ZarrStatusCode_IOError,
                cat(what, " '", client_.describe(key_), "': ", r.describe_error()));
}

} // namespace

std::unique_ptr<Store>
make_s3_store(const S3StoreConfig& config)
{
    s3::ClientConfig cc;
    cc.endpoint = config.endpoint;
    cc.bucket = config.bucket;
    cc.region = config.region.empty() ? "us-east-1" : config.region;
    cc.credentials = s3::find_credentials();
    const size_t part = std::max(kMinPartSize, config.part_size);
    return std::make_unique<S3Store>(std::move(cc), config.prefix, part);
}

} // namespace zarr::storage
