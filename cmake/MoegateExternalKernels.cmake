# External router kernels in moegate's registry (include/moegate/adapter.h,
# docs/adapter.md).
#
#   moegate_add_external_kernel(NAME
#       SOURCES file.cu ...      # compiled here (CUDA or C++), or
#       LIBRARIES lib.a ...      # prebuilt, defining moegate_kernel_<NAME>()
#       [SUPPORTS "words"])      # the registry's description of its support
#
# or, for a source or library outside the tree, on the configure line:
#
#   cmake --preset default -DMOEGATE_EXTERNAL_KERNELS="NAME:/path/a.cu,/path/b.cu;OTHER:/path/libx.a"
#
# Each kernel becomes registry stage "ext_<NAME>". The registration code is
# generated once, at the end of the configure step, into the OBJECT library
# moegate_external_kernels; every program that enumerates stages (stage_tests,
# stage_smoke, stage_bench, the moegate CLI) links it, so the GPU properties,
# scripts/gpu-check's sanitizer runs and the benchmark take the kernel with no
# further edit.

set(MOEGATE_EXTERNAL_KERNELS "" CACHE STRING
    "External router kernels: NAME:path[,path...] entries separated by ';' (sources or libraries)")

set(moegate_external_registry_source ${PROJECT_BINARY_DIR}/generated/external_kernels.cpp)
add_library(moegate_external_kernels OBJECT ${moegate_external_registry_source})
target_link_libraries(moegate_external_kernels PUBLIC moegate::cuda)

function(moegate_add_external_kernel name)
  cmake_parse_arguments(ARG "" "SUPPORTS" "SOURCES;LIBRARIES" ${ARGN})
  if(NOT name MATCHES "^[A-Za-z_][A-Za-z0-9_]*$")
    message(FATAL_ERROR "moegate_add_external_kernel: '${name}' is not a C identifier (it names moegate_kernel_${name})")
  endif()
  if(NOT ARG_SOURCES AND NOT ARG_LIBRARIES)
    message(FATAL_ERROR "moegate_add_external_kernel(${name}): give SOURCES or LIBRARIES")
  endif()
  get_property(finished GLOBAL PROPERTY MOEGATE_EXTERNAL_KERNELS_FINISHED)
  if(finished)
    message(FATAL_ERROR "moegate_add_external_kernel(${name}): called after the registration code was generated "
                        "(add kernels before moegate's top-level CMakeLists.txt ends)")
  endif()
  get_property(known GLOBAL PROPERTY MOEGATE_EXTERNAL_KERNEL_NAMES)
  if(name IN_LIST known)
    message(FATAL_ERROR "moegate_add_external_kernel: '${name}' is registered twice")
  endif()
  set(target moegate_external_${name})
  if(ARG_SOURCES)
    add_library(${target} STATIC ${ARG_SOURCES})
    set_target_properties(${target} PROPERTIES POSITION_INDEPENDENT_CODE ON)
    target_link_libraries(${target} PUBLIC moegate::cuda ${ARG_LIBRARIES})
  else()
    add_library(${target} INTERFACE)
    target_link_libraries(${target} INTERFACE ${ARG_LIBRARIES} moegate::cuda)
  endif()
  target_link_libraries(moegate_external_kernels PUBLIC ${target})
  set_property(GLOBAL APPEND PROPERTY MOEGATE_EXTERNAL_KERNEL_NAMES ${name})
  set_property(GLOBAL PROPERTY MOEGATE_EXTERNAL_KERNEL_SUPPORTS_${name} "${ARG_SUPPORTS}")
  message(STATUS "moegate: external kernel ext_${name}")
endfunction()

# The configure line's kernels, then the registration source. Called once,
# after every directory has added its kernels.
function(moegate_finish_external_kernels)
  foreach(entry IN LISTS MOEGATE_EXTERNAL_KERNELS)
    if(NOT entry MATCHES "^([A-Za-z_][A-Za-z0-9_]*):(.+)$")
      message(FATAL_ERROR "MOEGATE_EXTERNAL_KERNELS: '${entry}' is not NAME:path[,path...]")
    endif()
    set(name ${CMAKE_MATCH_1})
    string(REPLACE "," ";" paths "${CMAKE_MATCH_2}")
    set(sources "")
    set(libraries "")
    foreach(path IN LISTS paths)
      # Relative paths are taken from the build folder (CMake does not know the
      # shell's directory): give absolute ones.
      get_filename_component(path "${path}" ABSOLUTE BASE_DIR "${CMAKE_BINARY_DIR}")
      if(NOT EXISTS "${path}")
        message(FATAL_ERROR "MOEGATE_EXTERNAL_KERNELS: ${name}: no such file ${path}")
      endif()
      if(path MATCHES "\\.(a|so|lib|o|obj)(\\.[0-9]+)*$")
        list(APPEND libraries "${path}")
      else()
        list(APPEND sources "${path}")
      endif()
    endforeach()
    if(sources)
      moegate_add_external_kernel(${name} SOURCES ${sources} LIBRARIES ${libraries})
    else()
      moegate_add_external_kernel(${name} LIBRARIES ${libraries})
    endif()
  endforeach()

  set_property(GLOBAL PROPERTY MOEGATE_EXTERNAL_KERNELS_FINISHED TRUE)
  get_property(names GLOBAL PROPERTY MOEGATE_EXTERNAL_KERNEL_NAMES)
  set(declarations "")
  set(calls "")
  foreach(name IN LISTS names)
    get_property(supports GLOBAL PROPERTY MOEGATE_EXTERNAL_KERNEL_SUPPORTS_${name})
    string(REPLACE "\\" "\\\\" supports "${supports}")
    string(REPLACE "\"" "\\\"" supports "${supports}")
    string(REPLACE "\n" " " supports "${supports}")
    string(APPEND declarations "extern \"C\" const moegate_kernel* moegate_kernel_${name}(void);\n")
    string(APPEND calls "    moegate::cuda::register_external_kernel(\"${name}\", moegate_kernel_${name}(), \"${supports}\");\n")
  endforeach()
  file(CONFIGURE OUTPUT ${moegate_external_registry_source} CONTENT
"// Generated by cmake/MoegateExternalKernels.cmake: registers the external
// kernels of this build (@names@) at start-up.
#include <cstdio>
#include <cstdlib>
#include <exception>

#include \"moegate/adapter.hpp\"

@declarations@
namespace {

struct RegisterExternalKernels {
  RegisterExternalKernels() {
    try {
@calls@    } catch (const std::exception& error) {
      std::fprintf(stderr, \"moegate: cannot register an external kernel: %s\\n\", error.what());
      std::abort();
    }
  }
} register_external_kernels;

}  // namespace
" @ONLY)
endfunction()
