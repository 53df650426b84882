//! The smol runtime of both smol_peer binaries (src/main.rs: the reactor
//! workloads; src/bin/rtt_server_smol.rs: the idle_rtt / busy_rtt echo
//! server, which includes this file with #[path]), as smol's own global
//! executor sets it up: an async_executor::Executor run by N threads, each
//! inside smol::block_on (async_io::block_on), which lets an idle thread
//! drive the reactor itself before the "async-io" thread does.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};

use peer_common::or_die;
use smol::Executor;

/// An Executor run by `threads` threads, each in smol::block_on(ex.run(..)),
/// returned once every thread is running. Dropping it (outside the timed
/// part) stops and joins them.
pub struct Runtime {
    pub ex: Arc<Executor<'static>>,
    stop: Option<smol::channel::Sender<()>>,
    threads: Vec<JoinHandle<()>>,
}

impl Runtime {
    pub fn new(threads: usize) -> Runtime {
        let ex = Arc::new(Executor::new());
        let (stop, stopped) = smol::channel::bounded::<()>(1);
        let started = Arc::new(AtomicU64::new(0));
        let handles = (0..threads)
            .map(|n| {
                let ex = Arc::clone(&ex);
                let stopped = stopped.clone();
                let started = Arc::clone(&started);
                or_die(
                    thread::Builder::new()
                        .name(format!("smol-{}", n + 1))
                        .spawn(move || {
                            started.fetch_add(1, Ordering::Release);
                            // Runs tasks until the sender is dropped.
                            let _ = smol::block_on(ex.run(stopped.recv()));
                        }),
                    "smol_peer: cannot start an executor thread",
                )
            })
            .collect();
        while started.load(Ordering::Acquire) < threads as u64 {
            thread::yield_now();
        }
        Runtime {
            ex,
            stop: Some(stop),
            threads: handles,
        }
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        drop(self.stop.take()); // closes the channel: every ex.run returns
        for t in self.threads.drain(..) {
            or_die(t.join().map_err(|_| "panicked"), "smol_peer: executor thread");
        }
    }
}
