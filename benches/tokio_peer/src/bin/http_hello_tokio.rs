//! http_hello_tokio: the tokio peer of examples/http_hello.cc on BENCH.md's
//! http_hello workload (benches/http_bench.sh drives both with wrk).
//!
//!   http_hello_tokio --port 8080 --threads 2
//!   wrk -t1 -c50 -d10s --latency http://127.0.0.1:8080/
//!
//! The same flags (--port P, --listen IP, --threads N; --port 0 picks a free
//! port, printed on the "listening on" line), the same response bytes and the
//! same request framing as the weft example (and benches/http_hello_asio.cc):
//!
//! * Threads: tokio's multi-thread runtime with worker_threads = N and its
//!   I/O and time drivers; one task per connection, tokio::spawn'ed from the
//!   accept loop (itself a task). The main thread runs no tasks: it waits for
//!   the signal.
//! * HTTP: just enough to find request boundaries. A request ends after its
//!   header block plus Content-Length bytes of body; pipelined requests are
//!   answered in order, all the responses for what one read brought in going
//!   out in one write. "Connection: close" (or HTTP/1.0 without keep-alive)
//!   closes after the response. Chunked request bodies and oversized headers
//!   are answered with an error and the connection is closed. parse_head() is
//!   a port of the example's.
//! * Shutdown: SIGINT and SIGTERM are blocked before the runtime starts (its
//!   threads inherit the mask) and the main thread takes them with sigwait;
//!   it then shuts the runtime down (the open connections' tasks are dropped)
//!   and exits with status 0. (tokio's "signal" feature is not among those
//!   tokio_peer enables; libc is already in the build, through mio.)

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[path = "../runtime.rs"]
mod runtime;
use runtime::runtime_with_drivers;

/// Per-connection input buffer: a request head must fit in it.
const BUFFER_SIZE: usize = 16 * 1024;
/// How long the accept loop pauses when the process is out of fds.
const OUT_OF_FDS_BACKOFF: Duration = Duration::from_millis(100);

const HELLO: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!";
const HELLO_THEN_CLOSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\
Connection: close\r\n\r\nHello, World!";
const BAD_REQUEST: &[u8] =
    b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
const HEAD_TOO_LARGE: &[u8] = b"HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\n\
Connection: close\r\n\r\n";
const CHUNKED_UNSUPPORTED: &[u8] =
    b"HTTP/1.1 501 Not Implemented\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

// ------------------------------------------------------ request framing --

#[derive(PartialEq, Eq)]
enum Kind {
    Incomplete,
    Ok,
    Bad,
    Chunked,
}

struct Request {
    kind: Kind,
    head_len: usize,       // bytes up to and including the blank line
    content_length: usize, // body bytes that follow
    close: bool,           // the client asked to close after this one
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if from > haystack.len() {
        return None;
    }
    haystack[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

fn icontains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

fn trim(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// Frames the request at the start of `input`.
fn parse_head(input: &[u8]) -> Request {
    let mut r = Request {
        kind: Kind::Incomplete,
        head_len: 0,
        content_length: 0,
        close: false,
    };
    let end = match find(input, b"\r\n\r\n", 0) {
        Some(e) => e,
        None => return r, // Incomplete
    };
    r.head_len = end + 4;
    let head = &input[..end + 2]; // every line ends in \r\n
    let mut eol = find(head, b"\r\n", 0).unwrap();
    let request_line = &head[..eol];
    // METHOD SP TARGET SP HTTP/1.x
    let sp = request_line.iter().rposition(|&c| c == b' ');
    let first_sp = request_line.iter().position(|&c| c == b' ');
    let sp = match sp {
        Some(sp) if first_sp != Some(sp) => sp,
        _ => {
            r.kind = Kind::Bad;
            return r;
        }
    };
    let version = &request_line[sp + 1..];
    let http10 = version == b"HTTP/1.0";
    if !http10 && version != b"HTTP/1.1" {
        r.kind = Kind::Bad;
        return r;
    }
    let mut keep_alive = false;
    let mut pos = eol + 2;
    while pos < head.len() {
        eol = find(head, b"\r\n", pos).unwrap();
        let line = &head[pos..eol];
        pos = eol + 2;
        let colon = match line.iter().position(|&c| c == b':') {
            Some(c) => c,
            None => {
                r.kind = Kind::Bad;
                return r;
            }
        };
        let name = &line[..colon];
        let value = trim(&line[colon + 1..]);
        if name.eq_ignore_ascii_case(b"content-length") {
            if value.is_empty() || value.len() > 15 {
                r.kind = Kind::Bad;
                return r;
            }
            let mut n = 0usize;
            for &c in value {
                if !c.is_ascii_digit() {
                    r.kind = Kind::Bad;
                    return r;
                }
                n = n * 10 + usize::from(c - b'0');
            }
            r.content_length = n;
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            r.kind = Kind::Chunked;
            return r;
        } else if name.eq_ignore_ascii_case(b"connection") {
            if icontains(value, b"close") {
                r.close = true;
            }
            if icontains(value, b"keep-alive") {
                keep_alive = true;
            }
        }
    }
    if http10 && !keep_alive {
        r.close = true;
    }
    r.kind = Kind::Ok;
    r
}

// ------------------------------------------------------- one connection --

async fn serve_http(mut s: TcpStream) {
    let _ = s.set_nodelay(true); // responses are small: send each batch at once
    let mut input = vec![0u8; BUFFER_SIZE];
    let mut begin = 0usize; // unparsed input is input[begin..end]
    let mut end = 0usize;
    let mut skip_body = 0usize; // body bytes of the last request still to discard
    let mut out: Vec<u8> = Vec::new();
    loop {
        // Answer every complete request in the buffer, then write once.
        let mut close_after = false;
        loop {
            let drop = skip_body.min(end - begin);
            begin += drop;
            skip_body -= drop;
            if skip_body > 0 || begin == end {
                break;
            }
            let r = parse_head(&input[begin..end]);
            if r.kind == Kind::Incomplete {
                break;
            }
            if r.kind != Kind::Ok {
                out.extend_from_slice(if r.kind == Kind::Chunked {
                    CHUNKED_UNSUPPORTED
                } else {
                    BAD_REQUEST
                });
                close_after = true;
                break;
            }
            out.extend_from_slice(if r.close { HELLO_THEN_CLOSE } else { HELLO });
            begin += r.head_len;
            skip_body = r.content_length;
            if r.close {
                close_after = true;
                break;
            }
        }
        if !out.is_empty() {
            let written = s.write_all(&out).await;
            out.clear();
            if written.is_err() {
                return;
            }
        }
        if close_after {
            return;
        }
        // Make room: move the partial request to the front.
        if begin == end {
            begin = 0;
            end = 0;
        } else if end == BUFFER_SIZE {
            if begin == 0 {
                // one request head fills the whole buffer
                let _ = s.write_all(HEAD_TOO_LARGE).await;
                return;
            }
            input.copy_within(begin..end, 0);
            end -= begin;
            begin = 0;
        }
        match s.read(&mut input[end..]).await {
            Ok(0) | Err(_) => return, // the client closed, or an error
            Ok(n) => end += n,
        }
    }
}

async fn accept_loop(listener: TcpListener) {
    loop {
        match listener.accept().await {
            Ok((conn, _)) => {
                tokio::spawn(serve_http(conn));
            }
            Err(e) => {
                eprintln!("accept: {e}");
                if matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)) {
                    tokio::time::sleep(OUT_OF_FDS_BACKOFF).await;
                }
            }
        }
    }
}

// ----------------------------------------------------------------- main --

fn usage(message: &str) -> ! {
    eprintln!("http_hello_tokio: {message}");
    eprintln!("usage: http_hello_tokio [--port P] [--listen IP] [--threads N]");
    std::process::exit(2);
}

/// --port, --listen, --threads, as "--flag value" or "--flag=value".
fn parse_args() -> (u16, IpAddr, usize) {
    let mut port: u16 = 8080;
    let mut listen: IpAddr = IpAddr::from([127, 0, 0, 1]);
    let mut threads: usize = 1;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) => (f.to_string(), Some(v.to_string())),
            None => (arg.clone(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .unwrap_or_else(|| usage(&format!("{flag} wants a value")))
        };
        match flag.as_str() {
            "--port" | "-port" => {
                port = value()
                    .parse()
                    .unwrap_or_else(|_| usage("--port must be 0..65535"))
            }
            "--listen" | "-listen" => {
                listen = value()
                    .parse()
                    .unwrap_or_else(|_| usage("--listen wants a numeric IP address"))
            }
            "--threads" | "-threads" => {
                threads = value()
                    .parse()
                    .ok()
                    .filter(|&n| n >= 1)
                    .unwrap_or_else(|| usage("--threads must be >= 1"))
            }
            _ => usage(&format!("unknown argument {arg}")),
        }
    }
    (port, listen, threads)
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

fn main() {
    let (port, ip, threads) = parse_args();
    let stop_signals = block_stop_signals();

    let rt = runtime_with_drivers(threads);
    let listener = match rt.block_on(TcpListener::bind(SocketAddr::new(ip, port))) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("bind {ip}:{port}: {e}");
            std::process::exit(1);
        }
    };
    let bound = listener.local_addr().expect("local_addr");
    println!(
        "http_hello_tokio listening on http://{bound}/ with {threads} thread{}",
        if threads == 1 { "" } else { "s" }
    );
    rt.spawn(accept_loop(listener));

    let mut signo: libc::c_int = 0;
    let rc = unsafe { libc::sigwait(&stop_signals, &mut signo) };
    if rc != 0 {
        eprintln!("sigwait: {}", std::io::Error::from_raw_os_error(rc));
        std::process::exit(1);
    }
    let name = unsafe { std::ffi::CStr::from_ptr(libc::strsignal(signo)) };
    println!("got {}, shutting down", name.to_string_lossy());
    // Stops the workers and drops every task: the accept loop (closing the
    // listener) and the open connections.
    rt.shutdown_timeout(Duration::from_secs(5));
    println!("bye");
}
