//! rtt_server_tokio: the tokio peer of benches/rtt_server.cc on BENCH.md's
//! idle_rtt and busy_rtt workloads: an echo server that the external
//! blocking client benches/rtt_client.cc measures (benches/rtt_bench.sh).
//!
//!   rtt_server_tokio [--port P] [--threads N] [--neighbours K]
//!
//! * Threads: tokio's multi-thread runtime with worker_threads = N and its
//!   I/O and time drivers (runtime.rs, as tokio_reactor). The main thread
//!   runs no tasks: it waits for SIGINT/SIGTERM.
//! * Neighbours (busy_rtt): K tasks spawned before serving, each computing
//!   for peer_common::NEIGHBOUR_SLICE (a busy loop on the clock, not a
//!   sleep), then `tokio::task::yield_now().await`, and again, until the
//!   server stops: the same as rtt_server.cc's.
//! * Serving: an accept loop task, one task per connection (TCP_NODELAY)
//!   echoing every byte it reads.
//! * Output: "port=NNNN" on stdout once the listener accepts (--port 0
//!   picks a free port). On the signal: the neighbours finish their slice
//!   and end, the runtime shuts down (dropping the accept loop and open
//!   connections), the slice count goes to stderr, and the exit status is 0.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use peer_common::{busy_slice, parse_server_args, Completion, NeighbourWork, ECHO_BUFFER};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[path = "../runtime.rs"]
mod runtime;
use runtime::runtime_with_drivers;

/// How long the accept loop pauses when the process is out of fds.
const OUT_OF_FDS_BACKOFF: Duration = Duration::from_millis(100);
/// How long shutdown waits for the workers (they hold no neighbour by then).
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// Set once the stop signal arrived; the neighbours end at their next slice
/// boundary.
static STOP: AtomicBool = AtomicBool::new(false);

async fn echo(mut s: TcpStream) {
    let _ = s.set_nodelay(true); // one small message at a time: send each at once
    let mut buf = vec![0u8; ECHO_BUFFER];
    loop {
        match s.read(&mut buf).await {
            Ok(0) => return, // the client closed
            Ok(n) => {
                if let Err(e) = s.write_all(&buf[..n]).await {
                    eprintln!("rtt_server_tokio: write: {e}");
                    return;
                }
            }
            Err(e) => {
                eprintln!("rtt_server_tokio: read: {e}");
                return;
            }
        }
    }
}

async fn accept_loop(listener: TcpListener) {
    loop {
        match listener.accept().await {
            Ok((conn, _)) => {
                tokio::spawn(echo(conn));
            }
            Err(e) => {
                eprintln!("rtt_server_tokio: accept: {e}");
                if matches!(
                    e.raw_os_error(),
                    Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
                ) {
                    tokio::time::sleep(OUT_OF_FDS_BACKOFF).await;
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
        tokio::task::yield_now().await;
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
    let o = parse_server_args("rtt_server_tokio");
    // Before the runtime starts: its threads inherit the mask.
    let stop_signals = block_stop_signals();

    let rt = runtime_with_drivers(o.threads);
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, o.port));
    let listener = match rt.block_on(TcpListener::bind(addr)) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("rtt_server_tokio: bind {addr}: {e}");
            std::process::exit(1);
        }
    };
    let port = listener.local_addr().expect("local_addr").port();

    let work = NeighbourWork::leak();
    let done = Completion::leak(o.neighbours as u64, "rtt_server_tokio neighbours");
    for _ in 0..o.neighbours {
        rt.spawn(neighbour(work, done));
    }
    rt.spawn(accept_loop(listener));
    println!("port={port}"); // stdout is line-buffered: flushed here

    let signal = wait_for_stop_signal(&stop_signals);
    eprintln!("rtt_server_tokio: got {signal}, stopping");
    STOP.store(true, Ordering::Relaxed);
    if o.neighbours > 0 {
        done.wait(); // each ends within one slice
    }
    // Drops every task left: the accept loop (closing the listener) and the
    // open connections.
    rt.shutdown_timeout(SHUTDOWN_TIMEOUT);
    work.print("rtt_server_tokio", o.neighbours);
}
