//! The tokio runtimes of both tokio_peer binaries (src/main.rs: executor
//! workloads; src/bin/tokio_reactor.rs: reactor workloads, which includes
//! this file with #[path]).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;

/// A multi-thread runtime with `threads` workers and no I/O or time driver
/// (the executor workloads need neither), returned once every worker thread
/// has started (the C++ pools also start timing only then). Dropping it
/// shuts the runtime down and joins the workers, outside the timed part.
#[allow(dead_code)] // each binary uses one of the two
pub fn runtime(threads: usize) -> tokio::runtime::Runtime {
    build(threads, false)
}

/// The same with tokio's I/O and time drivers enabled (enable_io,
/// enable_time): the reactor workloads.
#[allow(dead_code)]
pub fn runtime_with_drivers(threads: usize) -> tokio::runtime::Runtime {
    build(threads, true)
}

fn build(threads: usize, drivers: bool) -> tokio::runtime::Runtime {
    let started = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&started);
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if drivers {
        builder.enable_io().enable_time();
    }
    let rt = builder
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
