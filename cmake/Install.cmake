# Installation: the shared library, the two public headers, a CMake package
# (find_package(acquire-zarr) -> acquire-zarr::acquire-zarr) and a pkg-config
# file, all in the component c-library. The Python wheel installs only the
# component python (pyproject.toml); `make dist-c` installs c-library from
# the wheel's build tree, so the C tarball and the wheel share one build.

include(CMakePackageConfigHelpers)

# The package exports only the shared library, which links the static core
# layers and every third-party library privately ($<BUILD_INTERFACE:...>), so
# the config file needs no find_dependency(). A static acquire_zarr would
# need the layers and the dependencies exported too: refuse to produce a
# package that would fail at the consumer's link step.
get_target_property(_acquire_zarr_type acquire_zarr TYPE)
if (NOT _acquire_zarr_type STREQUAL "SHARED_LIBRARY")
    message(FATAL_ERROR "cmake/Install.cmake packages acquire_zarr as a shared library only "
                        "(it is a ${_acquire_zarr_type})")
endif ()

set(ACQUIRE_ZARR_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/acquire-zarr)

install(TARGETS acquire_zarr
        EXPORT acquire-zarr-targets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT c-library
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT c-library
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT c-library)
# (The target itself carries $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>.)
install(FILES include/acquire.zarr.h include/zarr.types.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT c-library)

install(EXPORT acquire-zarr-targets
        NAMESPACE acquire-zarr::
        FILE acquire-zarr-targets.cmake
        DESTINATION ${ACQUIRE_ZARR_CMAKE_DIR} COMPONENT c-library)

configure_package_config_file(
    ${PROJECT_SOURCE_DIR}/cmake/acquire-zarr-config.cmake.in
    ${PROJECT_BINARY_DIR}/acquire-zarr-config.cmake
    INSTALL_DESTINATION ${ACQUIRE_ZARR_CMAKE_DIR})
write_basic_package_version_file(
    ${PROJECT_BINARY_DIR}/acquire-zarr-config-version.cmake
    VERSION ${PROJECT_VERSION}
    COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/acquire-zarr-config.cmake
              ${PROJECT_BINARY_DIR}/acquire-zarr-config-version.cmake
        DESTINATION ${ACQUIRE_ZARR_CMAKE_DIR} COMPONENT c-library)

# pkg-config: the prefix is found relative to the .pc file itself, so the
# installed tree works wherever `cmake --install --prefix` put it.
file(RELATIVE_PATH ACQUIRE_ZARR_PC_PREFIX
     ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig ${CMAKE_INSTALL_PREFIX})
string(REGEX REPLACE "/$" "" ACQUIRE_ZARR_PC_PREFIX "${ACQUIRE_ZARR_PC_PREFIX}")
set(ACQUIRE_ZARR_PC_LIBDIR ${CMAKE_INSTALL_LIBDIR})
set(ACQUIRE_ZARR_PC_INCLUDEDIR ${CMAKE_INSTALL_INCLUDEDIR})
configure_file(${PROJECT_SOURCE_DIR}/cmake/acquire-zarr.pc.in
               ${PROJECT_BINARY_DIR}/acquire-zarr.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/acquire-zarr.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT c-library)
