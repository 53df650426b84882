// libFuzzer target: UnixAddress::from_path, abstract and from_sockaddr on
// arbitrary bytes (paths from configuration; kernel addresses from peers).
//
// Checks, beyond "no crash, no ASan report":
// - an accepted path or name reads back unchanged (path(), abstract_name());
// - size() never exceeds sizeof(sockaddr_un), and the kernel form copies
//   back (from_sockaddr(data(), size())) to an equal address;
// - to_string() is bounded by the address;
// - errors are InvalidArgument.
#include <sys/un.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "absl/status/status.h"
#include "async_fd/unix_address.h"

namespace {
void check(bool ok) {
  if (!ok) std::abort();
}

void check_round_trip(const weft::UnixAddress& a) {
  check(a.size() <= sizeof(sockaddr_un));
  auto back = weft::UnixAddress::from_sockaddr(a.data(), a.size());
  check(back.ok() && *back == a);
  check(a.to_string().size() <= 4 * sizeof(sockaddr_un) + 16);  // "@" + escaped bytes
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);

  auto p = weft::UnixAddress::from_path(bytes);
  if (p.ok()) {
    if (bytes.front() == '\0') {
      check(p->is_abstract() && p->abstract_name() == bytes.substr(1));
    } else {
      check(p->is_pathname() && p->path() == bytes);
    }
    check_round_trip(*p);
  } else {
    check(absl::IsInvalidArgument(p.status()));
  }

  auto n = weft::UnixAddress::abstract(bytes);
  if (n.ok()) {
    check(n->is_abstract() && n->abstract_name() == bytes);
    check_round_trip(*n);
  } else {
    check(absl::IsInvalidArgument(n.status()));
  }

  // The bytes as a kernel address (what accept/recvfrom hand back), in
  // storage large enough for any length the input claims.
  sockaddr_storage storage;
  std::memset(&storage, 0, sizeof storage);
  std::memcpy(&storage, data, size < sizeof storage ? size : sizeof storage);
  const socklen_t len = static_cast<socklen_t>(size < sizeof storage ? size : sizeof storage);
  auto k = weft::UnixAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(&storage), len);
  if (k.ok()) check_round_trip(*k);
  return 0;
}
