// moegate's Python bindings (_moegate): the contract, the reference, the
// comparator, the suite's cases, vectors and the CUDA stages, over arrays of
// any framework (arrays.hpp). The public API is the pure-Python package
// python/moegate, which wraps these; docs/python.md.
#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <climits>
#include <cstring>
#include <fstream>
#include <sstream>

#include "arrays.hpp"
#include "moegate/case.hpp"
#include "moegate/comparator.hpp"
#include "moegate/cuda.hpp"
#include "moegate/presets.hpp"
#include "moegate/reference.hpp"
#include "moegate/safetensors.hpp"
#include "moegate/suite.hpp"
#include "moegate/vectors.hpp"

namespace py = pybind11;

namespace moegate::python {

void launch_empty_kernels(cudaStream_t stream, int count);  // empty_kernel.cu

namespace {

// ---- the contract -------------------------------------------------------

std::string profile_name(const Profile& profile) {
  for (const NamedProfile& named : profiles())
    if (named.profile == profile) return std::string(named.name);
  std::ostringstream out;
  out << "custom(nan_rank=" << name_of(profile.nan_rank) << ", nan_replacement=" << shortest_decimal(profile.nan_replacement)
      << ", zero_sum=" << name_of(profile.zero_sum) << ", scaling=" << name_of(profile.scaling) << ")";
  return out.str();
}

Profile profile_named(const std::string& name) {
  const auto profile = find_profile(name);
  if (!profile) {
    std::string known;
    for (const NamedProfile& named : profiles()) known += (known.empty() ? "" : ", ") + std::string(named.name);
    throw py::value_error("profile: unknown profile '" + name + "' (known: " + known + ")");
  }
  return *profile;
}

RouterConfig validated(RouterConfig config) {
  if (auto error = validate(config)) throw py::value_error(error->what());
  return config;
}

RouterConfig make_config(int experts, int topk, int groups, int kept_groups, bool renormalize, float scaling,
                         bool apply, const std::string& profile) {
  RouterConfig config;
  config.experts = experts;
  config.topk = topk;
  config.groups = groups;
  config.kept_groups = kept_groups;
  config.renormalize = renormalize;
  config.routed_scaling_factor = scaling;
  config.apply_routed_scaling_factor_on_output = apply;
  config.profile = profile_named(profile);
  return validated(config);
}

py::dict profile_switches(const Profile& p) {
  py::dict out;
  out["nan_rank"] = std::string(name_of(p.nan_rank));
  out["nan_replacement"] = p.nan_replacement;
  out["zero_sum"] = std::string(name_of(p.zero_sum));
  out["scaling"] = std::string(name_of(p.scaling));
  return out;
}

// ---- arrays in and out --------------------------------------------------

template <class T>
py::array_t<T> owned(std::vector<T> values, std::vector<py::ssize_t> shape) {
  auto* held = new std::vector<T>(std::move(values));
  py::capsule free_when_done(held, [](void* p) { delete static_cast<std::vector<T>*>(p); });
  return py::array_t<T>(shape, {}, held->data(), free_when_done);
}

struct Inputs {
  LogitsView logits;
  BiasView bias;
  Array logits_array, bias_array;
};

// logits [T, E] (rows may be a slice of wider ones), bias [E], both CPU or both CUDA.
Inputs borrow_inputs(const RouterConfig& config, py::handle logits_object, py::handle bias_object, bool on_cuda) {
  Inputs in;
  in.logits_array = borrow(logits_object, "logits");
  in.bias_array = borrow(bias_object, "bias");
  for (Array* a : {&in.logits_array, &in.bias_array}) {
    if (on_cuda) require_cuda(*a);
    else require_host(*a, "; moegate.route and moegate.judge take CPU arrays (moegate.cuda.route runs on the GPU)");
  }
  const Array& l = in.logits_array;
  require_rank(l, 2, "[tokens, experts]");
  if (l.shape[1] != config.experts)
    value_error(l, "has " + std::to_string(l.shape[1]) + " columns, the config has experts=" + std::to_string(config.experts));
  if (!l.row_contiguous()) value_error(l, "each row must be contiguous (stride 1 along experts)");
  const std::int64_t row_stride = l.shape[0] <= 1 ? config.experts : l.strides[0];
  if (row_stride < config.experts)
    value_error(l, "the row stride (" + std::to_string(row_stride) + " elements) must be >= experts");
  const Array& b = in.bias_array;
  require_rank(b, 1, "[experts]");
  if (b.shape[0] != config.experts)
    value_error(b, "has " + std::to_string(b.shape[0]) + " entries, the config has experts=" + std::to_string(config.experts));
  if (!b.contiguous()) value_error(b, "must be contiguous");
  if (on_cuda && b.device != l.device) value_error(b, "is on cuda:" + std::to_string(b.device) + ", logits on cuda:" + std::to_string(l.device));
  in.logits = LogitsView{l.data, l.routing_dtype(), l.shape[0], row_stride};
  in.bias = BiasView{b.data, b.routing_dtype()};
  return in;
}

// A candidate output on the host, [tokens, topk], any layout.
Array borrow_output(py::handle object, const char* name, std::int64_t tokens, int topk) {
  Array a = borrow(object, name);
  require_host(a, "");
  require_rank(a, 2, "[tokens, topk]");
  if (a.shape[0] != tokens || a.shape[1] != topk)
    value_error(a, "has shape [" + std::to_string(a.shape[0]) + ", " + std::to_string(a.shape[1]) + "], expected [" +
                       std::to_string(tokens) + ", " + std::to_string(topk) + "]");
  return a;
}

// Candidate outputs [T, k] of any integer / float dtype and layout, as the comparator's int32 / f32.
std::vector<std::int32_t> ids_of(py::handle object, std::int64_t tokens, int topk) {
  const Array a = borrow_output(object, "ids", tokens, topk);
  if (a.element != Element::i32 && a.element != Element::i64)
    type_error(a, "must be int32 or int64, got " + std::string(element_name(a.element)));
  std::vector<std::int32_t> out(static_cast<std::size_t>(tokens * topk));
  for (std::int64_t t = 0; t < tokens; ++t)
    for (int j = 0; j < topk; ++j) {
      const std::int64_t at = t * a.strides[0] + j * a.strides[1];
      std::int64_t id = a.element == Element::i32 ? static_cast<const std::int32_t*>(a.data)[at]
                                                  : static_cast<const std::int64_t*>(a.data)[at];
      if (id > INT32_MAX || id < INT32_MIN) id = INT32_MIN;  // out of range, still judged as such
      out[static_cast<std::size_t>(t * topk + j)] = static_cast<std::int32_t>(id);
    }
  return out;
}

std::vector<float> weights_of(py::handle object, std::int64_t tokens, int topk) {
  const Array a = borrow_output(object, "weights", tokens, topk);
  std::vector<float> out(static_cast<std::size_t>(tokens * topk));
  for (std::int64_t t = 0; t < tokens; ++t)
    for (int j = 0; j < topk; ++j) {
      const std::int64_t at = t * a.strides[0] + j * a.strides[1];
      float value;
      switch (a.element) {
        case Element::f32: value = static_cast<const float*>(a.data)[at]; break;
        case Element::f64: value = static_cast<float>(static_cast<const double*>(a.data)[at]); break;
        case Element::bf16: value = widen_bf16(static_cast<const std::uint16_t*>(a.data)[at]); break;
        case Element::f16: value = widen_f16(static_cast<const std::uint16_t*>(a.data)[at]); break;
        default: type_error(a, "must be a float dtype (float32, bfloat16, float16, float64), got " + std::string(element_name(a.element)));
      }
      out[static_cast<std::size_t>(t * topk + j)] = value;
    }
  return out;
}

// ---- cases --------------------------------------------------------------

RouterCase case_from_line(const std::string& line) {
  std::string why;
  const auto parsed = parse_case(line, &why);
  if (!parsed) throw py::value_error("case: not a case line (" + why + "): '" + line.substr(0, 120) + "'");
  if (auto error = validate(parsed->config)) throw py::value_error(std::string("case: ") + error->what());
  return *parsed;
}

// A case's inputs, generated once: numpy views of the bytes (logits
// [T, row_stride], bf16 as uint16 bits; bias [E]) for the router, and the
// same bytes for the comparator (check_router judges what it handed over,
// without generating it again).
struct Generated {
  RouterCase routing;
  std::shared_ptr<RouterInputs> inputs;
  // The allocation a GPU caller makes: the lead (spec.offset elements of
  // padding values), then the rows; logits are its [offset:] view.
  std::shared_ptr<std::vector<std::uint8_t>> storage_bytes;

  py::array view(std::vector<std::uint8_t>& bytes, DType dtype, std::vector<py::ssize_t> shape) const {
    // The array keeps this case's buffers alive (both of them: one capsule).
    py::capsule keep(new Generated(*this), [](void* p) { delete static_cast<Generated*>(p); });
    if (dtype == DType::f32) return py::array_t<float>(shape, {}, reinterpret_cast<float*>(bytes.data()), keep);
    if (dtype == DType::f16) return py::array(py::dtype("float16"), shape, {}, bytes.data(), keep);
    return py::array_t<std::uint16_t>(shape, {}, reinterpret_cast<std::uint16_t*>(bytes.data()), keep);
  }
  py::array logits() const {
    const std::int64_t stride = inputs->spec.row_stride ? inputs->spec.row_stride : routing.config.experts;
    return view(inputs->logits_bytes, routing.spec.logits_dtype,
                {static_cast<py::ssize_t>(routing.spec.tokens), static_cast<py::ssize_t>(stride)});
  }
  // The whole allocation, 1-D: storage[offset : offset + T * row_stride] are the rows.
  py::array storage() const {
    const auto elements = storage_bytes->size() / dtype_bytes(routing.spec.logits_dtype);
    return view(*storage_bytes, routing.spec.logits_dtype, {static_cast<py::ssize_t>(elements)});
  }
  py::array bias() const {
    return view(inputs->bias_bytes, routing.spec.bias_dtype, {static_cast<py::ssize_t>(routing.config.experts)});
  }
};

Generated generate(const RouterCase& c) {
  py::gil_scoped_release release;
  auto inputs = std::make_shared<RouterInputs>(make_inputs(c.spec));
  auto storage = std::make_shared<std::vector<std::uint8_t>>(inputs->lead_bytes);
  storage->insert(storage->end(), inputs->logits_bytes.begin(), inputs->logits_bytes.end());
  return Generated{c, std::move(inputs), std::move(storage)};
}

// ---- the comparator -----------------------------------------------------

Tolerance tolerance_of(const std::string& precision, const std::string& order, int score_ulps, int weight_ulps) {
  Tolerance tolerance;
  const auto dtype = parse_dtype(precision);
  if (!dtype) throw py::value_error("precision: must be 'f32', 'bf16' or 'f16', got '" + precision + "'");
  const auto slots = parse_slot_order(order);
  if (!slots) throw py::value_error("order: must be 'selection' or 'any', got '" + order + "'");
  if (score_ulps < 0) throw py::value_error("score_ulps: must be >= 0 (0: derived from the precision)");
  if (weight_ulps < 0) throw py::value_error("weight_ulps: must be >= 0 (0: derived)");
  tolerance.precision = *dtype;
  tolerance.order = *slots;
  tolerance.score_ulps = score_ulps;
  tolerance.weight_ulps = weight_ulps;
  return tolerance;
}

py::dict verdict_dict(const RouterConfig& config, const LogitsView& logits, const BiasView& bias,
                      const std::vector<std::int32_t>& candidate_ids, const std::vector<float>& candidate_weights,
                      const Tolerance& tolerance, int shown, bool divergence) {
  Verdict verdict;
  std::string known;
  {
    py::gil_scoped_release release;
    const CandidateView candidate{candidate_weights.data(), candidate_ids.data()};
    verdict = compare(config, logits, bias, candidate, tolerance);
    if (divergence && !verdict.passed()) known = known_divergence(config, logits, bias, candidate, tolerance);
  }
  py::dict counts;
  for (int c = 0; c < clause_count; ++c) counts[py::str(std::string(name_of(static_cast<Clause>(c))))] = verdict.counts[static_cast<std::size_t>(c)];
  py::list violations;
  for (const Violation& v : verdict.violations) {
    py::dict row;
    row["clause"] = std::string(name_of(v.clause));
    row["token"] = v.token;
    row["slot"] = v.slot;
    row["expected"] = v.expected;
    row["got"] = v.got;
    row["margin"] = v.margin;
    violations.append(row);
  }
  py::dict out;
  out["ok"] = verdict.passed();
  out["tokens"] = verdict.tokens;
  out["failing_tokens"] = verdict.failing_tokens;
  out["counts"] = counts;
  out["violations"] = violations;
  out["text"] = verdict.report(shown);
  out["known_divergence"] = known;
  out["score_ulps"] = verdict.score_ulps;
  out["weight_ulps"] = verdict.weight_ulps;
  return out;
}

py::dict judge(const RouterConfig& config, py::handle logits, py::handle bias, py::handle ids, py::handle weights,
               const std::string& precision, const std::string& order, int score_ulps, int weight_ulps, int shown,
               bool divergence) {
  const Inputs in = borrow_inputs(config, logits, bias, false);
  const Tolerance tolerance = tolerance_of(precision, order, score_ulps, weight_ulps);
  return verdict_dict(config, in.logits, in.bias, ids_of(ids, in.logits.tokens, config.topk),
                      weights_of(weights, in.logits.tokens, config.topk), tolerance, shown, divergence);
}

// The same for a case's generated inputs.
py::dict judge_generated(const Generated& g, py::handle ids, py::handle weights, const std::string& precision,
                         const std::string& order, int score_ulps, int weight_ulps, int shown, bool divergence) {
  const RouterCase& c = g.routing;
  return verdict_dict(c.config, g.inputs->logits(), g.inputs->bias(), ids_of(ids, c.spec.tokens, c.config.topk),
                      weights_of(weights, c.spec.tokens, c.config.topk),
                      tolerance_of(precision, order, score_ulps, weight_ulps), shown, divergence);
}

py::dict route_reference(const RouterConfig& config, py::handle logits, py::handle bias, const std::string& mode, int threads) {
  const Inputs in = borrow_inputs(config, logits, bias, false);
  const std::int64_t tokens = in.logits.tokens;
  const std::vector<py::ssize_t> shape{static_cast<py::ssize_t>(tokens), config.topk};
  reference::RunOptions options;
  options.threads = threads;
  py::dict out;
  if (mode == "f32") {
    reference::RouteResult result;
    {
      py::gil_scoped_release release;
      result = reference::route_f32(config, in.logits, in.bias, options);
    }
    out["weights"] = owned(std::move(result.weights), shape);
    out["ids"] = owned(std::move(result.ids), shape);
  } else if (mode == "f64") {
    reference::OracleResult result;
    {
      py::gil_scoped_release release;
      result = reference::route_f64(config, in.logits, in.bias, options);
    }
    out["weights"] = owned(std::move(result.weights), shape);
    out["ids"] = owned(std::move(result.ids), shape);
    out["keys"] = owned(std::move(result.keys), shape);
    out["selection_margin"] = owned(std::move(result.selection_margin), {static_cast<py::ssize_t>(tokens)});
    out["group_margin"] = owned(std::move(result.group_margin), {static_cast<py::ssize_t>(tokens)});
  } else {
    throw py::value_error("mode: must be 'f32' or 'f64', got '" + mode + "'");
  }
  return out;
}

// ---- vectors ------------------------------------------------------------

py::array tensor_array(const vectors::Tensor& tensor) {
  std::vector<py::ssize_t> shape(tensor.shape.begin(), tensor.shape.end());
  const char* dtype = "float32";
  switch (tensor.type) {
    case vectors::TensorType::f64: dtype = "float64"; break;
    case vectors::TensorType::f32: dtype = "float32"; break;
    case vectors::TensorType::bf16: dtype = "uint16"; break;  // bf16 bits
    case vectors::TensorType::f16: dtype = "float16"; break;
    case vectors::TensorType::i64: dtype = "int64"; break;
    case vectors::TensorType::i32: dtype = "int32"; break;
    case vectors::TensorType::u8: dtype = "uint8"; break;
  }
  py::array out(py::dtype(dtype), shape);
  if (!tensor.data.empty()) std::memcpy(out.mutable_data(), tensor.data.data(), tensor.data.size());
  return out;
}

py::tuple read_case_file(const std::string& path) {
  const vectors::SafetensorsFile file = vectors::read_safetensors(path);
  py::dict tensors, types;
  for (const vectors::Tensor& tensor : file.tensors) {
    tensors[py::str(tensor.name)] = tensor_array(tensor);
    types[py::str(tensor.name)] = std::string(vectors::type_name(tensor.type));
  }
  py::dict metadata;
  for (const auto& [key, value] : file.metadata) metadata[py::str(key)] = value;
  return py::make_tuple(tensors, types, metadata);
}

// name -> (array, "F32"|"I32"|...) written as one safetensors file.
void write_tensors(const std::string& path, const py::dict& named, const std::map<std::string, std::string>& metadata) {
  std::vector<vectors::Tensor> tensors;
  for (const auto& [key, value] : named) {
    const py::tuple pair = py::reinterpret_borrow<py::tuple>(value);
    const Array a = borrow(pair[0], std::string(py::str(key)));
    require_host(a, "");
    if (!a.contiguous()) value_error(a, "must be contiguous to be written");
    const std::string type = pair[1].cast<std::string>();
    vectors::Tensor tensor;
    tensor.name = std::string(py::str(key));
    bool known = false;
    for (auto t : {vectors::TensorType::f64, vectors::TensorType::f32, vectors::TensorType::bf16, vectors::TensorType::f16,
                   vectors::TensorType::i64, vectors::TensorType::i32, vectors::TensorType::u8})
      if (vectors::type_name(t) == type) tensor.type = t, known = true;
    if (!known) throw py::value_error(tensor.name + ": unknown safetensors type '" + type + "'");
    tensor.shape = a.shape;
    std::int64_t elements = 1;
    for (std::int64_t d : a.shape) elements *= d;
    const auto bytes = static_cast<std::size_t>(elements) * vectors::type_bytes(tensor.type);
    tensor.data.assign(static_cast<const std::uint8_t*>(a.data), static_cast<const std::uint8_t*>(a.data) + bytes);
    tensors.push_back(std::move(tensor));
  }
  vectors::write_safetensors(path, tensors, metadata);
}

// ---- CUDA ---------------------------------------------------------------

cudaStream_t stream_of(std::uintptr_t handle) { return reinterpret_cast<cudaStream_t>(handle); }

void cuda_route(const std::string& stage, const RouterConfig& config, py::handle logits, py::handle bias,
                py::handle weights, py::handle ids, std::uintptr_t stream, bool pdl) {
  const Inputs in = borrow_inputs(config, logits, bias, true);
  const Array w = borrow(weights, "weights"), i = borrow(ids, "ids");
  for (const Array* a : {&w, &i}) {
    require_cuda(*a);
    require_rank(*a, 2, "[tokens, topk]");
    if (a->shape[0] != in.logits.tokens || a->shape[1] != config.topk)
      value_error(*a, "must have shape [" + std::to_string(in.logits.tokens) + ", " + std::to_string(config.topk) + "]");
    if (!a->contiguous()) value_error(*a, "must be contiguous");
    if (a->device != in.logits_array.device) value_error(*a, "is on another device than logits");
  }
  if (w.element != Element::f32) type_error(w, "must be float32, got " + std::string(element_name(w.element)));
  if (i.element != Element::i32) type_error(i, "must be int32, got " + std::string(element_name(i.element)));
  const OutputView output{static_cast<float*>(w.data), static_cast<std::int32_t*>(i.data)};
  cuda::LaunchOptions options;
  options.programmatic_dependent_launch = pdl;
  if (stage.empty()) cuda::route(config, in.logits, in.bias, output, stream_of(stream), options);
  else cuda::route(stage, config, in.logits, in.bias, output, stream_of(stream), options);
}

}  // namespace

PYBIND11_MODULE(_moegate, m) {
  m.doc() = "moegate's compiled core; use the moegate package";
  py::register_exception_translator([](std::exception_ptr error) {
    try {
      if (error) std::rethrow_exception(error);
    } catch (const vectors::SafetensorsError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    }
  });
  py::register_exception<cuda::CudaError>(m, "CudaError", PyExc_RuntimeError);

  m.attr("contract_version") = contract_version;

  py::class_<RouterConfig>(m, "RouterConfig", "A validated router configuration (docs/semantics.md); immutable: use replace()")
      .def(py::init(&make_config), py::kw_only(), py::arg("experts"), py::arg("topk"), py::arg("groups") = 1,
           py::arg("kept_groups") = 1, py::arg("renormalize") = true, py::arg("routed_scaling_factor") = 1.0f,
           py::arg("apply_routed_scaling_factor_on_output") = false, py::arg("profile") = "moegate")
      .def_property_readonly("experts", [](const RouterConfig& c) { return c.experts; })
      .def_property_readonly("topk", [](const RouterConfig& c) { return c.topk; })
      .def_property_readonly("groups", [](const RouterConfig& c) { return c.groups; })
      .def_property_readonly("kept_groups", [](const RouterConfig& c) { return c.kept_groups; })
      .def_property_readonly("renormalize", [](const RouterConfig& c) { return c.renormalize; })
      .def_property_readonly("routed_scaling_factor", [](const RouterConfig& c) { return c.routed_scaling_factor; })
      .def_property_readonly("apply_routed_scaling_factor_on_output",
                             [](const RouterConfig& c) { return c.apply_routed_scaling_factor_on_output; })
      .def_property_readonly("profile", [](const RouterConfig& c) { return profile_name(c.profile); })
      .def_property_readonly("profile_switches", [](const RouterConfig& c) { return profile_switches(c.profile); })
      .def_property_readonly("scales_output", &RouterConfig::scales_output)
      .def("_with_profile", [](RouterConfig c, const std::string& name) { c.profile = profile_named(name); return c; })
      .def("_with", [](RouterConfig c, int experts, int topk, int groups, int kept_groups, bool renormalize, float scaling,
                       bool apply) {
        c.experts = experts, c.topk = topk, c.groups = groups, c.kept_groups = kept_groups, c.renormalize = renormalize;
        c.routed_scaling_factor = scaling, c.apply_routed_scaling_factor_on_output = apply;
        return validated(c);
      })
      .def("__eq__", [](const RouterConfig& a, const RouterConfig& b) { return describe(a) == describe(b); })
      .def("__hash__", [](const RouterConfig& c) { return std::hash<std::string>{}(describe(c)); })
      .def("__str__", [](const RouterConfig& c) { return describe(c); });

  m.def("_presets", [] {
    py::list out;
    for (const Preset& p : presets()) out.append(py::make_tuple(std::string(p.name), std::string(p.source), p.config));
    return out;
  });
  m.def("_profiles", [] {
    py::list out;
    for (const NamedProfile& p : profiles())
      out.append(py::make_tuple(std::string(p.name), std::string(p.follows), profile_switches(p.profile)));
    return out;
  });

  py::class_<RouterCase>(m, "Case", "A routing case: a config and the recipe of its inputs, printable as one line")
      .def_static("parse", &case_from_line, py::arg("line"))
      .def_property_readonly("config", [](const RouterCase& c) { return c.config; })
      .def_property_readonly("tokens", [](const RouterCase& c) { return c.spec.tokens; })
      .def_property_readonly("experts", [](const RouterCase& c) { return c.config.experts; })
      .def_property_readonly("row_stride", [](const RouterCase& c) { return c.spec.row_stride ? c.spec.row_stride : c.config.experts; })
      .def_property_readonly("padding", [](const RouterCase& c) { return std::string(name_of(c.spec.padding)); })
      .def_property_readonly("offset", [](const RouterCase& c) { return c.spec.offset; })
      .def_property_readonly("logits_dtype", [](const RouterCase& c) { return std::string(dtype_name(c.spec.logits_dtype)); })
      .def_property_readonly("bias_dtype", [](const RouterCase& c) { return std::string(dtype_name(c.spec.bias_dtype)); })
      .def_property_readonly("logit_family", [](const RouterCase& c) { return std::string(name_of(c.spec.logit_family)); })
      .def_property_readonly("bias_family", [](const RouterCase& c) { return std::string(name_of(c.spec.bias_family)); })
      .def_property_readonly("seed", [](const RouterCase& c) { return c.spec.seed; })
      .def_property_readonly("line", [](const RouterCase& c) { return describe(c); })
      .def("_generate", &generate)
      .def("__str__", [](const RouterCase& c) { return describe(c); });

  m.def("_route", &route_reference, py::arg("config"), py::arg("logits"), py::arg("bias"), py::arg("mode"), py::arg("threads") = 0);
  m.def("_judge", &judge, py::arg("config"), py::arg("logits"), py::arg("bias"), py::arg("ids"), py::arg("weights"),
        py::arg("precision"), py::arg("order"), py::arg("score_ulps"), py::arg("weight_ulps"), py::arg("shown"),
        py::arg("divergence"));

  py::class_<Generated>(m, "GeneratedInputs", "A case's inputs, generated once")
      .def_property_readonly("logits", &Generated::logits)
      .def_property_readonly("storage", &Generated::storage)
      .def_property_readonly("bias", &Generated::bias)
      .def("judge", &judge_generated, py::arg("ids"), py::arg("weights"), py::arg("precision"), py::arg("order"),
           py::arg("score_ulps"), py::arg("weight_ulps"), py::arg("shown"), py::arg("divergence"));
  // Where the core reads an array: the caller's own memory (the zero-copy tests compare it with theirs).
  m.def("_borrowed_address", [](py::handle object, const std::string& name) {
    return reinterpret_cast<std::uintptr_t>(borrow(object, name).data);
  });
  m.def("_support_line", [](const std::string& line) { return suite::describe(suite::parse_support(line)); });
  m.def("_sweep", &suite::sweep);
  m.def("_kept_regressions", &suite::kept_regressions);
  m.def("_fit", [](const std::string& support, const RouterCase& c) { return suite::fit(suite::parse_support(support), c); });
  m.def("_shrink", [](const std::string& support, const RouterCase& c, const std::function<bool(const RouterCase&)>& fails,
                      int attempts) { return suite::shrink(suite::parse_support(support), c, fails, attempts); });

  m.def("_write_suite", [](const std::string& dir, const std::vector<std::string>& presets_chosen, std::optional<RouterConfig> config,
                           const std::vector<std::string>& dtypes, std::int64_t tokens, std::uint64_t seed, const std::string& name,
                           bool replace) {
    vectors::SuiteOptions options;
    options.replace = replace;
    options.name = name;
    options.presets = presets_chosen;
    options.config = config;
    options.logits_dtypes.clear();
    for (const std::string& d : dtypes) {
      const auto dtype = parse_dtype(d);
      if (!dtype) throw py::value_error("dtypes: '" + d + "' is not f32, bf16 or f16");
      options.logits_dtypes.push_back(*dtype);
    }
    if (tokens < 1) throw py::value_error("tokens: must be >= 1");
    options.tokens = tokens;
    options.seed = seed;
    vectors::write_suite(dir, options);
  });
  m.def("_read_manifest", [](const std::string& text) {
    py::list out;
    for (const vectors::ManifestCase& c : vectors::parse_manifest(text)) out.append(py::make_tuple(c.file, c.routing));
    return out;
  });
  m.def("_read_tensors", &read_case_file);
  m.def("_write_tensors", &write_tensors);
  m.def("_check_outputs", [](const std::string& dir, const std::string& outputs, const std::string& profile) {
    const vectors::CheckResult result = vectors::check_outputs(dir, outputs, profile);
    py::dict counts;
    for (int c = 0; c < clause_count; ++c)
      counts[py::str(std::string(name_of(static_cast<Clause>(c))))] = result.clause_counts[static_cast<std::size_t>(c)];
    return py::make_tuple(result.cases, result.failed_cases, counts, result.report);
  });

  m.def("_cuda_device_count", &cuda::device_count);
  m.def("_cuda_version", &cuda::version_string);
  m.def("_cuda_device_name", [](int device) {
    const auto info = cuda::device_info(device);
    return info ? info->name : std::string();
  });
  m.def("_cuda_stages", [] {
    py::list out;
    for (const cuda::Stage& s : cuda::stages())
      out.append(py::make_tuple(std::string(s.id), std::string(s.idea), std::string(s.supports), s.programmatic_launch));
    return out;
  });
  m.def("_cuda_default_stage", [](const RouterConfig& config, py::handle logits, py::handle bias) {
    const Inputs in = borrow_inputs(config, logits, bias, true);
    return std::string(cuda::default_stage(config, in.logits, in.bias).id);
  });
  m.def("_cuda_route", &cuda_route);
  m.def("_cuda_launch_empty", [](std::uintptr_t stream, int count) { launch_empty_kernels(stream_of(stream), count); });
}

}  // namespace moegate::python
