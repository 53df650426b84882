// SocketAddress: an IPv4 or IPv6 address with a port.
//
// What it is for: naming the ends of TcpListener, TcpStream and UdpSocket,
// parsing "host:port" text from flags and configuration, and printing
// addresses in logs.
//
// Representation: a thin value over the kernel's own sockaddr_in /
// sockaddr_in6 (a union of the two, 28 bytes, rather than a 128-byte
// sockaddr_storage), so data()/size() go straight to bind(2), connect(2) and
// sendto(2). We chose this over asio::ip::address so that the socket types
// do not pull Asio into every user's build; to_endpoint<E>() and
// from_endpoint(e) convert to and from any Asio endpoint type (tcp, udp)
// without this header including Asio.
//
// Parsing accepts numeric addresses only: "127.0.0.1:8080", "[::1]:8080",
// "[fe80::1%eth0]:8080" (a zone as interface name or number). A host name
// ("localhost:80") is refused with InvalidArgument: name resolution blocks
// in getaddrinfo(3), so it is weft::resolve() (resolve.h), which runs it on
// the blocking pool.
//
// Guarantees: parse(to_string()) gives back an equal address. Errors are
// InvalidArgument statuses that quote the input and say what is wrong.
//
// Example:
//   auto addr = weft::SocketAddress::parse("127.0.0.1:0").value();
//   auto listener = weft::TcpListener::bind(addr).value();
//   std::printf("listening on %s\n", listener.local_address()->to_string().c_str());
#ifndef WEFT_ASYNC_FD_ADDRESS_H_
#define WEFT_ASYNC_FD_ADDRESS_H_

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <cstring>
#include <iosfwd>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/statusor.h"

namespace weft {

class SocketAddress {
 public:
  // The unspecified address (family AF_UNSPEC, size() 0): a placeholder,
  // refused by bind and connect.
  SocketAddress() noexcept { std::memset(&addr_, 0, sizeof addr_); }

  // "a.b.c.d:port", "[ipv6]:port" or "[ipv6%zone]:port".
  static absl::StatusOr<SocketAddress> parse(std::string_view text);

  // The two halves of "host:port" / "[host]:port", the host not yet
  // interpreted (brackets removed; IPv6 hosts need them). parse() reads the
  // host as a numeric address, resolve() (resolve.h) as a name.
  struct HostPort {
    std::string_view host;
    uint16_t port;
  };
  static absl::StatusOr<HostPort> split_host_port(std::string_view text);
  // A numeric IPv4 or IPv6 address (no brackets; a "%zone" suffix is
  // allowed for IPv6) and a port.
  static absl::StatusOr<SocketAddress> from_ip(std::string_view ip, uint16_t port);
  // Copies a kernel address of family AF_INET or AF_INET6.
  static absl::StatusOr<SocketAddress> from_sockaddr(const sockaddr* sa, socklen_t len);

  static SocketAddress loopback_v4(uint16_t port) noexcept;  // 127.0.0.1
  static SocketAddress loopback_v6(uint16_t port) noexcept;  // ::1
  static SocketAddress any_v4(uint16_t port) noexcept;       // 0.0.0.0
  static SocketAddress any_v6(uint16_t port) noexcept;       // ::

  // Asio interop: any endpoint type with data(), size() and resize()
  // (asio::ip::tcp::endpoint, asio::ip::udp::endpoint).
  template <class Endpoint>
  static absl::StatusOr<SocketAddress> from_endpoint(const Endpoint& e) {
    return from_sockaddr(reinterpret_cast<const sockaddr*>(e.data()),
                         static_cast<socklen_t>(e.size()));
  }
  template <class Endpoint>
  Endpoint to_endpoint() const {
    Endpoint e;
    // Safety: Asio's endpoint storage is a union of sockaddr_in and
    // sockaddr_in6, so size() bytes of either family fit.
    std::memcpy(e.data(), &addr_, size());
    e.resize(size());
    return e;
  }

  int family() const noexcept { return addr_.sa.sa_family; }
  bool is_v4() const noexcept { return family() == AF_INET; }
  bool is_v6() const noexcept { return family() == AF_INET6; }
  uint16_t port() const noexcept;
  void set_port(uint16_t port) noexcept;

  // The address without the port: "127.0.0.1", "::1", "fe80::1%2".
  std::string ip() const;
  // "127.0.0.1:8080", "[::1]:8080", "[fe80::1%2]:8080"; "(unspecified)"
  // for a default-constructed address.
  std::string to_string() const;

  const sockaddr* data() const noexcept { return &addr_.sa; }
  socklen_t size() const noexcept;

  friend bool operator==(const SocketAddress& a, const SocketAddress& b) noexcept;

  template <typename H>
  friend H AbslHashValue(H h, const SocketAddress& a) {
    h = H::combine(std::move(h), a.family(), a.port());
    if (a.is_v4()) return H::combine(std::move(h), a.addr_.v4.sin_addr.s_addr);
    if (a.is_v6()) {
      return H::combine(H::combine_contiguous(std::move(h), a.addr_.v6.sin6_addr.s6_addr, 16),
                        a.addr_.v6.sin6_scope_id);
    }
    return h;
  }

 private:
  union Storage {
    sockaddr sa;
    sockaddr_in v4;
    sockaddr_in6 v6;
  };
  Storage addr_;
};

std::ostream& operator<<(std::ostream& os, const SocketAddress& a);

}  // namespace weft

#endif  // WEFT_ASYNC_FD_ADDRESS_H_
