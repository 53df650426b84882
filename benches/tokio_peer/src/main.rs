//! tokio_peer: tokio's multi-thread runtime on the executor workloads of
//! BENCH.md (spawn_many, spawn_many_local, chained_spawn, yield_many,
//! ping_pong), the peer that weft's targets are ratios against.
//!
//! Usage: tokio_peer [--threads N] [spawn_many|spawn_many_local|
//!                    chained_spawn|yield_many|ping_pong|all]
//! Prints one JSON line per workload, in executor_bench's format:
//!   {"peer":"tokio","workload":"spawn_many","threads":2,"iters":100000,
//!    "seconds":0.0301,"per_op_ns":301.2}
//!
//! The shape of work is the one of benches/executor_bench.cc: a runtime with
//! N worker threads (worker_threads = N), tasks that end by counting
//! themselves on a Completion, and a timing thread (the main thread) that is
//! not a worker and spawns through the runtime's Handle. A run that lost or
//! duplicated a task aborts before printing.
//!
//! The Completion, the JSON line and the command line (also `--peer tokio`,
//! for scripts that filter every binary alike) come from benches/peer_common,
//! shared with this package's second binary, tokio_reactor (the reactor
//! workloads), and with benches/smol_peer; the runtime from runtime.rs.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use peer_common::{check_total, fail, main_with, Completion, Measurement, Options, WorkloadFn};

mod runtime;
use runtime::runtime;

// Workload parameters (BENCH.md). They MUST match the constants at the top of
// benches/executor_bench.cc: the tables compare per-op figures across the two
// binaries.
const SPAWN_MANY_TASKS: u64 = 100_000; // spawn_many, spawn_many_local
const CHAINS: u64 = 100; // chained_spawn: chains, run one after another
const CHAIN_DEPTH: u64 = 1_000; // chained_spawn: tasks (= spawns) per chain
const YIELD_TASKS: u64 = 200; // yield_many: tasks
const YIELDS_PER_TASK: u64 = 1_000; // yield_many: yields per task
const PING_PONG_ROUND_TRIPS: u64 = 100_000; // ping_pong: round trips
const PING_PONG_CAPACITY: usize = 1; // ping_pong: each channel's buffer

// ------------------------------------------------------------- workloads --

fn spawn_many(o: &Options) -> Measurement {
    let threads = o.threads;
    let done = Completion::leak(SPAWN_MANY_TASKS, "tokio spawn_many");
    let rt = runtime(threads);
    let handle = rt.handle();
    let start = Instant::now();
    for _ in 0..SPAWN_MANY_TASKS {
        // The JoinHandle is dropped at once: the task is detached.
        handle.spawn(async move { done.arrive() });
    }
    done.wait();
    let seconds = start.elapsed().as_secs_f64();
    drop(rt);
    done.check_exact();
    Measurement::new(SPAWN_MANY_TASKS, seconds)
}

fn spawn_many_local(o: &Options) -> Measurement {
    let threads = o.threads;
    let done = Completion::leak(SPAWN_MANY_TASKS, "tokio spawn_many_local");
    let rt = runtime(threads);
    let start = Instant::now();
    rt.handle().spawn(async move {
        for _ in 0..SPAWN_MANY_TASKS {
            tokio::spawn(async move { done.arrive() });
        }
    });
    done.wait();
    let seconds = start.elapsed().as_secs_f64();
    drop(rt);
    done.check_exact();
    Measurement::new(SPAWN_MANY_TASKS, seconds)
}

/// Spawns one link of a chain with tokio::spawn: it counts itself, then
/// spawns the next link (from inside the running task) or, as the last one,
/// signals the chain. A plain fn around an async block, so the recursion is
/// not through an async fn's opaque type. Must run inside the runtime's
/// context: on a worker, or under Runtime::enter() for the chain's head.
fn spawn_chain_link(remaining: u64, links: &'static Completion, chain_done: &'static Completion) {
    tokio::spawn(async move {
        links.arrive();
        if remaining > 1 {
            spawn_chain_link(remaining - 1, links, chain_done);
        } else {
            chain_done.arrive();
        }
    });
}

fn chained_spawn(o: &Options) -> Measurement {
    let threads = o.threads;
    let links = Completion::leak(CHAINS * CHAIN_DEPTH, "tokio chained_spawn links");
    let chains: Vec<&'static Completion> = (0..CHAINS)
        .map(|_| Completion::leak(1, "tokio chained_spawn chain"))
        .collect();
    let rt = runtime(threads);
    let start = Instant::now();
    {
        // The main thread spawns each chain's head through the runtime's
        // handle (entered, so tokio::spawn finds it), as in spawn_many.
        let _context = rt.enter();
        for chain in &chains {
            spawn_chain_link(CHAIN_DEPTH, links, chain);
            chain.wait();
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    drop(rt);
    links.wait();
    for chain in &chains {
        chain.check_exact();
    }
    Measurement::new(CHAINS * CHAIN_DEPTH, seconds)
}

fn yield_many(o: &Options) -> Measurement {
    let threads = o.threads;
    let done = Completion::leak(YIELD_TASKS, "tokio yield_many");
    let yields: &'static AtomicU64 = Box::leak(Box::new(AtomicU64::new(0)));
    let rt = runtime(threads);
    let handle = rt.handle();
    let start = Instant::now();
    for _ in 0..YIELD_TASKS {
        handle.spawn(async move {
            let mut n = 0u64;
            for _ in 0..YIELDS_PER_TASK {
                tokio::task::yield_now().await;
                n += 1;
            }
            // Release: pairs with the acquire in check_total().
            yields.fetch_add(n, Ordering::Release);
            done.arrive();
        });
    }
    done.wait();
    let seconds = start.elapsed().as_secs_f64();
    drop(rt);
    done.check_exact();
    check_total("tokio yield_many", yields, YIELD_TASKS * YIELDS_PER_TASK);
    Measurement::new(YIELD_TASKS * YIELDS_PER_TASK, seconds)
}

/// ping_pong: the pinger sends i on `ping` and waits for it to come back on
/// `pong`; the ponger echoes. tokio's bounded mpsc channels, one item of
/// buffer each (as weft's Channel and Asio's concurrent_channel in
/// executor_bench.cc). A wrong or missing reply aborts.
fn ping_pong(o: &Options) -> Measurement {
    let threads = o.threads;
    let done = Completion::leak(2, "tokio ping_pong");
    let rt = runtime(threads);
    let (ping_tx, mut ping_rx) = tokio::sync::mpsc::channel::<u64>(PING_PONG_CAPACITY);
    let (pong_tx, mut pong_rx) = tokio::sync::mpsc::channel::<u64>(PING_PONG_CAPACITY);
    let handle = rt.handle();
    let start = Instant::now();
    handle.spawn(async move {
        for i in 0..PING_PONG_ROUND_TRIPS {
            let v = match ping_rx.recv().await {
                Some(v) => v,
                None => fail("tokio ping_pong", "recv failed", i, PING_PONG_ROUND_TRIPS),
            };
            if pong_tx.send(v).await.is_err() {
                fail("tokio ping_pong", "send failed", i, PING_PONG_ROUND_TRIPS);
            }
        }
        done.arrive();
    });
    handle.spawn(async move {
        for i in 0..PING_PONG_ROUND_TRIPS {
            if ping_tx.send(i).await.is_err() {
                fail("tokio ping_pong", "send failed", i, PING_PONG_ROUND_TRIPS);
            }
            if pong_rx.recv().await != Some(i) {
                fail("tokio ping_pong", "wrong reply", i, PING_PONG_ROUND_TRIPS);
            }
        }
        done.arrive();
    });
    done.wait();
    let seconds = start.elapsed().as_secs_f64();
    drop(rt);
    done.check_exact();
    Measurement::new(PING_PONG_ROUND_TRIPS, seconds)
}

// ---------------------------------------------------------------- driver --

const WORKLOADS: &[(&str, WorkloadFn)] = &[
    ("spawn_many", spawn_many),
    ("spawn_many_local", spawn_many_local),
    ("chained_spawn", chained_spawn),
    ("yield_many", yield_many),
    ("ping_pong", ping_pong),
];

fn main() {
    // One unmeasured run of each workload before the measured one
    // (peer_common::WARMUP_RUNS, as executor_bench.cc's kWarmupRuns).
    main_with("tokio", WORKLOADS);
}
