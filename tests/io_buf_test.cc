// io/: BufReader (fill_buf/consume, read_until, read_line at its cap, the
// line iterator) and BufWriter (flush, close, large writes), over a reader
// that returns one byte per read, TcpStream pairs and duplex.
#include <catch2/catch.hpp>

#include <string>

#include "net_test_util.h"
#include "test_util.h"
#include "weft.h"

using weft::BufReader;
using weft::BufWriter;
using weft::DuplexStream;
using weft::Task;
using weft::TcpStream;
using weft_test::require_ok;

namespace {

// Reads from a string, one byte per call: every line spans many fills.
struct OneByteReader {
  std::string data;
  size_t pos = 0;
  int reads = 0;
  Task<absl::StatusOr<size_t>> read(std::span<std::byte> buf) {
    ++reads;
    if (buf.empty() || pos == data.size()) co_return size_t{0};
    buf[0] = static_cast<std::byte>(data[pos++]);
    co_return size_t{1};
  }
};

template <class R>
Task<void> lines_of(BufReader<R>& r) {
  std::string out;
  absl::StatusOr<size_t> n = co_await r.read_line(out);
  require_ok(n);
  CHECK(*n == 6);
  CHECK(out == "hello\n");
  auto line = co_await r.next_line();
  require_ok(line);
  REQUIRE(line->has_value());
  CHECK(**line == "crlf");  // "\r\n" stripped
  std::string rec;
  n = co_await r.read_until(';', rec);
  require_ok(n);
  CHECK(rec == "a;");
  line = co_await r.next_line();
  require_ok(line);
  REQUIRE(line->has_value());
  CHECK(**line == "b;tail");  // the last line, without '\n'
  line = co_await r.next_line();
  require_ok(line);
  CHECK(!line->has_value());  // the end
}

constexpr std::string_view kText = "hello\ncrlf\r\na;b;tail";

Task<absl::Status> send_text_and_close(DuplexStream& s, std::string text) {
  absl::Status st = co_await weft::write_all(s, text);
  s.shutdown();
  co_return st;
}
Task<absl::Status> send_text_and_close(TcpStream& s, std::string text) {
  // No Catch2 here: this runs on an executor thread (Catch2 is one-thread).
  absl::Status st = co_await weft::write_all(s, text);
  if (st.ok()) st = s.shutdown(weft::Shutdown::kWrite);
  co_return st;
}

// The writer keeps its end; the reader's end moves into the BufReader.
template <class S>
Task<void> lines_over(S& a, S b) {
  auto w = weft::spawn(send_text_and_close(a, std::string(kText)));
  BufReader<S> r(std::move(b), 4);  // a small buffer: lines span fills
  co_await lines_of(r);
  require_ok(co_await w);
}

Task<void> one_byte_lines() {
  BufReader r(OneByteReader{std::string(kText)});
  co_await lines_of(r);
}

Task<void> fill_and_consume() {
  BufReader r(OneByteReader{"xy"}, 16);
  auto have = co_await r.fill_buf();
  require_ok(have);
  REQUIRE(have->size() == 1);  // one read, one byte
  CHECK(static_cast<char>((*have)[0]) == 'x');
  have = co_await r.fill_buf();  // still buffered: no new read
  require_ok(have);
  CHECK(have->size() == 1);
  CHECK(r.get_ref().reads == 1);
  r.consume(1);
  have = co_await r.fill_buf();
  require_ok(have);
  REQUIRE(have->size() == 1);
  CHECK(static_cast<char>((*have)[0]) == 'y');
  r.consume(5);  // more than buffered: clamps
  have = co_await r.fill_buf();
  require_ok(have);
  CHECK(have->empty());  // the end
}

Task<void> line_cap() {
  // "abcd\n" is 5 bytes with its newline.
  BufReader r(OneByteReader{"abcd\nabcde\nz"});
  std::string out;
  absl::StatusOr<size_t> n = co_await r.read_line(out, 5);  // exactly at the cap
  require_ok(n);
  CHECK(out == "abcd\n");
  out.clear();
  n = co_await r.read_line(out, 5);  // 6 bytes: one over
  CHECK(n.status().code() == absl::StatusCode::kResourceExhausted);
  CHECK(out == "abcde");  // what was read is kept
  out.clear();
  n = co_await r.read_line(out, 5);  // the rest of that line is still there
  require_ok(n);
  CHECK(out == "\n");
  auto line = co_await r.next_line();
  require_ok(line);
  CHECK(line->value() == "z");
}

Task<void> buf_reader_read() {
  BufReader r(OneByteReader{"0123456789"}, 4);
  std::string all;
  absl::StatusOr<size_t> n = co_await weft::read_to_end(r, all);
  require_ok(n);
  CHECK(all == "0123456789");
}

}  // namespace

TEST_CASE("BufReader: lines over a reader that returns one byte per read", "[io][bufreader]") {
  weft::block_on(one_byte_lines());
}

TEST_CASE("BufReader: lines over a TcpStream pair", "[io][bufreader]") {
  auto p = TcpStream::pair();
  require_ok(p);
  weft::block_on(lines_over(p->first, std::move(p->second)));
}

TEST_CASE("BufReader: lines over duplex", "[io][bufreader]") {
  auto [a, b] = weft::duplex(3);
  weft::block_on(lines_over(a, std::move(b)));
}

TEST_CASE("BufReader: fill_buf and consume", "[io][bufreader]") {
  weft::block_on(fill_and_consume());
}

TEST_CASE("BufReader: read_line at its cap", "[io][bufreader]") { weft::block_on(line_cap()); }

TEST_CASE("BufReader: is a reader itself", "[io][bufreader]") { weft::block_on(buf_reader_read()); }

namespace {

template <class S>
Task<void> buf_writer_over(S& peer, S end) {
  BufWriter<S> w(std::move(end), 16);
  require_ok(co_await weft::write_all(w, std::string_view("abc")));
  require_ok(co_await weft::write_all(w, std::string_view("def")));
  CHECK(w.buffer().size() == 6);  // held back until flushed
  require_ok(co_await w.flush());
  CHECK(w.buffer().empty());
  char got[6];
  require_ok(co_await weft::read_exact(peer, got, 6));
  CHECK(std::string(got, 6) == "abcdef");
  // Larger than the buffer: goes through; then close() flushes and ends.
  const std::string big(100, 'q');
  require_ok(co_await weft::write_all(w, std::string_view("<")));
  require_ok(co_await weft::write_all(w, big));
  require_ok(co_await weft::write_all(w, std::string_view(">")));
  require_ok(co_await w.close());
  absl::StatusOr<std::string> rest = co_await weft::read_to_string(peer);
  require_ok(rest);
  CHECK(*rest == "<" + big + ">");
}

}  // namespace

TEST_CASE("BufWriter: flush, large writes, close over a TcpStream pair", "[io][bufwriter]") {
  auto p = TcpStream::pair();
  require_ok(p);
  weft::block_on(buf_writer_over(p->first, std::move(p->second)));
}

TEST_CASE("BufWriter: flush, large writes, close over duplex", "[io][bufwriter]") {
  auto [a, b] = weft::duplex(1024);
  weft::block_on(buf_writer_over(a, std::move(b)));
}
