# Helpers shared by every moegate target: warnings, tests, benchmarks.

# Warnings for moegate's own code; linked as $<BUILD_INTERFACE:...> so the
# installed targets do not carry them.
add_library(moegate_warnings INTERFACE)
target_compile_options(moegate_warnings INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor>
  $<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall,-Wextra,-Wshadow>)
if(MOEGATE_WARNINGS_AS_ERRORS)
  target_compile_options(moegate_warnings INTERFACE
    $<$<COMPILE_LANGUAGE:CXX>:-Werror>
    $<$<COMPILE_LANGUAGE:CUDA>:-Werror=all-warnings -Xcompiler=-Werror>)
endif()

# moegate_add_library(NAME SOURCES ... [PUBLIC_LIBS ...] [PRIVATE_LIBS ...])
# A library of ours: moegate_NAME, aliased moegate::NAME and exported as such.
function(moegate_add_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;PUBLIC_LIBS;PRIVATE_LIBS" ${ARGN})
  set(target moegate_${name})
  add_library(${target} ${ARG_SOURCES})
  add_library(moegate::${name} ALIAS ${target})
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${name} POSITION_INDEPENDENT_CODE ON)
  target_include_directories(${target} PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include> $<INSTALL_INTERFACE:include>)
  target_link_libraries(${target} PUBLIC ${ARG_PUBLIC_LIBS}
                        PRIVATE ${ARG_PRIVATE_LIBS} $<BUILD_INTERFACE:moegate_warnings>)
  set_property(GLOBAL APPEND PROPERTY MOEGATE_EXPORTED_TARGETS ${target})
endfunction()

# moegate_add_test(NAME SOURCES ... [LIBS ...] [LABELS ...])
# A GoogleTest binary; every TEST becomes its own ctest entry. gtest_discover_tests
# marks GTEST_SKIP as "skipped" in ctest by itself (SKIP_REGULAR_EXPRESSION).
function(moegate_add_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gtest GTest::gtest_main moegate_warnings)
  if(ARG_LABELS)
    gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES LABELS "${ARG_LABELS}")
  else()
    gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60)
  endif()
endfunction()

# moegate_add_bench(NAME SOURCES ... [LIBS ...]): a Google Benchmark binary.
function(moegate_add_bench name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} benchmark::benchmark moegate_warnings)
endfunction()
