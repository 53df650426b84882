#!/usr/bin/env bash
# BENCH.md's idle_rtt and busy_rtt workloads: an echo server on the runtime
# under test, measured by an external blocking client in its own process
# (//benches:rtt_client), one connection, 64 bytes each way.
#
#   idle_rtt  gaps of 0, 1 ms and 10 ms between round trips: with a gap the
#             server's threads park between messages, so this is the wake
#             path from idle. Peers: weft, tokio, smol, std.
#   busy_rtt  a 1 ms gap while the server process also runs CPU-bound
#             neighbour tasks (10 ms busy slices, a yield between), threads - 1
#             of them and as many as threads. Peers: weft, tokio, smol.
#
# Servers, each taking --port P --threads N --neighbours K, printing
# "port=NNNN" once it accepts, and exiting 0 on SIGTERM:
#   weft   //benches:rtt_server            (Bazel, -c opt)
#   std    //benches:rtt_server_std        (thread per connection; idle_rtt only)
#   tokio  benches/tokio_peer's rtt_server_tokio (cargo --release --offline)
#   smol   benches/smol_peer's rtt_server_smol   (cargo --release --offline)
# The Rust peers are skipped with a note if cargo is missing.
#
# For every run, thread count, configuration and peer: start the server on a
# free port, read its port line, run the client (under `timeout`), stop the
# server with SIGTERM, check that it exited 0 (it is killed if it has not
# exited STOP_GRACE seconds after SIGTERM), and append the client's JSON line
# to OUTPUT. A run fails (no line; the script exits 1 at the end) if the
# server does not come up, the client fails or times out, or the server does
# not exit 0; the other runs go on.
#
# The client caps its own wall time (MAX_SECONDS): a server that takes
# hundreds of ms per round trip (weft in busy_rtt with as many neighbours as
# threads, today) gives a line with "incomplete":true and the round trips it
# got, which table.py marks with †, instead of holding the script.
#
# The runs interleave: run 1 of every thread count and configuration, then
# run 2, ...; inside a configuration the peers run back to back, rotating
# their order from one run to the next (run 1: weft, tokio, smol, std; run 2:
# tokio, smol, std, weft; ...), so their figures are side by side.
#
# Usage: benches/rtt_bench.sh [OUTPUT]   (default: bench-results-rtt.jsonl)
# Environment:
#   RUNS=3                    runs of each (threads, configuration, peer)
#   THREADS="2"               server worker threads, space-separated
#   PEERS="weft tokio smol std"   a subset, by name
#   WORKLOADS="idle_rtt busy_rtt" a subset, by name
#   MAX_SECONDS=60            the client's wall-time cap per run
#   CARGO=cargo               the cargo that builds the Rust peers
#   BASELINE=PATH             an older rtt_server binary, run as one more peer
#                             ("weft_base") beside the others: an A/B of a change
#                             on the I/O path, side by side in one run
# Then prints the Markdown table of medians (benches/table.py).
set -euo pipefail

# --- workload parameters (BENCH.md), identical for every peer ------------------
# idle_rtt: the gaps, and for each the measured and the unmeasured (warm-up)
# round trips, sized so each configuration takes about 1-3 s per peer.
IDLE_GAPS_US=(0 1000 10000)
declare -A IDLE_ROUND_TRIPS=([0]=20000 [1000]=2000 [10000]=1000)
declare -A IDLE_WARMUP=([0]=1000 [1000]=100 [10000]=20)
# busy_rtt: the gap (BENCH.md: 1 ms), round trips and warm-up.
BUSY_GAP_US=1000
BUSY_ROUND_TRIPS=1000
BUSY_WARMUP=50
# Seconds a server has to exit after SIGTERM before it is killed (a neighbour
# finishes its 10 ms slice first; tokio's shutdown waits 5 s at most).
STOP_GRACE=8
# The hard limit on a client run beyond MAX_SECONDS: rtt_client gives up on
# one round trip after 30 s (kStuckRoundTripSeconds), plus slack.
CLIENT_TIMEOUT_SLACK=45

out="$(realpath -m "${1:-bench-results-rtt.jsonl}")"
runs="${RUNS:-3}"
threads_list="${THREADS:-2}"
peers_wanted="${PEERS:-weft tokio smol std}"
workloads="${WORKLOADS:-idle_rtt busy_rtt}"
max_seconds="${MAX_SECONDS:-60}"
cargo="${CARGO:-cargo}"

for w in $workloads; do
  case "$w" in
    idle_rtt | busy_rtt) ;;
    *) echo "rtt_bench.sh: unknown workload $w (idle_rtt, busy_rtt)" >&2; exit 2 ;;
  esac
done

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# --- build -------------------------------------------------------------------

bazel build -c opt //benches:rtt_server //benches:rtt_server_std //benches:rtt_client
# Not the bazel-bin symlink: it points at whichever configuration was built
# last in this workspace, which may not be -c opt.
bazel_bin="$(bazel info -c opt bazel-bin 2>/dev/null)"
client_bin="$bazel_bin/benches/rtt_client"
declare -A server_bin=(
  [weft]="$bazel_bin/benches/rtt_server"
  [std]="$bazel_bin/benches/rtt_server_std"
)
if [ -n "${BASELINE:-}" ]; then
  [ -x "$BASELINE" ] || { echo "rtt_bench.sh: BASELINE=$BASELINE is not an executable" >&2; exit 2; }
  server_bin[weft_base]="$BASELINE"
  case " $peers_wanted " in *" weft_base "*) ;; *) peers_wanted="$peers_wanted weft_base" ;; esac
fi

# As benches/run.sh: the lock file is resolved afresh against Debian's
# registry (it is not kept in git).
cargo_build() {  # DIR BIN
  (
    cd "$1"
    "$cargo" generate-lockfile --offline
    "$cargo" build --release --offline --target-dir "$1/target" --bin "$2"
  )
}
wants_peer() { case " $peers_wanted " in *" $1 "*) return 0 ;; esac; return 1; }
if wants_peer tokio || wants_peer smol; then
  if command -v "$cargo" >/dev/null 2>&1; then
    echo "rust peers: $("$cargo" --version), $("${RUSTC:-rustc}" --version 2>/dev/null || echo "rustc ?")" >&2
    if wants_peer tokio; then
      cargo_build "$root/benches/tokio_peer" rtt_server_tokio
      server_bin[tokio]="$root/benches/tokio_peer/target/release/rtt_server_tokio"
    fi
    if wants_peer smol; then
      if cargo_build "$root/benches/smol_peer" rtt_server_smol; then
        server_bin[smol]="$root/benches/smol_peer/target/release/rtt_server_smol"
      else
        echo "smol peer: skipped (build failed above; setup.sh installs librust-smol-dev)" >&2
      fi
    fi
  else
    echo "rust peers: skipped ($cargo not found; setup.sh installs Debian's cargo)" >&2
  fi
fi
peers=()
for p in $peers_wanted; do
  case "$p" in
    weft | tokio | smol | std | weft_base) ;;
    *) echo "rtt_bench.sh: unknown peer $p (weft, tokio, smol, std; weft_base with BASELINE)" >&2; exit 2 ;;
  esac
  [ -n "${server_bin[$p]:-}" ] && peers+=("$p")
done
[ ${#peers[@]} -gt 0 ] || { echo "rtt_bench.sh: no peer to run" >&2; exit 2; }

# --- one run -----------------------------------------------------------------

work="$(mktemp -d "${TMPDIR:-/tmp}/rtt_bench.XXXXXX")"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Starts PEER's server; sets server_pid and port once it has printed its
# port line. Returns 1 if it does not come up.
start_server() {  # PEER THREADS NEIGHBOURS LOG
  local log="$4" attempt
  # Emptied here, not only by the redirection below: that one happens in the
  # forked child, and until it does this shell would read the last run's port.
  : >"$log"
  "${server_bin[$1]}" --port 0 --threads "$2" --neighbours "$3" >>"$log" 2>&1 &
  server_pid=$!
  port=""
  for attempt in $(seq 1 100); do  # 100 x 50 ms
    port="$(sed -n 's/^port=\([0-9][0-9]*\)$/\1/p' "$log" | head -n1)"
    [ -n "$port" ] && return 0
    if ! kill -0 "$server_pid" 2>/dev/null; then
      echo "$1: the server exited before printing its port" >&2
      return 1
    fi
    sleep 0.05
  done
  echo "$1: no port line after 5 s" >&2
  return 1
}

# Sends SIGTERM and waits STOP_GRACE seconds at most; returns 1 unless the
# server exited with status 0 (it is killed if it is still running).
stop_server() {  # PEER
  local pid="$server_pid" rc attempt
  kill -TERM "$pid" 2>/dev/null || true
  for attempt in $(seq 1 $((STOP_GRACE * 10))); do  # x 100 ms
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "$1: still running ${STOP_GRACE} s after SIGTERM; killed" >&2
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    server_pid=""
    return 1
  fi
  rc=0
  wait "$pid" || rc=$?
  server_pid=""
  if [ "$rc" -ne 0 ]; then
    echo "$1: exited with status $rc after SIGTERM" >&2
    return 1
  fi
}

failures=0
incomplete=0
one_run() {  # PEER WORKLOAD THREADS GAP_US NEIGHBOURS ROUND_TRIPS WARMUP
  local peer="$1" workload="$2" threads="$3" gap="$4" neighbours="$5"
  local log="$work/server.log" client_out="$work/client.out" ok=1 line
  if ! start_server "$peer" "$threads" "$neighbours" "$log"; then
    sed 's/^/  server: /' "$log" >&2
    [ -n "$server_pid" ] && { kill -KILL "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; }
    server_pid=""
    return 1
  fi
  if ! timeout -k 5 $((max_seconds + CLIENT_TIMEOUT_SLACK)) \
      "$client_bin" --port "$port" --gap-us "$gap" --round-trips "$6" --warmup "$7" \
      --max-seconds "$max_seconds" --peer "$peer" --workload "$workload" \
      --threads "$threads" --neighbours "$neighbours" >"$client_out" 2>"$work/client.err"; then
    echo "$peer $workload gap ${gap} µs, $neighbours neighbours: the client failed or timed out" >&2
    ok=0
  fi
  if ! stop_server "$peer"; then
    ok=0
  fi
  line="$(head -n1 "$client_out")"
  if [ "$ok" -eq 1 ] && [ "${line:0:1}" = "{" ]; then
    echo "$line" >>"$out"
    case "$line" in *'"incomplete":true'*) incomplete=$((incomplete + 1)) ;; esac
    echo "  $peer: $(python3 -c '
import json, sys
r = json.loads(sys.argv[1])
print("p50 %.1f µs, p99 %.1f µs, %d round trips%s" % (
    r["p50_us"], r["p99_us"], r["iters"],
    " (INCOMPLETE: stopped at --max-seconds)" if r.get("incomplete") else ""))' "$line")" >&2
    return 0
  fi
  echo "$peer $workload: FAILED" >&2
  sed 's/^/  client: /' "$work/client.err" >&2
  sed 's/^/  server: /' "$log" >&2
  return 1
}

# Every peer of one configuration, back to back, in the run's rotation.
run_configuration() {  # RUN WORKLOAD THREADS GAP_US NEIGHBOURS ROUND_TRIPS WARMUP
  local run="$1" n=${#peers[@]} i peer
  for i in $(seq 0 $((n - 1))); do
    peer="${peers[$(((run - 1 + i) % n))]}"
    [ "$peer" = std ] && [ "$2" = busy_rtt ] && continue  # BENCH.md: no std peer
    one_run "$peer" "$2" "$3" "$4" "$5" "$6" "$7" || failures=$((failures + 1))
  done
}

# --- the runs ----------------------------------------------------------------

: >"$out"
for run in $(seq 1 "$runs"); do
  for threads in $threads_list; do
    for workload in $workloads; do
      if [ "$workload" = idle_rtt ]; then
        for gap in "${IDLE_GAPS_US[@]}"; do
          echo "run $run/$runs: idle_rtt --threads $threads, gap $gap µs, ${IDLE_ROUND_TRIPS[$gap]} round trips" >&2
          run_configuration "$run" idle_rtt "$threads" "$gap" 0 \
            "${IDLE_ROUND_TRIPS[$gap]}" "${IDLE_WARMUP[$gap]}"
        done
      else
        for neighbours in $((threads - 1)) "$threads"; do
          if [ "$neighbours" -eq 0 ]; then
            echo "run $run/$runs: busy_rtt --threads 1 with 0 neighbours is idle_rtt at 1 ms: skipped" >&2
            continue
          fi
          echo "run $run/$runs: busy_rtt --threads $threads, $neighbours neighbours, gap $BUSY_GAP_US µs, $BUSY_ROUND_TRIPS round trips" >&2
          run_configuration "$run" busy_rtt "$threads" "$BUSY_GAP_US" "$neighbours" \
            "$BUSY_ROUND_TRIPS" "$BUSY_WARMUP"
        done
      fi
    done
  done
done

echo "wrote $(wc -l <"$out") lines to $out" >&2
if [ "$incomplete" -gt 0 ]; then
  echo "rtt_bench.sh: $incomplete run(s) stopped at MAX_SECONDS=$max_seconds before all their round trips (marked † in the table)" >&2
fi
if [ -s "$out" ]; then
  python3 "$root/benches/table.py" "$out"
fi
if [ "$failures" -gt 0 ]; then
  echo "rtt_bench.sh: $failures run(s) failed (see above)" >&2
  exit 1
fi
