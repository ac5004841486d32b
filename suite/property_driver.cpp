#include "property_driver.hpp"

#include <istream>
#include <ostream>
#include <stdexcept>
#include <string>

#include "../property_tests/generators.hpp"

namespace moegate::suite {

// The other side closed the pipe or answered out of protocol.
struct ProtocolError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

int drive_property(const Support& support, int budget, std::uint64_t seed, std::istream& verdicts,
                   std::ostream& cases) {
  rc::detail::TestParams params;
  params.seed = seed;
  params.maxSuccess = budget;
  std::string broken;
  // RapidCheck keeps a shrink exactly when it fails, so the last case judged
  // a failure is the shrunk counterexample.
  std::string last_failing;
  const auto property = [&](const RouterCase& generated) {
    if (!broken.empty()) throw ProtocolError(broken);  // no more cases once the other side broke off
    const std::string line = describe(fit(support, generated));
    cases << "case " << line << "\n" << std::flush;
    std::string reply;
    if (!std::getline(verdicts, reply)) {
      broken = "the router side closed the pipe";
      throw ProtocolError(broken);
    }
    if (reply == "pass") return;
    if (reply.rfind("fail", 0) == 0) {
      last_failing = line;
      RC_FAIL("the router side judged this case a failure");
    }
    broken = "unexpected reply '" + reply.substr(0, 80) + "'";
    throw ProtocolError(broken);
  };
  const auto result = rc::detail::checkTestable(property, rc::detail::TestMetadata{}, params);
  if (!broken.empty()) {
    cases << "done error " << broken << "\n" << std::flush;
    return 2;
  }
  rc::detail::SuccessResult success;
  rc::detail::FailureResult failure;
  rc::detail::GaveUpResult gave_up;
  if (result.match(success)) {
    cases << "done pass " << success.numSuccess << "\n" << std::flush;
    return 0;
  }
  if (result.match(failure)) {
    cases << "done fail " << failure.numSuccess << " " << last_failing << "\n" << std::flush;
    return 1;
  }
  if (result.match(gave_up)) {
    cases << "done gave-up " << gave_up.description << "\n" << std::flush;
    return 1;
  }
  cases << "done error RapidCheck could not run the property\n" << std::flush;
  return 2;
}

}  // namespace moegate::suite
