#include "pyramid.hh"

#include "../util/error.hh"

#include <algorithm>
#include <cstring>
#include <map>
#include <type_traits>

namespace zarr {

std::vector<ArraySpec>
pyramid_levels(const ArraySpec& base, const std::string& group_key)
{
    std::vector<ArraySpec> levels{ base };
    levels[0].key = join_key(group_key, "0");
    for (;;) {
        const ArraySpec& prev = levels.back();
        ArraySpec next = prev;
        bool shrinks = false;
        for (size_t d = 0; d < next.dims.size(); ++d) {
            auto& dim = next.dims[d];
            if (dim.type != ZarrDimensionType_Space || dim.size == 0) {
                continue;
            }
            if (dim.size > base.dims[d].chunk) {
                dim.size = ceil_div(dim.size, 2);
                dim.scale *= 2;
                shrinks = true;
            }
        }
        if (!shrinks) {
            break;
        }
        for (size_t d = 0; d < next.dims.size(); ++d) {
            auto& dim = next.dims[d];
            const auto& orig = base.dims[d];
            if (dim.size == 0) {
                if (dim.type == ZarrDimensionType_Space) {
                    dim.scale *= 2; // an unbounded space append dimension
                }
                continue;
            }
            dim.chunk = std::min(orig.chunk, dim.size);
            dim.shard_chunks =
              std::min(orig.shard_chunks, ceil_div(dim.size, dim.chunk));
        }
        next.key = join_key(group_key, std::to_string(levels.size()));
        levels.push_back(std::move(next));
    }
    return levels;
}

std::vector<bool>
downsampled_dims(const ArraySpec& from, const ArraySpec& to)
{
    std::vector<bool> down(from.dims.size());
    for (size_t d = 0; d < down.size(); ++d) {
        const auto& f = from.dims[d];
        down[d] = f.size == 0 ? f.type == ZarrDimensionType_Space
                              : to.dims[d].size < f.size;
    }
    return down;
}

void
describe_downsampling(json& entry, ZarrDownsamplingMethod method)
{
    const char* note =
      " Odd sizes round up; a missing neighbour at the far edge counts as 0."
      " Along a downsampled dimension other than y/x (e.g. z), planes 2i and"
      " 2i+1 of the level above are combined with the same reduction, after"
      " each was reduced in (y, x) and cast to the array's data type."
      " A level halves only the axes whose scale doubles.";
    json metadata;
    switch (method) {
        case ZarrDownsamplingMethod_Decimate:
            entry["type"] = "decimate";
            metadata = {
                { "description",
                  std::string("Each level keeps the first (top-left) element of "
                              "every 2x2 block of the level above.") +
                    note },
                { "method", "np.ndarray.__getitem__" },
                { "version", "1.20" },
                { "args", json::array({ "(slice(0, None, 2), slice(0, None, 2))" }) },
            };
            break;
        case ZarrDownsamplingMethod_Mean:
            entry["type"] = "local_mean";
            metadata = {
                { "description",
                  std::string("Each level is the mean of every 2x2 block of the "
                              "level above; for integer types the exact mean "
                              "truncated toward zero, as a float mean followed "
                              "by numpy astype gives.") +
                    note },
                { "method", "skimage.transform.downscale_local_mean" },
                { "version", "0.19" },
                { "kwargs", { { "factors", "(2, 2)" }, { "cval", "0" } } },
            };
            break;
        case ZarrDownsamplingMethod_Min:
        case ZarrDownsamplingMethod_Max: {
            const bool is_min = method == ZarrDownsamplingMethod_Min;
            entry["type"] = is_min ? "local_min" : "local_max";
            metadata = {
                { "description",
                  cat("Each level is the ", is_min ? "minimum" : "maximum",
                      " of every 2x2 block of the level above.", note) },
                { "method", "skimage.measure.block_reduce" },
                { "version", "0.19" },
                { "kwargs",
                  { { "block_size", "(2, 2)" },
                    { "func", is_min ? "np.min" : "np.max" },
                    { "cval", "0" } } },
            };
            break;
        }
        case ZarrDownsamplingMethodCount:
            fail(ZarrStatusCode_InvalidArgument, "invalid downsampling method");
    }
    entry["metadata"] = std::move(metadata);
}

namespace {

__extension__ typedef __int128 int128;
__extension__ typedef unsigned __int128 uint128;

template<typename T>
using wide_t = std::conditional_t<
  std::is_floating_point_v<T>,
  double,
  std::conditional_t<(sizeof(T) < 8),
                     int64_t,
                     std::conditional_t<std::is_signed_v<T>, int128, uint128>>>;

/// The arithmetic of one data type and method, erased behind virtuals so
/// that the per-pixel loops are compiled for each combination.
class PlaneOps
{
  public:
    virtual ~PlaneOps() = default;
    /// Reduces one frame of the level above (fy x fx blocks).
    virtual void reduce(const uint8_t* src, uint8_t* dst) const = 0;
    /// Bytes of accumulator per pixel of the level below.
    virtual size_t acc_bytes() const = 0;
    virtual void start(uint8_t* acc, const uint8_t* plane) const = 0;
    virtual void add(uint8_t* acc, const uint8_t* plane) const = 0;
    /// `padded`: some planes of the block were missing (count as 0).
    virtual void finish(const uint8_t* acc, uint64_t n_planes, bool padded,
                        uint8_t* out) const = 0;
};

template<typename T, ZarrDownsamplingMethod M>
class Ops final : public PlaneOps
{
    using W = wide_t<T>;
    using Acc = std::conditional_t<M == ZarrDownsamplingMethod_Mean, W, T>;

  public:
    Ops(uint64_t h, uint64_t w, uint64_t fy, uint64_t fx)
      : h_(h), w_(w), fy_(fy), fx_(fx)
      , ho_(ceil_div(h, fy)), wo_(ceil_div(w, fx))
    {
    }

    void reduce(const uint8_t* src_bytes, uint8_t* dst_bytes) const override
    {
        const T* src = reinterpret_cast<const T*>(src_bytes);
        T* dst = reinterpret_cast<T*>(dst_bytes);
        for (uint64_t oy = 0; oy < ho_; ++oy) {
            const T* r0 = src + oy * fy_ * w_;
            const bool has_r1 = fy_ == 2 && oy * 2 + 1 < h_;
            T* out = dst + oy * wo_;
            uint64_t ox = 0;
            // Full 2x2 blocks: the hot loop, with a constant block size.
            if (has_r1 && fx_ == 2) {
                const T* r1 = r0 + w_;
                for (; ox < w_ / 2; ++ox) {
                    out[ox] = block4(r0[2 * ox], r0[2 * ox + 1], r1[2 * ox],
                                     r1[2 * ox + 1]);
                }
            }
            for (; ox < wo_; ++ox) {
                out[ox] = edge_block(r0, has_r1, ox);
            }
        }
    }

    size_t acc_bytes() const override { return sizeof(Acc); }

    void start(uint8_t* acc_bytes_, const uint8_t* plane_bytes) const override
    {
        Acc* acc = reinterpret_cast<Acc*>(acc_bytes_);
        const T* plane = reinterpret_cast<const T*>(plane_bytes);
        for (uint64_t i = 0; i < ho_ * wo_; ++i) {
            acc[i] = static_cast<Acc>(plane[i]);
        }
    }

    void add(uint8_t* acc_bytes_, const uint8_t* plane_bytes) const override
    {
        if constexpr (M == ZarrDownsamplingMethod_Decimate) {
            return; // the first plane of the block is the result
        } else {
            Acc* acc = reinterpret_cast<Acc*>(acc_bytes_);
            const T* plane = reinterpret_cast<const T*>(plane_bytes);
            for (uint64_t i = 0; i < ho_ * wo_; ++i) {
                if constexpr (M == ZarrDownsamplingMethod_Mean) {
                    acc[i] += static_cast<Acc>(plane[i]);
                } else {
                    acc[i] = pick(acc[i], plane[i]);
                }
            }
        }
    }

    void finish(const uint8_t* acc_bytes_, uint64_t n_planes, bool padded,
                uint8_t* out_bytes) const override
    {
        const Acc* acc = reinterpret_cast<const Acc*>(acc_bytes_);
        T* out = reinterpret_cast<T*>(out_bytes);
        for (uint64_t i = 0; i < ho_ * wo_; ++i) {
            if constexpr (M == ZarrDownsamplingMethod_Mean) {
                out[i] = static_cast<T>(acc[i] / static_cast<W>(n_planes));
            } else if constexpr (M == ZarrDownsamplingMethod_Decimate) {
                out[i] = acc[i];
            } else {
                out[i] = padded ? pick(acc[i], T(0)) : acc[i];
            }
        }
    }

  private:
    static T block4(T a, T b, T c, T d)
    {
        if constexpr (M == ZarrDownsamplingMethod_Decimate) {
            return a;
        } else if constexpr (M == ZarrDownsamplingMethod_Mean) {
            return static_cast<T>((W(a) + W(b) + W(c) + W(d)) / W(4));
        } else {
            return pick(pick(a, b), pick(c, d));
        }
    }

    /// Any block, including those cut short by an odd edge or a factor of
    /// 1 along y or x; missing elements count as 0.
    T edge_block(const T* r0, bool has_r1, uint64_t ox) const
    {
        const T* r1 = r0 + w_;
        const uint64_t x0 = ox * fx_;
        const bool has_x1 = fx_ == 2 && x0 + 1 < w_;
        const uint64_t block = fy_ * fx_;
        if constexpr (M == ZarrDownsamplingMethod_Decimate) {
            return r0[x0];
        } else if constexpr (M == ZarrDownsamplingMethod_Mean) {
            W s = W(r0[x0]);
            if (has_x1) s += W(r0[x0 + 1]);
            if (has_r1) {
                s += W(r1[x0]);
                if (has_x1) s += W(r1[x0 + 1]);
            }
            return static_cast<T>(s / static_cast<W>(block));
        } else {
            T v = r0[x0];
            uint64_t present = 1;
            if (has_x1) {
                v = pick(v, r0[x0 + 1]);
                ++present;
            }
            if (has_r1) {
                v = pick(v, r1[x0]);
                ++present;
                if (has_x1) {
                    v = pick(v, r1[x0 + 1]);
                    ++present;
                }
            }
            return present < block ? pick(v, T(0)) : v;
        }
    }

    static T pick(T a, T b)
    {
        if constexpr (M == ZarrDownsamplingMethod_Min) {
            return b < a ? b : a;
        } else {
            return a < b ? b : a;
        }
    }

    uint64_t h_, w_, fy_, fx_, ho_, wo_;
};

template<typename T>
std::unique_ptr<PlaneOps>
make_ops_for(ZarrDownsamplingMethod m, uint64_t h, uint64_t w, uint64_t fy,
             uint64_t fx)
{
    switch (m) {
        case ZarrDownsamplingMethod_Decimate:
            return std::make_unique<Ops<T, ZarrDownsamplingMethod_Decimate>>(h, w, fy, fx);
        case ZarrDownsamplingMethod_Mean:
            return std::make_unique<Ops<T, ZarrDownsamplingMethod_Mean>>(h, w, fy, fx);
        case ZarrDownsamplingMethod_Min:
            return std::make_unique<Ops<T, ZarrDownsamplingMethod_Min>>(h, w, fy, fx);
        case ZarrDownsamplingMethod_Max:
            return std::make_unique<Ops<T, ZarrDownsamplingMethod_Max>>(h, w, fy, fx);
        case ZarrDownsamplingMethodCount:
            break;
    }
    fail(ZarrStatusCode_InvalidArgument, "invalid downsampling method ", int(m));
}

std::unique_ptr<PlaneOps>
make_ops(ZarrDataType t, ZarrDownsamplingMethod m, uint64_t h, uint64_t w,
         uint64_t fy, uint64_t fx)
{
    switch (t) {
        case ZarrDataType_uint8: return make_ops_for<uint8_t>(m, h, w, fy, fx);
        case ZarrDataType_uint16: return make_ops_for<uint16_t>(m, h, w, fy, fx);
        case ZarrDataType_uint32: return make_ops_for<uint32_t>(m, h, w, fy, fx);
        case ZarrDataType_uint64: return make_ops_for<uint64_t>(m, h, w, fy, fx);
        case ZarrDataType_int8: return make_ops_for<int8_t>(m, h, w, fy, fx);
        case ZarrDataType_int16: return make_ops_for<int16_t>(m, h, w, fy, fx);
        case ZarrDataType_int32: return make_ops_for<int32_t>(m, h, w, fy, fx);
        case ZarrDataType_int64: return make_ops_for<int64_t>(m, h, w, fy, fx);
        case ZarrDataType_float32: return make_ops_for<float>(m, h, w, fy, fx);
        case ZarrDataType_float64: return make_ops_for<double>(m, h, w, fy, fx);
        case ZarrDataTypeCount: break;
    }
    fail(ZarrStatusCode_InvalidArgument, "invalid data type ", int(t));
}

} // namespace

class Downsampler::Impl
{
  public:
    Impl(const ArraySpec& from, const ArraySpec& to, ZarrDownsamplingMethod m)
      : from_(from.dims, bytes_of(from.dtype))
      , to_(to.dims, bytes_of(to.dtype))
      , down_(downsampled_dims(from, to))
    {
        const size_t n = from_.ndim();
        ops_ = make_ops(from.dtype, m, from_.frame_height(), from_.frame_width(),
                        down_[n - 2] ? 2 : 1, down_[n - 1] ? 2 : 1);
        for (size_t d = 0; d + 2 < n; ++d) {
            n_planes_ *= down_[d] ? 2 : 1;
        }
        plane_.resize(to_.frame_bytes());
        out_.resize(to_.frame_bytes());
        coords_.resize(n - 2);
    }

    void push(const uint8_t* frame, const Emit& emit)
    {
        const size_t n_outer = from_.ndim() - 2;
        from_.frame_coords(frames_++, coords_.data());
        if (n_planes_ == 1) {
            ops_->reduce(frame, out_.data());
            emit(out_.data());
            return;
        }

        // The frame of the level below that this frame contributes to, and
        // whether this is its last contributor.
        uint64_t target = 0;
        bool last = true;
        for (size_t d = 0; d < n_outer; ++d) {
            const uint64_t c = down_[d] ? coords_[d] / 2 : coords_[d];
            target = d == 0 ? c : target * to_.sizes()[d] + c;
            if (down_[d]) {
                const uint64_t size = from_.sizes()[d];
                last = last && (coords_[d] % 2 == 1 ||
                                (size != 0 && coords_[d] == size - 1));
            }
        }

        ops_->reduce(frame, plane_.data());
        auto it = open_.find(target);
        if (it == open_.end()) {
            Pending pending;
            if (!spare_.empty()) {
                pending.acc = std::move(spare_.back());
                spare_.pop_back();
            }
            pending.acc.resize(to_.frame_height() * to_.frame_width() *
                               ops_->acc_bytes());
            ops_->start(pending.acc.data(), plane_.data());
            it = open_.emplace(target, std::move(pending)).first;
        } else {
            ops_->add(it->second.acc.data(), plane_.data());
        }
        ++it->second.planes;
        if (last) {
            finish(it, emit);
        }
    }

    void flush(const Emit& emit)
    {
        while (!open_.empty()) {
            finish(open_.begin(), emit);
        }
    }

  private:
    struct Pending
    {
        std::vector<uint8_t> acc;
        uint64_t planes = 0;
    };

    void finish(std::map<uint64_t, Pending>::iterator it, const Emit& emit)
    {
        Pending& p = it->second;
        ops_->finish(p.acc.data(), n_planes_, p.planes < n_planes_, out_.data());
        spare_.push_back(std::move(p.acc));
        open_.erase(it);
        emit(out_.data());
    }

    Geometry from_;
    Geometry to_;
    std::vector<bool> down_;
    std::unique_ptr<PlaneOps> ops_;
    uint64_t n_planes_ = 1; // frames above combined into one frame below
    uint64_t frames_ = 0;
    std::vector<uint64_t> coords_;
    std::vector<uint8_t> plane_;
    std::vector<uint8_t> out_;
    std::map<uint64_t, Pending> open_;
    std::vector<std::vector<uint8_t>> spare_;
};

Downsampler::Downsampler(const ArraySpec& from,
                         const ArraySpec& to,
                         ZarrDownsamplingMethod method)
  : impl_(std::make_unique<Impl>(from, to, method))
{
}

Downsampler::~Downsampler() = default;

void
Downsampler::push(const uint8_t* frame, const Emit& emit)
{
    impl_->push(frame, emit);
}

void
Downsampler::flush(const Emit& emit)
{
    impl_->flush(emit);
}

} // namespace zarr
