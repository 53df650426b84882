//! peer_common: the parts of the Rust peers (benches/tokio_peer,
//! benches/smol_peer) that do not depend on a runtime.
//!
//! * the reactor workloads' parameters, which MUST match the constants at the
//!   top of benches/reactor_bench.cc (the tables compare figures across
//!   binaries);
//! * `Completion`, the "atomic counter + completion signal" of
//!   benches/completion.h;
//! * `sleep_durations()`, the timers workload's 100,000 durations: a port of
//!   reactor_bench.cc's `std::mt19937(12345)` + libstdc++'s
//!   `std::uniform_int_distribution<int>(1, 100)`, checked against a
//!   fingerprint that reactor_bench.cc checks too;
//! * the JSON line (`report`), the tcp_rtt and timers extra fields, the
//!   connected TCP pair, `PollOnce`, and the command line (`main_with`);
//! * for the idle_rtt / busy_rtt echo servers (tokio_peer's
//!   rtt_server_tokio, smol_peer's rtt_server_smol; benches/rtt_bench.sh):
//!   the neighbours' slice (`busy_slice`, `NEIGHBOUR_SLICE`, the same as
//!   benches/rtt_common.h's kNeighbourSlice and rtt_server.cc's busy_slice),
//!   their tally (`NeighbourWork`) and the servers' command line
//!   (`parse_server_args`).
//!
//! Written for Debian's rustc 1.63 as well as a current one: no let-else,
//! std::future::poll_fn, std::pin::pin! or std::hint::black_box.

use std::future::Future;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

// ------------------------------------------- reactor workload parameters --
// BENCH.md; the same names and values as in benches/reactor_bench.cc.

/// tcp_rtt: round trips (each one message each way). The `--round-trips N`
/// flag overrides it for benches/syscalls.sh only.
pub const ROUND_TRIPS: usize = 100_000;
/// tcp_rtt: bytes each way.
pub const MESSAGE: usize = 64;
/// timers: tasks, each sleeping once.
pub const SLEEPERS: usize = 100_000;
/// timers: durations are in [1, MAX_SLEEP_MS] ms; overhead_ms is the wall
/// time minus this.
pub const MAX_SLEEP_MS: u32 = 100;
/// timers: the seed of the duration sequence.
pub const SLEEP_SEED: u32 = 12345;
/// timer_cancel: timers created and cancelled.
pub const CANCELLED: u64 = 1_000_000;
/// timer_cancel: the (never reached) deadline of each timer, in seconds.
pub const CANCEL_AFTER_SECS: u64 = 10;

/// Unmeasured runs of each workload before the measured one (as
/// executor_bench.cc's kWarmupRuns and reactor_bench.cc's warm-up), so heap
/// growth and first-touch page faults land there.
pub const WARMUP_RUNS: u32 = 1;

pub const DEFAULT_THREADS: usize = 2;

// ------------------------------------------------------------- failures --

/// Prints a message naming the workload and aborts: a broken run must not
/// produce a number.
pub fn fail(what: &str, message: &str, got: u64, expected: u64) -> ! {
    eprintln!("{what}: {message} (got {got}, expected {expected})");
    std::process::abort();
}

/// Aborts with `what` and the error unless `r` is Ok.
pub fn or_die<T, E: std::fmt::Display>(r: Result<T, E>, what: &str) -> T {
    match r {
        Ok(v) => v,
        Err(e) => {
            eprintln!("{what}: {e}");
            std::process::abort();
        }
    }
}

/// Aborts with `what` unless `ok`.
pub fn check(ok: bool, what: &str) {
    if !ok {
        eprintln!("{what}");
        std::process::abort();
    }
}

pub fn check_total(what: &str, total: &AtomicU64, expected: u64) {
    // Acquire: pairs with the release fetch_add of the tasks that added.
    let got = total.load(Ordering::Acquire);
    if got != expected {
        fail(what, "operation count is off", got, expected);
    }
}

// ----------------------------------------------------------- Completion --

/// The "atomic counter + completion signal" every workload waits on, as in
/// benches/completion.h: N tasks each call arrive() once as their last
/// action; the thread that created the Completion calls wait() and is
/// released by the N-th arrival, then the count is checked.
///
/// The signal is std's park/unpark (a futex), the counterpart of the C++
/// side's std::atomic<bool>::wait/notify_all.
pub struct Completion {
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
    pub fn leak(expected: u64, what: &'static str) -> &'static Completion {
        Box::leak(Box::new(Completion {
            count: AtomicU64::new(0),
            expected,
            what,
            done: AtomicBool::new(false),
            waiter: thread::current(),
        }))
    }

    /// Counts one finished unit of work; the expected-th call releases wait().
    #[inline]
    pub fn arrive(&self) {
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
    pub fn wait(&self) {
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
    pub fn check_exact(&self) {
        // Acquire: pairs with the AcqRel fetch_add in arrive().
        let got = self.count.load(Ordering::Acquire);
        if got != self.expected {
            fail(self.what, "completion counter is off", got, self.expected);
        }
    }
}

// ------------------------------------------------------ sleep durations --

/// std::mt19937: the 32-bit Mersenne Twister with the standard's parameters
/// and seeding (C++ [rand.eng.mers], [rand.predef]).
struct Mt19937 {
    state: [u32; 624],
    index: usize,
}

impl Mt19937 {
    fn new(seed: u32) -> Mt19937 {
        let mut state = [0u32; 624];
        state[0] = seed;
        for i in 1..624 {
            let prev = state[i - 1];
            state[i] = 1_812_433_253u32
                .wrapping_mul(prev ^ (prev >> 30))
                .wrapping_add(i as u32);
        }
        Mt19937 { state, index: 624 }
    }

    fn next_u32(&mut self) -> u32 {
        const UPPER: u32 = 0x8000_0000;
        const LOWER: u32 = 0x7fff_ffff;
        const MATRIX_A: u32 = 0x9908_b0df;
        if self.index >= 624 {
            for i in 0..624 {
                let y = (self.state[i] & UPPER) | (self.state[(i + 1) % 624] & LOWER);
                let mut next = self.state[(i + 397) % 624] ^ (y >> 1);
                if y & 1 != 0 {
                    next ^= MATRIX_A;
                }
                self.state[i] = next;
            }
            self.index = 0;
        }
        let mut y = self.state[self.index];
        self.index += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^= y >> 18;
        y
    }
}

/// libstdc++'s std::uniform_int_distribution<int>(lo, hi) over a generator
/// of exactly 32 bits (g++ 12, bits/uniform_int_dist.h): Lemire's nearly
/// divisionless downscaling with a 64-bit product, one draw unless the low
/// half lands under the threshold. The standard leaves the algorithm to the
/// library, so this is the one g++ 12 (Debian 12) compiles reactor_bench.cc
/// with; the fingerprint below catches a library that draws differently.
fn uniform_int(rng: &mut Mt19937, lo: u32, hi: u32) -> u32 {
    let range = hi - lo + 1; // "__uerange"
    let mut product = u64::from(rng.next_u32()) * u64::from(range);
    let mut low = product as u32;
    if low < range {
        let threshold = range.wrapping_neg() % range;
        while low < threshold {
            product = u64::from(rng.next_u32()) * u64::from(range);
            low = product as u32;
        }
    }
    (product >> 32) as u32 + lo
}

/// The fingerprint of the duration sequence: (sum, FNV-1a 64 over the
/// values in order, each taken as one u64). reactor_bench.cc computes and
/// checks the same two numbers, so a peer that slept other durations than
/// weft and Asio aborts instead of printing a figure.
pub const SLEEP_SUM: u64 = 5_049_378;
pub const SLEEP_FNV: u64 = 0x0fb2_beb9_aa2b_20dd;

/// The timers workload's durations in ms, in spawn order: exactly the values
/// reactor_bench.cc's sleep_durations() draws.
pub fn sleep_durations() -> Vec<u32> {
    let mut rng = Mt19937::new(SLEEP_SEED);
    let v: Vec<u32> = (0..SLEEPERS)
        .map(|_| uniform_int(&mut rng, 1, MAX_SLEEP_MS))
        .collect();
    let sum: u64 = v.iter().map(|&x| u64::from(x)).sum();
    let mut fnv: u64 = 0xcbf2_9ce4_8422_2325;
    for &x in &v {
        fnv ^= u64::from(x);
        fnv = fnv.wrapping_mul(0x0000_0100_0000_01b3);
    }
    if sum != SLEEP_SUM || fnv != SLEEP_FNV {
        eprintln!(
            "sleep_durations: sequence differs from reactor_bench.cc's \
             (sum {sum}, fnv {fnv:#018x}; expected {SLEEP_SUM}, {SLEEP_FNV:#018x})"
        );
        std::process::abort();
    }
    v
}

// --------------------------------------------------------------- output --

/// One measured run: `iters` operations in `seconds`, and the workload's
/// extra JSON fields (`,"field":value...`, or empty).
pub struct Measurement {
    pub iters: u64,
    pub seconds: f64,
    pub extra: String,
}

impl Measurement {
    pub fn new(iters: u64, seconds: f64) -> Measurement {
        Measurement {
            iters,
            seconds,
            extra: String::new(),
        }
    }
}

/// tcp_rtt's extra fields from the per-round-trip times in µs, as
/// reactor_bench.cc's rtt_fields(): mean, and the sorted samples at n/2 and
/// n*99/100.
pub fn rtt_fields(us: &mut [f64]) -> String {
    us.sort_by(|a, b| a.partial_cmp(b).expect("a round trip time is NaN"));
    let n = us.len();
    let mean = us.iter().sum::<f64>() / n as f64;
    format!(
        ",\"mean_us\":{:.2},\"p50_us\":{:.2},\"p99_us\":{:.2}",
        mean,
        us[n / 2],
        us[n * 99 / 100]
    )
}

/// timers' extra field, as reactor_bench.cc's overhead_field().
pub fn overhead_field(seconds: f64) -> String {
    format!(
        ",\"overhead_ms\":{:.2}",
        seconds * 1e3 - f64::from(MAX_SLEEP_MS)
    )
}

/// Prints one JSON line: the same fields, order and precision as
/// executor_bench.cc's and reactor_bench.cc's report().
pub fn report(peer: &str, workload: &str, threads: usize, m: &Measurement) {
    println!(
        "{{\"peer\":\"{}\",\"workload\":\"{}\",\"threads\":{},\"iters\":{},\
         \"seconds\":{:.4},\"per_op_ns\":{:.1}{}}}",
        peer,
        workload,
        threads,
        m.iters,
        m.seconds,
        m.seconds * 1e9 / m.iters as f64,
        m.extra
    );
}

// ------------------------------------------------------------ plumbing --

/// A connected TCP pair on 127.0.0.1 (blocking), both ends with
/// TCP_NODELAY, as reactor_bench.cc's tcp_pair(): (client, server).
pub fn tcp_pair() -> io::Result<(TcpStream, TcpStream)> {
    let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))?;
    let client = TcpStream::connect(listener.local_addr()?)?;
    let (server, _) = listener.accept()?;
    client.set_nodelay(true)?;
    server.set_nodelay(true)?;
    Ok((client, server))
}

/// A future that polls the future it holds exactly once, with the caller's
/// context, and completes with that poll's result: the way to register a
/// timer (its first poll) without waiting for it.
pub struct PollOnce<'a, F: Future>(pub Pin<&'a mut F>);

impl<F: Future> Future for PollOnce<'_, F> {
    type Output = Poll<F::Output>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Poll::Ready(self.0.as_mut().poll(cx))
    }
}

// --------------------------------------------------------- command line --

/// Runs one workload with the given number of threads.
pub type WorkloadFn = fn(&Options) -> Measurement;

/// The command line every peer binary takes.
pub struct Options {
    pub threads: usize,
    /// tcp_rtt's round trips (ROUND_TRIPS unless `--round-trips N`).
    pub round_trips: usize,
}

fn usage(argv0: &str, names: &[&str], error: Option<&str>) -> ! {
    if let Some(e) = error {
        eprintln!("{argv0}: {e}");
    }
    eprintln!(
        "usage: {argv0} [--threads N] [--peer NAME] [--round-trips N] [all|{}]",
        names.join("|")
    );
    std::process::exit(if error.is_some() { 2 } else { 0 });
}

fn parse_count(argv0: &str, names: &[&str], flag: &str, text: &str, max: usize) -> usize {
    match text.parse::<usize>() {
        Ok(n) if (1..=max).contains(&n) => n,
        _ => usage(argv0, names, Some(&format!("{flag} wants 1..{max}"))),
    }
}

/// The main() of a peer binary whose one runtime is `peer`: parses
/// `[--threads N] [--peer NAME] [--round-trips N] [WORKLOAD|all]` and runs
/// each selected workload WARMUP_RUNS times unmeasured, then once measured,
/// printing its JSON line. `--peer` is there so that scripts can pass the
/// same filter to every binary: a name other than `peer` runs nothing.
pub fn main_with(peer: &str, workloads: &[(&str, WorkloadFn)]) {
    let args: Vec<String> = std::env::args().collect();
    let argv0 = args.first().map(String::as_str).unwrap_or(peer);
    let names: Vec<&str> = workloads.iter().map(|(n, _)| *n).collect();
    let mut options = Options {
        threads: DEFAULT_THREADS,
        round_trips: ROUND_TRIPS,
    };
    let mut peer_filter: Option<String> = None;
    let mut workload: Option<&str> = None;
    let mut i = 1;
    while i < args.len() {
        let arg = args[i].as_str();
        // "--flag value" or "--flag=value".
        let mut value_of = |flag: &str| -> Option<String> {
            if arg == flag {
                i += 1;
                match args.get(i) {
                    Some(v) => Some(v.clone()),
                    None => usage(argv0, &names, Some(&format!("{flag} needs a value"))),
                }
            } else {
                arg.strip_prefix(flag)
                    .and_then(|rest| rest.strip_prefix('='))
                    .map(str::to_string)
            }
        };
        if let Some(v) = value_of("--threads") {
            options.threads = parse_count(argv0, &names, "--threads", &v, 1024);
        } else if let Some(v) = value_of("--round-trips") {
            options.round_trips = parse_count(argv0, &names, "--round-trips", &v, 100_000_000);
        } else if let Some(v) = value_of("--peer") {
            peer_filter = Some(v);
        } else if arg == "--help" || arg == "-h" {
            usage(argv0, &names, None);
        } else if arg.starts_with('-') || workload.is_some() {
            usage(argv0, &names, Some("unexpected argument"));
        } else {
            workload = Some(arg);
        }
        i += 1;
    }
    let workload = workload.unwrap_or("all");
    if workload != "all" && !names.contains(&workload) {
        usage(argv0, &names, Some("unknown workload"));
    }
    if peer_filter.map_or(false, |p| p != peer) {
        return;
    }
    for &(name, f) in workloads {
        if workload != "all" && workload != name {
            continue;
        }
        for _ in 0..WARMUP_RUNS {
            f(&options);
        }
        report(peer, name, options.threads, &f(&options));
    }
}

// ------------------------------------------------- idle_rtt / busy_rtt --
// The echo servers of benches/rtt_bench.sh; the same flags, output and
// neighbours as benches/rtt_server.cc.

/// busy_rtt: a neighbour computes this long between two yields (BENCH.md);
/// rtt_common.h's kNeighbourSlice.
pub const NEIGHBOUR_SLICE: Duration = Duration::from_millis(10);

/// A connection's read buffer, as rtt_server.cc's kEchoBuffer.
pub const ECHO_BUFFER: usize = 16 * 1024;

/// Computes until NEIGHBOUR_SLICE has passed; returns the loop count so the
/// work has a result. As rtt_server.cc's busy_slice(): the clock read
/// (CLOCK_MONOTONIC, as steady_clock) is the work.
pub fn busy_slice() -> u64 {
    let end = Instant::now() + NEIGHBOUR_SLICE;
    let mut spins: u64 = 0;
    while Instant::now() < end {
        spins += 1;
    }
    spins
}

/// What the neighbours did, printed on stderr at exit: a check that they ran
/// at all, and a use of the computation's result.
pub struct NeighbourWork {
    pub slices: AtomicU64,
    pub spins: AtomicU64,
}

impl NeighbourWork {
    pub fn leak() -> &'static NeighbourWork {
        Box::leak(Box::new(NeighbourWork {
            slices: AtomicU64::new(0),
            spins: AtomicU64::new(0),
        }))
    }

    /// A neighbour's totals, added as it ends (before it arrives on its
    /// Completion, whose AcqRel publishes them).
    pub fn add(&self, slices: u64, spins: u64) {
        self.slices.fetch_add(slices, Ordering::Relaxed);
        self.spins.fetch_add(spins, Ordering::Relaxed);
    }

    /// The line rtt_server.cc prints at exit.
    pub fn print(&self, server: &str, neighbours: usize) {
        // Relaxed: read after the Completion's wait(), which ordered the adds.
        eprintln!(
            "{server}: {neighbours} neighbours computed {} slices of {} ms ({} clock reads)",
            self.slices.load(Ordering::Relaxed),
            NEIGHBOUR_SLICE.as_millis(),
            self.spins.load(Ordering::Relaxed)
        );
    }
}

/// The command line of every idle_rtt / busy_rtt server.
pub struct ServerOptions {
    /// 0: any free port (printed as "port=N").
    pub port: u16,
    pub threads: usize,
    /// CPU-bound neighbour tasks spawned before serving (busy_rtt).
    pub neighbours: usize,
}

fn server_usage(argv0: &str, why: &str) -> ! {
    eprintln!("{argv0}: {why}");
    eprintln!("usage: {argv0} [--port P] [--threads N] [--neighbours K]");
    std::process::exit(2);
}

/// Parses `[--port P] [--threads N] [--neighbours K]` ("--flag value" or
/// "--flag=value"); exits with status 2 and a usage line on anything else.
pub fn parse_server_args(argv0: &str) -> ServerOptions {
    let fail = |why: &str| -> ! { server_usage(argv0, why) };
    let mut o = ServerOptions {
        port: 0,
        threads: DEFAULT_THREADS,
        neighbours: 0,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) => (f.to_string(), Some(v.to_string())),
            None => (arg.clone(), None),
        };
        let value = match inline.or_else(|| args.next()) {
            Some(v) => v,
            None => fail(&format!("{flag} wants a value")),
        };
        match flag.as_str() {
            "--port" => {
                o.port = value
                    .parse()
                    .unwrap_or_else(|_| fail("--port wants 0..65535"))
            }
            "--threads" => {
                o.threads = match value.parse::<usize>() {
                    Ok(n) if (1..=1024).contains(&n) => n,
                    _ => fail("--threads wants 1..1024"),
                }
            }
            "--neighbours" => {
                o.neighbours = match value.parse::<usize>() {
                    Ok(n) if n <= 1024 => n,
                    _ => fail("--neighbours wants 0..1024"),
                }
            }
            _ => fail(&format!("unknown argument {arg}")),
        }
    }
    o
}
