// The framing shared by the http_hello servers (weft's example and the
// benchmark's Asio peer): fixed responses and a request-head parser that
// finds request boundaries (keep-alive, pipelining, Content-Length bodies,
// HTTP/1.0), so every peer does exactly the same work per request.
#ifndef WEFT_EXAMPLES_HTTP_FRAMING_H_
#define WEFT_EXAMPLES_HTTP_FRAMING_H_

#include <strings.h>

#include <cstddef>
#include <string_view>

namespace http_framing {

constexpr std::string_view kHello =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!";
constexpr std::string_view kHelloThenClose =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n"
    "Connection: close\r\n\r\nHello, World!";
constexpr std::string_view kBadRequest =
    "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
constexpr std::string_view kHeadTooLarge =
    "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\n"
    "Connection: close\r\n\r\n";
constexpr std::string_view kChunkedUnsupported =
    "HTTP/1.1 501 Not Implemented\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

// --- request framing -------------------------------------------------------

struct Request {
  enum Kind { kIncomplete, kOk, kBad, kChunked } kind = kIncomplete;
  size_t head_len = 0;        // bytes up to and including the blank line
  size_t content_length = 0;  // body bytes that follow
  bool close = false;         // the client asked to close after this one
};

inline bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && ::strncasecmp(a.data(), b.data(), a.size()) == 0;
}

inline bool icontains(std::string_view haystack, std::string_view needle) {
  for (size_t i = 0; i + needle.size() <= haystack.size(); ++i) {
    if (iequals(haystack.substr(i, needle.size()), needle)) return true;
  }
  return false;
}

inline std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Frames the request at the start of `in`.
inline Request parse_head(std::string_view in) {
  Request r;
  const size_t end = in.find("\r\n\r\n");
  if (end == std::string_view::npos) return r;  // kIncomplete
  r.head_len = end + 4;
  std::string_view head = in.substr(0, end + 2);  // every line ends in \r\n
  size_t eol = head.find("\r\n");
  const std::string_view request_line = head.substr(0, eol);
  // METHOD SP TARGET SP HTTP/1.x
  const size_t sp = request_line.rfind(' ');
  if (sp == std::string_view::npos || request_line.find(' ') == sp) {
    r.kind = Request::kBad;
    return r;
  }
  const std::string_view version = request_line.substr(sp + 1);
  const bool http10 = version == "HTTP/1.0";
  if (!http10 && version != "HTTP/1.1") {
    r.kind = Request::kBad;
    return r;
  }
  bool keep_alive = false;
  for (size_t pos = eol + 2; pos < head.size(); pos = eol + 2) {
    eol = head.find("\r\n", pos);
    const std::string_view line = head.substr(pos, eol - pos);
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      r.kind = Request::kBad;
      return r;
    }
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = trim(line.substr(colon + 1));
    if (iequals(name, "content-length")) {
      size_t n = 0;
      if (value.empty() || value.size() > 15) {
        r.kind = Request::kBad;
        return r;
      }
      for (char c : value) {
        if (c < '0' || c > '9') {
          r.kind = Request::kBad;
          return r;
        }
        n = n * 10 + static_cast<size_t>(c - '0');
      }
      r.content_length = n;
    } else if (iequals(name, "transfer-encoding")) {
      r.kind = Request::kChunked;
      return r;
    } else if (iequals(name, "connection")) {
      if (icontains(value, "close")) r.close = true;
      if (icontains(value, "keep-alive")) keep_alive = true;
    }
  }
  if (http10 && !keep_alive) r.close = true;
  r.kind = Request::kOk;
  return r;
}

}  // namespace http_framing

#endif  // WEFT_EXAMPLES_HTTP_FRAMING_H_
