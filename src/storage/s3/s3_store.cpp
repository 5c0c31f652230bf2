// The S3 store: objects under "<prefix>/" in one bucket. Small objects go
// out with PutObject; an object that grows past one part (a shard, a large
// chunk) streams out as a multipart upload while it is written (see
// multipart_sink.hh), so memory holds at most about one part per open object.
#include "s3_store.hh"
#include "credentials.hh"
#include "multipart_sink.hh"

#include "../../util/error.hh"
#include "../../util/log.hh"

#include <pugixml.hpp>

namespace zarr::storage {

namespace {

using s3::Client;
using s3::Request;
using s3::Response;

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
        return std::make_unique<s3::MultipartSink>(client_, full(key), part_size_);
    }

    void put_parts(const std::string& key,
                   std::span<const std::span<const uint8_t>> parts) override
    {
        // All the bytes are here: one PutObject up to s3::kMaxSinglePut
        // (docs/s3.md), a multipart upload beyond.
        const size_t n = total_bytes(parts);
        if (n > s3::kMaxSinglePut) {
            Store::put_parts(key, parts);
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

    void clear() override { erase_under(prefix_ + "/"); }
    void erase_node(const std::string& key) override { erase_under(full(key) + "/"); }

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
    /// Deletes every object whose key starts with `under` (which ends in '/').
    void erase_under(const std::string& under);

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
                 "): they come from ", client_.credentials_source(),
                 "; check them and s3_settings.region");
        }
        fail(ZarrStatusCode_IOError, "cannot list s3://", client_.bucket(), "/", prefix_,
             "/ at ", client_.base_url(), ": ", r.describe_error());
    }

    Client client_;
    const std::string prefix_;
    const size_t part_size_;
};

void
S3Store::erase_under(const std::string& under)
{
    // Only keys under "<prefix>/": "<prefix>x/..." belongs to someone else.
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
        const std::string body = s3::xml_string(del);
        Request req;
        req.method = "POST";
        req.query = { { "delete", "" } };
        req.headers = { { "content-md5", s3::md5_base64(body.data(), body.size()) },
                        { "content-type", "application/xml" } };
        req.body = s3::bytes(body);
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

std::unique_ptr<Store>
make_s3_store(const S3StoreConfig& config)
{
    s3::ClientConfig cc;
    cc.endpoint = config.endpoint;
    cc.bucket = config.bucket;
    cc.region = config.region.empty() ? s3::kDefaultRegion : config.region;
    cc.virtual_host = config.virtual_host;
    cc.credentials = s3::find_credentials();
    const size_t part = std::max(s3::kMinPartSize, config.part_size);
    return std::make_unique<S3Store>(std::move(cc), config.prefix, part);
}

} // namespace

std::unique_ptr<Store>
open_s3_store(const S3StoreConfig& config, bool overwrite)
{
    try {
        auto store = make_s3_store(config);
        if (overwrite) {
            store->clear();
        }
        return store;
    } catch (const Error& e) {
        fail(e.code(), config.location(), ": ", e.what());
    }
}

} // namespace zarr::storage
