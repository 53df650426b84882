// Sockets that synchronous code created and connected become asynchronous
// with one line: weft::Async<...>::create.
//
//   bazel run //examples:wrap_sync_socket
//
// 1. A blocking asio::ip::tcp::socket, connected the synchronous way. Once
//    wrapped, read_with / write_with call Asio's own non-blocking
//    read_some / write_some and wait in weft whenever Asio says would_block.
// 2. A raw fd from socketpair(2) that a C-style API hands over, used with
//    that API's own receive call, which reports EAGAIN like recv(2).
// In both, the other end is driven by a plain blocking thread, as legacy
// code would. The program checks every reply and exits non-zero on a
// mismatch or an error.
#include <sys/socket.h>
#include <unistd.h>

#include <asio.hpp>
#include <cctype>
#include <cstdio>
#include <string>
#include <thread>
#include <utility>

#include "weft.h"

namespace {

// --- a stand-in for a C library ------------------------------------------
// legacy_open_channel connects two ends and keeps one for its own (blocking)
// worker; legacy_recv / legacy_send are its I/O calls, errno style.
extern "C" int legacy_open_channel(int* library_end) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) return -1;
  *library_end = fds[1];
  return fds[0];
}
extern "C" ssize_t legacy_recv(int fd, char* buf, size_t cap) { return ::recv(fd, buf, cap, 0); }
extern "C" ssize_t legacy_send(int fd, const char* buf, size_t len) {
  return ::send(fd, buf, len, MSG_NOSIGNAL);
}

// A blocking peer: reads one line, answers it in upper case.
template <class ReadSome, class WriteAll>
void shout_back(ReadSome read_some, WriteAll write_all) {
  std::string line;
  char c;
  while (read_some(&c) == 1 && c != '\n') line += c;
  for (char& ch : line) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  line += '\n';
  write_all(line);
}

bool expect(bool ok, const std::string& what) {
  std::printf("%s %s\n", ok ? "ok  " : "FAIL", what.c_str());
  return ok;
}

// Part 1: Asio. Asio's calls report would_block as an error_code; return it
// in a pair so read_with / write_with can tell.
weft::Task<bool> talk_over_asio(weft::Async<asio::ip::tcp::socket>& sock) {
  const std::string request = "hello from asio\n";
  size_t sent = 0;
  while (sent < request.size()) {
    auto w = co_await sock.write_with([&](asio::ip::tcp::socket& s) {
      asio::error_code ec;
      size_t n = s.write_some(asio::buffer(request.data() + sent, request.size() - sent), ec);
      return std::pair{n, ec};
    });
    if (!w.ok() || w->second) co_return expect(false, "asio write_some");
    sent += w->first;
  }
  std::string reply;
  while (reply.empty() || reply.back() != '\n') {
    char buf[64];
    auto r = co_await sock.read_with([&](asio::ip::tcp::socket& s) {
      asio::error_code ec;
      size_t n = s.read_some(asio::buffer(buf), ec);
      return std::pair{n, ec};
    });
    if (!r.ok() || r->second) co_return expect(false, "asio read_some");
    reply.append(buf, r->first);
  }
  co_return expect(reply == "HELLO FROM ASIO\n", "asio socket: reply is \"HELLO FROM ASIO\"");
}

// Part 2: the C API's own calls; they return -1 with errno EAGAIN when the
// (now non-blocking) fd has nothing, and read_with waits then.
weft::Task<bool> talk_over_c_api(weft::Async<int>& channel) {
  const std::string request = "hello from c\n";
  auto w = co_await channel.write_with(
      [&](int fd) { return legacy_send(fd, request.data(), request.size()); });
  if (!w.ok() || *w != static_cast<ssize_t>(request.size())) {
    co_return expect(false, "legacy_send");
  }
  std::string reply;
  while (reply.empty() || reply.back() != '\n') {
    char buf[64];
    auto r = co_await channel.read_with([&](int fd) { return legacy_recv(fd, buf, sizeof buf); });
    if (!r.ok() || *r <= 0) co_return expect(false, "legacy_recv");
    reply.append(buf, static_cast<size_t>(*r));
  }
  co_return expect(reply == "HELLO FROM C\n", "C API fd: reply is \"HELLO FROM C\"");
}

}  // namespace

int main() {
  bool ok = true;

  // 1. Synchronous Asio code sets up a connection...
  asio::io_context ctx;
  asio::ip::tcp::acceptor acceptor(ctx, {asio::ip::make_address("127.0.0.1"), 0});
  asio::ip::tcp::socket sock(ctx);
  sock.connect(acceptor.local_endpoint());
  asio::ip::tcp::socket their_end = acceptor.accept();
  std::thread asio_peer([&] {
    asio::error_code ec;  // on errors the peer just stops: main reports them
    shout_back([&](char* c) { return asio::read(their_end, asio::buffer(c, 1), ec); },
               [&](const std::string& s) { asio::write(their_end, asio::buffer(s), ec); });
  });
  // ...and this one line makes it asynchronous:
  auto async_sock = weft::Async<asio::ip::tcp::socket>::create(std::move(sock));
  if (!async_sock.ok()) {
    std::fprintf(stderr, "%s\n", async_sock.status().ToString().c_str());
    return 1;
  }
  const bool asio_ok = weft::block_on(talk_over_asio(*async_sock));
  if (!asio_ok) {  // unblock the peer
    asio::error_code ec;
    async_sock->get_ref().shutdown(asio::socket_base::shutdown_both, ec);
  }
  asio_peer.join();
  ok &= asio_ok;
  // Hand it back to synchronous code, blocking again.
  asio::ip::tcp::socket back = std::move(*async_sock).into_inner();
  ok &= expect(!back.non_blocking(), "into_inner gives the Asio socket back in blocking mode");

  // 2. A C API hands over a connected, blocking fd...
  int library_end = -1;
  int fd = legacy_open_channel(&library_end);
  if (fd < 0) {
    std::perror("legacy_open_channel");
    return 1;
  }
  std::thread c_peer([&] {
    shout_back([&](char* c) { return ::read(library_end, c, 1); },
               [&](const std::string& s) { (void)!::write(library_end, s.data(), s.size()); });
  });
  // ...and one line makes it asynchronous (Async<int> owns and closes it):
  auto channel = weft::Async<int>::create(std::move(fd));
  if (!channel.ok()) {
    std::fprintf(stderr, "%s\n", channel.status().ToString().c_str());
    c_peer.detach();
    return 1;
  }
  const bool c_ok = weft::block_on(talk_over_c_api(*channel));
  if (!c_ok) ::shutdown(channel->fd(), SHUT_RDWR);  // unblock the peer
  c_peer.join();
  ok &= c_ok;
  ::close(library_end);

  std::printf("%s\n", ok ? "all checks passed" : "some checks FAILED");
  return ok ? 0 : 1;
}
