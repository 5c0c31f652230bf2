// SigV4 against the worked examples in AWS's S3 documentation ("Examples:
// Signature Calculations in AWS Signature Version 4", header-based auth).
// tests/s3/sigv4_vs_botocore.py checks many more requests against botocore.
#include "storage/s3/sigv4.hh"

#include <gtest/gtest.h>

using namespace zarr::storage::s3;

namespace {

const Credentials kExample{ "AKIAIOSFODNN7EXAMPLE",
                            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "" };
constexpr const char* kDate = "20130524T000000Z";
constexpr const char* kEmptySha =
  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

std::string
signature_of(const std::string& authorization)
{
    const auto p = authorization.find("Signature=");
    return p == std::string::npos ? "" : authorization.substr(p + 10);
}

} // namespace

TEST(Sha256, KnownDigests)
{
    EXPECT_EQ(sha256_hex("", 0), kEmptySha);
    const std::string welcome = "Welcome to Amazon S3.";
    EXPECT_EQ(sha256_hex(welcome.data(), welcome.size()),
              "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
}

TEST(Md5, Base64OfKnownDigest)
{
    EXPECT_EQ(md5_base64("", 0), "1B2M2Y8AsgTpgAmY7PhCfg==");
}

TEST(UriEncode, UnreservedStayEverythingElseIsEncoded)
{
    EXPECT_EQ(uri_encode("a-b_c.d~e/f", false), "a-b_c.d~e/f");
    EXPECT_EQ(uri_encode("a/b", true), "a%2Fb");
    EXPECT_EQ(uri_encode("test$file.text", false), "test%24file.text");
    EXPECT_EQ(uri_encode("sp ace+=", true), "sp%20ace%2B%3D");
    EXPECT_EQ(uri_encode("\xc3\xa9", true), "%C3%A9");
}

TEST(CanonicalQuery, SortedEncodedAndValuelessNamesKeepTheirEquals)
{
    EXPECT_EQ(canonical_query({ { "prefix", "J" }, { "max-keys", "2" } }),
              "max-keys=2&prefix=J");
    EXPECT_EQ(canonical_query({ { "uploads", "" } }), "uploads=");
    EXPECT_EQ(canonical_query({ { "prefix", "a/b c" } }), "prefix=a%2Fb%20c");
}

TEST(SigV4, AwsExampleGetObjectSignsAsDocumented)
{
    RequestToSign r{ "GET", "/test.txt", {},
                     { { "Host", "examplebucket.s3.amazonaws.com" },
                       { "Range", "bytes=0-9" },
                       { "x-amz-content-sha256", kEmptySha },
                       { "x-amz-date", kDate } },
                     kEmptySha };
    EXPECT_EQ(canonical_request(r),
              "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
              "x-amz-content-sha256:" + std::string(kEmptySha) +
                "\nx-amz-date:20130524T000000Z\n\n"
                "host;range;x-amz-content-sha256;x-amz-date\n" + kEmptySha);
    const std::string auth = authorization(r, kExample, kDate, "us-east-1", "s3");
    EXPECT_EQ(auth.substr(0, auth.find(", Signature")),
              "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
              "aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date");
    EXPECT_EQ(signature_of(auth),
              "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4, AwsExamplePutObjectSignsAsDocumented)
{
    const std::string payload_sha =
      "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072";
    RequestToSign r{ "PUT", uri_encode("/test$file.text", false), {},
                     { { "Host", "examplebucket.s3.amazonaws.com" },
                       { "Date", "Fri, 24 May 2013 00:00:00 GMT" },
                       { "x-amz-date", kDate },
                       { "x-amz-storage-class", "REDUCED_REDUNDANCY" },
                       { "x-amz-content-sha256", payload_sha } },
                     payload_sha };
    EXPECT_EQ(signature_of(authorization(r, kExample, kDate, "us-east-1", "s3")),
              "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(SigV4, AwsExampleGetBucketLifecycleSignsAsDocumented)
{
    RequestToSign r{ "GET", "/", { { "lifecycle", "" } },
                     { { "Host", "examplebucket.s3.amazonaws.com" },
                       { "x-amz-date", kDate },
                       { "x-amz-content-sha256", kEmptySha } },
                     kEmptySha };
    EXPECT_EQ(signature_of(authorization(r, kExample, kDate, "us-east-1", "s3")),
              "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST(SigV4, AwsExampleListObjectsSignsAsDocumented)
{
    RequestToSign r{ "GET", "/", { { "max-keys", "2" }, { "prefix", "J" } },
                     { { "Host", "examplebucket.s3.amazonaws.com" },
                       { "x-amz-date", kDate },
                       { "x-amz-content-sha256", kEmptySha } },
                     kEmptySha };
    EXPECT_EQ(signature_of(authorization(r, kExample, kDate, "us-east-1", "s3")),
              "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(SigV4, HeaderValuesAreTrimmedAndNamesLowerCased)
{
    RequestToSign spaced{ "GET", "/k", {},
                          { { "HOST", "  h  " }, { "X-Amz-Date", kDate },
                            { "x-amz-meta-a", "one   two" } },
                          kEmptySha };
    RequestToSign plain{ "GET", "/k", {},
                         { { "host", "h" }, { "x-amz-date", kDate },
                           { "x-amz-meta-a", "one two" } },
                         kEmptySha };
    EXPECT_EQ(canonical_request(spaced), canonical_request(plain));
}

TEST(SigV4, DateIsSixteenCharactersOfUtc)
{
    const std::string d = amz_date_now();
    ASSERT_EQ(d.size(), 16u);
    EXPECT_EQ(d[8], 'T');
    EXPECT_EQ(d.back(), 'Z');
}
