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

// A workload's verdict on a stage: skipped (and why), or run, passed when
// `failure` is empty.
struct WorkloadVerdict {
  std::string skipped;  // why it did not run ("" when it ran)
  std::string failure;  // "" when it ran and passed
};

// Four streams each routing 65536 tokens of their own at the same time, as
// launches and as CUDA graph replays, `rounds` times: every result must be
// bitwise the single-stream one. Skipped when the stage takes no such case
// (kimi-k2, or DeepSeek V3 for grouped-only stages, fitted to the stage).
WorkloadVerdict judge_overlapping_streams(const Stage& stage, int rounds = 3);

// A case past 2^31 logits (T x row_stride > 2^31, bf16 where the stage
// takes it): a 4099-token tile generated once and copied across the
// allocation on the device; the first tile judged by the comparator, every
// later one bitwise equal to it. Skipped when the stage takes no such case
// or the GPU lacks the memory.
WorkloadVerdict judge_past_int32_logits(const Stage& stage);

// Routes the case's inputs with programmatic dependent launch behind a
// producer that writes the logits late (the stage must wait for it); the
// comparator judges the result. `stage` empty: the default dispatch.
// Skipped when a probe launched the same way is not seen to start before
// the producer writes (the test would prove nothing).
WorkloadVerdict judge_behind_producer(std::string_view stage, const RouterCase& c);
// 4096 tokens of the preset, seed 21: the producer test's case.
RouterCase producer_case(const char* preset);
// The producer test on a stage's own case (kimi-k2, or DeepSeek V3 for
// grouped-only stages, fitted): skipped when it declares no PDL.
WorkloadVerdict judge_behind_producer(const Stage& stage);

// The sweep (moegate::suite::sweep) a stage is judged on: as it is for our
// stages (each takes what it supports; a view offset its vector loads refuse
// is moved to the nearest 16-byte aligned one), fitted case by case to an
// external kernel's declared support and profile (docs/adapter.md).
std::vector<RouterCase> sweep_for(const Stage& stage);

}  // namespace moegate::cuda
