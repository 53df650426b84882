// The framing shared by the http_hello servers (weft's example and the
// benchmark's Asio peer): fixed responses and a request-head parser that
// finds request boundaries (keep-alive, pipelining, Content-Length bodies,
// HTTP/1.0), so every peer does exactly the same work per request.
#ifndef WEFT_EXAMPLES_HTTP_FRAMING_H_
#define WEFT_EXAMPLES_HTTP_FRAMING_H_

#include <strings.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>
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
  bool have_length = false;
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
      // RFC 9112 6.3: Content-Length fields that disagree make the framing
      // unknowable (request smuggling): 400. Repeats of one value are fine.
      if (have_length && n != r.content_length) {
        r.kind = Request::kBad;
        return r;
      }
      have_length = true;
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

// Appends the response to `r` (a complete head: not kIncomplete) to `out`;
// returns true when the connection must close once `out` is written.
inline bool respond(const Request& r, std::string& out) {
  if (r.kind != Request::kOk) {
    out += r.kind == Request::kChunked ? kChunkedUnsupported : kBadRequest;
    return true;
  }
  out += r.close ? kHelloThenClose : kHello;
  return r.close;
}

// One connection's input buffer and framing state (the benchmark's Asio
// peer; weft's http_hello reads through a weft::BufReader instead): bytes read but not yet
// answered. Each server's loop is: answer(), write what it produced,
// make_room(), read into read_at()/read_room(), did_read().
class RequestBuffer {
 public:
  // A request head must fit in the buffer.
  static constexpr size_t kSize = 16 * 1024;

  // Appends to `out` the response to every complete request buffered;
  // returns true when the connection must close once `out` is written.
  bool answer(std::string& out) {
    for (;;) {
      const size_t drop = std::min(skip_body_, end_ - begin_);
      begin_ += drop;
      skip_body_ -= drop;
      if (skip_body_ > 0 || begin_ == end_) return false;
      const Request r = parse_head(std::string_view(in_ + begin_, end_ - begin_));
      if (r.kind == Request::kIncomplete) return false;
      if (respond(r, out)) return true;
      begin_ += r.head_len;
      skip_body_ = r.content_length;
    }
  }

  // Moves a partial request to the front. False when one request head fills
  // the whole buffer: answer kHeadTooLarge and close.
  bool make_room() {
    if (begin_ == end_) {
      begin_ = end_ = 0;
    } else if (end_ == kSize) {
      if (begin_ == 0) return false;
      std::memmove(in_, in_ + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    return true;
  }

  char* read_at() { return in_ + end_; }
  size_t read_room() const { return kSize - end_; }
  void did_read(size_t n) { end_ += n; }

 private:
  char in_[kSize];
  size_t begin_ = 0;      // unparsed input is in_[begin_, end_)
  size_t end_ = 0;
  size_t skip_body_ = 0;  // body bytes of the last request still to discard
};

}  // namespace http_framing

#endif  // WEFT_EXAMPLES_HTTP_FRAMING_H_
