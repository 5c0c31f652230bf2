# Third-party libraries. Each is found as an installed package: vcpkg (see
# vcpkg.json and CMakePresets.json) or the system's (Debian package names in
# the README). Nothing is downloaded at configure time.
#
# Every lookup is quiet: what is missing is collected, and configure stops
# once, at the end, with one message naming every Debian package and vcpkg
# port to install (a source build such as `pip install .` on a machine
# without the -dev packages then says what to do instead of failing deep
# inside the first lookup).

find_package(PkgConfig QUIET)

# acquire_zarr_missing(<what> <Debian package> <vcpkg port>)
function(acquire_zarr_missing what debian port)
    set_property(GLOBAL APPEND PROPERTY ACQUIRE_ZARR_MISSING_WHAT ${what})
    set_property(GLOBAL APPEND PROPERTY ACQUIRE_ZARR_MISSING_DEBIAN ${debian})
    if (port)
        set_property(GLOBAL APPEND PROPERTY ACQUIRE_ZARR_MISSING_VCPKG ${port})
    endif ()
endfunction()

# acquire_zarr_dependency(<name> <pkg-config module> <Debian package>
#                         <vcpkg port> [<CMake target>...]): an interface
# library acquire_zarr_<name> that links the first of the CMake targets that
# exists (from a package's CMake config, as vcpkg ships them), else the
# pkg-config module (Debian ships some libraries with only a .pc file).
function(acquire_zarr_dependency name module debian port)
    add_library(acquire_zarr_${name} INTERFACE)
    foreach (target IN LISTS ARGN)
        if (TARGET ${target})
            target_link_libraries(acquire_zarr_${name} INTERFACE ${target})
            return()
        endif ()
    endforeach ()
    if (NOT PkgConfig_FOUND)
        acquire_zarr_missing(pkg-config pkg-config "")
        acquire_zarr_missing(${module} ${debian} ${port})
        return()
    endif ()
    string(TOUPPER ${name} prefix)
    pkg_check_modules(${prefix} QUIET IMPORTED_TARGET ${module})
    if (${prefix}_FOUND)
        target_link_libraries(acquire_zarr_${name} INTERFACE PkgConfig::${prefix})
    else ()
        acquire_zarr_missing(${module} ${debian} ${port})
    endif ()
endfunction()

# c-blosc 1.x.
find_package(blosc CONFIG QUIET)
acquire_zarr_dependency(blosc blosc libblosc-dev blosc blosc_shared blosc_static)

# libzstd, which c-blosc compresses zstd blocks with: planes compressed block
# by block call it directly (see BloscPlanes).
find_package(zstd CONFIG QUIET)
acquire_zarr_dependency(zstd libzstd libzstd-dev zstd
                        zstd::libzstd_shared zstd::libzstd_static zstd::libzstd)

find_package(nlohmann_json 3.10 CONFIG QUIET)
if (NOT nlohmann_json_FOUND)
    acquire_zarr_missing(nlohmann_json nlohmann-json3-dev nlohmann-json)
endif ()

# S3: libcurl (HTTP), OpenSSL's libcrypto (SigV4), pugixml (XML replies),
# inih (the AWS credentials file).
find_package(CURL CONFIG QUIET)
if (NOT TARGET CURL::libcurl)
    find_package(CURL QUIET)
endif ()
add_library(acquire_zarr_curl INTERFACE)
if (TARGET CURL::libcurl)
    target_link_libraries(acquire_zarr_curl INTERFACE CURL::libcurl)
else ()
    acquire_zarr_missing(libcurl libcurl4-openssl-dev "curl[openssl]")
endif ()

find_package(OpenSSL QUIET COMPONENTS Crypto)
if (NOT TARGET OpenSSL::Crypto)
    acquire_zarr_missing(OpenSSL libssl-dev openssl)
endif ()

find_package(pugixml CONFIG QUIET)
add_library(acquire_zarr_pugixml INTERFACE)
if (TARGET pugixml::pugixml)
    target_link_libraries(acquire_zarr_pugixml INTERFACE pugixml::pugixml)
elseif (TARGET pugixml)
    target_link_libraries(acquire_zarr_pugixml INTERFACE pugixml)
else ()
    acquire_zarr_missing(pugixml libpugixml-dev pugixml)
endif ()

# inih (the AWS credentials file).
find_package(unofficial-inih CONFIG QUIET)
acquire_zarr_dependency(inih inih libinih-dev inih unofficial::inih::libinih)

if (BUILD_TESTING)
    find_package(GTest CONFIG QUIET)
    if (NOT GTest_FOUND)
        find_package(GTest QUIET)
    endif ()
    if (NOT GTest_FOUND)
        acquire_zarr_missing(GoogleTest libgtest-dev gtest)
    endif ()
endif ()

# The Python extension needs Python's headers (python/CMakeLists.txt finds
# them again, and pybind11, which pip brings to `pip install .`).
if (ACQUIRE_ZARR_BUILD_PYTHON)
    find_package(Python3 QUIET COMPONENTS Interpreter Development.Module)
    if (NOT Python3_Development.Module_FOUND)
        acquire_zarr_missing("Python headers" python3-dev "")
    endif ()
endif ()

get_property(_missing_what GLOBAL PROPERTY ACQUIRE_ZARR_MISSING_WHAT)
if (_missing_what)
    get_property(_missing_debian GLOBAL PROPERTY ACQUIRE_ZARR_MISSING_DEBIAN)
    get_property(_missing_vcpkg GLOBAL PROPERTY ACQUIRE_ZARR_MISSING_VCPKG)
    list(REMOVE_DUPLICATES _missing_what)
    list(REMOVE_DUPLICATES _missing_debian)
    list(JOIN _missing_what ", " _missing_what)
    list(JOIN _missing_debian " " _missing_debian)
    set(_vcpkg_hint "")
    if (_missing_vcpkg)
        list(REMOVE_DUPLICATES _missing_vcpkg)
        list(JOIN _missing_vcpkg " " _missing_vcpkg)
        set(_vcpkg_hint "\n  vcpkg:          vcpkg install ${_missing_vcpkg}\n"
            "                  (or set VCPKG_ROOT and use the `default` preset, which reads vcpkg.json)")
    endif ()
    string(CONCAT _message
           "acquire-zarr cannot be built here: ${_missing_what} not found.\n"
           "Install the development packages, then build again (or pip install the wheel):\n"
           "  Debian/Ubuntu:  sudo apt-get install ${_missing_debian}"
           ${_vcpkg_hint} "\n"
           "  From a clone, `make wheel` (a redistributable wheel in dist/) and `make demo`\n"
           "  install the Debian packages for you (apt-get).")
    message(FATAL_ERROR "${_message}")
endif ()
