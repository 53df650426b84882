//! rtt_server_smol: the smol peer of benches/rtt_server.cc on BENCH.md's
//! idle_rtt and busy_rtt workloads: an echo server that the external
//! blocking client benches/rtt_client.cc measures (benches/rtt_bench.sh).
//!
//!   rtt_server_smol [--port P] [--threads N] [--neighbours K]
//!
//! * Threads: smol's executor on N threads, each in
//!   smol::block_on(ex.run(..)) (runtime.rs, as smol_peer), with async-io's
//!   reactor. The main thread runs no tasks: it waits for SIGINT/SIGTERM.
//! * Neighbours (busy_rtt): K tasks spawned before serving, each computing
//!   for peer_common::NEIGHBOUR_SLICE (a busy loop on the clock, not a
//!   sleep), then `smol::future::yield_now().await`, and again, until the
//!   server stops: the same as rtt_server.cc's.
//! * Serving: an accept loop task on smol::Async<TcpListener>, one task per
//!   connection (TCP_NODELAY) echoing every byte it reads.
//! * Output: "port=NNNN" on stdout once the listener accepts (--port 0
//!   picks a free port). On the signal: the neighbours finish their slice
//!   and end, the executor threads are joined, the executor is dropped with
//!   the accept loop and open connections, the slice count goes to stderr,
//!   and the exit status is 0.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use peer_common::{busy_slice, parse_server_args, Completion, NeighbourWork, ECHO_BUFFER};
use smol::io::{AsyncReadExt, AsyncWriteExt};
use smol::{Async, Executor, Timer};

#[path = "../runtime.rs"]
mod runtime;
use runtime::Runtime;

/// How long the accept loop pauses when the process is out of fds.
const OUT_OF_FDS_BACKOFF: Duration = Duration::from_millis(100);

/// Set once the stop signal arrived; the neighbours end at their next slice
/// boundary.
static STOP: AtomicBool = AtomicBool::new(false);

async fn echo(mut s: Async<TcpStream>) {
    // One small message at a time: send each at once.
    let _ = s.get_ref().set_nodelay(true);
    let mut buf = vec![0u8; ECHO_BUFFER];
    loop {
        match s.read(&mut buf).await {
            Ok(0) => return, // the client closed
            Ok(n) => {
                if let Err(e) = s.write_all(&buf[..n]).await {
                    eprintln!("rtt_server_smol: write: {e}");
                    return;
                }
            }
            Err(e) => {
                eprintln!("rtt_server_smol: read: {e}");
                return;
            }
        }
    }
}

/// Holds the executor weakly: a task holding its own executor strongly
/// would keep both alive past the end (a cycle), so they would never drop.
async fn accept_loop(ex: Weak<Executor<'static>>, listener: Async<TcpListener>) {
    loop {
        match listener.accept().await {
            Ok((conn, _)) => match ex.upgrade() {
                Some(ex) => ex.spawn(echo(conn)).detach(),
                None => return, // the executor is going away
            },
            Err(e) => {
                eprintln!("rtt_server_smol: accept: {e}");
                if matches!(
                    e.raw_os_error(),
                    Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
                ) {
                    Timer::after(OUT_OF_FDS_BACKOFF).await;
                }
            }
        }
    }
}

/// A CPU-bound neighbour: slices of computation with a yield between them,
/// until STOP; then adds its counts to `work` and arrives on `done`.
async fn neighbour(work: &'static NeighbourWork, done: &'static Completion) {
    let mut slices: u64 = 0;
    let mut spins: u64 = 0;
    // Relaxed: a flag with nothing published through it; seen eventually.
    while !STOP.load(Ordering::Relaxed) {
        spins += busy_slice();
        slices += 1;
        smol::future::yield_now().await;
    }
    work.add(slices, spins);
    done.arrive();
}

/// Blocks SIGINT and SIGTERM in this thread (and so in every thread started
/// after it) and returns the set, for sigwait.
fn block_stop_signals() -> libc::sigset_t {
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::sigaddset(&mut set, libc::SIGTERM);
        let rc = libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        if rc != 0 {
            eprintln!("pthread_sigmask: {}", std::io::Error::from_raw_os_error(rc));
            std::process::exit(1);
        }
        set
    }
}

/// Waits for one of the signals of `set`; returns its name.
fn wait_for_stop_signal(set: &libc::sigset_t) -> String {
    let mut signo: libc::c_int = 0;
    let rc = unsafe { libc::sigwait(set, &mut signo) };
    if rc != 0 {
        eprintln!("sigwait: {}", std::io::Error::from_raw_os_error(rc));
        std::process::exit(1);
    }
    let name = unsafe { std::ffi::CStr::from_ptr(libc::strsignal(signo)) };
    name.to_string_lossy().into_owned()
}

fn main() {
    let o = parse_server_args("rtt_server_smol");
    // Before any thread starts (the executor's, async-io's): they inherit
    // the mask.
    let stop_signals = block_stop_signals();

    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, o.port));
    // Async::bind: a non-blocking listener registered with async-io's reactor.
    let listener = match Async::<TcpListener>::bind(addr) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("rtt_server_smol: bind {addr}: {e}");
            std::process::exit(1);
        }
    };
    let port = listener.get_ref().local_addr().expect("local_addr").port();

    let work = NeighbourWork::leak();
    let done = Completion::leak(o.neighbours as u64, "rtt_server_smol neighbours");
    let rt = Runtime::new(o.threads);
    for _ in 0..o.neighbours {
        rt.ex.spawn(neighbour(work, done)).detach();
    }
    rt.ex
        .spawn(accept_loop(Arc::downgrade(&rt.ex), listener))
        .detach();
    println!("port={port}"); // stdout is line-buffered: flushed here

    let signal = wait_for_stop_signal(&stop_signals);
    eprintln!("rtt_server_smol: got {signal}, stopping");
    STOP.store(true, Ordering::Relaxed);
    if o.neighbours > 0 {
        done.wait(); // each ends within one slice
    }
    // Stops and joins the executor threads, then drops the executor with
    // every task left: the accept loop (the listener) and open connections.
    drop(rt);
    work.print("rtt_server_smol", o.neighbours);
}
