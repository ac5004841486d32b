// The GPU suite every stage meets: the sweep, the judgement of one case (with
// the known divergences named), and random cases fitted to a stage.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "moegate/case.hpp"
#include "moegate/cuda.hpp"

namespace moegate::cuda {

// Stages that take only grouped shapes (their fixed-shape tests use DeepSeek V3).
bool grouped_only(std::string_view id);

// The case made into one the stage takes: seed stages get the seed's shapes,
// s10 grouped ones, an external kernel its declared support and profile.
RouterCase fit_to(const Stage& stage, RouterCase c);

// Whether the stage's refusal accepts the case (judged on cudaMalloc-aligned views).
bool supported(const Stage& stage, const RouterCase& c);

// Routes the case with the stage (empty: the default dispatch) and judges it:
// "" when it meets the contract, else the comparator's report, the documented
// profiles under which the output would pass (a different contract rather
// than a bug) and the case.
std::string judge(std::string_view stage, const RouterCase& c);

// The sweep (moegate::suite::sweep) a stage is judged on: as it is for our stages (each takes what it
// supports), fitted case by case to an external kernel's declared support and
// profile (docs/adapter.md).
std::vector<RouterCase> sweep_for(const Stage& stage);

}  // namespace moegate::cuda
