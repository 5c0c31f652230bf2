#include "multipart_sink.hh"

#include "../../util/error.hh"
#include "../../util/log.hh"

#include <sstream>

namespace zarr::storage::s3 {

std::string
xml_string(const pugi::xml_document& doc)
{
    std::ostringstream os;
    doc.save(os, "", pugi::format_raw);
    return os.str();
}

MultipartSink::~MultipartSink()
{
    if (!completed_) {
        std::unique_lock lock(mutex_);
        idle_.wait(lock, [&] { return in_flight_ == 0; });
        lock.unlock();
        abort_upload();
    }
}

void
MultipartSink::reserve(uint64_t bytes)
{
    // S3 allows 10000 parts: grow the parts of a very large object.
    std::lock_guard lock(mutex_);
    if (parts_cut_ == 0 && bytes / part_size_ >= kMaxParts - 1) {
        part_size_ = static_cast<size_t>(bytes / (kMaxParts - 1) + 1);
    }
}

void
MultipartSink::write(uint64_t offset, const uint8_t* data, size_t n)
{
    const std::span<const uint8_t> part(data, n);
    write_parts(offset, std::span(&part, 1));
}

void
MultipartSink::write_parts(uint64_t offset, std::span<const std::span<const uint8_t>> parts)
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
MultipartSink::start_upload()
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
MultipartSink::upload_part(int number, const std::vector<uint8_t>& part)
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
MultipartSink::finalize()
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
MultipartSink::complete_upload()
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
MultipartSink::abort_upload() noexcept
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
MultipartSink::failed(const std::string& what, const Response& r)
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

} // namespace zarr::storage::s3
