#include "async_fd/resolve.h"

#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/c_string.h"
#include "blocking_pool/unblock.h"

namespace weft {
namespace {

// The blocking half: one getaddrinfo call, on a pool thread.
absl::StatusOr<std::vector<SocketAddress>> lookup(std::string host, uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;  // one entry per address, not per socket type
  hints.ai_flags = AI_ADDRCONFIG;
  addrinfo* res = nullptr;
  const std::string service = std::to_string(port);
  const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &res);
  if (rc != 0) {
    const std::string msg =
        absl::StrCat("weft: resolve(", detail::quote_bounded(host), "): ", ::gai_strerror(rc));
    switch (rc) {
      case EAI_NONAME:
#ifdef EAI_NODATA
      case EAI_NODATA:
#endif
        return absl::NotFoundError(msg);
      case EAI_AGAIN:
        return absl::UnavailableError(msg);
      default:
        return absl::UnknownError(msg);
    }
  }
  std::vector<SocketAddress> out;
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    auto a = SocketAddress::from_sockaddr(ai->ai_addr, ai->ai_addrlen);
    if (a.ok() && std::find(out.begin(), out.end(), *a) == out.end()) out.push_back(*a);
  }
  ::freeaddrinfo(res);
  if (out.empty()) {
    return absl::NotFoundError(
        absl::StrCat("weft: resolve(", detail::quote_bounded(host), "): no IP address"));
  }
  return out;
}

}  // namespace

Task<absl::StatusOr<std::vector<SocketAddress>>> resolve(std::string host, uint16_t port) {
  // Before anything else: getaddrinfo would read "localhost\0.evil.example"
  // as "localhost".
  if (absl::Status st = detail::check_c_string("resolve", "host name", host); !st.ok()) {
    co_return st;
  }
  if (auto numeric = SocketAddress::from_ip(host, port); numeric.ok()) {
    co_return std::vector<SocketAddress>{*numeric};
  }
  if (host.empty()) co_return absl::InvalidArgumentError("weft: resolve: empty host name");
  // Arguments, not captures: see unblock.h on g++ 12 and co_await temporaries.
  auto job = unblock(lookup, std::move(host), port);
  co_return co_await job;
}

Task<absl::StatusOr<std::vector<SocketAddress>>> resolve(std::string host_port) {
  auto hp = SocketAddress::split_host_port(host_port);
  if (!hp.ok()) co_return hp.status();
  co_return co_await resolve(std::string(hp->host), hp->port);
}

}  // namespace weft
