// http_hello_asio: the Asio peer of examples/http_hello.cc on BENCH.md's
// http_hello workload (benches/http_bench.sh drives both with wrk).
//
//   bazel run -c opt //benches:http_hello_asio -- --port 8080 --threads 2
//   wrk -t1 -c50 -d10s --latency http://127.0.0.1:8080/
//
// The same flags (--port, --listen, --threads), the same response bytes and
// the same request framing as the weft example, which this file follows
// line for line where it can:
//
// * Threads: one asio::io_context (concurrency hint N) run by this thread
//   and N - 1 more. One coroutine per connection, asio::co_spawn'ed on the
//   io_context from the accept loop (itself a coroutine).
// * HTTP: just enough to find request boundaries. A request ends after its
//   header block plus Content-Length bytes of body; pipelined requests are
//   answered in order, all the responses for what one read brought in going
//   out in one write. "Connection: close" (or HTTP/1.0 without keep-alive)
//   closes after the response. Chunked request bodies and oversized headers
//   are answered with an error and the connection is closed. The responses
//   and parse_head() are the example's own (examples/http_framing.h).
// * Shutdown: SIGINT or SIGTERM (an asio::signal_set) closes the acceptor
//   and stops the io_context; the threads leave run(), the io_context is
//   destroyed with the open connections' coroutines, and main returns 0.
//
// Errors on a connection (EOF, reset) come back as error codes
// (asio::redirect_error), not exceptions, as the weft example's statuses do.
#include <strings.h>

#include <algorithm>
#include <asio.hpp>
#include <asio/redirect_error.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "examples/http_framing.h"

ABSL_FLAG(int, port, 8080, "the port to listen on (0: any free port)");
ABSL_FLAG(std::string, listen, "127.0.0.1", "the numeric IP address to listen on");
ABSL_FLAG(int, threads, 1, "threads running the io_context (this one included)");

namespace {

using namespace http_framing;

// How long the accept loop pauses when the process is out of fds.
constexpr auto kOutOfFdsBackoff = std::chrono::milliseconds(100);

// --- one connection ------------------------------------------------------

using asio::ip::tcp;

asio::awaitable<void> serve_http(tcp::socket s) {
  asio::error_code ec;
  s.set_option(tcp::no_delay(true), ec);  // responses are small: send each batch at once
  RequestBuffer in;  // on the coroutine frame, as the weft example's is on its task's
  std::string out;
  for (;;) {
    // Answer every complete request in the buffer, then write once.
    const bool close_after = in.answer(out);
    if (!out.empty()) {
      co_await asio::async_write(s, asio::buffer(out),
                                 asio::redirect_error(asio::use_awaitable, ec));
      out.clear();
      if (ec) co_return;
    }
    if (close_after) co_return;
    if (!in.make_room()) {  // one request head fills the whole buffer
      co_await asio::async_write(s, asio::buffer(kHeadTooLarge.data(), kHeadTooLarge.size()),
                                 asio::redirect_error(asio::use_awaitable, ec));
      co_return;
    }
    const size_t n = co_await s.async_read_some(asio::buffer(in.read_at(), in.read_room()),
                                                asio::redirect_error(asio::use_awaitable, ec));
    if (ec || n == 0) co_return;  // error or the client closed (asio::error::eof)
    in.did_read(n);
  }
}

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor) {
  const auto ex = co_await asio::this_coro::executor;
  for (;;) {
    asio::error_code ec;
    tcp::socket conn =
        co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (ec == asio::error::operation_aborted) co_return;  // the acceptor closed
      std::fprintf(stderr, "accept: %s\n", ec.message().c_str());
      if (ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space) {
        asio::steady_timer backoff(ex, kOutOfFdsBackoff);
        co_await backoff.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      }
      continue;
    }
    asio::co_spawn(ex, serve_http(std::move(conn)), asio::detached);
  }
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const int threads = absl::GetFlag(FLAGS_threads);
  const int port = absl::GetFlag(FLAGS_port);
  if (threads < 1 || port < 0 || port > 65535) {
    std::fprintf(stderr, "--threads must be >= 1 and --port 0..65535\n");
    return 2;
  }
  asio::error_code ec;
  const asio::ip::address ip = asio::ip::make_address(absl::GetFlag(FLAGS_listen), ec);
  if (ec) {
    std::fprintf(stderr, "--listen: %s\n", ec.message().c_str());
    return 2;
  }

  int rc = 0;
  {
    asio::io_context ctx(threads);
    // Registered before any other thread starts: asio's signal handling then
    // sees the signals whichever thread they land on.
    asio::signal_set signals(ctx, SIGINT, SIGTERM);
    tcp::acceptor acceptor(ctx);
    const tcp::endpoint at(ip, static_cast<uint16_t>(port));
    acceptor.open(at.protocol(), ec);
    if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor.bind(at, ec);
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      std::fprintf(stderr, "bind %s:%d: %s\n", ip.to_string().c_str(), port,
                   ec.message().c_str());
      return 1;
    }
    const tcp::endpoint bound = acceptor.local_endpoint();
    std::printf("http_hello_asio listening on http://%s:%u/ with %d thread%s\n",
                bound.address().to_string().c_str(), static_cast<unsigned>(bound.port()),
                threads, threads == 1 ? "" : "s");
    std::fflush(stdout);

    signals.async_wait([&](const asio::error_code& e, int signo) {
      if (e) {
        std::fprintf(stderr, "signal_set: %s\n", e.message().c_str());
        rc = 1;
      } else {
        std::printf("got %s, shutting down\n", ::strsignal(signo));
      }
      asio::error_code ignored;
      acceptor.close(ignored);  // no new connections; open ones end with ctx
      ctx.stop();
    });
    asio::co_spawn(ctx, accept_loop(acceptor), asio::detached);

    std::vector<std::thread> workers;
    for (int i = 1; i < threads; ++i) workers.emplace_back([&] { ctx.run(); });
    ctx.run();
    for (auto& t : workers) t.join();
    // ctx is destroyed last (declared first): it destroys the coroutines of
    // the connections still open, closing their sockets.
  }
  std::printf("bye\n");
  return rc;
}
