// check_c_string and quote_bounded: the verdict, the code, and a message
// that is bounded and escaped, never the raw input.
#include "base/c_string.h"

#include <catch2/catch.hpp>

#include <string>

using weft::detail::check_c_string;
using weft::detail::kQuoteLimit;
using weft::detail::quote_bounded;

TEST_CASE("check_c_string accepts strings without NUL", "[c_string]") {
  CHECK(check_c_string("fs::read", "path", "").ok());
  CHECK(check_c_string("fs::read", "path", "/etc/hostname").ok());
  CHECK(check_c_string("fs::read", "path", "caf\xc3\xa9\n").ok());
}

TEST_CASE("check_c_string refuses an embedded NUL anywhere", "[c_string]") {
  for (const std::string& s : {std::string("a\0b", 3), std::string("\0ab", 3),
                               std::string("ab\0", 3), std::string(1, '\0')}) {
    absl::Status st = check_c_string("fs::read", "path", s);
    CHECK(absl::IsInvalidArgument(st));
    const std::string msg(st.message());
    CHECK(msg.find("weft: fs::read: path contained an unexpected NUL byte at offset") == 0);
    CHECK(msg.find('\0') == std::string::npos);
    CHECK(msg.find("\\x00") != std::string::npos);
  }
  absl::Status st = check_c_string("fs::read", "path", std::string("/etc/hostname\0.txt", 18));
  CHECK(std::string(st.message()) ==
        "weft: fs::read: path contained an unexpected NUL byte at offset 13: "
        "\"/etc/hostname\\x00.txt\"");
}

TEST_CASE("quote_bounded escapes control bytes and bounds the length", "[c_string]") {
  CHECK(quote_bounded("abc") == "\"abc\"");
  CHECK(quote_bounded(std::string("a\0\n\x1b\"", 5)) == "\"a\\x00\\n\\x1b\\\"\"");
  const std::string big(100'000, 'x');
  const std::string q = quote_bounded(big);
  CHECK(q == "\"" + std::string(kQuoteLimit, 'x') + "\"...");
  // Worst case: every byte escaped to four characters.
  const std::string nuls(100'000, '\0');
  CHECK(quote_bounded(nuls).size() <= 4 * kQuoteLimit + 5);
}

TEST_CASE("quote_bounded_ends keeps both ends of a long value", "[c_string]") {
  using weft::detail::quote_bounded_ends;
  CHECK(quote_bounded_ends("/a/b.txt", 16) == "\"/a/b.txt\"");
  const std::string path = "/" + std::string(100'000, 'd') + "/name\n.txt";
  const std::string q = quote_bounded_ends(path, 32);
  CHECK(q == "\"/" + std::string(15, 'd') + "\"...\"" + std::string(6, 'd') + "/name\\n.txt\"");
  const std::string nuls(100'000, '\x01');
  CHECK(quote_bounded_ends(nuls, 32).size() <= 4 * 32 + 7);
}
