// What one core of this CPU does per nanosecond with the instructions the CPU
// reference's hot loop is made of (reference/sigmoid.cpp: a Horner chain of
// double FMAs, then a float division), at 256 and 512 bits, single thread.
// Issue #15 asked why the same AVX-512 code runs ~2x slower per logit on an
// Intel Xeon than on the AMD EPYC development machine; with no performance
// counters on either guest, these timings separate the suspects:
// - clock: a chain of dependent 64-bit multiplies (three cycles each on
//   both vendors' recent cores) gives the core's clock while it runs scalar
//   code (a chain of `add $1` read 10.6 GHz on the Intel host: its renamer
//   folds dependent add-immediates, so adds cannot time the clock there);
// - clock under 512-bit work: a chain of dependent 512-bit double FMAs
//   (4 cycles each on both vendors' recent cores) gives it while the vector
//   unit is busy (an AVX-512 frequency licence would show here);
// - width: independent FMAs and divisions per cycle, 256 and 512 bits.
// Prints one table; `bench/cpu_probe` takes no arguments (~3 s).
#include <immintrin.h>

#include <chrono>
#include <cstdint>
#include <cstdio>

namespace {

using Clock = std::chrono::steady_clock;
double ns_since(Clock::time_point start) {
  return std::chrono::duration<double, std::nano>(Clock::now() - start).count();
}

// Runs BODY twice (the first pass warms up: clock ramp, page faults) and
// sets `ns` to the second pass's time. A macro, not a function taking a
// lambda: a lambda does not inherit its caller's target attribute, and its
// intrinsics would not compile.
#define MOEGATE_TIMED(ns, ...)                               \
  double ns = 0.0;                                           \
  for (int pass = 0; pass < 2; ++pass) {                     \
    const Clock::time_point start = Clock::now();            \
    __VA_ARGS__;                                             \
    ns = ns_since(start);                                    \
  }

constexpr std::int64_t chain_rounds = 50'000'000;

// GHz from 4 dependent multiplies (3 cycles each) per round.
double scalar_clock_ghz() {
  std::uint64_t x = 1;
  MOEGATE_TIMED(ns, for (std::int64_t i = 0; i < chain_rounds; ++i) asm volatile(
                        "imul %0, %0\n\timul %0, %0\n\timul %0, %0\n\timul %0, %0" : "+r"(x)));
  return 3.0 * 4.0 * chain_rounds / ns;
}

// Dependent 512-bit double FMAs per ns; x 4 cycles of latency = GHz.
__attribute__((target("avx512f"))) double dependent_fma512_per_ns() {
  __m512d acc = _mm512_set1_pd(1.0);
  const __m512d a = _mm512_set1_pd(0.999999), b = _mm512_set1_pd(1e-7);
  MOEGATE_TIMED(ns, for (std::int64_t i = 0; i < chain_rounds / 4; ++i) {
    acc = _mm512_fmadd_pd(acc, a, b);
    acc = _mm512_fmadd_pd(acc, a, b);
    acc = _mm512_fmadd_pd(acc, a, b);
    acc = _mm512_fmadd_pd(acc, a, b);
    asm volatile("" : "+v"(acc));
  });
  alignas(64) double lanes[8];
  _mm512_store_pd(lanes, acc);
  volatile double sink = lanes[0];
  (void)sink;
  return chain_rounds / ns;
}

constexpr std::int64_t throughput_rounds = 20'000'000;

// Twelve independent chains v = STEP(v), each in a register (the empty asm
// keeps the compiler from merging or dropping them): operations per ns.
#define MOEGATE_INDEPENDENT_PER_NS(Vec, first, STEP)                                                        \
  Vec v0 = (first), v1 = v0, v2 = v0, v3 = v0, v4 = v0, v5 = v0, v6 = v0, v7 = v0, v8 = v0, v9 = v0,     \
      v10 = v0, v11 = v0;                                                                                \
  MOEGATE_TIMED(ns, for (std::int64_t i = 0; i < throughput_rounds; ++i) {                                \
    v0 = STEP(v0), v1 = STEP(v1), v2 = STEP(v2), v3 = STEP(v3), v4 = STEP(v4), v5 = STEP(v5);            \
    v6 = STEP(v6), v7 = STEP(v7), v8 = STEP(v8), v9 = STEP(v9), v10 = STEP(v10), v11 = STEP(v11);        \
    asm volatile("" : "+v"(v0), "+v"(v1), "+v"(v2), "+v"(v3), "+v"(v4), "+v"(v5), "+v"(v6), "+v"(v7),   \
                 "+v"(v8), "+v"(v9), "+v"(v10), "+v"(v11));                                               \
  });                                                                                                     \
  return 12.0 * throughput_rounds / ns

__attribute__((target("avx512f"))) double fma512_per_ns() {
  const __m512d a = _mm512_set1_pd(0.999999), b = _mm512_set1_pd(1e-7);
#define STEP(v) _mm512_fmadd_pd(v, a, b)
  MOEGATE_INDEPENDENT_PER_NS(__m512d, _mm512_set1_pd(1.0), STEP);
#undef STEP
}
__attribute__((target("avx2,fma"))) double fma256_per_ns() {
  const __m256d a = _mm256_set1_pd(0.999999), b = _mm256_set1_pd(1e-7);
#define STEP(v) _mm256_fmadd_pd(v, a, b)
  MOEGATE_INDEPENDENT_PER_NS(__m256d, _mm256_set1_pd(1.0), STEP);
#undef STEP
}
// Float divisions 1 / v (+ 1, to stay in range), as the sigmoid's last step.
__attribute__((target("avx512f"))) double div512_per_ns() {
  const __m512 one = _mm512_set1_ps(1.0f);
#define STEP(v) _mm512_add_ps(_mm512_div_ps(one, v), one)
  MOEGATE_INDEPENDENT_PER_NS(__m512, _mm512_set1_ps(1.5f), STEP);
#undef STEP
}
__attribute__((target("avx2,fma"))) double div256_per_ns() {
  const __m256 one = _mm256_set1_ps(1.0f);
#define STEP(v) _mm256_add_ps(_mm256_div_ps(one, v), one)
  MOEGATE_INDEPENDENT_PER_NS(__m256, _mm256_set1_ps(1.5f), STEP);
#undef STEP
}

#undef MOEGATE_INDEPENDENT_PER_NS
#undef MOEGATE_TIMED

}  // namespace

int main() {
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx2")) {
    std::printf("cpu_probe: skipped: this CPU lacks AVX-512F or AVX2\n");
    return 0;
  }
  const double ghz = scalar_clock_ghz();
  const double ghz512 = 4.0 * dependent_fma512_per_ns();
  const double fma512 = fma512_per_ns(), fma256 = fma256_per_ns();
  const double div512 = div512_per_ns(), div256 = div256_per_ns();
  std::printf("| measure (one thread) | value |\n|---|---:|\n");
  std::printf("| clock, dependent multiplies x 3 cycles (GHz) | %.2f |\n", ghz);
  std::printf("| clock, dependent 512-bit FMAs x 4 cycles (GHz) | %.2f |\n", ghz512);
  std::printf("| 512-bit double FMAs per ns (per cycle at the scalar clock) | %.2f (%.2f) |\n", fma512, fma512 / ghz);
  std::printf("| 256-bit double FMAs per ns (per cycle) | %.2f (%.2f) |\n", fma256, fma256 / ghz);
  std::printf("| 512-bit float divisions per ns (per cycle) | %.3f (%.3f) |\n", div512, div512 / ghz);
  std::printf("| 256-bit float divisions per ns (per cycle) | %.3f (%.3f) |\n", div256, div256 / ghz);
  return 0;
}
