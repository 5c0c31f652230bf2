// Plans of streams built from `arrays` and `hcs_settings` (the current API):
// where each array lives, its levels, the plate and well metadata, the keys,
// and the memory estimate that sums the arrays.
#include "stream/memory.hh"
#include "stream/settings.hh"
#include "util/error.hh"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using zarr::Error;
using zarr::plan_stream;

namespace {

struct Arrays
{
    ZarrDimensionProperties dims[3] = {
        { "t", ZarrDimensionType_Time, 0, 2, 1, nullptr, 0.0 },
        { "y", ZarrDimensionType_Space, 64, 16, 1, nullptr, 0.0 },
        { "x", ZarrDimensionType_Space, 64, 16, 1, nullptr, 0.0 },
    };
    std::vector<ZarrArraySettings> arrays;
    ZarrStreamSettings s{};

    ZarrStreamSettings& with(std::vector<const char*> keys)
    {
        for (const char* key : keys) {
            ZarrArraySettings a{};
            a.output_key = key;
            a.dimensions = dims;
            a.dimension_count = 3;
            arrays.push_back(a);
        }
        s.store_path = "arrays.zarr";
        s.arrays = arrays.data();
        s.array_count = arrays.size();
        return s;
    }
};

std::string
refusal(const ZarrStreamSettings& s)
{
    try {
        plan_stream(&s);
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ZarrStatusCode_InvalidSettings);
        return e.what();
    }
    return "(accepted)";
}

} // namespace

TEST(ArraySettings, EachArrayLivesAtItsKeyAsPlainArrayImageOrPyramid)
{
    Arrays f;
    f.with({ "plain", "/img/", "pyr" });
    f.arrays[1].is_ngff = true;
    f.arrays[2].multiscale = true;
    const auto plan = plan_stream(&f.s);
    EXPECT_TRUE(plan.from_arrays);
    ASSERT_EQ(plan.arrays.size(), 3u);
    EXPECT_FALSE(plan.arrays[0].image);
    EXPECT_EQ(plan.arrays[0].levels[0].key, "plain");
    EXPECT_TRUE(plan.arrays[1].image);
    EXPECT_EQ(plan.arrays[1].output_key, "img");
    EXPECT_EQ(plan.arrays[1].levels.size(), 1u);
    EXPECT_EQ(plan.arrays[1].levels[0].key, "img/0");
    ASSERT_EQ(plan.arrays[2].levels.size(), 3u); // 64 -> 32 -> 16 (= chunk)
    EXPECT_EQ(plan.arrays[2].levels[2].key, "pyr/2");
    // Streams built from arrays keep the full chunk shape at every level.
    EXPECT_EQ(plan.arrays[2].levels[2].dims[1].chunk, 16u);
}

TEST(ArraySettings, SeedEraSettingsMakeOneImageAtTheRoot)
{
    Arrays f;
    ZarrStreamSettings s{};
    s.store_path = "seed.zarr";
    s.dimensions = f.dims;
    s.dimension_count = 3;
    const auto plan = plan_stream(&s);
    EXPECT_FALSE(plan.from_arrays);
    ASSERT_EQ(plan.arrays.size(), 1u);
    EXPECT_TRUE(plan.arrays[0].image);
    EXPECT_EQ(plan.arrays[0].levels[0].key, "0");
    EXPECT_EQ(zarr::array_keys(s), std::vector<std::string>{ "" });
}

TEST(ArraySettings, KeysThatRepeatOrNestAreRefusedNamingBothFields)
{
    Arrays a;
    EXPECT_NE(refusal(a.with({ "x", "x/" })).find("arrays[0].output_key 'x' and arrays[1]"),
              std::string::npos);
    Arrays b;
    const std::string nested = refusal(b.with({ "x/y/z", "x" }));
    EXPECT_NE(nested.find("arrays[0].output_key 'x/y/z' lies inside"), std::string::npos)
      << nested;
    Arrays c;
    c.with({ "x", "y" });
    c.s.multiscale = true;
    EXPECT_NE(refusal(c.s).find("seed-era fields (multiscale)"), std::string::npos);
    Arrays d;
    d.with({ "x" });
    d.arrays[0].dimension_count = 1;
    EXPECT_NE(refusal(d.s).find("arrays[0].dimension_count is 1"), std::string::npos);
}

TEST(ArraySettings, PlateGroupsCarryNgffPlateAndWellMetadata)
{
    Arrays f;
    f.with({ "flat" });
    ZarrArraySettings fov_array = f.arrays[0];
    fov_array.output_key = nullptr;
    ZarrHCSFieldOfView fovs[2] = { { "0", 1, true, &fov_array }, { "1", 0, false, &fov_array } };
    ZarrHCSWell well{ "B", "2", fovs, 2 };
    const char* rows[] = { "A", "B" };
    const char* columns[] = { "1", "2" };
    ZarrHCSAcquisition acquisition{ 1, "a", nullptr, 5, true, 0, false };
    ZarrHCSPlate plate{ "/hcs/", nullptr, rows, 2, columns, 2, &well, 1, &acquisition, 1 };
    ZarrHCSSettings hcs{ &plate, 1 };
    f.s.hcs_settings = &hcs;
    f.s.version = ZarrVersion_3;

    EXPECT_EQ(zarr::array_keys(f.s),
              (std::vector<std::string>{ "flat", "hcs/B/2/0", "hcs/B/2/1" }));
    const auto plan = plan_stream(&f.s);
    ASSERT_EQ(plan.arrays.size(), 3u);
    EXPECT_TRUE(plan.arrays[1].image); // always an image group
    EXPECT_EQ(plan.arrays[1].levels[0].key, "hcs/B/2/0/0");
    ASSERT_EQ(plan.groups.size(), 2u); // the well, then the plate
    EXPECT_EQ(plan.groups[0].key, "hcs/B/2");
    EXPECT_EQ(plan.groups[0].attributes["ome"]["well"]["images"][0]["acquisition"], 1);
    EXPECT_FALSE(plan.groups[0].attributes["ome"]["well"]["images"][1].contains("acquisition"));
    const auto& p = plan.groups[1].attributes["ome"]["plate"];
    EXPECT_EQ(plan.groups[1].key, "hcs");
    EXPECT_EQ(p["name"], "hcs"); // NULL name: the path
    EXPECT_EQ(p["wells"][0]["path"], "B/2");
    EXPECT_EQ(p["wells"][0]["rowIndex"], 1);
    EXPECT_EQ(p["wells"][0]["columnIndex"], 1);
    EXPECT_EQ(p["acquisitions"][0]["maximumfieldcount"], 1);
    EXPECT_EQ(p["acquisitions"][0]["starttime"], 5);
    EXPECT_FALSE(p["acquisitions"][0].contains("endtime"));
    EXPECT_EQ(p["field_count"], 2);
}

TEST(ArraySettings, MemoryEstimateAddsUpTheArrays)
{
    Arrays one, three;
    const uint64_t a = zarr::estimate_max_memory(plan_stream(&one.with({ "a" })));
    const uint64_t b = zarr::estimate_max_memory(plan_stream(&three.with({ "a", "b", "c" })));
    const uint64_t slab = 64 * 64 * 2; // t chunk 2, uint8
    EXPECT_GE(a, slab);
    EXPECT_GE(b - a, 2 * slab);
}
