// C strings from caller's bytes: refuse an embedded NUL before the OS sees
// the string.
//
// What it is for: every place where weft hands a caller's string to a C
// interface (open(2) and the other fs:: calls, inet_pton, if_nametoindex,
// getaddrinfo, a Unix socket path). A C string ends at its first NUL, so
// "/etc/hostname\0.txt" would silently open /etc/hostname, and a caller who
// checked the ".txt" suffix would be bypassed. Rust's std refuses such
// paths ("file name contained an unexpected NUL byte"); so do we.
//
// Guarantees:
// - check_c_string(where, what, value) is OK iff `value` has no '\0' byte;
//   otherwise InvalidArgument: `weft: <where>: <what> contained an
//   unexpected NUL byte at offset <i>: "<quote>"`.
// - quote_bounded(value) is a safe rendering of untrusted input for an
//   error message: at most kQuoteLimit bytes of it, C-escaped (NUL, control
//   bytes, quotes, bytes >= 0x80), with "..." when cut. The raw input never
//   goes into the message.
// - quote_bounded_ends(value, limit) is the same rendering for input whose
//   end matters as much as its start (a path: its file name is at the end):
//   at most `limit` bytes, the first and the last limit/2 of a longer value
//   joined by "...".
//
// Example:
//   if (absl::Status st = weft::detail::check_c_string("fs::read", "path", p.native());
//       !st.ok()) return st;
#ifndef WEFT_BASE_C_STRING_H_
#define WEFT_BASE_C_STRING_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace weft::detail {

// Bytes of untrusted input quoted in an error message: enough to recognise
// it, bounded so that a megabyte of input does not become a megabyte of log.
inline constexpr size_t kQuoteLimit = 64;

std::string quote_bounded(std::string_view value);
std::string quote_bounded_ends(std::string_view value, size_t limit);

absl::Status check_c_string(std::string_view where, std::string_view what, std::string_view value);

}  // namespace weft::detail

#endif  // WEFT_BASE_C_STRING_H_
