// The random property, driven for a router that lives in another process
// (`moegate property`; the Python package's check_router): RapidCheck
// generates cases as the GPU stage tests do (property_tests/generators.hpp),
// fits each to the declared support and asks the other side for a verdict,
// line by line. RapidCheck shrinks a failure as usual.
//
// Protocol (one line each way per case; docs/python.md):
//   driver -> router:  "case <a case line>"
//   router -> driver:  "pass" | "fail[ <anything>]"
//   driver, at the end: "done pass <cases>" | "done fail <cases passed> <shrunk case line>"
//                       | "done gave-up <why>" | "done error <why>"
#pragma once

#include <cstdint>
#include <iosfwd>

#include "moegate/suite.hpp"

namespace moegate::suite {

// Runs `budget` cases (RapidCheck's max_success) from `seed`; returns 0 when
// the property held, 1 when it failed, 2 when the other side broke the protocol.
int drive_property(const Support& support, int budget, std::uint64_t seed, std::istream& verdicts,
                   std::ostream& cases);

}  // namespace moegate::suite
