#include "open_store.hh"

#include "s3/s3_store.hh"

namespace zarr::storage {

std::string
location(const StoreConfig& config)
{
    return std::visit([](const auto& c) { return c.location(); }, config);
}

std::string
name(const StoreConfig& config)
{
    return std::visit([](const auto& c) { return c.name(); }, config);
}

std::unique_ptr<Store>
open_store(const StoreConfig& config, bool overwrite)
{
    struct Open
    {
        bool overwrite;
        std::unique_ptr<Store> operator()(const FilesystemStoreConfig& c) const
        {
            return open_filesystem_store(c, overwrite);
        }
        std::unique_ptr<Store> operator()(const S3StoreConfig& c) const
        {
            return open_s3_store(c, overwrite);
        }
    };
    return std::visit(Open{ overwrite }, config);
}

} // namespace zarr::storage
