// libFuzzer target: the examples' HTTP/1.1 request framing
// (examples/http_framing.h), the code http_hello runs on every byte a
// client sends.
//
// The first input byte picks a read size (1..256), and the rest is fed to a
// RequestBuffer in reads of that size, the way serve_http does: answer(),
// make_room(), read, did_read(). parse_head() is also run on the whole
// input. Checks, beyond "no crash, no ASan report":
// - a framed request never claims more head than the input holds;
// - every response appended is one of the fixed responses;
// - the responses do not depend on how the bytes were split into reads;
// - the buffer never reports more room than it has.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "examples/http_framing.h"

namespace {
using namespace http_framing;

void check(bool ok) {
  if (!ok) std::abort();
}

// `out` is a concatenation of the fixed responses.
bool only_known_responses(std::string_view out) {
  while (!out.empty()) {
    bool matched = false;
    for (std::string_view r : {kHello, kHelloThenClose, kBadRequest, kHeadTooLarge,
                               kChunkedUnsupported}) {
      if (out.substr(0, r.size()) == r) {
        out.remove_prefix(r.size());
        matched = true;
        break;
      }
    }
    if (!matched) return false;
  }
  return true;
}
}  // namespace

// Feeds `in` to a fresh RequestBuffer in reads of `chunk` bytes, as
// serve_http does; returns every response produced, in order.
std::string serve(std::string_view in, size_t chunk) {
  auto buf = std::make_unique<RequestBuffer>();  // 16 KiB: off the fuzzer's stack
  std::string all;
  std::string out;
  for (;;) {
    const bool close_after = buf->answer(out);
    check(only_known_responses(out));
    all += out;
    out.clear();
    if (close_after) break;
    if (!buf->make_room()) {
      all += kHeadTooLarge;
      break;
    }
    const size_t room = buf->read_room();
    check(room > 0 && room <= RequestBuffer::kSize);
    if (in.empty()) break;
    const size_t n = std::min({chunk, room, in.size()});
    std::memcpy(buf->read_at(), in.data(), n);
    buf->did_read(n);
    in.remove_prefix(n);
  }
  return all;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t chunk = 1 + data[0];
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);

  const Request whole = parse_head(in);
  if (whole.kind != Request::kIncomplete) check(whole.head_len <= in.size());

  // How the bytes are split into reads must not change the answers.
  check(serve(in, chunk) == serve(in, RequestBuffer::kSize));
  return 0;
}
