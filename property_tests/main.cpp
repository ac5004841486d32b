// The property binaries' main: applies MOEGATE_PROPERTY_BUDGET before
// RapidCheck reads its parameters, then runs GoogleTest.
#include <gtest/gtest.h>

#include "support.hpp"

int main(int argc, char** argv) {
  moegate::testing::apply_property_budget();
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
