// How fs:: reports a failed system call: an absl::Status whose code follows
// errno (ENOENT -> NotFound, EACCES/EPERM -> PermissionDenied, EEXIST ->
// AlreadyExists, ENOTDIR/EISDIR/ENOTEMPTY -> FailedPrecondition, ...; the
// mapping is weft::errno_code, base/errno_status.h) and whose message names the
// operation and the path, then keeps the system's own message:
//
//   open "/tmp/missing.txt": No such file or directory
//   rename "/a" to "/b": Permission denied
//
// A path is quoted bounded and escaped (base/c_string.h,
// quote_bounded_ends): control bytes, quotes, backslashes and bytes >= 0x80
// as C escapes (so "café" shows as "caf\xc3\xa9"), and a path longer than
// 256 bytes as its first and last 128 joined by "...". Raw input never
// reaches a message.
//
// Internal to blocking_pool/; the codes and messages are the public contract.
#ifndef WEFT_BLOCKING_POOL_FS_ERROR_H_
#define WEFT_BLOCKING_POOL_FS_ERROR_H_

#include <filesystem>
#include <string_view>

#include "absl/status/status.h"

namespace weft::fs::detail {

// `op "path": <strerror(err)>`, coded after `err`.
absl::Status errno_error(int err, std::string_view op, const std::filesystem::path& path);
// `op "from" to "to": <strerror(err)>`.
absl::Status errno_error(int err, std::string_view op, const std::filesystem::path& from,
                         const std::filesystem::path& to);
// OK, or InvalidArgument if `path` contains a NUL byte, which the system
// call would silently cut it at ("a\0.txt" would be "a"): base/c_string.h.
// Every fs:: operation calls it on each of its paths before the first
// system call that takes that path.
absl::Status check_path(std::string_view op, const std::filesystem::path& path);
// A failure that has no errno: `op "path": what`, with `code`.
absl::Status path_error(absl::StatusCode code, std::string_view op,
                        const std::filesystem::path& path, std::string_view what);

}  // namespace weft::fs::detail

#endif  // WEFT_BLOCKING_POOL_FS_ERROR_H_
