#!/usr/bin/env bash
# Scratch driver for the device (not committed): an out-of-tree kernel plugged in per docs/adapter.md.
set -uo pipefail
out=$1
mkdir -p /tmp/oot
sed 's/moegate_kernel_example_s09/moegate_kernel_my_gate/; s/example_s09 = /my_gate = /; s/return &example_s09/return \&my_gate/' examples/adapter/example_s09_adapter.cu > /tmp/oot/my_gate.cu
cmake -S . -B /tmp/oot/build -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH=$PWD/deps/prefix/usr \
  -DMOEGATE_BUILD_BENCHMARKS=OFF -DMOEGATE_EXTERNAL_KERNELS="my_gate:/tmp/oot/my_gate.cu" > $out/oot-configure.log 2>&1 || { tail $out/oot-configure.log; exit 1; }
cmake --build /tmp/oot/build --target stage_tests moegate_cli -j 16 > $out/oot-build.log 2>&1 || { tail -30 $out/oot-build.log; exit 1; }
/tmp/oot/build/tools/moegate list | grep ext_
MOEGATE_REQUIRE_GPU=1 /tmp/oot/build/cuda/stage_tests --gtest_filter='*ext_my_gate*' > $out/oot-tests.log 2>&1
echo "out-of-tree stage_tests exit $?"; grep -E "^\[  (PASSED|FAILED)|sweep cases judged" $out/oot-tests.log
