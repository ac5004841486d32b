# The Python interpreter moegate builds its package for and runs its Python
# tests with: MOEGATE_PYTHON, else the first of `python3` on PATH and
# /usr/bin/python3 that imports pybind11 and numpy (Debian's python3-pybind11
# and python3-numpy here; the venv's own pybind11 on the GPU host).
set(MOEGATE_PYTHON "" CACHE FILEPATH "Python interpreter to build the moegate package for")
if(NOT MOEGATE_PYTHON)
  find_program(moegate_path_python NAMES python3 NO_CACHE)
  foreach(candidate ${moegate_path_python} /usr/bin/python3)
    execute_process(COMMAND ${candidate} -c "import pybind11, numpy" RESULT_VARIABLE status OUTPUT_QUIET ERROR_QUIET)
    if(status EQUAL 0)
      set(MOEGATE_PYTHON ${candidate} CACHE FILEPATH "Python interpreter to build the moegate package for" FORCE)
      break()
    endif()
  endforeach()
endif()
if(NOT MOEGATE_PYTHON)
  message(FATAL_ERROR "No Python interpreter with pybind11 and numpy (scripts/bootstrap installs python3-pybind11 "
                      "and python3-numpy); or set -DMOEGATE_PYTHON=/path/to/python")
endif()
set(Python3_EXECUTABLE ${MOEGATE_PYTHON})
find_package(Python3 REQUIRED COMPONENTS Interpreter Development.Module)
execute_process(COMMAND ${MOEGATE_PYTHON} -m pybind11 --cmakedir OUTPUT_VARIABLE pybind11_cmake_dir
                OUTPUT_STRIP_TRAILING_WHITESPACE COMMAND_ERROR_IS_FATAL ANY)
find_package(pybind11 CONFIG REQUIRED HINTS ${pybind11_cmake_dir})
message(STATUS "moegate Python package for ${MOEGATE_PYTHON} (Python ${Python3_VERSION}, pybind11 ${pybind11_VERSION})")
# The module must share the interpreter's C++ runtime (libstdc++.so): with only
# libstdc++.a the module would carry a second runtime, which crashes (seen on a GPU image whose
# default compiler had no libstdc++.so). scripts/build picks /usr/bin/g++ then.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  execute_process(COMMAND ${CMAKE_CXX_COMPILER} -print-file-name=libstdc++.so OUTPUT_VARIABLE moegate_libstdcxx
                  OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT IS_ABSOLUTE "${moegate_libstdcxx}")
    message(FATAL_ERROR "${CMAKE_CXX_COMPILER} has no libstdc++.so: the Python module would carry its own C++ "
                        "runtime beside the interpreter's and crash. Configure with a compiler that links it "
                        "dynamically (CXX=/usr/bin/g++), as scripts/build does.")
  endif()
  # Named explicitly: a link directory of the CUDA host compiler that holds only libstdc++.a must not
  # turn the module's -lstdc++ into a static copy (seen: nvcc's implicit directories on a GPU image).
  set(MOEGATE_LIBSTDCXX ${moegate_libstdcxx})
endif()
