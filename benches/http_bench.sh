#!/usr/bin/env bash
# BENCH.md's http_hello workload: a minimal keep-alive HTTP/1.1 server
# answering "Hello, World!", driven by Debian's wrk
# (`wrk -t1 -c50 -d10s --latency`), the server on 1 and on 2 threads.
#
# Servers, each taking --port P --threads N and stopping on SIGTERM:
#   weft      //examples:http_hello          (Bazel, -c opt), --mode=shared
#   weft_tpc  the same binary, --mode=tpc (a LocalPool, one SO_REUSEPORT
#             listener per worker)
#   asio   //benches:http_hello_asio      (Bazel, -c opt)
#   tokio  benches/tokio_peer's http_hello_tokio (cargo --release --offline,
#          from Debian's registry; skipped with a note if cargo is missing)
#
# For every run, thread count and peer: start the server with --port 0 (it
# picks a free port and prints it on its "listening on http://IP:PORT/"
# line), wait until it accepts (a bounded number of short connect
# attempts), run wrk against it, stop it with SIGTERM and check that it
# exited with status 0, and append one JSON line parsed from wrk's output:
#   {"peer":"weft","workload":"http_hello","threads":1,"iters":<requests>,
#    "seconds":<wrk's run time>,"per_op_ns":<seconds/requests>,
#    "req_per_s":..,"p50_ms":..,"p99_ms":..}
# A run fails (no JSON line, and the script exits 1 at the end) if the server
# does not come up, wrk fails or reports "Socket errors" or "Non-2xx or 3xx
# responses", the output cannot be parsed, or the server does not exit 0
# within 10 s of SIGTERM. The other runs go on.
#
# The runs interleave: run 1 of every thread count and peer, then run 2, ...;
# the peers rotate their order from one run to the next (run 1: weft, asio,
# tokio; run 2: asio, tokio, weft; ...) so none always runs first.
#
# Usage: benches/http_bench.sh [OUTPUT]   (default: bench-results-http.jsonl)
# Environment:
#   DURATION=10       seconds of each wrk run (wrk -d)
#   RUNS=3            runs of each (threads, peer)
#   THREADS="1 2"     server thread counts
#   PEERS="weft weft_tpc asio tokio"   a subset, by name
#   CONNECTIONS=50    wrk -c (BENCH.md: 50)
#   CLOSE=0           1: the connection-rate workload "http_hello_close": wrk
#                     sends "Connection: close", so every request is a new
#                     connection and the accept path is what is measured
#   CARGO=cargo       the cargo that builds the tokio peer
#   WRK=wrk
# Then prints the Markdown table of medians (benches/table.py).
set -euo pipefail

out="$(realpath -m "${1:-bench-results-http.jsonl}")"
duration="${DURATION:-10}"
runs="${RUNS:-3}"
threads_list="${THREADS:-1 2}"
peers_wanted="${PEERS:-weft weft_tpc asio tokio}"
connections="${CONNECTIONS:-50}"
close_each="${CLOSE:-0}"
workload=http_hello
wrk_extra=()
if [ "$close_each" = 1 ]; then
  workload=http_hello_close
  wrk_extra=(-H "Connection: close")
fi
wrk="${WRK:-wrk}"
cargo="${CARGO:-cargo}"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

if ! command -v "$wrk" >/dev/null 2>&1; then
  echo "http_bench.sh: $wrk not found (Debian's wrk package)" >&2
  exit 2
fi

# --- build -------------------------------------------------------------------

bazel build -c opt //examples:http_hello //benches:http_hello_asio
# Not the bazel-bin symlink: it points at whichever configuration was built
# last in this workspace, which may not be -c opt.
bazel_bin="$(bazel info -c opt bazel-bin 2>/dev/null)"
declare -A server_bin=(
  [weft]="$bazel_bin/examples/http_hello"
  [weft_tpc]="$bazel_bin/examples/http_hello"
  [asio]="$bazel_bin/benches/http_hello_asio"
)
tokio_dir="$root/benches/tokio_peer"
case " $peers_wanted " in
  *" tokio "*)
    if command -v "$cargo" >/dev/null 2>&1; then
      echo "tokio peer: $("$cargo" --version), $("${RUSTC:-rustc}" --version 2>/dev/null || echo "rustc ?")" >&2
      # As benches/run.sh: the lock file is resolved afresh against Debian's
      # registry (it is not kept in git).
      (
        cd "$tokio_dir"
        "$cargo" generate-lockfile --offline
        "$cargo" build --release --offline --target-dir "$tokio_dir/target" --bin http_hello_tokio
      )
      server_bin[tokio]="$tokio_dir/target/release/http_hello_tokio"
    else
      echo "tokio peer: skipped ($cargo not found; setup.sh installs Debian's cargo)" >&2
    fi
    ;;
esac
peers=()
for p in $peers_wanted; do
  case "$p" in
    weft | weft_tpc | asio | tokio) ;;
    *) echo "http_bench.sh: unknown peer $p (weft, weft_tpc, asio, tokio)" >&2; exit 2 ;;
  esac
  [ -n "${server_bin[$p]:-}" ] && peers+=("$p")
done
[ ${#peers[@]} -gt 0 ] || { echo "http_bench.sh: no peer to run" >&2; exit 2; }

# --- one run -----------------------------------------------------------------

work="$(mktemp -d "${TMPDIR:-/tmp}/http_bench.XXXXXX")"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Turns wrk's --latency output (stdin) into the JSON line; exits 1 with a
# reason on stderr if wrk reported socket errors or non-2xx/3xx responses, or
# a figure is missing.
wrk_to_json() {  # PEER THREADS
  python3 -c '
import json, re, sys

peer, threads, workload = sys.argv[1], int(sys.argv[2]), sys.argv[3]
text = sys.stdin.read()
SCALE = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}

def seconds(value, unit):
    return float(value) * SCALE[unit]

def fail(why):
    sys.exit("wrk output: " + why)

for bad in ("Socket errors", "Non-2xx or 3xx responses"):
    m = re.search("^\\s*" + bad + ":.*$", text, re.M)
    if m:
        fail(m.group(0).strip())
m = re.search(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h)\b", text, re.M)
if not m:
    fail("no \"N requests in T\" line")
requests = int(m.group(1))
m = re.search(r"^Requests/sec:\s*([\d.]+)\s*$", text, re.M)
if not m:
    fail("no Requests/sec line")
req_per_s = float(m.group(1))
if requests <= 0 or req_per_s <= 0:
    fail("no requests")
# wrk computes Requests/sec as requests / its exact run time; the "in T"
# above is that time rounded to 10 ms.
secs = requests / req_per_s
if "Latency Distribution" not in text:
    fail("no Latency Distribution block (wrk --latency)")
pct = {}
for p, v, u in re.findall(r"^\s*(50|99)%\s+([\d.]+)(us|ms|s|m|h)\s*$", text, re.M):
    pct[p] = seconds(v, u) * 1e3
if set(pct) != {"50", "99"}:
    fail("no 50% or 99% latency line")
print(json.dumps({
    "peer": peer, "workload": workload, "threads": threads,
    "iters": requests, "seconds": round(secs, 4),
    "per_op_ns": round(1e9 / req_per_s, 1),
    "req_per_s": req_per_s,
    "p50_ms": round(pct["50"], 4), "p99_ms": round(pct["99"], 4),
}, separators=(",", ":")))
' "$1" "$2" "$workload"
}

# Starts PEER's server on THREADS threads and a free port; sets server_pid
# and port once it accepts connections. Returns 1 if it does not come up.
start_server() {  # PEER THREADS LOG
  local log="$3"
  # Emptied here, not only by the redirection below: that one happens in the
  # forked child, and until it does this shell would read the last run's port.
  : >"$log"
  # weft's http_hello arms a per-request idle timer by default (60 s); the
  # Asio and tokio peers have none, so like is compared with like.
  local extra=()
  case "$1" in
    weft) extra=(--idle_timeout=inf --mode=shared) ;;
    weft_tpc) extra=(--idle_timeout=inf --mode=tpc) ;;
  esac
  "${server_bin[$1]}" --port 0 --threads "$2" "${extra[@]}" >>"$log" 2>&1 &
  server_pid=$!
  port=""
  local attempt why="no \"listening on\" line"
  for attempt in $(seq 1 100); do  # 100 x 50 ms, plus the connects
    if ! kill -0 "$server_pid" 2>/dev/null; then
      echo "$1: the server exited before accepting" >&2
      return 1
    fi
    if [ -z "$port" ]; then
      port="$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9][0-9]*\)/.*|\1|p' "$log" | head -n1)"
    fi
    # bash's /dev/tcp: one connect attempt, closed at once.
    if [ -n "$port" ]; then
      if why="$(timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>&1)"; then
        return 0
      fi
      why="connect to port $port: ${why:-timed out}"
    fi
    sleep 0.05
  done
  echo "$1: the server did not accept after 100 attempts ($why)" >&2
  return 1
}

# Sends SIGTERM and waits (10 s at most) for the server; returns 1 unless it
# exited with status 0.
stop_server() {  # PEER
  local pid="$server_pid" rc attempt
  kill -TERM "$pid" 2>/dev/null || true
  for attempt in $(seq 1 100); do  # 100 x 100 ms
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "$1: still running 10 s after SIGTERM; killed" >&2
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
one_run() {  # PEER THREADS
  local peer="$1" threads="$2" log="$work/server.log" wrk_out="$work/wrk.out" ok=1 line
  if ! start_server "$peer" "$threads" "$log"; then
    sed 's/^/  server: /' "$log" >&2
    [ -n "$server_pid" ] && { kill -KILL "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; }
    server_pid=""
    return 1
  fi
  if ! "$wrk" -t1 -c"$connections" -d"${duration}s" --latency "${wrk_extra[@]}" "http://127.0.0.1:$port/" \
      >"$wrk_out" 2>&1; then
    echo "$peer --threads $threads: wrk failed" >&2
    ok=0
  fi
  if ! stop_server "$peer"; then
    ok=0
  fi
  if [ "$ok" -eq 1 ] && line="$(wrk_to_json "$peer" "$threads" <"$wrk_out")"; then
    echo "$line" >>"$out"
    echo "  $peer: $(grep -E '^Requests/sec' "$wrk_out" | tr -s ' ')" >&2
    return 0
  fi
  echo "$peer --threads $threads: FAILED; wrk said:" >&2
  sed 's/^/  wrk: /' "$wrk_out" >&2
  sed 's/^/  server: /' "$log" >&2
  return 1
}

# --- the runs ----------------------------------------------------------------

: >"$out"
n=${#peers[@]}
for run in $(seq 1 "$runs"); do
  for threads in $threads_list; do
    echo "run $run/$runs: $workload --threads $threads (wrk -t1 -c$connections -d${duration}s)" >&2
    for i in $(seq 0 $((n - 1))); do
      peer="${peers[$(((run - 1 + i) % n))]}"
      one_run "$peer" "$threads" || failures=$((failures + 1))
    done
  done
done

echo "wrote $(wc -l <"$out") lines to $out" >&2
if [ -s "$out" ]; then
  python3 "$root/benches/table.py" "$out"
fi
if [ "$failures" -gt 0 ]; then
  echo "http_bench.sh: $failures run(s) failed (see above)" >&2
  exit 1
fi
