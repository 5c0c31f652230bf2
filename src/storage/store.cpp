#include "store.hh"

namespace zarr::storage {

void
Store::put_parts(const std::string& key, std::span<const std::span<const uint8_t>> parts)
{
    auto sink = open_sink(key);
    sink->write_parts(0, parts);
    sink->finalize();
}

} // namespace zarr::storage
