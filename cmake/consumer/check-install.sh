#!/usr/bin/env bash
# Installs the build tree into a scratch prefix, then configures, builds and
# runs cmake/consumer against it with find_package(moegate).
#   check-install.sh BUILD_DIR SOURCE_DIR [EXTRA_PREFIX_PATH]
set -euo pipefail
build=$1 source=$2 extra=${3:-}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cmake --install "$build" --prefix "$scratch/prefix" >/dev/null
cmake -S "$source/cmake/consumer" -B "$scratch/consumer" -G Ninja \
  -DCMAKE_PREFIX_PATH="$scratch/prefix${extra:+;$extra}" >/dev/null
cmake --build "$scratch/consumer" >/dev/null
"$scratch/consumer/consumer"
# CPU components only, with CUDA hidden from the consumer's configure (issue #15).
cmake -S "$source/cmake/consumer" -B "$scratch/cpu-consumer" -G Ninja -DMOEGATE_CONSUMER_CPU_ONLY=ON \
  -DCMAKE_DISABLE_FIND_PACKAGE_CUDAToolkit=ON -DCMAKE_PREFIX_PATH="$scratch/prefix${extra:+;$extra}" >/dev/null
cmake --build "$scratch/cpu-consumer" >/dev/null
"$scratch/cpu-consumer/consumer"
