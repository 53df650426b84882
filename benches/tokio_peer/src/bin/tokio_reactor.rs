//! tokio_reactor: tokio's multi-thread runtime with its I/O and time drivers
//! on the reactor workloads of BENCH.md (tcp_rtt, timers, timer_cancel), the
//! counterpart of benches/reactor_bench.cc, whose parameters
//! (peer_common's constants), shape of work and JSON fields it repeats:
//!
//! * tcp_rtt: one TCP connection on 127.0.0.1 with TCP_NODELAY; a server task
//!   and a client task, spawned from the main thread into one runtime,
//!   exchange 64-byte messages ROUND_TRIPS times (client write_all, server
//!   read_exact + write_all, client read_exact); the client times each round
//!   trip. Extra fields mean_us, p50_us, p99_us.
//! * timers: SLEEPERS tasks, spawned from the main thread, each
//!   tokio::time::sleep for its duration from peer_common::sleep_durations()
//!   (reactor_bench.cc's sequence exactly), then count themselves; extra field
//!   overhead_ms = wall ms - MAX_SLEEP_MS.
//! * timer_cancel: CANCELLED times, create a tokio::time::sleep(10 s),
//!   register it in the timer wheel by polling it once, and drop it (which
//!   takes it out of the wheel); ns per create + cancel. Runs on the main
//!   thread inside Runtime::block_on, like weft's, which cancels from the
//!   main thread.
//!
//! Usage: tokio_reactor [--threads N] [--peer tokio] [--round-trips N]
//!                      [tcp_rtt|timers|timer_cancel|all]

use std::sync::Mutex;
use std::time::{Duration, Instant};

use peer_common::{
    check, main_with, or_die, overhead_field, rtt_fields, sleep_durations, tcp_pair, Completion,
    Measurement, Options, PollOnce, WorkloadFn, CANCELLED, CANCEL_AFTER_SECS, MESSAGE, SLEEPERS,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[path = "../runtime.rs"]
mod runtime;
use runtime::runtime_with_drivers;

fn tcp_rtt(o: &Options) -> Measurement {
    let round_trips = o.round_trips;
    let (c, s) = or_die(tcp_pair(), "tokio tcp_rtt: tcp_pair");
    or_die(c.set_nonblocking(true), "tokio tcp_rtt: set_nonblocking");
    or_die(s.set_nonblocking(true), "tokio tcp_rtt: set_nonblocking");
    let done = Completion::leak(2, "tokio tcp_rtt");
    // The client's samples, handed back before it counts itself.
    let samples: &'static Mutex<Vec<f64>> = Box::leak(Box::new(Mutex::new(Vec::new())));
    let rt = runtime_with_drivers(o.threads);
    let (mut client, mut server) = {
        // from_std registers with the runtime's I/O driver: inside its context.
        let _context = rt.enter();
        (
            or_die(tokio::net::TcpStream::from_std(c), "tokio tcp_rtt: from_std"),
            or_die(tokio::net::TcpStream::from_std(s), "tokio tcp_rtt: from_std"),
        )
    };
    let handle = rt.handle();
    let start = Instant::now();
    handle.spawn(async move {
        let mut buf = [0u8; MESSAGE];
        for _ in 0..round_trips {
            or_die(server.read_exact(&mut buf).await, "tokio server read");
            or_die(server.write_all(&buf).await, "tokio server write");
        }
        done.arrive();
    });
    handle.spawn(async move {
        let out = [b'x'; MESSAGE];
        let mut input = [0u8; MESSAGE];
        let mut us = vec![0f64; round_trips];
        for sample in us.iter_mut() {
            let t0 = Instant::now();
            or_die(client.write_all(&out).await, "tokio client write");
            or_die(client.read_exact(&mut input).await, "tokio client read");
            *sample = t0.elapsed().as_secs_f64() * 1e6;
            check(input == out, "tokio echo mismatch");
        }
        *samples.lock().unwrap() = us;
        done.arrive();
    });
    done.wait();
    let seconds = start.elapsed().as_secs_f64();
    drop(rt);
    done.check_exact();
    let mut us = std::mem::take(&mut *samples.lock().unwrap());
    check(us.len() == round_trips, "tokio tcp_rtt: samples missing");
    Measurement {
        iters: round_trips as u64,
        seconds,
        extra: rtt_fields(&mut us),
    }
}

fn timers(o: &Options) -> Measurement {
    let durations = sleep_durations();
    let done = Completion::leak(SLEEPERS as u64, "tokio timers");
    let rt = runtime_with_drivers(o.threads);
    let handle = rt.handle();
    let start = Instant::now();
    for ms in durations {
        handle.spawn(async move {
            tokio::time::sleep(Duration::from_millis(u64::from(ms))).await;
            done.arrive();
        });
    }
    done.wait();
    let seconds = start.elapsed().as_secs_f64();
    drop(rt);
    done.check_exact();
    Measurement {
        iters: SLEEPERS as u64,
        seconds,
        extra: overhead_field(seconds),
    }
}

fn timer_cancel(o: &Options) -> Measurement {
    let rt = runtime_with_drivers(o.threads);
    // unconstrained: block_on runs its future under tokio's cooperative
    // budget (128 polls of tokio resources per poll of the future). A Sleep
    // that returns Pending gives back the unit it took, so the budget should
    // never run out here; but if it did, Sleep::poll would return Pending
    // *without* registering, and this loop must register every timer.
    let seconds = rt.block_on(tokio::task::unconstrained(async {
        let start = Instant::now();
        for _ in 0..CANCELLED {
            let sleep = tokio::time::sleep(Duration::from_secs(CANCEL_AFTER_SECS));
            tokio::pin!(sleep);
            let first = PollOnce(sleep.as_mut()).await; // registers it
            check(first.is_pending(), "tokio timer_cancel: a 10 s sleep is ready");
            // Dropped here: removed from the wheel.
        }
        start.elapsed().as_secs_f64()
    }));
    drop(rt);
    Measurement::new(CANCELLED, seconds)
}

const WORKLOADS: &[(&str, WorkloadFn)] = &[
    ("tcp_rtt", tcp_rtt),
    ("timers", timers),
    ("timer_cancel", timer_cancel),
];

fn main() {
    main_with("tokio", WORKLOADS);
}
