// Issue #14: a string with an embedded NUL is refused (InvalidArgument)
// before it reaches the OS, at every entry point where weft turns it into
// a C string, and nothing is read, created, renamed or removed. Without
// this, "/etc/hostname\0.txt" read /etc/hostname and "x\0.safe" created x.
#include <catch2/catch.hpp>

#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "fs_test_util.h"
#include "net_test_util.h"
#include "test_util.h"
#include "weft.h"

namespace fs = std::filesystem;
using weft::Task;

namespace {
// `prefix` + NUL + `suffix`: what the OS would see is `prefix`.
std::string with_nul(const std::string& prefix, const std::string& suffix) {
  return prefix + std::string(1, '\0') + suffix;
}

// InvalidArgument, and a message that names the NUL and its offset and
// carries no raw NUL (the quoted prefix, at most 64 bytes, is escaped; with
// TEST_TMPDIR's long paths the NUL itself often lies beyond it).
void check_refused(const absl::Status& st) {
  INFO(st.ToString());
  CHECK(absl::IsInvalidArgument(st));
  const std::string msg(st.message());
  CHECK(msg.find("unexpected NUL byte") != std::string::npos);
  CHECK(msg.find('\0') == std::string::npos);
  CHECK(msg.find("at offset ") != std::string::npos);
  CHECK(msg.size() < 400);
}
template <class T>
void check_refused(const absl::StatusOr<T>& r) {
  REQUIRE_FALSE(r.ok());
  check_refused(r.status());
}
}  // namespace

TEST_CASE("fs:: reads refuse a path with a NUL and read nothing", "[fs][nul]") {
  weft_test::TempDir dir;
  const fs::path real = dir / "hostname";
  weft_test::write_file(real, "secret");
  const fs::path bad = with_nul(real.native(), ".txt");  // the ".txt" a caller checked
  check_refused(weft::fs::read_to_string(bad).wait());
  check_refused(weft::fs::read(bad).wait());
  check_refused(weft::fs::metadata(bad).wait());
  check_refused(weft::fs::symlink_metadata(bad).wait());
  check_refused(weft::fs::canonicalize(bad).wait());
  check_refused(weft::fs::File::open(bad).wait());
  check_refused(weft::fs::File::open(bad, {.read = true}).wait());
  const fs::path bad_dir = with_nul(dir.path().native(), "x");
  check_refused(weft::fs::read_dir(bad_dir).wait());
}

TEST_CASE("fs:: writes refuse a path with a NUL and create nothing", "[fs][nul]") {
  weft_test::TempDir dir;
  const fs::path x = dir / "x";
  const fs::path bad = with_nul(x.native(), ".safe");
  check_refused(weft::fs::write(bad, std::string("data")).wait());
  const std::vector<std::byte> bytes(4, std::byte{1});
  check_refused(weft::fs::write(bad, std::span<const std::byte>(bytes)).wait());
  check_refused(weft::fs::File::create(bad).wait());
  check_refused(weft::fs::File::open(bad, {.write = true, .create = true}).wait());
  check_refused(weft::fs::create_dir(bad).wait());
  check_refused(weft::fs::create_dir_all(bad).wait());
  check_refused(weft::fs::create_dir_all(with_nul((dir / "p").native(), "/q")).wait());
  CHECK_FALSE(fs::exists(x));
  CHECK_FALSE(fs::exists(dir / "p"));
  CHECK(fs::is_empty(dir.path()));
}

TEST_CASE("fs:: copy and rename refuse a NUL in either path", "[fs][nul]") {
  weft_test::TempDir dir;
  const fs::path src = dir / "src";
  weft_test::write_file(src, "payload");
  const fs::path dst = dir / "dst";
  check_refused(weft::fs::copy(src, with_nul(dst.native(), ".bak")).wait());
  check_refused(weft::fs::copy(with_nul(src.native(), ".txt"), dst).wait());
  CHECK_FALSE(fs::exists(dst));
  check_refused(weft::fs::rename(src, with_nul(dst.native(), ".bak")).wait());
  check_refused(weft::fs::rename(with_nul(src.native(), ".txt"), dst).wait());
  CHECK(weft_test::read_file(src) == "payload");
  CHECK_FALSE(fs::exists(dst));
}

TEST_CASE("fs:: removals refuse a path with a NUL and remove nothing", "[fs][nul]") {
  weft_test::TempDir dir;
  const fs::path file = dir / "victim";
  weft_test::write_file(file, "keep");
  const fs::path sub = dir / "sub";
  fs::create_directories(sub / "inner");
  check_refused(weft::fs::remove_file(with_nul(file.native(), ".tmp")).wait());
  check_refused(weft::fs::remove_dir(with_nul((sub / "inner").native(), ".tmp")).wait());
  check_refused(weft::fs::remove_dir_all(with_nul(sub.native(), ".tmp")).wait());
  CHECK(weft_test::read_file(file) == "keep");
  CHECK(fs::is_directory(sub / "inner"));
}

TEST_CASE("SocketAddress refuses a NUL in the host, the zone or the text", "[address][nul]") {
  using weft::SocketAddress;
  check_refused(SocketAddress::parse(with_nul("127.0.0.1", "evil:80")));
  check_refused(SocketAddress::parse(with_nul("[::1", "evil]:80")));
  check_refused(SocketAddress::parse(with_nul("[fe80::1%lo", "x]:80")));
  check_refused(SocketAddress::parse(with_nul("127.0.0.1:80", "")));
  check_refused(SocketAddress::from_ip(with_nul("127.0.0.1", "evil"), 80));
  check_refused(SocketAddress::from_ip(with_nul("fe80::1%lo", ""), 80));
  check_refused(SocketAddress::split_host_port(with_nul("localhost", ".evil:80")));
  // The message is bounded and escaped whatever the input.
  const std::string huge = with_nul(std::string(100'000, 'a'), std::string(100'000, '\x01'));
  auto r = SocketAddress::parse(huge + ":80");
  check_refused(r);
  CHECK(r.status().message().size() < 400);
  // Clean input still parses.
  CHECK(SocketAddress::parse("127.0.0.1:80").ok());
}

TEST_CASE("resolve refuses a host name with a NUL before asking getaddrinfo",
          "[resolve][nul]") {
  check_refused(weft::block_on(weft::resolve(with_nul("localhost", ".evil.example:80"))));
  check_refused(weft::block_on(weft::resolve(with_nul("localhost", ".evil.example"), 80)));
  check_refused(weft::block_on(weft::resolve(with_nul("127.0.0.1", "x"), 80)));
  CHECK(weft::block_on(weft::resolve("localhost:80")).ok());
}

TEST_CASE("Unix socket paths refuse a NUL after the first byte; abstract names keep working",
          "[unix][nul]") {
  using weft::UnixAddress;
  weft_test::TempDir dir;
  const std::string sock = (dir / "s").native();
  const std::string bad = with_nul(sock, ".sock");
  check_refused(UnixAddress::from_path(bad));
  check_refused(weft::UnixListener::bind(bad));
  check_refused(weft::UnixDatagram::bind(bad));
  check_refused(weft::block_on(weft::UnixStream::connect(bad)));
  CHECK_FALSE(fs::exists(sock));

  // A leading NUL is the abstract namespace, and an abstract name is a
  // counted byte string: NUL bytes inside it are part of the name.
  const std::string name = with_nul(weft_test::unique_name("weft-nul"), "tail");
  auto addr = UnixAddress::from_path(std::string(1, '\0') + name);
  weft_test::require_ok(addr);
  CHECK(addr->is_abstract());
  CHECK(addr->abstract_name() == name);
  auto listener = weft::UnixListener::bind(*addr);
  weft_test::require_ok(listener);
  CHECK(listener->local_address().value() == *addr);
  weft::block_on([&]() -> Task<void> {
    auto c = co_await weft::UnixStream::connect(*addr);
    weft_test::require_ok(c);
    auto s = co_await listener->accept();
    weft_test::require_ok(s);
  }());
}
