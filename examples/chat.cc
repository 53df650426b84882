// A line-oriented chat server: every line a client sends goes to every
// other client, prefixed with the sender's address.
//
//   bazel run //examples:chat -- --port 7001
//   nc 127.0.0.1 7001          (in two or more terminals)
//
// Shows, per connection: split() into a read half and a write half
// (io/split.h) served by two tasks; BufReader::read_line with a bound on the
// line length (io/buf_reader.h); and one weft::broadcast channel
// (sync/broadcast.h) as the room every writer task subscribes to.
//
// What a client sees (every line ends in '\n'):
//   * welcome, you are 127.0.0.1:50312      first, once it is in the room
//   * 127.0.0.1:50314 joined / left         others coming and going
//   127.0.0.1:50314: hello                  another client's line
//   * you missed 12 messages                when it fell more than --backlog
//                                           messages behind (a slow reader)
//   * error: line longer than 1024 bytes, closing
//   * server shutting down
// A client does not get its own lines back.
//
// Limits: a line longer than --max_line bytes (its '\n' included) gets the
// error line and the connection is closed; nothing is buffered beyond that
// bound. A client that falls behind loses the oldest messages, not the
// server's memory (the broadcast keeps the last --backlog). A client that
// does not take what we send for --idle_timeout is disconnected; a quiet
// one is not (reading chat is allowed). At most --max_connections are open
// (connections.h).
//
// On SIGINT or SIGTERM it stops accepting, tells every client "server
// shutting down" and closes its connection, then exits 0 (clients that do
// not finish within --drain_timeout are cut).
#include <signal.h>
#include <string.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "examples/accept_loop.h"
#include "examples/connections.h"
#include "weft.h"

ABSL_FLAG(int, port, 7001, "the port to listen on (0: any free port)");
ABSL_FLAG(std::string, listen, "127.0.0.1", "the numeric IP address to listen on");
ABSL_FLAG(int, max_line, 1024,
          "the longest line a client may send, in bytes with its newline; a longer one "
          "closes the connection");
ABSL_FLAG(int, backlog, 64,
          "messages kept for clients that read slowly; one further behind is told how many "
          "it missed");

namespace {

// The read buffer of each connection: lines longer than this are still read
// (into the line, up to --max_line), it only sets the size of one read.
constexpr size_t kReadBuffer = 4 * 1024;

// One message in the room: its text (without the newline) and who sent it,
// so that the sender's own writer can skip it. kServer: nobody's.
struct Message {
  uint64_t from;
  std::string text;
};
constexpr uint64_t kServer = 0;

using Room = weft::BroadcastSender<Message>;
using Stream = weft::TcpStream;

// Writes `text` and a newline, failing with DeadlineExceeded if the client
// does not take it within `idle`.
weft::Task<absl::Status> write_line(weft::WriteHalf<Stream>& wr, std::string text,
                                    std::chrono::nanoseconds idle) {
  text += '\n';
  const auto deadline = examples::idle_deadline(idle);
  if (deadline == weft::Clock::time_point::max()) co_return co_await weft::write_all(wr, text);
  auto r = co_await weft::timeout_at(deadline, weft::write_all(wr, text));
  if (!r.ok()) co_return r.status();
  co_return *r;
}

// The write half's task: the welcome, then the room's messages (but our
// own), until the room closes (shutdown) or the reader sends a last word
// through `bye` (the line was too long) or drops it (the client left).
weft::Task<void> write_messages(weft::WriteHalf<Stream> wr, uint64_t self, std::string name,
                                weft::BroadcastReceiver<Message> rx,
                                weft::OneshotReceiver<std::string> bye,
                                std::chrono::nanoseconds idle) {
  // Ends the connection both ways: the client reads end of stream after
  // what we sent, and our reader's pending read ends too, so the
  // connection task finishes.
  auto end_connection = [&wr] { (void)wr.get_ref().shutdown(weft::Shutdown::kBoth); };
  if (!(co_await write_line(wr, "* welcome, you are " + name, idle)).ok()) {
    end_connection();  // gone, or not reading for --idle_timeout
    co_return;
  }
  for (;;) {
    // Both branches are cancel-safe: the loser takes nothing.
    auto next = co_await weft::when_any(rx.recv(), bye);
    std::string line;
    bool last = false;
    if (next.index() == 0) {
      absl::StatusOr<Message>& m = std::get<0>(next);
      if (m.ok()) {
        if (m->from == self) continue;
        line = std::move(m->text);
      } else if (weft::is_lagged(m.status())) {
        line = absl::StrCat("* you missed ", rx.missed(), " messages");
      } else {  // closed: the server is shutting down
        line = "* server shutting down";
        last = true;
      }
    } else {
      absl::StatusOr<std::string>& word = std::get<1>(next);
      if (!word.ok()) co_return;  // the reader ended without a word: the client left
      line = *std::move(word);
      last = true;
    }
    if (!(co_await write_line(wr, std::move(line), idle)).ok() || last) {
      end_connection();
      co_return;
    }
  }
}

// One client: the read half here, the write half in its own task.
weft::Task<void> serve_client(Stream s, weft::SocketAddress peer, uint64_t self, Room room,
                              size_t max_line, std::chrono::nanoseconds idle) {
  const std::string name = peer.to_string();
  auto [rd, wr] = weft::split(std::move(s));  // owning: closed when both halves are gone
  auto [bye_tx, bye_rx] = weft::oneshot<std::string>();
  // Subscribed before the welcome goes out: a client that has read its
  // welcome gets every line sent after that.
  weft::JoinHandle<void> writer = weft::spawn(
      write_messages(std::move(wr), self, name, room.subscribe(), std::move(bye_rx), idle));
  (void)room.send(Message{self, "* " + name + " joined"});

  weft::BufReader reader(std::move(rd), kReadBuffer);
  std::string line;
  for (;;) {
    line.clear();
    absl::StatusOr<size_t> n = co_await reader.read_line(line, max_line);
    if (!n.ok()) {
      if (absl::IsResourceExhausted(n.status())) {  // the rest of the line is not read
        (void)bye_tx.send(absl::StrCat("* error: line longer than ", max_line, " bytes, closing"));
      }
      break;
    }
    if (*n == 0) break;  // the client closed
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    (void)room.send(Message{self, name + ": " + line});
  }
  {
    auto gone = std::move(bye_tx);  // if no word was sent: the writer stops
  }
  co_await writer;
  (void)room.send(Message{self, "* " + name + " left"});
}

// Serves until SIGINT or SIGTERM, then: no new clients, the room closes
// (every writer says goodbye and ends its connection), and the connections
// get --drain_timeout to finish.
weft::Task<int> serve(weft::TcpListener listener, weft::Signals signals,
                      examples::ServerLimits limits, size_t max_line, size_t backlog) {
  auto [room, unused] = weft::broadcast<Message>(backlog);
  { auto drop = std::move(unused); }  // the clients subscribe through `room`
  examples::Connections conns(limits.max_connections);
  // Clients are numbered from kServer + 1, in accept order.
  auto acceptor = weft::spawn(examples::accept_loop(
      listener, conns,
      [room, max_line, idle = limits.idle_timeout, next_id = kServer + 1](
          Stream s, weft::SocketAddress peer) mutable {
        return serve_client(std::move(s), peer, next_id++, room, max_line, idle);
      }));
  co_await examples::await_stop_signal(signals);
  co_await acceptor.cancel();  // no new clients
  room.close();
  co_await conns.drain(limits.drain_timeout);
  std::printf("bye\n");
  co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  // SIGINT / SIGTERM from here on become a stop request (connections.h).
  int startup_failed = 0;
  std::optional<examples::ServerStartup> start = examples::server_startup(&startup_failed);
  if (!start) return startup_failed;
  weft::Signals& signals = start->signals;
  const examples::ServerLimits& limits = start->limits;
  const int port = absl::GetFlag(FLAGS_port);
  const int max_line = absl::GetFlag(FLAGS_max_line);
  const int backlog = absl::GetFlag(FLAGS_backlog);
  if (port < 0 || port > 65535 || max_line < 1 || backlog < 1) {
    std::fprintf(stderr, "--port must be 0..65535, --max_line and --backlog >= 1\n");
    return 2;
  }
  auto addr =
      weft::SocketAddress::from_ip(absl::GetFlag(FLAGS_listen), static_cast<uint16_t>(port));
  if (!addr.ok()) {
    std::fprintf(stderr, "--listen: %s\n", addr.status().ToString().c_str());
    return 2;
  }
  auto listener = weft::TcpListener::bind(*addr);
  if (!listener.ok()) {
    std::fprintf(stderr, "%s\n", listener.status().ToString().c_str());
    return 1;
  }
  std::printf("chat listening on %s\n", listener->local_address().value().to_string().c_str());
  std::fflush(stdout);
  return weft::block_on(serve(*std::move(listener), std::move(signals), limits,
                              static_cast<size_t>(max_line), static_cast<size_t>(backlog)));
}
