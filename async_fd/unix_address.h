// UnixAddress: the address of a Unix-domain socket: a filesystem path, a
// Linux abstract name, or unnamed.
//
// What it is for: binding and connecting UnixListener, UnixStream and
// UnixDatagram, and reporting their local and peer addresses.
//
// Abstract addresses (Linux): names in a namespace of their own, not in the
// filesystem, gone when the last socket bound to them closes. The API form
// is the kernel's: a path whose first byte is '\0' (from_path) or, with the
// '\0' left out, UnixAddress::abstract("name"). to_string() shows an
// abstract name as "@name" (the form ss(8) and systemd print), but that is
// for display only: from_path("@name") is the relative path "@name".
//
// Requires: a path or name fits in sun_path (at most 107 bytes, the kernel's
// limit less the terminating or leading NUL); a path has no NUL byte.
//
// Example:
//   auto a = weft::UnixAddress::from_path("/run/app.sock").value();
//   auto b = weft::UnixAddress::abstract("app").value();   // "\0app"
//   auto listener = weft::UnixListener::bind(b).value();
#ifndef WEFT_ASYNC_FD_UNIX_ADDRESS_H_
#define WEFT_ASYNC_FD_UNIX_ADDRESS_H_

#include <sys/socket.h>
#include <sys/un.h>

#include <cstddef>
#include <iosfwd>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace weft {

class UnixAddress {
 public:
  // The longest path or abstract name that fits in sun_path.
  static constexpr size_t kMaxLength = sizeof(sockaddr_un::sun_path) - 1;

  // Unnamed: the address of a socket that was never bound (a socketpair
  // end, an unbound client).
  UnixAddress() noexcept;

  // A filesystem path, or, when `path` starts with '\0', an abstract name
  // (the rest of `path`).
  static absl::StatusOr<UnixAddress> from_path(std::string_view path);
  // The abstract name `name` (without the leading '\0'). May hold any bytes.
  static absl::StatusOr<UnixAddress> abstract(std::string_view name);
  // Copies a kernel address of family AF_UNIX.
  static absl::StatusOr<UnixAddress> from_sockaddr(const sockaddr* sa, socklen_t len);

  bool is_unnamed() const noexcept { return len_ <= kPathOffset; }
  bool is_abstract() const noexcept { return !is_unnamed() && addr_.sun_path[0] == '\0'; }
  bool is_pathname() const noexcept { return !is_unnamed() && addr_.sun_path[0] != '\0'; }
  // The path ("" unless is_pathname()).
  std::string_view path() const noexcept;
  // The abstract name without its leading '\0' ("" unless is_abstract()).
  std::string_view abstract_name() const noexcept;

  // The path; "@name" for an abstract name (bytes outside printable ASCII
  // escaped); "(unnamed)".
  std::string to_string() const;

  const sockaddr* data() const noexcept { return reinterpret_cast<const sockaddr*>(&addr_); }
  socklen_t size() const noexcept { return len_; }

  friend bool operator==(const UnixAddress& a, const UnixAddress& b) noexcept {
    return a.is_unnamed() ? b.is_unnamed()
                          : a.len_ == b.len_ &&
                                std::string_view(a.addr_.sun_path, a.len_ - kPathOffset) ==
                                    std::string_view(b.addr_.sun_path, b.len_ - kPathOffset);
  }

 private:
  static constexpr socklen_t kPathOffset = offsetof(sockaddr_un, sun_path);

  sockaddr_un addr_;
  // Bytes of addr_ in use: kPathOffset (or less) when unnamed; for a path,
  // up to and including its terminating NUL; for an abstract name, the
  // leading NUL and the name.
  socklen_t len_;
};

std::ostream& operator<<(std::ostream& os, const UnixAddress& a);

}  // namespace weft

#endif  // WEFT_ASYNC_FD_UNIX_ADDRESS_H_
