#include "async_fd/address.h"

#include <arpa/inet.h>
#include <net/if.h>

#include <cerrno>
#include <cstdlib>
#include <ostream>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/c_string.h"

namespace weft {
namespace {

// Debian's abseil has its own string_view type, not std::string_view.
absl::string_view av(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// Quotes the input bounded and escaped (base/c_string.h): it may be
// anything a peer or a configuration file sent.
absl::Status bad_address(std::string_view text, std::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("weft: SocketAddress: ", detail::quote_bounded(text), ": ", av(why)));
}

// A decimal port, 0..65535, digits only.
bool parse_port(std::string_view s, uint16_t* port) {
  if (s.empty() || s.size() > 5) return false;
  uint32_t v = 0;
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
    v = v * 10 + static_cast<uint32_t>(c - '0');
  }
  if (v > 65535) return false;
  *port = static_cast<uint16_t>(v);
  return true;
}

// An IPv6 zone: an interface index, or a name if_nametoindex knows.
bool parse_zone(std::string_view zone, uint32_t* id) {
  if (zone.empty()) return false;
  if (absl::SimpleAtoi(av(zone), id)) return true;
  const std::string name(zone);
  *id = ::if_nametoindex(name.c_str());
  return *id != 0;
}

}  // namespace

absl::StatusOr<SocketAddress> SocketAddress::from_ip(std::string_view ip, uint16_t port) {
  // The host and the zone become C strings (inet_pton, if_nametoindex),
  // which would end at a NUL: "127.0.0.1\0evil" must not be 127.0.0.1.
  if (absl::Status st = detail::check_c_string("SocketAddress", "address", ip); !st.ok()) return st;
  SocketAddress a;
  std::string_view host = ip;
  std::string_view zone;
  bool has_zone = false;
  if (const size_t pct = ip.find('%'); pct != std::string_view::npos) {
    host = ip.substr(0, pct);
    zone = ip.substr(pct + 1);
    has_zone = true;
  }
  const std::string host_z(host);  // inet_pton wants a terminated string
  if (!has_zone && ::inet_pton(AF_INET, host_z.c_str(), &a.addr_.v4.sin_addr) == 1) {
    a.addr_.v4.sin_family = AF_INET;
    a.addr_.v4.sin_port = htons(port);
    return a;
  }
  if (::inet_pton(AF_INET6, host_z.c_str(), &a.addr_.v6.sin6_addr) == 1) {
    a.addr_.v6.sin6_family = AF_INET6;
    a.addr_.v6.sin6_port = htons(port);
    if (has_zone && !parse_zone(zone, &a.addr_.v6.sin6_scope_id)) {
      return bad_address(ip, absl::StrCat("unknown IPv6 zone ", detail::quote_bounded(zone),
                                          " (an interface name or number)"));
    }
    return a;
  }
  return bad_address(ip,
                     "not a numeric IPv4 or IPv6 address (host names need resolution: "
                     "use weft::resolve)");
}

absl::StatusOr<SocketAddress::HostPort> SocketAddress::split_host_port(std::string_view text) {
  // The host goes on to a C interface (from_ip, resolve's getaddrinfo).
  if (absl::Status st = detail::check_c_string("SocketAddress", "address", text); !st.ok()) {
    return st;
  }
  std::string_view host;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos) return bad_address(text, "missing ']'");
    host = text.substr(1, close - 1);
    if (close + 1 >= text.size() || text[close + 1] != ':') {
      return bad_address(text, "expected \"[ipv6]:port\"");
    }
    port_text = text.substr(close + 2);
    if (host.find(':') == std::string_view::npos) {
      return bad_address(text, "brackets are for IPv6 addresses only");
    }
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return bad_address(text, "expected \"host:port\" (or \"[ipv6]:port\")");
    }
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return bad_address(text, "an IPv6 address needs brackets: \"[ipv6]:port\"");
    }
  }
  uint16_t port = 0;
  if (!parse_port(port_text, &port)) {
    return bad_address(text,
                       absl::StrCat("bad port ", detail::quote_bounded(port_text), " (0 to 65535)"));
  }
  return HostPort{host, port};
}

absl::StatusOr<SocketAddress> SocketAddress::parse(std::string_view text) {
  auto hp = split_host_port(text);
  if (!hp.ok()) return hp.status();
  auto a = from_ip(hp->host, hp->port);
  if (!a.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(a.status().message(), " (in ", detail::quote_bounded(text), ")"));
  }
  return a;
}

absl::StatusOr<SocketAddress> SocketAddress::from_sockaddr(const sockaddr* sa, socklen_t len) {
  SocketAddress a;
  if (sa && sa->sa_family == AF_INET && len >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    std::memcpy(&a.addr_.v4, sa, sizeof(sockaddr_in));
    return a;
  }
  if (sa && sa->sa_family == AF_INET6 && len >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    std::memcpy(&a.addr_.v6, sa, sizeof(sockaddr_in6));
    return a;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("weft: SocketAddress: not an IPv4 or IPv6 address (family ",
                   sa ? sa->sa_family : -1, ", length ", len, ")"));
}

SocketAddress SocketAddress::loopback_v4(uint16_t port) noexcept {
  SocketAddress a;
  a.addr_.v4.sin_family = AF_INET;
  a.addr_.v4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.addr_.v4.sin_port = htons(port);
  return a;
}

SocketAddress SocketAddress::loopback_v6(uint16_t port) noexcept {
  SocketAddress a;
  a.addr_.v6.sin6_family = AF_INET6;
  a.addr_.v6.sin6_addr = in6addr_loopback;
  a.addr_.v6.sin6_port = htons(port);
  return a;
}

SocketAddress SocketAddress::any_v4(uint16_t port) noexcept {
  SocketAddress a;
  a.addr_.v4.sin_family = AF_INET;
  a.addr_.v4.sin_addr.s_addr = htonl(INADDR_ANY);
  a.addr_.v4.sin_port = htons(port);
  return a;
}

SocketAddress SocketAddress::any_v6(uint16_t port) noexcept {
  SocketAddress a;
  a.addr_.v6.sin6_family = AF_INET6;
  a.addr_.v6.sin6_addr = in6addr_any;
  a.addr_.v6.sin6_port = htons(port);
  return a;
}

uint16_t SocketAddress::port() const noexcept {
  if (is_v4()) return ntohs(addr_.v4.sin_port);
  if (is_v6()) return ntohs(addr_.v6.sin6_port);
  return 0;
}

void SocketAddress::set_port(uint16_t port) noexcept {
  if (is_v4()) addr_.v4.sin_port = htons(port);
  if (is_v6()) addr_.v6.sin6_port = htons(port);
}

socklen_t SocketAddress::size() const noexcept {
  if (is_v4()) return sizeof(sockaddr_in);
  if (is_v6()) return sizeof(sockaddr_in6);
  return 0;
}

std::string SocketAddress::ip() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (is_v4()) {
    ::inet_ntop(AF_INET, &addr_.v4.sin_addr, buf, sizeof buf);
    return buf;
  }
  if (is_v6()) {
    ::inet_ntop(AF_INET6, &addr_.v6.sin6_addr, buf, sizeof buf);
    if (addr_.v6.sin6_scope_id != 0) return absl::StrCat(buf, "%", addr_.v6.sin6_scope_id);
    return buf;
  }
  return "(unspecified)";
}

std::string SocketAddress::to_string() const {
  if (is_v4()) return absl::StrCat(ip(), ":", port());
  if (is_v6()) return absl::StrCat("[", ip(), "]:", port());
  return "(unspecified)";
}

bool operator==(const SocketAddress& a, const SocketAddress& b) noexcept {
  if (a.family() != b.family()) return false;
  if (a.is_v4()) {
    return a.addr_.v4.sin_port == b.addr_.v4.sin_port &&
           a.addr_.v4.sin_addr.s_addr == b.addr_.v4.sin_addr.s_addr;
  }
  if (a.is_v6()) {
    return a.addr_.v6.sin6_port == b.addr_.v6.sin6_port &&
           std::memcmp(&a.addr_.v6.sin6_addr, &b.addr_.v6.sin6_addr, 16) == 0 &&
           a.addr_.v6.sin6_scope_id == b.addr_.v6.sin6_scope_id &&
           a.addr_.v6.sin6_flowinfo == b.addr_.v6.sin6_flowinfo;
  }
  return true;  // both unspecified
}

std::ostream& operator<<(std::ostream& os, const SocketAddress& a) { return os << a.to_string(); }

}  // namespace weft
