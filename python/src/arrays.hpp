// Arrays from any Python framework, borrowed without a copy: torch tensors
// (read through their attributes, which is safe inside CUDA graph capture),
// anything with __dlpack__ (numpy, CuPy, JAX, torch), or the CUDA / NumPy
// array interfaces. Every refusal is a ValueError or TypeError that names the
// argument.
#pragma once

#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>
#include <vector>

#include "moegate/dtype.hpp"

namespace moegate::python {

enum class Element { f32, bf16, f16, f64, i32, i64, other };
std::string_view element_name(Element element);

struct Array {
  std::string name;  // the argument's name, for messages
  void* data = nullptr;
  Element element = Element::other;
  std::vector<std::int64_t> shape;
  std::vector<std::int64_t> strides;  // in elements
  bool on_cuda = false;
  int device = 0;
  pybind11::object keep;  // keeps the producer's memory alive

  std::int64_t rows() const { return shape.empty() ? 0 : shape[0]; }
  bool row_contiguous() const;  // the last dimension is dense
  bool contiguous() const;      // dense row-major
  // The element type as a routing dtype (f32/bf16/f16), or a TypeError.
  DType routing_dtype() const;
};

Array borrow(pybind11::handle object, const std::string& name);

// Refusals naming the argument.
[[noreturn]] void type_error(const Array& array, const std::string& message);
[[noreturn]] void value_error(const Array& array, const std::string& message);
void require_rank(const Array& array, int rank, const char* shape_words);
void require_host(const Array& array, const char* instead);
void require_cuda(const Array& array);

}  // namespace moegate::python
