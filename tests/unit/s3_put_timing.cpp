// Times one object upload as a single PutObject against the same object as a
// multipart upload (8 MiB parts, as the S3 store cuts them), with the
// project's own S3 client, so that neither Python nor another client sets
// the figures. docs/s3.md's single-PUT threshold comes from its output.
//
//   s3_put_timing ENDPOINT BUCKET [REPEATS] [SIZE_MIB...]
//
// Credentials come from the environment, as for a stream (tests/s3/s3server.py
// -- s3_put_timing {endpoint} {bucket} runs it against a fresh SeaweedFS).
// The methods alternate within each repeat, and which goes first alternates
// between repeats, so that a machine whose load changes over the run
// affects both alike; the medians are printed as a table.
#include "storage/s3/client.hh"
#include "storage/s3/multipart_sink.hh"

#include <pugixml.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace zarr::storage::s3;

namespace {

constexpr size_t kPart = 8ull << 20;

void
check(const Response& r, const char* what)
{
    if (!r.ok()) {
        throw std::runtime_error(std::string(what) + ": " + r.describe_error());
    }
}

void
single_put(Client& client, const std::string& key, const std::vector<uint8_t>& body)
{
    Request req;
    req.method = "PUT";
    req.key = key;
    req.body = body.data();
    req.body_size = body.size();
    check(client.send(req), "PutObject");
}

/// A multipart upload of `body` in kPart parts, `in_flight` at a time.
void
multipart(Client& client, const std::string& key, const std::vector<uint8_t>& body,
          int in_flight)
{
    Request start;
    start.method = "POST";
    start.key = key;
    start.query = { { "uploads", "" } };
    const Response s = client.send(start);
    check(s, "CreateMultipartUpload");
    pugi::xml_document doc;
    doc.load_buffer(s.body.data(), s.body.size());
    const std::string id = doc.child("InitiateMultipartUploadResult").child_value("UploadId");

    const size_t parts = (body.size() + kPart - 1) / kPart;
    std::vector<std::string> etags(parts);
    std::atomic<size_t> next{ 0 };
    std::atomic<bool> failed{ false };
    auto uploader = [&] {
        for (size_t i = next++; i < parts && !failed; i = next++) {
            Request req;
            req.method = "PUT";
            req.key = key;
            req.query = { { "partNumber", std::to_string(i + 1) }, { "uploadId", id } };
            req.body = body.data() + i * kPart;
            req.body_size = std::min(kPart, body.size() - i * kPart);
            const Response r = client.send(req);
            failed = failed || !r.ok();
            etags[i] = r.etag;
        }
    };
    std::vector<std::thread> threads;
    for (int t = 1; t < in_flight; ++t) {
        threads.emplace_back(uploader);
    }
    uploader();
    for (auto& t : threads) {
        t.join();
    }
    if (failed) {
        throw std::runtime_error("UploadPart failed");
    }
    pugi::xml_document complete;
    auto root = complete.append_child("CompleteMultipartUpload");
    for (size_t i = 0; i < parts; ++i) {
        auto part = root.append_child("Part");
        part.append_child("PartNumber").text().set(static_cast<unsigned>(i + 1));
        part.append_child("ETag").text().set(etags[i].c_str());
    }
    const std::string xml = xml_string(complete);
    Request req;
    req.method = "POST";
    req.key = key;
    req.query = { { "uploadId", id } };
    req.headers = { { "content-type", "application/xml" } };
    req.body = bytes(xml);
    req.body_size = xml.size();
    check(client.send(req), "CompleteMultipartUpload");
}

void
erase(Client& client, const std::string& key)
{
    Request req;
    req.method = "DELETE";
    req.key = key;
    client.send(req);
}

double
median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

} // namespace

int
main(int argc, char** argv)
{
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s ENDPOINT BUCKET [REPEATS] [SIZE_MIB...]\n", argv[0]);
        return 2;
    }
    ClientConfig config;
    config.endpoint = argv[1];
    config.bucket = argv[2];
    config.credentials = find_credentials();
    const int repeats = argc > 3 ? std::stoi(argv[3]) : 5;
    std::vector<size_t> sizes_mib;
    for (int i = 4; i < argc; ++i) {
        sizes_mib.push_back(std::stoul(argv[i]));
    }
    if (sizes_mib.empty()) {
        sizes_mib = { 1, 4, 8, 16, 32, 64, 128 };
    }
    Client client(config);

    // Incompressible bytes, like a compressed shard.
    std::vector<uint8_t> body(*std::max_element(sizes_mib.begin(), sizes_mib.end()) << 20);
    std::mt19937_64 rng(42);
    for (auto& b : body) {
        b = static_cast<uint8_t>(rng());
    }

    const char* methods[] = { "put", "multipart", "multipart-2" };
    std::map<std::pair<size_t, int>, std::vector<double>> seconds;
    for (int rep = 0; rep < repeats; ++rep) {
        for (size_t mib : sizes_mib) {
            const std::vector<uint8_t> object(body.begin(),
                                              body.begin() + static_cast<ptrdiff_t>(mib << 20));
            for (int k = 0; k < 3; ++k) {
                const int m = (k + rep) % 3; // a different method first each repeat
                const std::string key = "timing/" + std::to_string(mib) + "-" + methods[m];
                const auto t0 = std::chrono::steady_clock::now();
                if (m == 0) {
                    single_put(client, key, object);
                } else {
                    multipart(client, key, object, m);
                }
                const std::chrono::duration<double> dt = std::chrono::steady_clock::now() - t0;
                seconds[{ mib, m }].push_back(dt.count());
                erase(client, key);
            }
        }
    }
    std::printf("| object | single PUT | multipart, 1 part in flight | multipart, 2 in flight |\n");
    std::printf("|---:|---:|---:|---:|\n");
    for (size_t mib : sizes_mib) {
        std::printf("| %zu MiB |", mib);
        for (int m = 0; m < 3; ++m) {
            const double s = median(seconds[{ mib, m }]);
            std::printf(" %.1f ms (%.0f MiB/s) |", s * 1e3, static_cast<double>(mib) / s);
        }
        std::printf("\n");
    }
    std::printf("(medians of %d repeats, methods alternated)\n", repeats);
    return 0;
}
