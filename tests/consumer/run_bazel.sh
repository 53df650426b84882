#!/usr/bin/env bash
# Builds and runs the Bazel consumer: this directory is a workspace of its own
# that depends on weft through local_repository (WORKSPACE). Extra arguments
# go to `bazel run` (e.g. --config=clang). .ci/run calls this.
set -euo pipefail
cd "$(dirname "$0")"
rc=0
bazel run "$@" //:consumer || rc=$?
# The consumer's Bazel server is not needed again in this run: free its memory.
bazel shutdown
exit "$rc"
