// libFuzzer target: SocketAddress::parse, split_host_port and from_ip on
// arbitrary text (flags, configuration files and peers supply it).
//
// Checks, beyond "no crash, no ASan report":
// - parse() accepts exactly what split_host_port() + from_ip() accept;
// - an accepted address prints and parses back to an equal address
//   (address.h's guarantee: parse(to_string()) == the address);
// - a split host is a piece of the input and never holds a NUL;
// - every error is InvalidArgument with a bounded message (quote_bounded).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "absl/status/status.h"
#include "async_fd/address.h"

namespace {
void check(bool ok) {
  if (!ok) std::abort();
}
constexpr size_t kMaxMessage = 1024;  // quote_bounded keeps messages far below this
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  auto hp = weft::SocketAddress::split_host_port(text);
  if (!hp.ok()) {
    check(absl::IsInvalidArgument(hp.status()));
    check(hp.status().message().size() < kMaxMessage);
  } else {
    check(hp->host.data() >= text.data() && hp->host.data() + hp->host.size() <= text.data() + size);
    check(hp->host.find('\0') == std::string_view::npos);
  }

  auto a = weft::SocketAddress::parse(text);
  if (!a.ok()) {
    check(absl::IsInvalidArgument(a.status()));
    check(a.status().message().size() < kMaxMessage);
  }
  if (hp.ok()) {
    auto b = weft::SocketAddress::from_ip(hp->host, hp->port);
    check(a.ok() == b.ok());
    if (a.ok()) check(*a == *b);
  } else {
    check(!a.ok());
  }
  if (a.ok()) {
    check(a->is_v4() || a->is_v6());
    auto back = weft::SocketAddress::parse(a->to_string());
    check(back.ok() && *back == *a);
  }

  // The whole input as a bare IP (what --listen takes).
  auto ip = weft::SocketAddress::from_ip(text, 80);
  if (ip.ok()) {
    auto back = weft::SocketAddress::parse(ip->to_string());
    check(back.ok() && *back == *ip);
  } else {
    check(absl::IsInvalidArgument(ip.status()));
    check(ip.status().message().size() < kMaxMessage);
  }
  return 0;
}
