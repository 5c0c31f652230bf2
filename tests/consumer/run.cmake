# Installs the build tree into WORK_DIR/prefix, then configures, builds and
# runs the consumer project against it, and checks pkg-config's answer.
file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)

function(run)
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err
                    WORKING_DIRECTORY ${WORK_DIR})
    if (NOT rc EQUAL 0)
        message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
    endif ()
    set(run_output "${out}" PARENT_SCOPE)
endfunction()

file(MAKE_DIRECTORY ${WORK_DIR})
run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})
run(${CMAKE_COMMAND} -S ${CONSUMER_DIR} -B ${WORK_DIR}/build -G ${GENERATOR}
    -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_BUILD_RPATH=${prefix}/lib)
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
run(${WORK_DIR}/build/consumer)
message(STATUS "${run_output}")

find_program(PKG_CONFIG pkg-config)
if (PKG_CONFIG)
    file(GLOB pc_dirs ${prefix}/lib*/pkgconfig ${prefix}/lib/*/pkgconfig)
    set(ENV{PKG_CONFIG_PATH} "${pc_dirs}")
    run(${PKG_CONFIG} --cflags --libs acquire-zarr)
    if (NOT run_output MATCHES "-I([^ \n]+)" OR NOT run_output MATCHES "-lacquire_zarr")
        message(FATAL_ERROR "unexpected pkg-config output: ${run_output}")
    endif ()
    string(REGEX MATCH "-I([^ \n]+)" _ "${run_output}")
    if (NOT EXISTS "${CMAKE_MATCH_1}/acquire.zarr.h")
        message(FATAL_ERROR "pkg-config's include directory ${CMAKE_MATCH_1} has no acquire.zarr.h")
    endif ()
    run(${PKG_CONFIG} --modversion acquire-zarr)
    if (NOT run_output MATCHES "^0\\.2\\.0")
        message(FATAL_ERROR "unexpected pkg-config version: ${run_output}")
    endif ()
endif ()
