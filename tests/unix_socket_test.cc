// UnixListener, UnixStream and UnixDatagram: filesystem paths, abstract
// names, pairs, unbound senders, and errors.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstring>
#include <string>

#include "net_test_util.h"
#include "weft.h"

using weft::Shutdown;
using weft::Task;
using weft::UnixAddress;
using weft::UnixDatagram;
using weft::UnixListener;
using weft::UnixStream;

TEST_CASE("Unix stream: bind a path, connect, accept, talk; addresses", "[unix]") {
  const std::string path = weft_test::socket_path("stream.sock");
  ::unlink(path.c_str());
  auto listener = UnixListener::bind(path);
  weft_test::require_ok(listener);
  CHECK(listener->local_address().value().path() == path);
  weft::block_on([&]() -> Task<void> {
    auto c = co_await UnixStream::connect(path);
    weft_test::require_ok(c);
    auto s = co_await listener->accept();
    weft_test::require_ok(s);
    CHECK(s->second.is_unnamed());  // the client never bound
    CHECK(c->peer_address().value().path() == path);
    CHECK(c->local_address().value().is_unnamed());
    weft_test::require_ok(co_await c->write_all("over unix", 9));
    char buf[9];
    weft_test::require_ok(co_await s->first.read_exact(buf, 9));
    CHECK(std::string(buf, 9) == "over unix");
    char peeked[4];
    weft_test::require_ok(co_await s->first.write_all("back", 4));
    auto p = co_await c->peek(peeked, 4);
    weft_test::require_ok(p);
    weft_test::require_ok(co_await c->read_exact(buf, 4));
    CHECK(std::string(peeked, *p) == std::string(buf, *p));
  }());
  ::unlink(path.c_str());
}

TEST_CASE("Unix stream: connecting to a missing path is NotFound; a taken path is refused",
          "[unix]") {
  const std::string missing = weft_test::socket_path("nobody-here.sock");
  auto st = weft::block_on([&]() -> Task<absl::Status> {
    auto c = co_await UnixStream::connect(missing);
    co_return c.status();
  }());
  CHECK(absl::IsNotFound(st));
  CHECK_THAT(std::string(st.message()), Catch::Contains(missing));

  const std::string path = weft_test::socket_path("taken.sock");
  ::unlink(path.c_str());
  auto first = UnixListener::bind(path);
  weft_test::require_ok(first);
  auto second = UnixListener::bind(path);
  REQUIRE_FALSE(second.ok());
  CHECK_THAT(std::string(second.status().message()), Catch::Contains(std::strerror(EADDRINUSE)));
  ::unlink(path.c_str());
}

TEST_CASE("Unix stream: abstract addresses", "[unix][abstract]") {
  const std::string name = weft_test::unique_name("weft-abstract-stream");
  const UnixAddress addr = UnixAddress::abstract(name).value();
  auto listener = UnixListener::bind(addr);
  weft_test::require_ok(listener);
  const UnixAddress local = listener->local_address().value();
  CHECK(local.is_abstract());
  CHECK(local.abstract_name() == name);
  CHECK(local == addr);
  CHECK(local.to_string() == "@" + name);
  weft::block_on([&]() -> Task<void> {
    // The kernel's spelling, a leading NUL, reaches the same socket.
    auto c = co_await UnixStream::connect(std::string(1, '\0') + name);
    weft_test::require_ok(c);
    CHECK(c->peer_address().value() == addr);
    auto s = co_await listener->accept();
    weft_test::require_ok(s);
    weft_test::require_ok(co_await c->write_all("abs", 3));
    char buf[3];
    weft_test::require_ok(co_await s->first.read_exact(buf, 3));
    CHECK(std::string(buf, 3) == "abs");
  }());
  // Gone with the listener: nothing to unlink, and connecting is refused.
  listener->close();
  auto st = weft::block_on([&]() -> Task<absl::Status> {
    auto c = co_await UnixStream::connect(addr);
    co_return c.status();
  }());
  CHECK_THAT(std::string(st.message()), Catch::Contains(std::strerror(ECONNREFUSED)));
}

TEST_CASE("Unix stream: pair(), and shutdown(write) as end of stream", "[unix]") {
  auto p = UnixStream::pair();
  weft_test::require_ok(p);
  auto& [a, b] = *p;
  weft::block_on([&]() -> Task<void> {
    weft_test::require_ok(co_await a.write_all("paired", 6));
    weft_test::require_ok(a.shutdown(Shutdown::kWrite));
    std::string got;
    char buf[16];
    for (;;) {
      auto n = co_await b.read(buf, sizeof buf);
      weft_test::require_ok(n);
      if (*n == 0) break;
      got.append(buf, *n);
    }
    CHECK(got == "paired");
    weft_test::require_ok(co_await b.write_all("still", 5));
    weft_test::require_ok(co_await a.read_exact(buf, 5));
    CHECK(std::string(buf, 5) == "still");
  }());
}

TEST_CASE("Unix datagram: bound sockets exchange datagrams with sender addresses", "[unix]") {
  const std::string pa = weft_test::socket_path("dgram-a.sock");
  const std::string pb = weft_test::socket_path("dgram-b.sock");
  ::unlink(pa.c_str());
  ::unlink(pb.c_str());
  auto a = UnixDatagram::bind(pa);
  auto b = UnixDatagram::bind(pb);
  weft_test::require_ok(a);
  weft_test::require_ok(b);
  weft::block_on([&]() -> Task<void> {
    weft_test::require_ok(co_await a->send_to("d1", 2, b->local_address().value()));
    weft_test::require_ok(co_await a->send_to("d22", 3, b->local_address().value()));
    char buf[16];
    auto r1 = co_await b->recv_from(buf, sizeof buf);
    weft_test::require_ok(r1);
    CHECK(std::string(buf, r1->first) == "d1");
    CHECK(r1->second.path() == pa);
    auto r2 = co_await b->recv_from(buf, sizeof buf);
    weft_test::require_ok(r2);
    CHECK(std::string(buf, r2->first) == "d22");
    // Reply to the sender's address.
    weft_test::require_ok(co_await b->send_to("re", 2, r2->second));
    auto back = co_await a->recv_from(buf, sizeof buf);
    weft_test::require_ok(back);
    CHECK(std::string(buf, back->first) == "re");
    CHECK(back->second.path() == pb);
  }());
  ::unlink(pa.c_str());
  ::unlink(pb.c_str());
}

TEST_CASE("Unix datagram: unbound senders, connect, pair(), abstract receivers",
          "[unix][abstract]") {
  const UnixAddress where =
      UnixAddress::abstract(weft_test::unique_name("weft-abstract-dgram")).value();
  auto receiver = UnixDatagram::bind(where);
  weft_test::require_ok(receiver);
  CHECK(receiver->local_address().value() == where);
  auto sender = UnixDatagram::unbound();
  weft_test::require_ok(sender);
  auto pair = UnixDatagram::pair();
  weft_test::require_ok(pair);
  weft::block_on([&]() -> Task<void> {
    weft_test::require_ok(co_await sender->send_to("anon", 4, where));
    char buf[16];
    auto r = co_await receiver->recv_from(buf, sizeof buf);
    weft_test::require_ok(r);
    CHECK(std::string(buf, r->first) == "anon");
    CHECK(r->second.is_unnamed());

    // Connected: send / recv without addresses.
    weft_test::require_ok(sender->connect(where));
    CHECK(sender->peer_address().value() == where);
    weft_test::require_ok(co_await sender->send("conn", 4));
    auto n = co_await receiver->recv(buf, sizeof buf);
    weft_test::require_ok(n);
    CHECK(std::string(buf, *n) == "conn");

    auto& [x, y] = *pair;
    weft_test::require_ok(co_await x.send("px", 2));
    weft_test::require_ok(co_await y.send("py!", 3));
    auto at_y = co_await y.recv(buf, sizeof buf);
    weft_test::require_ok(at_y);
    CHECK(std::string(buf, *at_y) == "px");
    auto at_x = co_await x.recv(buf, sizeof buf);
    weft_test::require_ok(at_x);
    CHECK(std::string(buf, *at_x) == "py!");
  }());
}

TEST_CASE("Unix datagram: recv waits until a datagram arrives", "[unix]") {
  auto pair = UnixDatagram::pair();
  weft_test::require_ok(pair);
  auto& [x, y] = *pair;
  weft::Executor ex;
  auto got = weft_test::run_with_helper(ex, [&]() -> Task<absl::StatusOr<std::string>> {
    auto h = ex.spawn([](UnixDatagram* s) -> Task<absl::StatusOr<std::string>> {
      char buf[16];
      auto n = co_await s->recv(buf, sizeof buf);
      if (!n.ok()) co_return n.status();
      co_return std::string(buf, *n);
    }(&y));
    while (y.num_waiters() == 0 && !h.is_finished()) co_await weft::yield_now();
    CHECK(y.num_waiters() == 1);
    auto sent = co_await x.send("wake", 4);
    if (!sent.ok()) co_return sent.status();
    co_return co_await h;
  }());
  weft_test::require_ok(got);
  CHECK(*got == "wake");
}
