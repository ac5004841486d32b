// Greedy shrinking of a fixed failing case (a sweep or regression case, which
// RapidCheck did not generate and so cannot shrink): each step tries a
// simpler variant, fitted to the support, and keeps it while it still fails.
#include <algorithm>

#include "moegate/suite.hpp"

namespace moegate::suite {
namespace {

// Simpler variants of `c`, the most promising first.
std::vector<RouterCase> simpler(const RouterCase& c) {
  std::vector<RouterCase> out;
  const auto with = [&](auto change) {
    RouterCase variant = c;
    change(variant);
    out.push_back(variant);
  };
  const std::int64_t t = c.spec.tokens;
  for (std::int64_t fewer : {std::int64_t{1}, t / 8, t / 2, t - 1})
    if (fewer >= 1 && fewer < t) with([fewer](RouterCase& v) { v.spec.tokens = fewer; });
  if (c.spec.row_stride > c.spec.experts) with([](RouterCase& v) { v.spec.row_stride = v.spec.experts; });
  if (c.spec.row_stride > c.spec.experts + 1)
    with([](RouterCase& v) { v.spec.row_stride = v.spec.experts + 1; });
  if (c.spec.offset != 0) with([](RouterCase& v) { v.spec.offset = 0; });
  if (c.spec.padding != PaddingFamily::nan) with([](RouterCase& v) { v.spec.padding = PaddingFamily::nan; });
  if (c.spec.logits_dtype != DType::f32) with([](RouterCase& v) { v.spec.logits_dtype = DType::f32; });
  if (c.spec.bias_dtype != DType::f32) with([](RouterCase& v) { v.spec.bias_dtype = DType::f32; });
  if (c.spec.bias_family != BiasFamily::zero) with([](RouterCase& v) { v.spec.bias_family = BiasFamily::zero; });
  if (c.spec.logit_family != LogitFamily::normal) with([](RouterCase& v) { v.spec.logit_family = LogitFamily::normal; });
  if (c.spec.hostile_eighths != 4) with([](RouterCase& v) { v.spec.hostile_eighths = 4; });
  const RouterConfig& k = c.config;
  if (k.grouped()) with([](RouterCase& v) { v.config.groups = v.config.kept_groups = 1; });
  if (k.grouped() && k.kept_groups > 1) with([](RouterCase& v) { v.config.kept_groups = 1; v.config.topk = std::min(v.config.topk, v.config.candidate_experts()); });
  for (int fewer : {1, k.topk / 2, k.topk - 1})
    if (fewer >= 1 && fewer < k.topk) with([fewer](RouterCase& v) { v.config.topk = fewer; });
  for (int experts : {k.experts / 2, k.experts - 1}) {
    if (experts < std::max(1, k.topk) || experts % k.groups != 0) continue;
    with([experts](RouterCase& v) {
      v.config.experts = experts;
      v.spec.row_stride = experts + std::max<std::int64_t>(0, v.spec.row_stride - v.spec.experts);
      v.spec.experts = experts;
      v.config.topk = std::min(v.config.topk, v.config.candidate_experts());
    });
  }
  return out;
}

bool same(const RouterCase& a, const RouterCase& b) { return describe(a) == describe(b); }

}  // namespace

RouterCase shrink(const Support& support, RouterCase failing, const std::function<bool(const RouterCase&)>& fails,
                  int attempts) {
  bool progress = true;
  while (progress && attempts > 0) {
    progress = false;
    for (const RouterCase& candidate : simpler(failing)) {
      if (attempts <= 0) break;
      const RouterCase fitted = fit(support, candidate);
      if (same(fitted, failing) || validate(fitted.config)) continue;
      --attempts;
      if (fails(fitted)) {
        failing = fitted;
        progress = true;
        break;
      }
    }
  }
  return failing;
}

}  // namespace moegate::suite
