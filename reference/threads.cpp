// The OpenMP team sized by the work (include/moegate/reference.hpp).
#include <omp.h>

#include "moegate/reference.hpp"

namespace moegate::reference {

int thread_team(std::int64_t logits, int requested) {
  if (requested > 0) return requested;
  return logits < (std::int64_t{1} << 16) ? 1 : omp_get_max_threads();
}

}  // namespace moegate::reference
