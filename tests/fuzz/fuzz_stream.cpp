// libFuzzer target: decodes the input into a ZarrStreamSettings, calls
// ZarrStream_create, and, when that succeeds, replays the rest of the input
// as a sequence of appends (arbitrary byte counts: empty, partial frames,
// several frames at once, NULL data), custom-metadata writes and a close
// (ZarrStream_close, checked) or a ZarrStream_destroy.
//
// Safety of the harness itself:
//  - every store_path lives under a temporary directory this process creates
//    (AZ_FUZZ_TMPDIR, else $TMPDIR, else /tmp); inputs whose path (or
//    store_path + output_key, in case the library failed to reject a '..')
//    would resolve outside it are dropped before ZarrStream_create, and
//    overwrite=true is only passed for paths strictly inside it;
//  - the store is deleted after every input;
//  - inputs whose *valid-looking* geometry would need more than a few MiB of
//    open chunks (or large shard preallocations, or very many files) are
//    dropped; inputs the library must reject on its own (zero sizes, bad
//    enums, chunks over its limits, ...) always reach ZarrStream_create.
//
// Oracles besides the sanitizers (a violation calls abort()):
//  - no call returns ZarrStatusCode_InternalError ("a bug: please report it")
//    or a status code outside the enum;
//  - ZarrStream_create returning NULL leaves a non-empty Zarr_get_last_error;
//  - an append never reports more bytes accepted than offered, and a
//    successful append accepts everything it was given.
//
// Environment knobs:
//  AZ_FUZZ_TMPDIR=DIR        parent of the per-process temporary directory
//  AZ_FUZZ_LOG=1             keep the library's log output (default: silent)
//  AZ_FUZZ_TRACE=1           print the decoded settings and every call (to
//                            understand a reproducer: run the binary on it)
//  AZ_FUZZ_MAX_THREADS=N     values of settings.max_threads between N and the
//                            library's limit (1024) are folded below N
//                            (default 64; 0: no folding): the stream starts
//                            that many threads for every input. Values above
//                            the limit always reach create, which must
//                            refuse them.

#include "acquire.zarr.h"

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <string>
#include <system_error>
#include <vector>

#include <unistd.h>

namespace fs = std::filesystem;

// A C caller may pass any int where the API takes an enum; C++ cannot even
// hold such a value in an enum-typed variable without undefined behaviour.
// These declarations call the same exported functions with an int32_t
// parameter, exactly as a C program's call compiles (an enum is passed as
// an int), so that the out-of-range value reaches the library.
extern "C" ZarrStatusCode
az_fuzz_set_log_level(int32_t level) __asm__("Zarr_set_log_level");
extern "C" const char*
az_fuzz_status_message(int32_t code) __asm__("Zarr_get_status_message");

namespace {

// ---------------------------------------------------------------- limits

constexpr uint64_t kMaxSlabBytes = uint64_t{ 4 } << 20;   // open chunks
constexpr uint64_t kMaxChunksPerSlab = 512;               // files per slab
constexpr uint64_t kMaxShardBytes = uint64_t{ 64 } << 20; // fallocate size
constexpr uint64_t kMaxChunksPerShard = uint64_t{ 1 } << 16;
constexpr uint64_t kMaxAppendBytes = uint64_t{ 4 } << 20; // per input
constexpr uint64_t kMaxFrames = 48;                       // per input
constexpr size_t kMaxOps = 128;

// The library's own limits (src/stream/settings.cpp): settings beyond them
// are rejected before anything is allocated, so they may reach create.
constexpr uint64_t kLibMaxChunkBytes = uint64_t{ 1 } << 30;
constexpr uint64_t kLibMaxChunksPerSlab = uint64_t{ 1 } << 20;
constexpr uint64_t kLibMaxChunksPerShard = uint64_t{ 1 } << 20;
constexpr unsigned kLibMaxThreads = 1024;

std::string g_tmp;              // canonical per-process temporary directory
unsigned g_max_threads_cap = 64;
bool g_trace = false; // AZ_FUZZ_TRACE=1: print what each input does

__attribute__((format(printf, 1, 2))) void
trace(const char* format, ...)
{
    if (g_trace) {
        va_list args;
        va_start(args, format);
        std::vfprintf(stderr, format, args);
        va_end(args);
    }
}

// ---------------------------------------------------------------- input

class Input
{
  public:
    Input(const uint8_t* data, size_t size)
      : p_(data)
      , n_(size)
    {
    }

    size_t left() const { return n_; }
    bool empty() const { return n_ == 0; }

    uint8_t u8()
    {
        if (n_ == 0) {
            return 0;
        }
        --n_;
        return *p_++;
    }
    uint16_t u16() { return static_cast<uint16_t>(u8() | (u8() << 8)); }
    uint32_t u32()
    {
        return static_cast<uint32_t>(u16()) |
               (static_cast<uint32_t>(u16()) << 16);
    }
    uint64_t u64()
    {
        return static_cast<uint64_t>(u32()) |
               (static_cast<uint64_t>(u32()) << 32);
    }

    /// A string of 0..max bytes taken verbatim (may hold NUL, '/', "..").
    std::string str(size_t max)
    {
        size_t len = u8() % (max + 1);
        len = std::min(len, n_);
        std::string s(reinterpret_cast<const char*>(p_), len);
        p_ += len;
        n_ -= len;
        return s;
    }

    /// Copies up to `n` bytes into `dst`; returns how many.
    size_t take(uint8_t* dst, size_t n)
    {
        n = std::min(n, n_);
        if (n > 0) {
            std::memcpy(dst, p_, n);
        }
        p_ += n;
        n_ -= n;
        return n;
    }

  private:
    const uint8_t* p_;
    size_t n_;
};

/// An enum field's integer: mostly small (including the first values past
/// the end of the enum), sometimes any 32-bit value (negative included).
int32_t
enum_value(Input& in, int32_t count)
{
    const uint8_t b = in.u8();
    if (b < 0xF0) {
        return b % (count + 2);
    }
    return static_cast<int32_t>(in.u32());
}

/// Stores an arbitrary integer into a C enum field without undefined
/// behaviour in the harness (the library must read it as an int, too).
template<typename E>
void
set_enum(E& field, int32_t value)
{
    static_assert(sizeof(E) == sizeof(int32_t));
    std::memcpy(&field, &value, sizeof(value));
}

/// A dimension size: small values (0 included) most of the time, else
/// anything up to 2^32 - 1.
uint32_t
size_value(Input& in)
{
    const uint8_t b = in.u8();
    switch (b >> 6) {
        case 0:
            return b & 0x3F; // 0..63
        case 1:
            return 1 + in.u16() % 512;
        case 2:
            return in.u16();
        default:
            return in.u32();
    }
}

double
scale_value(Input& in)
{
    switch (in.u8() % 8) {
        case 0:
            return 0.0;
        case 1:
            return 1.0;
        case 2:
            return 0.5;
        case 3:
            return -1.0;
        case 4:
            return std::numeric_limits<double>::quiet_NaN();
        case 5:
            return std::numeric_limits<double>::infinity();
        case 6: {
            const uint64_t bits = in.u64();
            double d;
            std::memcpy(&d, &bits, sizeof(d));
            return d;
        }
        default:
            return 1.0 + in.u8() / 16.0;
    }
}

// ---------------------------------------------------------------- checks

[[noreturn]] void
finding(const char* what, int code)
{
    if (code >= 0 && code < ZarrStatusCodeCount) {
        std::fprintf(stderr, "fuzz_stream: %s (status %d: %s); last error: '%s'\n",
                     what, code, az_fuzz_status_message(code), Zarr_get_last_error());
    } else {
        std::fprintf(stderr, "fuzz_stream: %s (status %d); last error: '%s'\n", what,
                     code, Zarr_get_last_error());
    }
    std::abort();
}

void
check_status(ZarrStatusCode code, const char* call)
{
    int32_t raw;
    std::memcpy(&raw, &code, sizeof(raw));
    if (raw < 0 || raw >= ZarrStatusCodeCount) {
        finding(call, raw);
    }
    if (code == ZarrStatusCode_InternalError) {
        finding(call, raw);
    }
    if (Zarr_get_last_error() == nullptr) {
        finding("Zarr_get_last_error returned NULL", raw);
    }
}

std::string
truncate_at_nul(const std::string& s)
{
    return std::string(s.c_str());
}

/// The directory the library will use for `store_path` (its rules: strip
/// "file://", make absolute, normalise lexically, drop trailing '/').
std::string
resolved(const std::string& path)
{
    std::string p = path;
    if (p.rfind("file://", 0) == 0) {
        p = p.substr(7);
    }
    if (p.empty()) {
        return "";
    }
    std::error_code ec;
    fs::path abs = fs::absolute(fs::path(p), ec);
    if (ec) {
        return "";
    }
    std::string r = abs.lexically_normal().string();
    while (r.size() > 1 && r.back() == '/') {
        r.pop_back();
    }
    return r;
}

bool
inside_tmp(const std::string& path, bool strictly)
{
    if (path == g_tmp) {
        return !strictly;
    }
    return path.rfind(g_tmp + "/", 0) == 0;
}

void
clear_tmp()
{
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(g_tmp, ec)) {
        std::error_code ec2;
        fs::remove_all(entry.path(), ec2);
    }
}

void
remove_tmp()
{
    if (!g_tmp.empty()) {
        std::error_code ec;
        fs::remove_all(g_tmp, ec);
    }
}

uint64_t
sat_mul(uint64_t a, uint64_t b)
{
    uint64_t r;
    return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}

size_t
bytes_per_element(int32_t dtype)
{
    static const size_t sizes[] = { 1, 2, 4, 8, 1, 2, 4, 8, 4, 8 };
    if (dtype < 0 || dtype >= ZarrDataTypeCount) {
        return 8;
    }
    return sizes[dtype];
}

struct Footprint
{
    uint64_t slab_bytes = 0;
    uint64_t chunks_per_slab = 0;
    uint64_t chunk_bytes = 0;
    uint64_t chunks_per_shard = 0;
    uint64_t frame_bytes = 0;
};

/// What the stream would allocate (zero sizes count as 1 / as the chunk).
Footprint
footprint(const ZarrDimensionProperties* dims, size_t n, size_t bpe)
{
    Footprint f;
    uint64_t chunk_elems = 1;
    uint64_t per_slab = 1;
    uint64_t per_shard = 1;
    for (size_t d = 0; d < n; ++d) {
        const uint64_t chunk = std::max<uint32_t>(1, dims[d].chunk_size_px);
        const uint64_t size =
          dims[d].array_size_px == 0 ? chunk : dims[d].array_size_px;
        chunk_elems = sat_mul(chunk_elems, chunk);
        per_shard =
          sat_mul(per_shard, std::max<uint32_t>(1, dims[d].shard_size_chunks));
        if (d > 0) {
            per_slab = sat_mul(per_slab, (size + chunk - 1) / chunk);
        }
    }
    f.chunk_bytes = sat_mul(chunk_elems, bpe);
    f.chunks_per_slab = per_slab;
    f.slab_bytes = sat_mul(per_slab, f.chunk_bytes);
    f.chunks_per_shard = per_shard;
    if (n >= 2) {
        f.frame_bytes = sat_mul(
          sat_mul(dims[n - 2].array_size_px, dims[n - 1].array_size_px), bpe);
    }
    return f;
}

// ---------------------------------------------------------------- decoding

struct Decoded
{
    ZarrStreamSettings settings{};
    ZarrCompressionSettings compression{};
    std::vector<ZarrDimensionProperties> dims;
    std::vector<std::string> names; // storage for the strings above
    std::vector<std::string> units;
    std::string store_path;
    std::string output_key;
    std::string custom_metadata;
    bool destroy = false;
};

/// Returns false if the input must not reach ZarrStream_create (its store
/// would escape the temporary directory, or it would take too much memory
/// or disk).
bool
decode(Input& in, Decoded& out)
{
    ZarrStreamSettings& s = out.settings;

    // store_path
    const uint8_t path_mode = in.u8() % 16;
    std::string tail = in.str(48);
    bool special_path = false;
    switch (path_mode) {
        case 0:
            special_path = true; // NULL
            break;
        case 1:
            out.store_path = "";
            special_path = true;
            break;
        case 2:
            out.store_path = "file://";
            special_path = true;
            break;
        case 3:
            out.store_path = "file://" + g_tmp + "/" + tail;
            break;
        default:
            out.store_path = g_tmp + "/" + tail;
            break;
    }
    const std::string visible_path = truncate_at_nul(out.store_path);
    const std::string root = resolved(visible_path);
    if (!special_path && !inside_tmp(root, false)) {
        return false; // e.g. "../../etc": would write outside the sandbox
    }

    // output_key
    const uint8_t key_mode = in.u8() % 4;
    if (key_mode >= 2) {
        out.output_key = in.str(40);
    }
    if (!root.empty() && key_mode >= 2) {
        // Should the library accept a '..' it must refuse, stay inside.
        const std::string joined =
          resolved(root + "/" + truncate_at_nul(out.output_key));
        if (!inside_tmp(joined, false)) {
            return false;
        }
    }

    const uint8_t flags = in.u8();
    s.overwrite = (flags & 1) != 0 && inside_tmp(root, true);
    s.multiscale = (flags & 2) != 0;
    const bool with_compression = (flags & 4) != 0;
    const bool null_dimensions = (flags & 0xF8) == 0xF8; // rare
    const uint8_t meta_mode = (flags >> 3) & 3;
    out.destroy = (flags & 0x20) != 0; // ZarrStream_destroy, else _close

    const int32_t dtype = enum_value(in, ZarrDataTypeCount);
    set_enum(s.data_type, dtype);
    int32_t version = enum_value(in, ZarrVersionCount);
    set_enum(s.version, version);
    set_enum(s.downsampling_method,
             enum_value(in, ZarrDownsamplingMethodCount));

    const uint8_t threads = in.u8();
    s.max_threads = threads < 0xC0 ? threads % 5u : in.u32();
    if (s.max_threads > g_max_threads_cap && s.max_threads <= kLibMaxThreads) {
        s.max_threads %= g_max_threads_cap + 1;
    }

    if (with_compression) {
        set_enum(out.compression.compressor,
                 enum_value(in, ZarrCompressorCount));
        set_enum(out.compression.codec,
                 enum_value(in, ZarrCompressionCodecCount));
        out.compression.level = in.u8() % 12;
        out.compression.shuffle = in.u8() % 4;
        if ((in.u8() & 0x0F) == 0) { // rarely, any byte
            out.compression.level = in.u8();
            out.compression.shuffle = in.u8();
        }
    }

    if (meta_mode == 1) {
        out.custom_metadata = in.str(40);
    } else if (meta_mode == 2) {
        out.custom_metadata = "{\"k\": " + std::to_string(in.u8()) + "}";
    }

    const size_t n_dims = in.u8() % 9; // 0..8
    out.dims.assign(n_dims, ZarrDimensionProperties{});
    out.names.resize(n_dims);
    out.units.resize(n_dims);
    static const char* kOuter[] = { "t", "c", "z", "p", "q", "r" };
    std::vector<int> name_mode(n_dims);
    std::vector<int> unit_mode(n_dims);
    for (size_t i = 0; i < n_dims; ++i) {
        ZarrDimensionProperties& d = out.dims[i];
        name_mode[i] = in.u8() % 8;
        if (name_mode[i] == 2 || name_mode[i] == 3) {
            out.names[i] = in.str(12);
        } else if (name_mode[i] >= 4) { // unique: t, c, z, ..., y, x
            out.names[i] = i + 1 == n_dims   ? "x"
                           : i + 2 == n_dims ? "y"
                                             : kOuter[i];
        }
        set_enum(d.type, enum_value(in, ZarrDimensionTypeCount));
        d.array_size_px = size_value(in);
        d.chunk_size_px = size_value(in);
        d.shard_size_chunks = size_value(in);
        unit_mode[i] = in.u8() % 4;
        if (unit_mode[i] == 1) {
            out.units[i] = "micrometer";
        } else if (unit_mode[i] == 2) {
            out.units[i] = in.str(12);
        }
        d.scale = scale_value(in);
    }
    // Pointers only once the vectors stop moving.
    for (size_t i = 0; i < n_dims; ++i) {
        out.dims[i].name = name_mode[i] == 0 ? nullptr : out.names[i].c_str();
        out.dims[i].unit = unit_mode[i] == 0 || unit_mode[i] == 3
                             ? nullptr
                             : out.units[i].c_str();
    }

    s.store_path = path_mode == 0 ? nullptr : out.store_path.c_str();
    s.output_key = key_mode == 0   ? nullptr
                   : key_mode == 1 ? ""
                                   : out.output_key.c_str();
    s.compression_settings = with_compression ? &out.compression : nullptr;
    s.dimensions = null_dimensions || n_dims == 0 ? nullptr : out.dims.data();
    s.dimension_count = n_dims;
    s.custom_metadata = meta_mode == 0 || meta_mode == 3
                          ? nullptr
                          : out.custom_metadata.c_str();
    s.s3_settings = nullptr;

    // Resource limits for settings the library would accept.
    if (n_dims == 0 || s.dimensions == nullptr) {
        return true;
    }
    const Footprint f = footprint(out.dims.data(), n_dims, bytes_per_element(dtype));
    const bool v3 = version == 0 || version == ZarrVersion_3;
    const bool library_rejects =
      f.chunk_bytes > kLibMaxChunkBytes ||
      f.chunks_per_slab > kLibMaxChunksPerSlab ||
      (v3 && f.chunks_per_shard > kLibMaxChunksPerShard);
    if (library_rejects) {
        return true; // rejected by validation before any allocation
    }
    if (f.slab_bytes > kMaxSlabBytes || f.chunks_per_slab > kMaxChunksPerSlab) {
        return false;
    }
    if (v3 && (f.chunks_per_shard > kMaxChunksPerShard ||
               sat_mul(f.chunks_per_shard, f.chunk_bytes) > kMaxShardBytes)) {
        return false;
    }
    return true;
}

std::string
printable(const char* text)
{
    if (text == nullptr) {
        return "NULL";
    }
    std::string out = "\"";
    for (const char* c = text; *c != '\0'; ++c) {
        const auto u = static_cast<unsigned char>(*c);
        if (u >= 0x20 && u < 0x7F && u != '"' && u != '\\') {
            out += *c;
        } else {
            char hex[8];
            std::snprintf(hex, sizeof(hex), "\\x%02x", u);
            out += hex;
        }
    }
    return out + "\"";
}

int32_t
raw_int(const void* field)
{
    int32_t v;
    std::memcpy(&v, field, sizeof(v));
    return v;
}

void
trace_settings(const Decoded& dec)
{
    if (!g_trace) {
        return;
    }
    const ZarrStreamSettings& s = dec.settings;
    trace("settings: store_path=%s output_key=%s overwrite=%d multiscale=%d "
          "data_type=%d version=%d downsampling=%d max_threads=%u "
          "custom_metadata=%s\n",
          printable(s.store_path).c_str(), printable(s.output_key).c_str(),
          int(s.overwrite), int(s.multiscale), raw_int(&s.data_type),
          raw_int(&s.version), raw_int(&s.downsampling_method), s.max_threads,
          printable(s.custom_metadata).c_str());
    if (s.compression_settings != nullptr) {
        const auto& c = *s.compression_settings;
        trace("  compression: compressor=%d codec=%d level=%d shuffle=%d\n",
              raw_int(&c.compressor), raw_int(&c.codec), int(c.level),
              int(c.shuffle));
    }
    trace("  dimension_count=%zu dimensions=%s\n", s.dimension_count,
          s.dimensions == nullptr ? "NULL" : "set");
    for (size_t i = 0; s.dimensions != nullptr && i < s.dimension_count; ++i) {
        const auto& d = s.dimensions[i];
        trace("  [%zu] name=%s type=%d size=%u chunk=%u shard=%u unit=%s "
              "scale=%g\n",
              i, printable(d.name).c_str(), raw_int(&d.type), d.array_size_px,
              d.chunk_size_px, d.shard_size_chunks, printable(d.unit).c_str(),
              d.scale);
    }
}

// ---------------------------------------------------------------- streaming

void
run_stream(ZarrStream* stream, Input& in, const Decoded& dec)
{
    const auto& dims = dec.dims;
    const size_t n = dims.size();
    int32_t dtype;
    std::memcpy(&dtype, &dec.settings.data_type, sizeof(dtype));
    const uint64_t frame_bytes =
      uint64_t{ dims[n - 2].array_size_px } * dims[n - 1].array_size_px *
      bytes_per_element(dtype);
    const uint64_t budget =
      std::min<uint64_t>(kMaxAppendBytes, sat_mul(frame_bytes, kMaxFrames));

    static std::vector<uint8_t> buffer;
    uint64_t appended = 0;
    for (size_t op = 0; op < kMaxOps && !in.empty(); ++op) {
        const uint8_t kind = in.u8();
        size_t want = 0;
        switch (kind % 8) {
            case 0: { // empty append: Success at once
                size_t out = 12345;
                const ZarrStatusCode code =
                  ZarrStream_append(stream, buffer.data(), 0, &out);
                trace("append(0 bytes) -> %d\n", raw_int(&code));
                check_status(code, "ZarrStream_append(0 bytes)");
                if (code == ZarrStatusCode_Success && out != 0) {
                    finding("append of 0 bytes reported bytes accepted", code);
                }
                continue;
            }
            case 1: { // NULL data with a length: that many zero bytes
                size_t out = 12345;
                const size_t n = 1 + in.u8();
                const ZarrStatusCode code =
                  ZarrStream_append(stream, nullptr, n, &out);
                trace("append(NULL, %zu) -> %d\n", n, raw_int(&code));
                check_status(code, "ZarrStream_append(NULL)");
                if (code == ZarrStatusCode_Success && out != n) {
                    finding("append of NULL data succeeded without taking every byte", code);
                }
                if (out > n) {
                    finding("append of NULL data accepted more bytes than given", code);
                }
                appended += out;
                continue;
            }
            case 2: { // custom metadata, valid or not
                std::string json;
                if (in.u8() & 1) {
                    json = "{\"n\": " + std::to_string(op) + "}";
                } else {
                    json = truncate_at_nul(in.str(32));
                }
                const bool overwrite = in.u8() & 1;
                const ZarrStatusCode code = ZarrStream_write_custom_metadata(
                  stream, json.c_str(), overwrite);
                trace("write_custom_metadata(%s, %d) -> %d\n",
                      printable(json.c_str()).c_str(), int(overwrite),
                      raw_int(&code));
                check_status(code, "ZarrStream_write_custom_metadata");
                continue;
            }
            case 3: // whole frames
                want = static_cast<size_t>(
                  std::min<uint64_t>(sat_mul(frame_bytes, in.u8() % 4), budget));
                break;
            case 4: // a partial frame
                want = frame_bytes > 1 ? static_cast<size_t>(in.u32() % frame_bytes)
                                       : 1;
                break;
            default: // any size
                want = static_cast<size_t>(in.u32() % (budget + 1));
                break;
        }
        if (appended + want > budget) {
            want = static_cast<size_t>(budget - appended);
        }
        if (buffer.size() < want) {
            buffer.resize(want);
        }
        // Pixel values: bytes of the input, then a repeating pattern.
        const size_t got = in.take(buffer.data(), std::min<size_t>(want, 64));
        for (size_t i = got; i < want; ++i) {
            buffer[i] = static_cast<uint8_t>(i * 131 + op);
        }
        size_t out = 0;
        const ZarrStatusCode code =
          ZarrStream_append(stream, buffer.data(), want, &out);
        trace("append(%zu bytes) -> %d, %zu accepted\n", want, raw_int(&code),
              out);
        check_status(code, "ZarrStream_append");
        if (out > want) {
            finding("append reported more bytes accepted than offered", code);
        }
        if (code == ZarrStatusCode_Success && out != want) {
            finding("successful append did not accept every byte", code);
        }
        appended += out;
        if (appended >= budget) {
            break;
        }
    }
}

} // namespace

extern "C" int
LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/)
{
    const char* parent = std::getenv("AZ_FUZZ_TMPDIR");
    if (parent == nullptr || *parent == '\0') {
        parent = std::getenv("TMPDIR");
    }
    if (parent == nullptr || *parent == '\0') {
        parent = "/tmp";
    }
    std::string templ = std::string(parent) + "/az-fuzz-XXXXXX";
    std::vector<char> buf(templ.begin(), templ.end());
    buf.push_back('\0');
    if (::mkdtemp(buf.data()) == nullptr) {
        std::perror("fuzz_stream: mkdtemp");
        std::abort();
    }
    std::error_code ec;
    g_tmp = fs::canonical(buf.data(), ec).string();
    if (ec || g_tmp.empty() || g_tmp == "/") {
        std::fprintf(stderr, "fuzz_stream: bad temporary directory\n");
        std::abort();
    }
    std::atexit(remove_tmp);

    if (const char* cap = std::getenv("AZ_FUZZ_MAX_THREADS")) {
        g_max_threads_cap = static_cast<unsigned>(std::strtoul(cap, nullptr, 10));
        if (g_max_threads_cap == 0) {
            g_max_threads_cap = std::numeric_limits<unsigned>::max() - 1;
        }
    }
    const char* tr = std::getenv("AZ_FUZZ_TRACE");
    g_trace = tr != nullptr && *tr != '\0' && *tr != '0';
    const char* log = std::getenv("AZ_FUZZ_LOG");
    if (log == nullptr || *log == '\0' || *log == '0') {
        Zarr_set_log_level(ZarrLogLevel_None);
    }
    return 0;
}

extern "C" int
LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    Input in(data, size);

    // The small calls first: any integer as a status code or log level.
    const uint8_t head = in.u8();
    if (head & 1) {
        const char* text =
          az_fuzz_status_message(enum_value(in, ZarrStatusCodeCount));
        if (text == nullptr) {
            finding("Zarr_get_status_message returned NULL", -1);
        }
    }
    if (head & 2) {
        const ZarrLogLevel before = Zarr_get_log_level();
        const int32_t level = enum_value(in, ZarrLogLevelCount);
        const ZarrStatusCode code = az_fuzz_set_log_level(level);
        if ((level >= 0 && level < ZarrLogLevelCount) !=
            (code == ZarrStatusCode_Success)) {
            finding("Zarr_set_log_level accepted/refused the wrong level", code);
        }
        Zarr_set_log_level(before);
    }

    Decoded dec;
    if (!decode(in, dec)) {
        trace("input dropped: store outside the sandbox or too large\n");
        return -1; // not added to the corpus
    }
    trace_settings(dec);

    ZarrStream* stream = ZarrStream_create(&dec.settings);
    trace("create -> %s (%s)\n", stream ? "stream" : "NULL",
          Zarr_get_last_error());
    if (stream == nullptr) {
        const char* err = Zarr_get_last_error();
        if (err == nullptr || *err == '\0') {
            finding("ZarrStream_create returned NULL without an error text", -1);
        }
        if (std::strstr(err, "internal error") != nullptr) {
            finding("ZarrStream_create failed with an internal error", -1);
        }
        clear_tmp();
        return 0;
    }

    // The stream copied what it needs: scribble over the settings.
    for (auto& name : dec.names) {
        std::fill(name.begin(), name.end(), '#');
    }
    for (auto& d : dec.dims) {
        d.array_size_px ^= 0x5A5A5A5Au;
        d.chunk_size_px = 0;
    }

    // Undo the scribbles on our own copy: run_stream needs the frame size.
    for (auto& d : dec.dims) {
        d.array_size_px ^= 0x5A5A5A5Au;
    }
    run_stream(stream, in, dec);

    if (dec.destroy) {
        ZarrStream_destroy(stream);
        trace("destroy\n");
    } else {
        const ZarrStatusCode code = ZarrStream_close(stream);
        trace("close -> %d (%s)\n", raw_int(&code),
              code == ZarrStatusCode_Success ? "" : Zarr_get_last_error());
        check_status(code, "ZarrStream_close");
    }
    clear_tmp();
    return 0;
}
