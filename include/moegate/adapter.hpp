// The C++ side of moegate/adapter.h: an external kernel's description turned
// into a registry Stage ("ext_<name>"), whose refusal follows the declared
// support and whose launch calls the adapter. docs/adapter.md walks through it.
#pragma once

#include <string>
#include <string_view>

#include "moegate/adapter.h"
#include "moegate/config.hpp"
#include "moegate/cuda.hpp"

namespace moegate::cuda {

// A call an adapter receives, back in moegate's types: for adapters written
// in C++ against moegate (examples/adapter, cuda/mutants). The inverse of
// what an external Stage's launch marshals.
struct RouteCall {
  RouterConfig config;  // our contract's profile; the kernel's own is in its description
  LogitsView logits;
  BiasView bias;
  OutputView output;
};
RouteCall route_call_of(const moegate_route_args& args);

// The registry id of an external kernel: "ext_<name>".
std::string external_id(std::string_view name);

// Why the kernel cannot take this call ("" when it can): a field outside its
// declared support, or a profile other than the one it implements.
std::string external_refusal(const moegate_kernel& kernel, const RouterConfig& config, const LogitsView& logits,
                             const BiasView& bias);

// The behaviour the kernel implements: the contract's profile unless it names
// one of profiles(); throws std::invalid_argument for an unknown name.
Profile external_profile(const moegate_kernel& kernel);

// Its declared support in words ("E in {256, 384}, k <= 8, ...").
std::string describe_support(const moegate_support& support);

// A Stage routing through the adapter. Checks the description first (ABI
// version, a route function, a sane support block, a known profile) and
// throws std::invalid_argument naming what is wrong. `supports` replaces the
// generated description of its support when not empty.
Stage external_stage(std::string_view name, const moegate_kernel* kernel, std::string_view supports = {});

// external_stage(), then register_stage(). What the code CMake generates for
// moegate_add_external_kernel calls at start-up.
void register_external_kernel(std::string_view name, const moegate_kernel* kernel, std::string_view supports = {});

}  // namespace moegate::cuda
