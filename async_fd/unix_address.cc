#include "async_fd/unix_address.h"

#include <cstring>
#include <ostream>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "base/c_string.h"

namespace weft {
namespace {
// Debian's abseil has its own string_view type, not std::string_view.
absl::string_view av(std::string_view s) { return absl::string_view(s.data(), s.size()); }
}  // namespace

UnixAddress::UnixAddress() noexcept : len_(sizeof(sa_family_t)) {
  std::memset(&addr_, 0, sizeof addr_);
  addr_.sun_family = AF_UNIX;
}

absl::StatusOr<UnixAddress> UnixAddress::from_path(std::string_view path) {
  if (!path.empty() && path.front() == '\0') return abstract(path.substr(1));
  if (path.empty()) {
    return absl::InvalidArgumentError(
        "weft: UnixAddress: empty path (UnixAddress() is the unnamed address)");
  }
  // A pathname is a C string to the kernel (it ends at the first NUL), so
  // a NUL after the first byte would silently cut it: refused. A NUL as the
  // FIRST byte is not that: it is the kernel's spelling of an abstract
  // address (handled above), whose name is a length-counted byte string
  // that may legitimately hold any bytes, NUL included; abstract() accepts
  // them and never passes the name on as a C string.
  if (absl::Status st = detail::check_c_string("UnixAddress", "path", path); !st.ok()) return st;
  if (path.size() > kMaxLength) {
    return absl::InvalidArgumentError(absl::StrCat("weft: UnixAddress: path ",
                                                   detail::quote_bounded(path), " is ", path.size(),
                                                   " bytes; the limit is ", kMaxLength));
  }
  UnixAddress a;
  std::memcpy(a.addr_.sun_path, path.data(), path.size());
  a.len_ = static_cast<socklen_t>(kPathOffset + path.size() + 1);  // with the NUL
  return a;
}

absl::StatusOr<UnixAddress> UnixAddress::abstract(std::string_view name) {
  if (name.size() > kMaxLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("weft: UnixAddress: abstract name ", detail::quote_bounded(name), " is ",
                     name.size(), " bytes; the limit is ", kMaxLength));
  }
  UnixAddress a;
  a.addr_.sun_path[0] = '\0';
  std::memcpy(a.addr_.sun_path + 1, name.data(), name.size());
  a.len_ = static_cast<socklen_t>(kPathOffset + 1 + name.size());
  return a;
}

absl::StatusOr<UnixAddress> UnixAddress::from_sockaddr(const sockaddr* sa, socklen_t len) {
  // recvfrom(2) reports an unnamed sender with length 0, accept(2) and
  // getpeername(2) with just the family.
  if (sa && len == 0) return UnixAddress();
  if (!sa || len < static_cast<socklen_t>(sizeof(sa_family_t)) || sa->sa_family != AF_UNIX ||
      len > static_cast<socklen_t>(sizeof(sockaddr_un))) {
    return absl::InvalidArgumentError(
        absl::StrCat("weft: UnixAddress: not a Unix-domain address (family ",
                     sa ? sa->sa_family : -1, ", length ", len, ")"));
  }
  UnixAddress a;
  if (len <= kPathOffset) return a;  // unnamed
  const char* p = reinterpret_cast<const sockaddr_un*>(sa)->sun_path;
  const size_t n = len - kPathOffset;
  if (p[0] == '\0') return abstract(std::string_view(p + 1, n - 1));
  // The kernel may or may not count the path's NUL: stop at the first one.
  return from_path(std::string_view(p, ::strnlen(p, n)));
}

std::string_view UnixAddress::path() const noexcept {
  if (!is_pathname()) return {};
  return std::string_view(addr_.sun_path, len_ - kPathOffset - 1);
}

std::string_view UnixAddress::abstract_name() const noexcept {
  if (!is_abstract()) return {};
  return std::string_view(addr_.sun_path + 1, len_ - kPathOffset - 1);
}

std::string UnixAddress::to_string() const {
  if (is_pathname()) return std::string(path());
  if (is_abstract()) return absl::StrCat("@", absl::CHexEscape(av(abstract_name())));
  return "(unnamed)";
}

std::ostream& operator<<(std::ostream& os, const UnixAddress& a) { return os << a.to_string(); }

}  // namespace weft
