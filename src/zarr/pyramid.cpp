#include "pyramid.hh"

#include "../util/error.hh"
#include "reducers.hh"

#include <algorithm>
#include <cstring>
#include <iterator>
#include <map>

namespace zarr {

std::vector<ArraySpec>
pyramid_levels(const ArraySpec& base,
               const std::string& group_key,
               const LevelRules& rules)
{
    std::vector<ArraySpec> levels{ base };
    levels[0].key = join_key(group_key, "0");
    while (rules.max_levels == 0 || levels.size() <= rules.max_levels) {
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
            dim.chunk = rules.keep_chunk_shape ? orig.chunk : std::min(orig.chunk, dim.size);
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

namespace {

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
    /// `n_planes`: the planes the block holds (fewer than a full block for
    /// the lone last plane of an odd stretch).
    virtual void finish(const uint8_t* acc, uint64_t n_planes,
                        uint8_t* out) const = 0;
};

/// The loops over a frame and over planes, for element type T and reducer
/// R (reducers.hh).
template<typename T, class R>
class Ops final : public PlaneOps
{
    using Acc = typename R::template Acc<T>;

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
                    out[ox] = R::template block4<T>(r0[2 * ox], r0[2 * ox + 1],
                                                    r1[2 * ox], r1[2 * ox + 1]);
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
        Acc* acc = reinterpret_cast<Acc*>(acc_bytes_);
        const T* plane = reinterpret_cast<const T*>(plane_bytes);
        for (uint64_t i = 0; i < ho_ * wo_; ++i) {
            R::template combine<T>(acc[i], plane[i]);
        }
    }

    void finish(const uint8_t* acc_bytes_, uint64_t n_planes,
                uint8_t* out_bytes) const override
    {
        const Acc* acc = reinterpret_cast<const Acc*>(acc_bytes_);
        T* out = reinterpret_cast<T*>(out_bytes);
        for (uint64_t i = 0; i < ho_ * wo_; ++i) {
            out[i] = R::template finish<T>(acc[i], n_planes);
        }
    }

  private:
    /// Any block, including those cut short by an odd edge or a factor of
    /// 1 along y or x: reduced over the elements that exist.
    T edge_block(const T* r0, bool has_r1, uint64_t ox) const
    {
        const T* r1 = r0 + w_;
        const uint64_t x0 = ox * fx_;
        const bool has_x1 = fx_ == 2 && x0 + 1 < w_;
        Acc acc = static_cast<Acc>(r0[x0]);
        uint64_t present = 1;
        if (has_x1) {
            R::template combine<T>(acc, r0[x0 + 1]);
            ++present;
        }
        if (has_r1) {
            R::template combine<T>(acc, r1[x0]);
            ++present;
            if (has_x1) {
                R::template combine<T>(acc, r1[x0 + 1]);
                ++present;
            }
        }
        return R::template finish<T>(acc, present);
    }

    uint64_t h_, w_, fy_, fx_, ho_, wo_;
};

template<class R>
std::unique_ptr<PlaneOps>
make_ops(ZarrDataType t, uint64_t h, uint64_t w, uint64_t fy, uint64_t fx)
{
    switch (t) {
        case ZarrDataType_uint8: return std::make_unique<Ops<uint8_t, R>>(h, w, fy, fx);
        case ZarrDataType_uint16: return std::make_unique<Ops<uint16_t, R>>(h, w, fy, fx);
        case ZarrDataType_uint32: return std::make_unique<Ops<uint32_t, R>>(h, w, fy, fx);
        case ZarrDataType_uint64: return std::make_unique<Ops<uint64_t, R>>(h, w, fy, fx);
        case ZarrDataType_int8: return std::make_unique<Ops<int8_t, R>>(h, w, fy, fx);
        case ZarrDataType_int16: return std::make_unique<Ops<int16_t, R>>(h, w, fy, fx);
        case ZarrDataType_int32: return std::make_unique<Ops<int32_t, R>>(h, w, fy, fx);
        case ZarrDataType_int64: return std::make_unique<Ops<int64_t, R>>(h, w, fy, fx);
        case ZarrDataType_float32: return std::make_unique<Ops<float, R>>(h, w, fy, fx);
        case ZarrDataType_float64: return std::make_unique<Ops<double, R>>(h, w, fy, fx);
        case ZarrDataTypeCount: break;
    }
    fail(ZarrStatusCode_InvalidArgument, "invalid data type ", int(t));
}

/// One downsampling method: its reducer's loops and its description.
struct Method
{
    ZarrDownsamplingMethod method;
    const char* type;
    json (*metadata)();
    std::unique_ptr<PlaneOps> (*make_ops)(ZarrDataType, uint64_t h, uint64_t w,
                                          uint64_t fy, uint64_t fx);
};

template<class R>
constexpr Method
method_of(ZarrDownsamplingMethod m)
{
    return { m, R::type, &R::metadata, &make_ops<R> };
}

/// Every method, in the order of ZarrDownsamplingMethod.
constexpr Method kMethods[] = {
    method_of<reducers::Decimate>(ZarrDownsamplingMethod_Decimate),
    method_of<reducers::Mean>(ZarrDownsamplingMethod_Mean),
    method_of<reducers::Min>(ZarrDownsamplingMethod_Min),
    method_of<reducers::Max>(ZarrDownsamplingMethod_Max),
};

constexpr bool
methods_in_enum_order()
{
    for (size_t i = 0; i < std::size(kMethods); ++i) {
        if (static_cast<size_t>(kMethods[i].method) != i) {
            return false;
        }
    }
    return std::size(kMethods) == ZarrDownsamplingMethodCount;
}
static_assert(methods_in_enum_order(), "one kMethods entry per ZarrDownsamplingMethod, in order");

/// nullptr for a value outside the enum.
const Method*
find_method(ZarrDownsamplingMethod m)
{
    const auto i = static_cast<size_t>(m);
    return i < std::size(kMethods) ? &kMethods[i] : nullptr;
}

} // namespace

void
describe_downsampling(json& entry, ZarrDownsamplingMethod method)
{
    const Method* m = find_method(method);
    if (!m) {
        fail(ZarrStatusCode_InvalidArgument, "invalid downsampling method");
    }
    entry["type"] = m->type;
    entry["metadata"] = m->metadata();
}

class Downsampler::Impl
{
  public:
    Impl(const ArraySpec& from, const ArraySpec& to, ZarrDownsamplingMethod m)
      : from_(from.dims, bytes_of(from.dtype))
      , to_(to.dims, bytes_of(to.dtype))
      , down_(downsampled_dims(from, to))
    {
        const size_t n = from_.ndim();
        // A 2-D array's leading dimension of one frame (geometry.hh).
        down_.insert(down_.begin(), n - down_.size(), false);
        const Method* method = find_method(m);
        if (!method) {
            fail(ZarrStatusCode_InvalidArgument, "invalid downsampling method ", int(m));
        }
        ops_ = method->make_ops(from.dtype, from_.frame_height(), from_.frame_width(),
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
        // A lone last plane (odd stretch, or flushed at close) is reduced
        // over the planes that arrived, not over a full block.
        ops_->finish(p.acc.data(), p.planes, out_.data());
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
