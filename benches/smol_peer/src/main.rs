//! smol_peer: smol on the reactor workloads of BENCH.md (tcp_rtt, timers,
//! timer_cancel), the counterpart of benches/reactor_bench.cc and of
//! benches/tokio_peer's tokio_reactor, whose parameters (peer_common's
//! constants), shape of work and JSON fields it repeats with "peer":"smol".
//!
//! The runtime is the one smol's own global executor sets up (smol::spawn,
//! with SMOL_THREADS = N): an async_executor::Executor run by N threads, each
//! inside async_io::block_on (smol::block_on), which lets an idle thread
//! drive the reactor (epoll and the BTreeMap of timers) itself before the
//! "async-io" thread does. The main thread is the timing thread and spawns
//! through the Executor, as in the other peers.
//!
//! * tcp_rtt: smol::Async<TcpStream> client and server tasks exchange 64-byte
//!   messages (write_all / read_exact); mean_us, p50_us, p99_us.
//! * timers: SLEEPERS tasks each await smol::Timer::after(duration) with
//!   peer_common::sleep_durations() (reactor_bench.cc's sequence exactly);
//!   overhead_ms.
//! * timer_cancel: CANCELLED times, create a Timer::after(10 s), register it
//!   in the reactor by polling it once, drop it (which deregisters it); on the
//!   main thread inside smol::block_on, with the executor threads running.
//!
//! Usage: smol_peer [--threads N] [--peer smol] [--round-trips N]
//!                  [tcp_rtt|timers|timer_cancel|all]

use std::net::TcpStream;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use peer_common::{
    check, main_with, or_die, overhead_field, rtt_fields, sleep_durations, tcp_pair, Completion,
    Measurement, Options, PollOnce, WorkloadFn, CANCELLED, CANCEL_AFTER_SECS, MESSAGE, SLEEPERS,
};
use smol::io::{AsyncReadExt, AsyncWriteExt};
use smol::{Async, Timer};

mod runtime;
use runtime::Runtime;

fn tcp_rtt(o: &Options) -> Measurement {
    let round_trips = o.round_trips;
    let (c, s) = or_die(tcp_pair(), "smol tcp_rtt: tcp_pair");
    // Async::new makes the socket non-blocking and registers it with the
    // reactor.
    let mut client = or_die(Async::<TcpStream>::new(c), "smol tcp_rtt: Async::new");
    let mut server = or_die(Async::<TcpStream>::new(s), "smol tcp_rtt: Async::new");
    let done = Completion::leak(2, "smol tcp_rtt");
    // The client's samples, handed back before it counts itself.
    let samples: &'static Mutex<Vec<f64>> = Box::leak(Box::new(Mutex::new(Vec::new())));
    let rt = Runtime::new(o.threads);
    let start = Instant::now();
    rt.ex
        .spawn(async move {
            let mut buf = [0u8; MESSAGE];
            for _ in 0..round_trips {
                or_die(server.read_exact(&mut buf).await, "smol server read");
                or_die(server.write_all(&buf).await, "smol server write");
            }
            done.arrive();
        })
        .detach();
    rt.ex
        .spawn(async move {
            let out = [b'x'; MESSAGE];
            let mut input = [0u8; MESSAGE];
            let mut us = vec![0f64; round_trips];
            for sample in us.iter_mut() {
                let t0 = Instant::now();
                or_die(client.write_all(&out).await, "smol client write");
                or_die(client.read_exact(&mut input).await, "smol client read");
                *sample = t0.elapsed().as_secs_f64() * 1e6;
                check(input == out, "smol echo mismatch");
            }
            *samples.lock().unwrap() = us;
            done.arrive();
        })
        .detach();
    done.wait();
    let seconds = start.elapsed().as_secs_f64();
    drop(rt);
    done.check_exact();
    let mut us = std::mem::take(&mut *samples.lock().unwrap());
    check(us.len() == round_trips, "smol tcp_rtt: samples missing");
    Measurement {
        iters: round_trips as u64,
        seconds,
        extra: rtt_fields(&mut us),
    }
}

fn timers(o: &Options) -> Measurement {
    let durations = sleep_durations();
    let done = Completion::leak(SLEEPERS as u64, "smol timers");
    let rt = Runtime::new(o.threads);
    let start = Instant::now();
    for ms in durations {
        rt.ex
            .spawn(async move {
                Timer::after(Duration::from_millis(u64::from(ms))).await;
                done.arrive();
            })
            .detach();
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
    let rt = Runtime::new(o.threads);
    let seconds = smol::block_on(async {
        let start = Instant::now();
        for _ in 0..CANCELLED {
            let mut timer = Timer::after(Duration::from_secs(CANCEL_AFTER_SECS));
            // Registers it (Reactor::insert_timer).
            let first = PollOnce(Pin::new(&mut timer)).await;
            check(first.is_pending(), "smol timer_cancel: a 10 s timer is ready");
            drop(timer); // Reactor::remove_timer
        }
        start.elapsed().as_secs_f64()
    });
    drop(rt);
    Measurement::new(CANCELLED, seconds)
}

const WORKLOADS: &[(&str, WorkloadFn)] = &[
    ("tcp_rtt", tcp_rtt),
    ("timers", timers),
    ("timer_cancel", timer_cancel),
];

fn main() {
    main_with("smol", WORKLOADS);
}
