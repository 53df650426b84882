// The examples' request framing: where one request ends, and what is refused.
#include "examples/http_framing.h"

#include <catch2/catch.hpp>

using http_framing::parse_head;
using http_framing::Request;

TEST_CASE("a request head ends at the blank line; Content-Length counts the body") {
  const Request r = parse_head("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello");
  REQUIRE(r.kind == Request::kOk);
  CHECK(r.head_len == 38);
  CHECK(r.content_length == 5);
  CHECK_FALSE(r.close);
}

TEST_CASE("an unfinished head is incomplete, not bad") {
  CHECK(parse_head("GET / HTTP/1.1\r\nHost: x\r\n").kind == Request::kIncomplete);
}

TEST_CASE("Content-Length fields that disagree are refused (request smuggling)") {
  CHECK(parse_head("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 50\r\n\r\n").kind ==
        Request::kBad);
  CHECK(parse_head("POST / HTTP/1.1\r\nContent-Length: 50\r\ncontent-length: 5\r\n\r\n").kind ==
        Request::kBad);
}

TEST_CASE("a repeated Content-Length with one value is accepted") {
  const Request r =
      parse_head("POST / HTTP/1.1\r\nContent-Length: 7\r\nContent-Length: 7\r\n\r\n");
  REQUIRE(r.kind == Request::kOk);
  CHECK(r.content_length == 7);
}

TEST_CASE("a malformed Content-Length, a header without a colon and a bad version are refused") {
  CHECK(parse_head("POST / HTTP/1.1\r\nContent-Length: 5x\r\n\r\n").kind == Request::kBad);
  CHECK(parse_head("POST / HTTP/1.1\r\nContent-Length:\r\n\r\n").kind == Request::kBad);
  CHECK(parse_head("GET / HTTP/1.1\r\nNoColon\r\n\r\n").kind == Request::kBad);
  CHECK(parse_head("GET / HTTP/2.0\r\n\r\n").kind == Request::kBad);
}

TEST_CASE("Transfer-Encoding is reported as unsupported; HTTP/1.0 closes unless kept alive") {
  CHECK(parse_head("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n").kind ==
        Request::kChunked);
  CHECK(parse_head("GET / HTTP/1.0\r\n\r\n").close);
  CHECK_FALSE(parse_head("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").close);
  CHECK(parse_head("GET / HTTP/1.1\r\nConnection: close\r\n\r\n").close);
}
