# Third-party libraries. Each is found as an installed package: vcpkg (see
# vcpkg.json and CMakePresets.json) or the system's (Debian package names in
# the README). Nothing is downloaded at configure time.

find_package(PkgConfig QUIET)

# c-blosc 1.x. vcpkg ships a CMake config; Debian ships only blosc.pc.
find_package(blosc CONFIG QUIET)
if (TARGET blosc_shared)
    add_library(acquire_zarr_blosc INTERFACE)
    target_link_libraries(acquire_zarr_blosc INTERFACE blosc_shared)
elseif (TARGET blosc_static)
    add_library(acquire_zarr_blosc INTERFACE)
    target_link_libraries(acquire_zarr_blosc INTERFACE blosc_static)
else ()
    if (NOT PkgConfig_FOUND)
        message(FATAL_ERROR "c-blosc not found: install libblosc-dev (Debian) or use the vcpkg preset")
    endif ()
    pkg_check_modules(BLOSC REQUIRED IMPORTED_TARGET blosc)
    add_library(acquire_zarr_blosc INTERFACE)
    target_link_libraries(acquire_zarr_blosc INTERFACE PkgConfig::BLOSC)
endif ()

# libzstd, which c-blosc compresses zstd blocks with: planes compressed block
# by block call it directly (see BloscPlanes). vcpkg ships a CMake config;
# Debian ships libzstd.pc.
find_package(zstd CONFIG QUIET)
add_library(acquire_zarr_zstd INTERFACE)
if (TARGET zstd::libzstd_shared)
    target_link_libraries(acquire_zarr_zstd INTERFACE zstd::libzstd_shared)
elseif (TARGET zstd::libzstd_static)
    target_link_libraries(acquire_zarr_zstd INTERFACE zstd::libzstd_static)
elseif (TARGET zstd::libzstd)
    target_link_libraries(acquire_zarr_zstd INTERFACE zstd::libzstd)
else ()
    if (NOT PkgConfig_FOUND)
        message(FATAL_ERROR "libzstd not found: install libzstd-dev (Debian) or use the vcpkg preset")
    endif ()
    pkg_check_modules(ZSTD REQUIRED IMPORTED_TARGET libzstd)
    target_link_libraries(acquire_zarr_zstd INTERFACE PkgConfig::ZSTD)
endif ()

find_package(nlohmann_json 3.10 CONFIG REQUIRED)

# S3: libcurl (HTTP), OpenSSL's libcrypto (SigV4), pugixml (XML replies),
# inih (the AWS credentials file).
find_package(CURL CONFIG QUIET)
if (NOT TARGET CURL::libcurl)
    find_package(CURL REQUIRED)
endif ()
add_library(acquire_zarr_curl INTERFACE)
target_link_libraries(acquire_zarr_curl INTERFACE CURL::libcurl)

find_package(OpenSSL REQUIRED COMPONENTS Crypto)

find_package(pugixml CONFIG REQUIRED)
add_library(acquire_zarr_pugixml INTERFACE)
if (TARGET pugixml::pugixml)
    target_link_libraries(acquire_zarr_pugixml INTERFACE pugixml::pugixml)
else ()
    target_link_libraries(acquire_zarr_pugixml INTERFACE pugixml)
endif ()

# inih: vcpkg ships a CMake config, Debian only inih.pc.
find_package(unofficial-inih CONFIG QUIET)
add_library(acquire_zarr_inih INTERFACE)
if (TARGET unofficial::inih::libinih)
    target_link_libraries(acquire_zarr_inih INTERFACE unofficial::inih::libinih)
else ()
    if (NOT PkgConfig_FOUND)
        message(FATAL_ERROR "inih not found: install libinih-dev (Debian) or use the vcpkg preset")
    endif ()
    pkg_check_modules(INIH REQUIRED IMPORTED_TARGET inih)
    target_link_libraries(acquire_zarr_inih INTERFACE PkgConfig::INIH)
endif ()

if (BUILD_TESTING)
    find_package(GTest CONFIG QUIET)
    if (NOT GTest_FOUND)
        find_package(GTest REQUIRED)
    endif ()
endif ()
