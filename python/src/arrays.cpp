#include "arrays.hpp"

#include <dlpack/dlpack.h>

#include <sstream>

namespace py = pybind11;

namespace moegate::python {
namespace {

Element from_dlpack(DLDataType type) {
  if (type.lanes != 1) return Element::other;
  if (type.code == kDLFloat && type.bits == 32) return Element::f32;
  if (type.code == kDLFloat && type.bits == 16) return Element::f16;
  if (type.code == kDLFloat && type.bits == 64) return Element::f64;
  if (type.code == kDLBfloat && type.bits == 16) return Element::bf16;
  if (type.code == kDLInt && type.bits == 32) return Element::i32;
  if (type.code == kDLInt && type.bits == 64) return Element::i64;
  return Element::other;
}

// numpy's typestr ("<f4", "<i8", "<V2" for ml_dtypes' bfloat16 is not readable: other).
Element from_typestr(const std::string& typestr) {
  if (typestr.size() < 3 || typestr[0] == '>') return Element::other;
  const std::string kind = typestr.substr(1);
  if (kind == "f4") return Element::f32;
  if (kind == "f2") return Element::f16;
  if (kind == "f8") return Element::f64;
  if (kind == "i4") return Element::i32;
  if (kind == "i8") return Element::i64;
  return Element::other;
}

Element from_torch(const std::string& dtype) {
  if (dtype == "torch.float32") return Element::f32;
  if (dtype == "torch.bfloat16") return Element::bf16;
  if (dtype == "torch.float16") return Element::f16;
  if (dtype == "torch.float64") return Element::f64;
  if (dtype == "torch.int32") return Element::i32;
  if (dtype == "torch.int64") return Element::i64;
  return Element::other;
}

bool is_torch_tensor(py::handle object) {
  const py::object type = py::type::of(object);
  const std::string module = py::str(type.attr("__module__"));
  return module.rfind("torch", 0) == 0 && py::hasattr(object, "data_ptr") && py::hasattr(object, "stride");
}

Array borrow_torch(py::handle object, Array array) {
  array.element = from_torch(py::str(object.attr("dtype")));
  array.data = reinterpret_cast<void*>(object.attr("data_ptr")().cast<std::uintptr_t>());
  for (py::handle size : object.attr("shape")) array.shape.push_back(size.cast<std::int64_t>());
  for (py::handle stride : object.attr("stride")()) array.strides.push_back(stride.cast<std::int64_t>());
  const py::object device = object.attr("device");
  const std::string kind = py::str(device.attr("type"));
  if (kind != "cpu" && kind != "cuda") value_error(array, "lives on a '" + kind + "' device; moegate takes CPU or CUDA arrays");
  array.on_cuda = kind == "cuda";
  const py::object index = device.attr("index");
  array.device = index.is_none() ? 0 : index.cast<int>();
  array.keep = py::reinterpret_borrow<py::object>(object);
  return array;
}

Array borrow_dlpack(py::handle object, Array array) {
  py::object capsule;
  try {
    capsule = object.attr("__dlpack__")();
  } catch (py::error_already_set& error) {
    type_error(array, std::string("could not be exported through DLPack: ") + error.what());
  }
  if (!PyCapsule_IsValid(capsule.ptr(), "dltensor")) type_error(array, "__dlpack__ did not return a 'dltensor' capsule");
  auto* managed = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(capsule.ptr(), "dltensor"));
  const DLTensor& tensor = managed->dl_tensor;
  array.element = from_dlpack(tensor.dtype);
  array.data = static_cast<char*>(tensor.data) + tensor.byte_offset;
  for (int d = 0; d < tensor.ndim; ++d) array.shape.push_back(tensor.shape[d]);
  if (tensor.strides != nullptr) {
    for (int d = 0; d < tensor.ndim; ++d) array.strides.push_back(tensor.strides[d]);
  } else {
    std::int64_t stride = 1;
    array.strides.assign(static_cast<std::size_t>(tensor.ndim), 0);
    for (int d = tensor.ndim - 1; d >= 0; --d) {
      array.strides[static_cast<std::size_t>(d)] = stride;
      stride *= tensor.shape[d];
    }
  }
  const DLDeviceType device = tensor.device.device_type;
  if (device != kDLCPU && device != kDLCUDA && device != kDLCUDAHost)
    value_error(array, "lives on DLPack device type " + std::to_string(device) + "; moegate takes CPU or CUDA arrays");
  array.on_cuda = device == kDLCUDA;
  array.device = tensor.device.device_id;
  // Not consumed: the capsule's own destructor releases the tensor once we let go.
  array.keep = py::make_tuple(capsule, py::reinterpret_borrow<py::object>(object));
  return array;
}

Array borrow_interface(py::handle object, Array array, const char* attribute, bool on_cuda) {
  const py::dict interface = object.attr(attribute);
  const std::string typestr = py::str(interface["typestr"]);
  array.element = from_typestr(typestr);
  const py::tuple data = interface["data"];
  array.data = reinterpret_cast<void*>(data[0].cast<std::uintptr_t>());
  for (py::handle size : interface["shape"]) array.shape.push_back(size.cast<std::int64_t>());
  const std::size_t bytes = typestr.size() >= 3 ? static_cast<std::size_t>(std::stoi(typestr.substr(2))) : 1;
  if (interface.contains("strides") && !interface["strides"].is_none()) {
    for (py::handle stride : interface["strides"]) {
      const auto byte_stride = stride.cast<std::int64_t>();
      if (byte_stride % static_cast<std::int64_t>(bytes) != 0) value_error(array, "has strides that are not whole elements");
      array.strides.push_back(byte_stride / static_cast<std::int64_t>(bytes));
    }
  } else {
    std::int64_t stride = 1;
    array.strides.assign(array.shape.size(), 0);
    for (std::size_t d = array.shape.size(); d-- > 0;) {
      array.strides[d] = stride;
      stride *= array.shape[d];
    }
  }
  array.on_cuda = on_cuda;
  array.keep = py::reinterpret_borrow<py::object>(object);
  return array;
}

}  // namespace

std::string_view element_name(Element element) {
  switch (element) {
    case Element::f32: return "float32";
    case Element::bf16: return "bfloat16";
    case Element::f16: return "float16";
    case Element::f64: return "float64";
    case Element::i32: return "int32";
    case Element::i64: return "int64";
    default: return "an unsupported dtype";
  }
}

bool Array::row_contiguous() const { return shape.empty() || shape.back() <= 1 || strides.back() == 1; }

bool Array::contiguous() const {
  std::int64_t expected = 1;
  for (std::size_t d = shape.size(); d-- > 0;) {
    if (shape[d] > 1 && strides[d] != expected) return false;
    expected *= shape[d];
  }
  return true;
}

DType Array::routing_dtype() const {
  switch (element) {
    case Element::f32: return DType::f32;
    case Element::bf16: return DType::bf16;
    case Element::f16: return DType::f16;
    default: type_error(*this, "must be float32, bfloat16 or float16, got " + std::string(element_name(element)));
  }
}

void type_error(const Array& array, const std::string& message) {
  throw py::type_error(array.name + ": " + message);
}

void value_error(const Array& array, const std::string& message) {
  throw py::value_error(array.name + ": " + message);
}

void require_rank(const Array& array, int rank, const char* shape_words) {
  if (static_cast<int>(array.shape.size()) != rank)
    value_error(array, "must be " + std::to_string(rank) + "-D " + shape_words + ", got " +
                           std::to_string(array.shape.size()) + "-D");
}

void require_host(const Array& array, const char* instead) {
  if (array.on_cuda) value_error(array, std::string("must be a CPU array, got one on cuda:") + std::to_string(array.device) + instead);
}

void require_cuda(const Array& array) {
  if (!array.on_cuda) value_error(array, "must be a CUDA array, got a CPU one");
}

Array borrow(py::handle object, const std::string& name) {
  Array array;
  array.name = name;
  if (object.is_none()) throw py::type_error(name + ": got None, expected an array");
  if (is_torch_tensor(object)) return borrow_torch(object, array);
  if (py::hasattr(object, "__cuda_array_interface__")) return borrow_interface(object, array, "__cuda_array_interface__", true);
  if (py::hasattr(object, "__dlpack__")) {
    try {
      return borrow_dlpack(object, array);
    } catch (py::type_error&) {
      if (!py::hasattr(object, "__array_interface__")) throw;
    }
  }
  if (py::hasattr(object, "__array_interface__")) return borrow_interface(object, array, "__array_interface__", false);
  std::ostringstream what;
  what << name << ": expected an array (numpy, torch, CuPy or JAX: __dlpack__ or an array interface), got "
       << std::string(py::str(py::type::of(object).attr("__name__")));
  throw py::type_error(what.str());
}

}  // namespace moegate::python
