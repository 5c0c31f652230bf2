// HCS plates (docs/format.md, HCS plates): the checks on plates, wells,
// fields of view and acquisitions, the plate and well groups' OME-NGFF
// metadata (0.5 under attributes.ome on v3, 0.4 in .zattrs on v2), and an
// array plan for every field of view, at <plate>/<row>/<column>/<fov>.
#include "settings.hh"

#include "settings_checks.hh"

#include <algorithm>
#include <map>
#include <set>

namespace zarr {

using namespace checks;

namespace {

/// Row and column names, which become keys: letters and digits only.
bool
alphanumeric(const std::string& name)
{
    return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    });
}

/// Row or column names: each alphanumeric and unique; their index by name.
std::map<std::string, size_t>
check_names(const char* const* names, size_t count, const std::string& field)
{
    if (count != 0 && names == nullptr) {
        invalid(cat(field, " is NULL but its count is ", count));
    }
    std::map<std::string, size_t> index;
    for (size_t i = 0; i < count; ++i) {
        const std::string name = names[i] == nullptr ? "" : names[i];
        if (!alphanumeric(name)) {
            invalid(cat(field, "[", i, "] is ", quoted(names[i]),
                        ": row and column names are letters and digits only"));
        }
        if (!index.emplace(name, i).second) {
            invalid(cat(field, "[", i, "] '", name, "' is listed twice"));
        }
    }
    return index;
}

/// A path of one segment (a field of view) or of several (a plate).
std::string
checked_path(const char* path, const std::string& field, bool one_segment)
{
    std::string key;
    try {
        key = normalize_output_key(path == nullptr ? "" : path);
    } catch (const Error& e) {
        throw Error(e.code(), cat(field, ": ", e.what()));
    }
    if (key.empty()) {
        invalid(cat(field, " is ", quoted(path), ": a non-empty path is required"));
    }
    if (one_segment && key.find('/') != std::string::npos) {
        invalid(cat(field, " is '", key, "': a field of view's path is one name, without '/'"));
    }
    require_utf8(field, key);
    return key;
}

/// The version-specific wrapping of a plate's or well's OME-NGFF entry. The
/// entry also carries the version on v3, as acquire-zarr 0.10 writes it
/// (ome-zarr-models warns about a 0.5 plate without it).
json
ome_attributes(const char* name, json entry, ZarrVersion version)
{
    if (version == ZarrVersion_2) {
        entry["version"] = "0.4";
        return json{ { name, std::move(entry) } };
    }
    entry["version"] = "0.5";
    return json{ { "ome", json{ { "version", "0.5" }, { name, std::move(entry) } } } };
}

struct PlateChecked
{
    std::string path;
    std::map<std::string, size_t> rows, columns;
    std::map<uint32_t, size_t> acquisitions; // id -> index
};

PlateChecked
check_plate(const ZarrHCSPlate& p, const std::string& prefix)
{
    PlateChecked c;
    c.path = checked_path(p.path, prefix + "path", false);
    c.rows = check_names(p.row_names, p.row_count, prefix + "row_names");
    c.columns = check_names(p.column_names, p.column_count, prefix + "column_names");
    if (p.acquisition_count != 0 && p.acquisitions == nullptr) {
        invalid(cat(prefix, "acquisitions is NULL but acquisition_count is ",
                    p.acquisition_count));
    }
    for (size_t i = 0; i < p.acquisition_count; ++i) {
        if (!c.acquisitions.emplace(p.acquisitions[i].id, i).second) {
            invalid(cat(prefix, "acquisitions[", i, "].id ", p.acquisitions[i].id,
                        " is used by another acquisition"));
        }
    }
    if (p.well_count != 0 && p.wells == nullptr) {
        invalid(cat(prefix, "wells is NULL but well_count is ", p.well_count));
    }
    return c;
}

/// The plate's `plate` entry: rows, columns, wells, acquisitions (each
/// with its largest number of fields in one well, at least 1 as NGFF
/// requires), and the largest number of fields in one well.
json
plate_entry(const ZarrHCSPlate& p, const PlateChecked& c)
{
    json rows = json::array(), columns = json::array(), wells = json::array();
    for (size_t i = 0; i < p.row_count; ++i) {
        rows.push_back({ { "name", p.row_names[i] } });
    }
    for (size_t i = 0; i < p.column_count; ++i) {
        columns.push_back({ { "name", p.column_names[i] } });
    }
    size_t field_count = 0;
    std::map<uint32_t, size_t> per_acquisition;
    for (size_t w = 0; w < p.well_count; ++w) {
        const ZarrHCSWell& well = p.wells[w];
        wells.push_back({ { "path", cat(well.row_name, "/", well.column_name) },
                          { "rowIndex", c.rows.at(well.row_name) },
                          { "columnIndex", c.columns.at(well.column_name) } });
        field_count = std::max(field_count, well.image_count);
        std::map<uint32_t, size_t> here;
        for (size_t f = 0; f < well.image_count; ++f) {
            if (well.images[f].has_acquisition_id) {
                ++here[well.images[f].acquisition_id];
            }
        }
        for (const auto& [id, n] : here) {
            per_acquisition[id] = std::max(per_acquisition[id], n);
        }
    }
    json acquisitions = json::array();
    for (size_t i = 0; i < p.acquisition_count; ++i) {
        const ZarrHCSAcquisition& a = p.acquisitions[i];
        json entry = { { "id", a.id } };
        if (a.name != nullptr) {
            require_utf8("acquisitions[].name", a.name);
            entry["name"] = a.name;
        }
        if (a.description != nullptr) {
            require_utf8("acquisitions[].description", a.description);
            entry["description"] = a.description;
        }
        if (a.has_start_time) {
            entry["starttime"] = a.start_time;
        }
        if (a.has_end_time) {
            entry["endtime"] = a.end_time;
        }
        entry["maximumfieldcount"] = std::max<size_t>(1, per_acquisition[a.id]);
        acquisitions.push_back(std::move(entry));
    }
    const std::string name = p.name != nullptr ? p.name : c.path;
    require_utf8("plate name", name);
    json entry = { { "name", name }, { "rows", rows }, { "columns", columns }, { "wells", wells } };
    if (!acquisitions.empty()) {
        entry["acquisitions"] = std::move(acquisitions);
    }
    entry["field_count"] = std::max<size_t>(1, field_count);
    return entry;
}

/// One well: its row and column in the plate's lists, its fields of view
/// (unique paths, known acquisitions, no output_key of their own) as
/// arrays, and its group with the `well` entry.
void
plan_well(const ZarrHCSWell& well,
          const std::string& prefix,
          const PlateChecked& c,
          std::set<std::string>& seen,
          StreamPlan& plan)
{
    const std::string row = well.row_name == nullptr ? "" : well.row_name;
    const std::string column = well.column_name == nullptr ? "" : well.column_name;
    if (!c.rows.contains(row)) {
        invalid(cat(prefix, "row_name is ", quoted(well.row_name),
                    ": not one of the plate's row_names"));
    }
    if (!c.columns.contains(column)) {
        invalid(cat(prefix, "column_name is ", quoted(well.column_name),
                    ": not one of the plate's column_names"));
    }
    const std::string well_key = cat(c.path, "/", row, "/", column);
    if (!seen.insert(well_key).second) {
        invalid(cat(prefix, "row_name/column_name '", row, "/", column,
                    "': the plate lists that well twice"));
    }
    if (well.image_count != 0 && well.images == nullptr) {
        invalid(cat(prefix, "images is NULL but image_count is ", well.image_count));
    }
    json images = json::array();
    for (size_t f = 0; f < well.image_count; ++f) {
        const ZarrHCSFieldOfView& fov = well.images[f];
        const std::string fprefix = cat(prefix, "images[", f, "].");
        const std::string path = checked_path(fov.path, fprefix + "path", true);
        json image = { { "path", path } };
        if (fov.has_acquisition_id) {
            if (!c.acquisitions.contains(fov.acquisition_id)) {
                invalid(cat(fprefix, "acquisition_id is ", fov.acquisition_id,
                            ": the plate has no acquisition with that id"));
            }
            image["acquisition"] = fov.acquisition_id;
        }
        images.push_back(std::move(image));
        if (fov.array_settings == nullptr) {
            invalid(cat(fprefix, "array_settings is NULL: every field of view is an array"));
        }
        if (fov.array_settings->output_key != nullptr && fov.array_settings->output_key[0]) {
            invalid(cat(fprefix, "array_settings.output_key is '", fov.array_settings->output_key,
                        "': a field of view's key is its place in the plate ('", well_key, "/",
                        path, "'); leave output_key NULL"));
        }
        const std::string key = cat(well_key, "/", path);
        plan.arrays.push_back(
          plan_array(*fov.array_settings, fprefix + "array_settings.", key, plan.version, true));
        plan.arrays.back().field = cat(fprefix, "path (field of view '", key, "')");
    }
    plan.groups.push_back({ well_key, ome_attributes("well", json{ { "images", images } }, plan.version),
                            cat(prefix, "row_name/column_name (well '", well_key, "')") });
}

} // namespace

void
checks::plan_plates(const ZarrHCSSettings& hcs, StreamPlan& plan)
{
    if (hcs.plate_count != 0 && hcs.plates == nullptr) {
        invalid(cat("hcs_settings.plates is NULL but plate_count is ", hcs.plate_count));
    }
    for (size_t i = 0; i < hcs.plate_count; ++i) {
        const ZarrHCSPlate& p = hcs.plates[i];
        const std::string prefix = cat("hcs_settings.plates[", i, "].");
        const PlateChecked c = check_plate(p, prefix);
        std::set<std::string> seen;
        for (size_t w = 0; w < p.well_count; ++w) {
            plan_well(p.wells[w], cat(prefix, "wells[", w, "]."), c, seen, plan);
        }
        plan.groups.push_back({ c.path, ome_attributes("plate", plate_entry(p, c), plan.version),
                                cat(prefix, "path '", c.path, "'") });
    }
}

void
checks::plate_array_keys(const ZarrHCSSettings& hcs, std::vector<std::string>& keys)
{
    for (size_t i = 0; hcs.plates != nullptr && i < hcs.plate_count; ++i) {
        const ZarrHCSPlate& p = hcs.plates[i];
        const std::string prefix = cat("hcs_settings.plates[", i, "].");
        const std::string path = checked_path(p.path, prefix + "path", false);
        for (size_t w = 0; p.wells != nullptr && w < p.well_count; ++w) {
            const ZarrHCSWell& well = p.wells[w];
            for (size_t f = 0; well.images != nullptr && f < well.image_count; ++f) {
                keys.push_back(cat(path, "/", well.row_name ? well.row_name : "", "/",
                                   well.column_name ? well.column_name : "", "/",
                                   checked_path(well.images[f].path,
                                                cat(prefix, "wells[", w, "].images[", f, "].path"),
                                                true)));
            }
        }
    }
}

} // namespace zarr
