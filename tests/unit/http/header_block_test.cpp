#include "http/header_block.hpp"

#include <string>

#include <doctest/doctest.h>

using conduit::http::deliveryIdForLog;
using conduit::http::Framing;
using conduit::http::HeaderBlockReader;
using conduit::http::judgeFraming;
using conduit::http::rawHeader;
using conduit::http::requestLineForLog;

namespace {

const std::string kRequest =
    "POST /conduit/webhooks/github/repo/payload HTTP/1.1\r\nHost: x\r\n"
    "X-GitHub-Delivery: d-1\r\nContent-Length: 2\r\n\r\n";

Framing judge(const std::string& headers, size_t max_body_bytes = 1000) {
  return judgeFraming("POST / HTTP/1.1\r\n" + headers + "\r\n", max_body_bytes);
}

}  // namespace

TEST_CASE("header block: found whole however it is cut - and what follows is left") {
  const std::string bytes = kRequest + "{}GET /next";
  for (size_t piece : {size_t{1}, size_t{2}, size_t{3}, size_t{7}, bytes.size()}) {
    CAPTURE(piece);
    HeaderBlockReader reader(4096);
    HeaderBlockReader::Status status = HeaderBlockReader::Status::kIncomplete;
    size_t offset = 0;
    size_t taken = 0;
    while (offset < bytes.size()) {
      const std::string_view chunk = std::string_view(bytes).substr(offset, piece);
      taken = reader.take(chunk, status);
      offset += taken;
      if (status != HeaderBlockReader::Status::kIncomplete) break;
      CHECK(taken == chunk.size());
    }
    REQUIRE(status == HeaderBlockReader::Status::kComplete);
    CHECK(reader.block() == kRequest);
    CHECK(offset == kRequest.size());  // the body and the next request are not taken
  }
}

TEST_CASE("header block: a request line alone - and empty lines before a request") {
  HeaderBlockReader reader(4096);
  HeaderBlockReader::Status status;
  CHECK(reader.take("\r\n\r\n", status) == 4);
  CHECK(status == HeaderBlockReader::Status::kIncomplete);
  CHECK_FALSE(reader.started());
  CHECK(reader.take("GET /conduit/ping HTTP/1.1\r\n\r\nGET", status) == 30);
  CHECK(status == HeaderBlockReader::Status::kComplete);
  CHECK(reader.block() == "GET /conduit/ping HTTP/1.1\r\n\r\n");
  reader.reset();
  CHECK_FALSE(reader.started());
}

TEST_CASE("header block: never held past its limit - a block of exactly the limit is whole") {
  HeaderBlockReader reader(1024);
  HeaderBlockReader::Status status;
  const std::string endless = "GET / HTTP/1.1\r\nX-Long: " + std::string(2000, 'a');
  CHECK(reader.take(endless, status) == 1024);
  CHECK(status == HeaderBlockReader::Status::kTooLarge);
  CHECK(reader.block().size() == 1024);

  std::string exact = "GET / HTTP/1.1\r\nX: ";
  exact += std::string(1024 - exact.size() - 4, 'b') + "\r\n\r\n";
  REQUIRE(exact.size() == 1024);
  HeaderBlockReader fits(1024);
  CHECK(fits.take(exact, status) == 1024);
  CHECK(status == HeaderBlockReader::Status::kComplete);
}

TEST_CASE(
    "header block: a megabyte in one-byte pieces looks at each byte a bounded number of "
    "times") {
  // Linear: a reader that looked at everything again for each piece would take minutes here.
  HeaderBlockReader reader(1 << 20);
  HeaderBlockReader::Status status = HeaderBlockReader::Status::kIncomplete;
  const std::string start = "GET / HTTP/1.1\r\nX-Long: ";
  for (char c : start)
    reader.take(std::string_view(&c, 1), status);
  const char a = 'a';
  size_t pieces = 0;
  while (status == HeaderBlockReader::Status::kIncomplete) {
    reader.take(std::string_view(&a, 1), status);
    ++pieces;
  }
  CHECK(status == HeaderBlockReader::Status::kTooLarge);
  CHECK(pieces == (1 << 20) - start.size());
}

TEST_CASE("framing: the declared length - none - or a refusal from the headers alone") {
  CHECK(judge("").verdict == Framing::Verdict::kAccepted);
  CHECK(judge("").content_length == 0);
  auto accepted = judge("content-length:  12 \r\n");
  CHECK(accepted.verdict == Framing::Verdict::kAccepted);
  CHECK(accepted.content_length == 12);

  CHECK(judge("Content-Length: 1000\r\n").content_length == 1000);
  CHECK(judge("Content-Length: 1001\r\n").verdict == Framing::Verdict::kBodyTooLarge);
  CHECK(judge("Content-Length: 99999999999999999999999\r\n").verdict ==
        Framing::Verdict::kBodyTooLarge);
  CHECK(judge("Content-Length: 0000000000000000000000001\r\n").content_length == 1);

  CHECK(judge("Transfer-Encoding: chunked\r\n").verdict == Framing::Verdict::kLengthRequired);
  CHECK(judge("Content-Length: 12abc\r\n").verdict == Framing::Verdict::kMalformed);
  CHECK(judge("Content-Length:\r\n").verdict == Framing::Verdict::kMalformed);
  CHECK(judge("Content-Length: 2\r\ncontent-length: 2\r\n").verdict ==
        Framing::Verdict::kMalformed);
  // A proxy might read these differently from us, so the body's end would not be agreed on.
  CHECK(judge("Content-Length : 2\r\n").verdict == Framing::Verdict::kMalformed);
  CHECK(judge("X-A: 1\r\n Content-Length: 2\r\n").verdict == Framing::Verdict::kMalformed);
  CHECK(judge("no colon here\r\n").verdict == Framing::Verdict::kMalformed);
  // Lines end in CRLF only: a bare LF or CR would end a line for some parsers and not others.
  CHECK(judge("X-A: 1\nContent-Length: 2\r\n").verdict == Framing::Verdict::kMalformed);
  CHECK(judge("X-A: 1\rContent-Length: 2\r\n").verdict == Framing::Verdict::kMalformed);
  CHECK(judge(std::string("X-A: a\0b\r\n", 10)).verdict == Framing::Verdict::kMalformed);
  CHECK(judge("X-A: 1\r\nContent-Length: 2\r\n").verdict == Framing::Verdict::kAccepted);
}

TEST_CASE("raw headers: found without case among complete lines - of a partial block too") {
  CHECK(rawHeader(kRequest, "x-github-delivery") == "d-1");
  CHECK_FALSE(rawHeader(kRequest, "X-GitHub-Event").has_value());
  CHECK(rawHeader("POST / HTTP/1.1\r\nX-GitHub-Delivery: d-2\r\nX-Long: aaaa", "X-Long") ==
        std::nullopt);
  CHECK(rawHeader("POST / HTTP/1.1\r\nX-GitHub-Delivery: d-2\r\nX-Long: aaaa",
                  "X-GitHub-Delivery") == "d-2");
}

TEST_CASE("log: the request line and delivery ids of refused requests are shown safely") {
  CHECK(requestLineForLog(kRequest) ==
        std::pair<std::string, std::string>{"POST", "/conduit/webhooks/github/repo/payload"});
  CHECK(requestLineForLog("GET /x?token=secret HTTP/1.1\r\n").second == "/x");
  CHECK(requestLineForLog("GE") == std::pair<std::string, std::string>{"GE", "-"});
  CHECK(requestLineForLog("GET /a\x1b[31m HTTP/1.1\r\n").second == "/a?[31m");
  CHECK(deliveryIdForLog("72d3162e-cc78") == "72d3162e-cc78");
  CHECK(deliveryIdForLog("bad id\x1b") == "bad?id?");
  CHECK(deliveryIdForLog(std::string(300, 'x') + "!").size() == 128);
}
