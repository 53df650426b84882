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

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::{self, Thread};
use std::time::Instant;

// Workload parameters (BENCH.md). They MUST match the constants at the top of
// benches/executor_bench.cc: the tables compare per-op figures across the two
// binaries.
const SPAWN_MANY_TASKS: u64 = 100_000; // spawn_many, spawn_many_local
const CHAINS: u64 = 100; // chained_spawn: chains, run one after another
const CHAIN_DEPTH: u64 = 1_000; // chained_spawn: tasks (= spawns) per chain
const YIELD_TASKS: u64 = 200; // yield_many: tasks
const YIELDS_PER_TASK: u64 = 1_000; // yield_many: yields per task
const ROUND_TRIPS: u64 = 100_000; // ping_pong: round trips
const PING_PONG_CAPACITY: usize = 1; // ping_pong: each channel's buffer

// One unmeasured run of each workload before the measured one (as
// executor_bench.cc's kWarmupRuns), so heap growth and first-touch page
// faults land there.
const WARMUP_RUNS: u32 = 1;

const DEFAULT_THREADS: usize = 2;

struct Measurement {
    iters: u64, // operations timed (tasks, spawns or yields)
    seconds: f64,
}

/// Prints a message naming the workload and aborts: a broken run must not
/// produce a number.
fn fail(what: &str, message: &str, got: u64, expected: u64) -> ! {
    eprintln!("tokio_peer: {what}: {message} (got {got}, expected {expected})");
    std::process::abort();
}

/// The "atomic counter + completion signal" every workload waits on, as in
/// benches/completion.h: N tasks each call arrive() once as their last
/// action; the thread that created the Completion calls wait() and is
/// released by the N-th arrival, then the count is checked.
///
/// The signal is std's park/unpark (a futex), the counterpart of the C++
/// side's std::atomic<bool>::wait/notify_all.
struct Completion {
    count: AtomicU64,
    expected: u64,
    what: &'static str,
    done: AtomicBool,
    waiter: Thread, // the thread that created it: the only one that may wait()
}

impl Completion {
    /// A Completion that lives for the rest of the process, so the 'static
    /// tasks can hold a plain reference (no reference count touched per
    /// spawn, like the C++ side's raw pointer). A run leaks ~100 bytes, or
    /// ~100 Completions for chained_spawn: nothing next to the runtime.
    fn leak(expected: u64, what: &'static str) -> &'static Completion {
        Box::leak(Box::new(Completion {
            count: AtomicU64::new(0),
            expected,
            what,
            done: AtomicBool::new(false),
            waiter: thread::current(),
        }))
    }

    /// Counts one finished unit of work; the expected-th call releases wait().
    fn arrive(&self) {
        // AcqRel: the release half publishes this task's writes to the task
        // that makes the final arrival; the acquire half lets that final
        // task pass all of them on through its release store of `done`.
        let before = self.count.fetch_add(1, Ordering::AcqRel);
        if before + 1 == self.expected {
            // Release: pairs with the acquire load in wait().
            self.done.store(true, Ordering::Release);
            self.waiter.unpark();
        }
    }

    /// Blocks until the expected-th arrival, then checks the count.
    fn wait(&self) {
        assert_eq!(
            thread::current().id(),
            self.waiter.id(),
            "wait() off the creating thread"
        );
        // Acquire: pairs with the release store in arrive(). park() may
        // return spuriously, hence the loop.
        while !self.done.load(Ordering::Acquire) {
            thread::park();
        }
        self.check_exact();
    }

    /// Aborts unless exactly `expected` arrivals happened. Call again once
    /// the runtime is shut down to catch arrivals after the signal.
    fn check_exact(&self) {
        // Acquire: pairs with the AcqRel fetch_add in arrive().
        let got = self.count.load(Ordering::Acquire);
        if got != self.expected {
            fail(self.what, "completion counter is off", got, self.expected);
        }
    }
}

fn check_total(what: &str, total: &AtomicU64, expected: u64) {
    // Acquire: pairs with the release fetch_add of the tasks that added.
    let got = total.load(Ordering::Acquire);
    if got != expected {
        fail(what, "operation count is off", got, expected);
    }
}

/// A multi-thread runtime with `threads` workers, returned once every worker
/// thread has started (the C++ pools also start timing only then). Dropping
/// it shuts the runtime down and joins the workers, outside the timed part.
fn runtime(threads: usize) -> tokio::runtime::Runtime {
    let started = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&started);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        // No spawn_blocking here, so the only threads the runtime starts are
        // its workers.
        .on_thread_start(move || {
            counter.fetch_add(1, Ordering::Release);
        })
        .build()
        .unwrap_or_else(|e| {
            eprintln!("tokio_peer: cannot build the runtime: {e}");
            std::process::abort();
        });
    while started.load(Ordering::Acquire) < threads as u64 {
        thread::yield_now();
    }
    rt
}

// ------------------------------------------------------------- workloads --

fn spawn_many(threads: usize) -> Measurement {
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
    Measurement {
        iters: SPAWN_MANY_TASKS,
        seconds,
    }
}

fn spawn_many_local(threads: usize) -> Measurement {
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
    Measurement {
        iters: SPAWN_MANY_TASKS,
        seconds,
    }
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

fn chained_spawn(threads: usize) -> Measurement {
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
    Measurement {
        iters: CHAINS * CHAIN_DEPTH,
        seconds,
    }
}

fn yield_many(threads: usize) -> Measurement {
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
    Measurement {
        iters: YIELD_TASKS * YIELDS_PER_TASK,
        seconds,
    }
}

/// ping_pong: the pinger sends i on `ping` and waits for it to come back on
/// `pong`; the ponger echoes. tokio's bounded mpsc channels, one item of
/// buffer each (as weft's Channel and Asio's concurrent_channel in
/// executor_bench.cc). A wrong or missing reply aborts.
fn ping_pong(threads: usize) -> Measurement {
    let done = Completion::leak(2, "tokio ping_pong");
    let rt = runtime(threads);
    let (ping_tx, mut ping_rx) = tokio::sync::mpsc::channel::<u64>(PING_PONG_CAPACITY);
    let (pong_tx, mut pong_rx) = tokio::sync::mpsc::channel::<u64>(PING_PONG_CAPACITY);
    let handle = rt.handle();
    let start = Instant::now();
    handle.spawn(async move {
        for i in 0..ROUND_TRIPS {
            let v = match ping_rx.recv().await {
                Some(v) => v,
                None => fail("tokio ping_pong", "recv failed", i, ROUND_TRIPS),
            };
            if pong_tx.send(v).await.is_err() {
                fail("tokio ping_pong", "send failed", i, ROUND_TRIPS);
            }
        }
        done.arrive();
    });
    handle.spawn(async move {
        for i in 0..ROUND_TRIPS {
            if ping_tx.send(i).await.is_err() {
                fail("tokio ping_pong", "send failed", i, ROUND_TRIPS);
            }
            if pong_rx.recv().await != Some(i) {
                fail("tokio ping_pong", "wrong reply", i, ROUND_TRIPS);
            }
        }
        done.arrive();
    });
    done.wait();
    let seconds = start.elapsed().as_secs_f64();
    drop(rt);
    done.check_exact();
    Measurement {
        iters: ROUND_TRIPS,
        seconds,
    }
}

// ---------------------------------------------------------------- driver --

/// Runs one workload on a runtime with the given number of workers.
type WorkloadFn = fn(usize) -> Measurement;

const WORKLOADS: &[(&str, WorkloadFn)] = &[
    ("spawn_many", spawn_many),
    ("spawn_many_local", spawn_many_local),
    ("chained_spawn", chained_spawn),
    ("yield_many", yield_many),
    ("ping_pong", ping_pong),
];

fn report(peer: &str, workload: &str, threads: usize, m: &Measurement) {
    // Same fields, order and precision as executor_bench.cc's report().
    println!(
        "{{\"peer\":\"{}\",\"workload\":\"{}\",\"threads\":{},\"iters\":{},\
         \"seconds\":{:.4},\"per_op_ns\":{:.1}}}",
        peer,
        workload,
        threads,
        m.iters,
        m.seconds,
        m.seconds * 1e9 / m.iters as f64
    );
}

fn run_peer(workload: &str, f: WorkloadFn, threads: usize) {
    for _ in 0..WARMUP_RUNS {
        f(threads);
    }
    report("tokio", workload, threads, &f(threads));
}

fn usage(argv0: &str, error: Option<&str>) -> ! {
    if let Some(e) = error {
        eprintln!("{argv0}: {e}");
    }
    let names: Vec<&str> = WORKLOADS.iter().map(|(n, _)| *n).collect();
    eprintln!("usage: {argv0} [--threads N] [all|{}]", names.join("|"));
    std::process::exit(if error.is_some() { 2 } else { 0 });
}

fn parse_threads(argv0: &str, text: &str) -> usize {
    match text.parse::<usize>() {
        Ok(n) if (1..=1024).contains(&n) => n,
        _ => usage(argv0, Some("--threads wants 1..1024")),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let argv0 = args.first().map(String::as_str).unwrap_or("tokio_peer");
    let mut threads = DEFAULT_THREADS;
    let mut workload: Option<&str> = None;
    let mut i = 1;
    while i < args.len() {
        let arg = args[i].as_str();
        if arg == "--threads" {
            i += 1;
            match args.get(i) {
                Some(v) => threads = parse_threads(argv0, v),
                None => usage(argv0, Some("--threads needs a value")),
            }
        } else if let Some(v) = arg.strip_prefix("--threads=") {
            threads = parse_threads(argv0, v);
        } else if arg == "--help" || arg == "-h" {
            usage(argv0, None);
        } else if arg.starts_with('-') || workload.is_some() {
            usage(argv0, Some("unexpected argument"));
        } else {
            workload = Some(arg);
        }
        i += 1;
    }
    let workload = workload.unwrap_or("all");

    let mut matched = false;
    for &(name, f) in WORKLOADS {
        if workload != "all" && workload != name {
            continue;
        }
        matched = true;
        run_peer(name, f, threads);
    }
    if !matched {
        usage(argv0, Some("unknown workload"));
    }
}
