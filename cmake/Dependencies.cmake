# Third-party libraries. Each is found as an installed package: vcpkg (see
# vcpkg.json and CMakePresets.json) or the system's (Debian package names in
# the README). Nothing is downloaded at configure time.

find_package(PkgConfig QUIET)

# acquire_zarr_dependency(<name> <pkg-config module> <Debian package>
#                         [<CMake target>...]): an interface library
# acquire_zarr_<name> that links the first of the CMake targets that exists
# (from a package's CMake config, as vcpkg ships them), else the pkg-config
# module (Debian ships some libraries with only a .pc file).
function(acquire_zarr_dependency name module debian)
    add_library(acquire_zarr_${name} INTERFACE)
    foreach (target IN LISTS ARGN)
        if (TARGET ${target})
            target_link_libraries(acquire_zarr_${name} INTERFACE ${target})
            return()
        endif ()
    endforeach ()
    if (NOT PkgConfig_FOUND)
        message(FATAL_ERROR "${module} not found: install ${debian} (Debian) or use the vcpkg preset")
    endif ()
    string(TOUPPER ${name} prefix)
    pkg_check_modules(${prefix} REQUIRED IMPORTED_TARGET ${module})
    target_link_libraries(acquire_zarr_${name} INTERFACE PkgConfig::${prefix})
endfunction()

# c-blosc 1.x.
find_package(blosc CONFIG QUIET)
acquire_zarr_dependency(blosc blosc libblosc-dev blosc_shared blosc_static)

# libzstd, which c-blosc compresses zstd blocks with: planes compressed block
# by block call it directly (see BloscPlanes).
find_package(zstd CONFIG QUIET)
acquire_zarr_dependency(zstd libzstd libzstd-dev
                        zstd::libzstd_shared zstd::libzstd_static zstd::libzstd)

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

# inih (the AWS credentials file).
find_package(unofficial-inih CONFIG QUIET)
acquire_zarr_dependency(inih inih libinih-dev unofficial::inih::libinih)

if (BUILD_TESTING)
    find_package(GTest CONFIG QUIET)
    if (NOT GTest_FOUND)
        find_package(GTest REQUIRED)
    endif ()
endif ()
