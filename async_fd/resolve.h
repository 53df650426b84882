// resolve: host names to socket addresses, on the blocking pool.
//
// What it is for: turning "example.org:443" (or a host and a port) into
// addresses to connect to. getaddrinfo(3) blocks (it may read files and ask
// a DNS server), so it runs as one job on weft's blocking pool and the
// awaiting task's worker keeps running other tasks.
//
// Guarantees: a numeric address ("127.0.0.1:80", "[::1]:80") is parsed
// without touching the pool. The addresses come in getaddrinfo's order
// (RFC 6724 preference), without duplicates. Errors: InvalidArgument for
// malformed text or a bad port, NotFound when the name does not exist,
// Unavailable for a temporary failure (EAI_AGAIN), Unknown otherwise, each
// message naming the host and quoting gai_strerror.
//
// Example:
//   auto addrs = co_await weft::resolve("localhost:8080");
//   if (!addrs.ok()) co_return addrs.status();
//   auto stream = co_await weft::TcpStream::connect(addrs->front());
#ifndef WEFT_ASYNC_FD_RESOLVE_H_
#define WEFT_ASYNC_FD_RESOLVE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "async_fd/address.h"
#include "executor/task.h"

namespace weft {

// "host:port" or "[v6-or-host]:port".
Task<absl::StatusOr<std::vector<SocketAddress>>> resolve(std::string host_port);
Task<absl::StatusOr<std::vector<SocketAddress>>> resolve(std::string host, uint16_t port);

}  // namespace weft

#endif  // WEFT_ASYNC_FD_RESOLVE_H_
