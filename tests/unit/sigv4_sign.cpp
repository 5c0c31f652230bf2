// Reads requests to sign from stdin, one per line as tab-separated fields:
//   method  path  query  headers  payload_sha256  date  region
//   service  access_key  secret
// where path is the decoded request path (encoded here, as the client
// does), query is "name=value&..." (decoded, '&'-separated, may be empty) and
// headers is "name:value|name:value". Prints one Authorization value per
// line. tests/s3/sigv4_vs_botocore.py compares them with botocore's signer.
#include "storage/s3/sigv4.hh"

#include <iostream>
#include <sstream>
#include <string>
#include <vector>

using namespace zarr::storage::s3;

namespace {

std::vector<std::string>
split(const std::string& s, char sep)
{
    std::vector<std::string> out;
    std::string item;
    std::istringstream in(s);
    while (std::getline(in, item, sep)) {
        out.push_back(item);
    }
    if (!s.empty() && s.back() == sep) {
        out.emplace_back();
    }
    return out;
}

} // namespace

int
main()
{
    std::string line;
    while (std::getline(std::cin, line)) {
        const auto f = split(line, '\t');
        if (f.size() != 10) {
            std::cerr << "expected 10 tab-separated fields, got " << f.size() << "\n";
            return 2;
        }
        RequestToSign r;
        r.method = f[0];
        r.canonical_uri = uri_encode(f[1], false);
        for (const auto& item : split(f[2], '&')) {
            if (item.empty()) {
                continue;
            }
            const auto eq = item.find('=');
            r.query.emplace_back(item.substr(0, eq),
                                 eq == std::string::npos ? "" : item.substr(eq + 1));
        }
        for (const auto& item : split(f[3], '|')) {
            const auto colon = item.find(':');
            r.headers.emplace_back(item.substr(0, colon), item.substr(colon + 1));
        }
        r.payload_sha256 = f[4];
        const Credentials c{ f[8], f[9], "" };
        std::cout << authorization(r, c, f[5], f[6], f[7]) << "\n";
    }
    return 0;
}
