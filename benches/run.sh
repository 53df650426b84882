#!/usr/bin/env bash
# Runs the benchmark suite (BENCH.md) and writes its JSON lines to a file,
# then prints the Markdown table of medians, each with the min–max of its
# runs (benches/table.py).
#
# Two suites, each a C++ binary (Bazel, -c opt) with its Rust peers (built
# offline from Debian's cargo registry, when cargo is on PATH):
#   executor  spawn_many spawn_many_local chained_spawn yield_many
#             //benches:executor_bench (weft, asio) and
#             benches/tokio_peer's tokio_peer (tokio)
#   reactor   tcp_rtt timers timer_cancel
#             //benches:reactor_bench (weft, asio; std on tcp_rtt),
#             benches/tokio_peer's tokio_reactor (tokio) and
#             benches/smol_peer (smol)
#
# Usage: benches/run.sh [OUTPUT]        (default OUTPUT: bench-results.jsonl)
# Environment:
#   SUITE=all              executor, reactor or all
#   RUNS=5                 runs of each workload (BENCH.md asks for 5, median)
#   THREADS="2"            worker thread counts to run, space-separated
#   WORKLOADS="..."        a subset of the suite's workloads, by name (each
#                          goes to the binaries of the suite it belongs to)
#   CARGO=cargo            the cargo that builds the Rust peers; if it is not
#                          found, they are skipped with a note (and smol alone
#                          is skipped if its crates are missing)
#
# Each run of a workload is a fresh process per binary, all of them right
# next to each other; the binaries rotate their order from one run to the
# next (run 1: C++, tokio, smol; run 2: tokio, smol, C++; ...) so none
# always runs first or last. Inside the C++ process weft runs first, then
# Asio (then std). The runs of different workloads are interleaved (run 1 of
# every workload, then run 2, ...) so a noisy minute on the machine spreads
# over all of them instead of landing on one.
set -euo pipefail

out="$(realpath -m "${1:-bench-results.jsonl}")"
suite="${SUITE:-all}"
runs="${RUNS:-5}"
threads_list="${THREADS:-2}"

executor_workloads="spawn_many spawn_many_local chained_spawn yield_many ping_pong"
reactor_workloads="tcp_rtt timers timer_cancel"
case "$suite" in
  executor) default_workloads="$executor_workloads" ;;
  reactor) default_workloads="$reactor_workloads" ;;
  all) default_workloads="$executor_workloads $reactor_workloads" ;;
  *) echo "run.sh: SUITE wants executor, reactor or all (got $suite)" >&2; exit 2 ;;
esac
workloads="${WORKLOADS:-$default_workloads}"

# Which suite a workload belongs to: its binaries.
suite_of() {
  case " $executor_workloads " in *" $1 "*) echo executor; return ;; esac
  case " $reactor_workloads " in *" $1 "*) echo reactor; return ;; esac
  echo "run.sh: unknown workload $1" >&2
  exit 2
}
need_executor=""
need_reactor=""
for w in $workloads; do
  s="$(suite_of "$w")"  # exits on an unknown name (set -e)
  case "$s" in
    executor) need_executor=1 ;;
    reactor) need_reactor=1 ;;
  esac
done

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

targets=()
[ -n "$need_executor" ] && targets+=(//benches:executor_bench)
[ -n "$need_reactor" ] && targets+=(//benches:reactor_bench)
bazel build -c opt "${targets[@]}"
# Not the bazel-bin symlink: it points at whichever configuration was built
# last in this workspace, which may not be -c opt.
bazel_bin="$(bazel info -c opt bazel-bin 2>/dev/null)/benches"
executor_bin="$bazel_bin/executor_bench"
reactor_bin="$bazel_bin/reactor_bench"

# The Rust peers: Cargo projects whose .cargo/config.toml points crates-io at
# /usr/share/cargo/registry (setup.sh installs librust-tokio-dev,
# librust-smol-dev and cargo); both take benches/peer_common as a path
# dependency. Cargo.lock is not kept in git: it is resolved afresh against
# whatever versions Debian's registry holds (a stale one would name versions
# the registry no longer has, and cargo >= 1.83 writes a lock format that
# Debian's cargo 0.66 cannot read).
cargo="${CARGO:-cargo}"
cargo_build() {  # DIR: lock and build one peer project
  (
    cd "$1"
    "$cargo" generate-lockfile --offline
    "$cargo" build --release --offline --target-dir "$1/target"
  )
}
tokio_dir="$root/benches/tokio_peer"
smol_dir="$root/benches/smol_peer"
tokio_executor_bin=""
tokio_reactor_bin=""
smol_bin=""
if command -v "$cargo" >/dev/null 2>&1; then
  echo "rust peers: $("$cargo" --version), $("${RUSTC:-rustc}" --version 2>/dev/null || echo "rustc ?")" >&2
  cargo_build "$tokio_dir"
  tokio_executor_bin="$tokio_dir/target/release/tokio_peer"
  tokio_reactor_bin="$tokio_dir/target/release/tokio_reactor"
  if [ -n "$need_reactor" ]; then
    if cargo_build "$smol_dir"; then
      smol_bin="$smol_dir/target/release/smol_peer"
    else
      echo "smol peer: skipped (build failed above; setup.sh installs librust-smol-dev)" >&2
    fi
  fi
else
  echo "rust peers: skipped ($cargo not found; setup.sh installs Debian's cargo)" >&2
fi

# The binaries of a workload's suite, in their order for run 1.
binaries_of() {
  case "$(suite_of "$1")" in
    executor)
      echo "$executor_bin"
      [ -n "$tokio_executor_bin" ] && echo "$tokio_executor_bin"
      ;;
    reactor)
      echo "$reactor_bin"
      [ -n "$tokio_reactor_bin" ] && echo "$tokio_reactor_bin"
      [ -n "$smol_bin" ] && echo "$smol_bin"
      ;;
  esac
  return 0
}

: >"$out"
for run in $(seq 1 "$runs"); do
  for threads in $threads_list; do
    for workload in $workloads; do
      echo "run $run/$runs: $workload --threads $threads" >&2
      mapfile -t bins < <(binaries_of "$workload")
      n=${#bins[@]}
      for i in $(seq 0 $((n - 1))); do
        "${bins[$(((run - 1 + i) % n))]}" --threads "$threads" "$workload" >>"$out"
      done
    done
  done
done

echo "wrote $(wc -l <"$out") lines to $out" >&2
python3 "$root/benches/table.py" "$out"
