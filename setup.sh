#!/usr/bin/env bash
# Installs every system package that weft's build, tests, examples and
# benchmarks need, from Debian's archive. Idempotent: it installs only what is
# missing, so running it again is cheap. Run as root (or with sudo available).
set -euo pipefail

PACKAGES=(
  bazel-bootstrap   # Bazel 4.2.3, the build (offline; see third_party/bazel/)
  g++               # the compiler (g++ 12, C++20 coroutines)
  libasio-dev       # standalone Asio: interop and the benchmark peer
  catch2            # Catch2 v2 single header: every test
  libabsl-dev       # abseil: Mutex, Status, AnyInvocable, flags
  libbenchmark-dev  # Google Benchmark (optional helpers in benches/)
  pkg-config        # to read abseil's link line
  python3           # benches/table.py turns JSON lines into the README table
  wrk               # http_hello load generator (reactor benches)
  # The Rust peers of the benches, built with `cargo --offline` from Debian's
  # vendored registry /usr/share/cargo/registry: benches/tokio_peer (executor
  # and reactor workloads) and benches/smol_peer (reactor workloads).
  librust-tokio-dev # tokio 1.24.2 and, as Depends, every crate its features use
                    # (rt-multi-thread, net, time, io-util: mio, socket2, bytes...)
  librust-smol-dev  # smol 1.3 with async-executor, async-io (BTreeMap timers) and deps
  cargo             # Debian's cargo (pulls rustc): the image's rustup one is not guaranteed
  strace            # benches/syscalls.sh: syscalls per tcp_rtt round trip
  clang             # fuzz/run.sh: libFuzzer targets need clang (Debian 12: clang 14)
  libclang-rt-14-dev  # clang 14's sanitizer and libFuzzer runtimes (-fsanitize=fuzzer)
  relacy-dev        # Relacy (header-only): the model checks in executor/model/,
                    # run by `bazel test //...` (executor/MODEL_CHECKING.md)
  clang-16          # `bazel test --config=clang //...` (.bazelrc): clang 16 with
                    # libstdc++ (clang 14 above is for fuzz/ only)
  cmake             # the CMake build (CMakeLists.txt) and tests/consumer/run_cmake.sh
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "setup: done"
