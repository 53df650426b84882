#include "base/c_string.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace weft::detail {
namespace {
// Debian's abseil has its own string_view type, not std::string_view.
absl::string_view av(std::string_view s) { return absl::string_view(s.data(), s.size()); }
}  // namespace

std::string quote_bounded(std::string_view value) {
  const bool cut = value.size() > kQuoteLimit;
  // CHexEscape escapes NUL, control bytes, quotes, backslash and non-ASCII.
  return absl::StrCat("\"", absl::CHexEscape(av(value.substr(0, kQuoteLimit))), "\"",
                      cut ? "..." : "");
}

std::string quote_bounded_ends(std::string_view value, size_t limit) {
  if (value.size() <= limit) return absl::StrCat("\"", absl::CHexEscape(av(value)), "\"");
  const size_t half = limit / 2;
  return absl::StrCat("\"", absl::CHexEscape(av(value.substr(0, half))), "\"...\"",
                      absl::CHexEscape(av(value.substr(value.size() - half))), "\"");
}

absl::Status check_c_string(std::string_view where, std::string_view what, std::string_view value) {
  const size_t nul = value.find('\0');
  if (nul == std::string_view::npos) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("weft: ", av(where), ": ", av(what),
                                                 " contained an unexpected NUL byte at offset ",
                                                 nul, ": ", quote_bounded(value)));
}

}  // namespace weft::detail
