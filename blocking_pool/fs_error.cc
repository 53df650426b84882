#include "blocking_pool/fs_error.h"

#include <string>

#include "base/c_string.h"
#include "base/errno_status.h"

namespace weft::fs::detail {
namespace {
// Bytes of a path quoted in a message: a whole ordinary path (a deep one
// in a build sandbox is ~200 bytes); a longer one keeps its first and last
// 128 bytes, so a megabyte of hostile path gives a message of ~1 KiB.
constexpr size_t kPathQuoteLimit = 256;
// Debian's abseil is built with its own absl::string_view (not an alias of
// std::string_view), so messages are put together as std::string.
std::string quoted(const std::filesystem::path& p) {
  return weft::detail::quote_bounded_ends(p.native(), kPathQuoteLimit);
}
}  // namespace

absl::Status errno_error(int err, std::string_view op, const std::filesystem::path& path) {
  // Appends ": " and the system's message for `err`.
  return weft::errno_status_plain(err, std::string(op) + " " + quoted(path));
}

absl::Status errno_error(int err, std::string_view op, const std::filesystem::path& from,
                         const std::filesystem::path& to) {
  return weft::errno_status_plain(err,
                                 std::string(op) + " " + quoted(from) + " to " + quoted(to));
}

absl::Status check_path(std::string_view op, const std::filesystem::path& path) {
  return weft::detail::check_c_string("fs::" + std::string(op), "path", path.native());
}

absl::Status path_error(absl::StatusCode code, std::string_view op,
                        const std::filesystem::path& path, std::string_view what) {
  return absl::Status(code, std::string(op) + " " + quoted(path) + ": " + std::string(what));
}

}  // namespace weft::fs::detail
