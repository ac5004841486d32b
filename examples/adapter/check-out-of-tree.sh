#!/usr/bin/env bash
# docs/adapter.md's out-of-tree steps, run as written: an adapter in a folder
# outside the tree, named on the configure line, shows up in the registry of a
# fresh build (the moegate CLI's `list`). No GPU needed; GPU hosts then run
# the same build's stage_tests on it (docs/validation.md).
#   check-out-of-tree.sh SOURCE_DIR "PREFIX_PATH"
set -euo pipefail
source_dir=$1
prefix_path=${2:-}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/my_gate"
# Step 1 of docs/adapter.md: an adapter file of one's own (the example, renamed).
sed -e 's/moegate_kernel_example_s09/moegate_kernel_my_gate/' -e 's/example_s09 = /my_gate = /' \
    -e 's/return &example_s09;/return \&my_gate;/' \
    "$source_dir/examples/adapter/example_s09_adapter.cu" > "$scratch/my_gate/my_gate.cu"
grep -q 'moegate_kernel_my_gate' "$scratch/my_gate/my_gate.cu"
# Step 2: configure with -DMOEGATE_EXTERNAL_KERNELS=NAME:PATH and build.
cmake -S "$source_dir" -B "$scratch/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      ${prefix_path:+-DCMAKE_PREFIX_PATH="$prefix_path"} -DMOEGATE_BUILD_TESTS=OFF -DMOEGATE_BUILD_BENCHMARKS=OFF -DMOEGATE_BUILD_PYTHON=OFF \
      -DMOEGATE_EXTERNAL_KERNELS="my_gate:$scratch/my_gate/my_gate.cu" > "$scratch/configure.log" 2>&1 ||
  { cat "$scratch/configure.log"; exit 1; }
grep -q 'external kernel ext_my_gate' "$scratch/configure.log"
cmake --build "$scratch/build" --target moegate_cli -j "$(nproc)" > "$scratch/build.log" 2>&1 ||
  { tail -40 "$scratch/build.log"; exit 1; }
# Step 3: it is in the registry, after the ladder and the in-tree example.
"$scratch/build/tools/moegate" list | tee "$scratch/list.txt" | grep -E '^ext_'
grep -q '^ext_my_gate ' "$scratch/list.txt"
# A bad entry stops the configure step with a message naming it.
if cmake -S "$source_dir" -B "$scratch/bad" -G Ninja ${prefix_path:+-DCMAKE_PREFIX_PATH="$prefix_path"} \
         -DMOEGATE_BUILD_TESTS=OFF -DMOEGATE_BUILD_BENCHMARKS=OFF -DMOEGATE_BUILD_PYTHON=OFF \
         -DMOEGATE_EXTERNAL_KERNELS="my_gate:$scratch/missing.cu" > "$scratch/bad.log" 2>&1; then
  echo "a missing adapter file was accepted"; exit 1
fi
grep -q "no such file" "$scratch/bad.log" && grep -q "missing.cu" "$scratch/bad.log"
echo "out-of-tree adapter registered as ext_my_gate"
