#!/usr/bin/env bash
# Builds weft and its examples with CMake (-DWEFT_WERROR=ON), installs the
# package into a scratch prefix, then builds and runs the consumer project
# (cmake/) against it with find_package(weft). .ci/run calls this.
#   tests/consumer/run_cmake.sh [WORKDIR]   (default: a fresh temporary dir)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="${1:-$(mktemp -d)}"
jobs="${WEFT_CMAKE_JOBS:-2}"

cmake -S "$root" -B "$work/build" -DWEFT_WERROR=ON -DWEFT_BUILD_EXAMPLES=ON
cmake --build "$work/build" -j "$jobs"
cmake --install "$work/build" --prefix "$work/prefix"
# Only what weft.h reaches is installed: no implementation headers
# (CMakeLists.txt).
for h in blocking_pool/fs_error.h blocking_pool/fs_open.h executor/scheduler_core.h \
    reactor/reactor_internal.h process/reaper_internal.h; do
  if [ -e "$work/prefix/include/weft/$h" ]; then
    echo "run_cmake.sh: internal header $h was installed" >&2
    exit 1
  fi
done
test -e "$work/prefix/include/weft/weft.h"
# An example from the CMake build runs too.
"$work/build/hello"

cmake -S "$root/tests/consumer/cmake" -B "$work/consumer" -DCMAKE_PREFIX_PATH="$work/prefix"
cmake --build "$work/consumer" -j "$jobs"
"$work/consumer/consumer"
"$work/consumer/executor_only"
if [ $# -eq 0 ]; then rm -rf "$work"; fi
