#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace conduit::http {

// Collects a request's header block (request line, header lines and the empty line that ends
// them) from bytes that arrive in pieces of any size. Each byte is looked at a bounded number
// of times, so the cost is linear in the bytes received however they are cut, and the block is
// never let grow past `max_bytes`.
class HeaderBlockReader {
 public:
  enum class Status { kIncomplete, kComplete, kTooLarge };

  explicit HeaderBlockReader(size_t max_bytes) : max_bytes_(max_bytes) {}

  // Takes bytes from the front of `input` up to the end of the block, and returns how many it
  // took: the rest belongs to the body or to the next request. Empty lines before a request
  // line are skipped, as RFC 9112 asks. kTooLarge once `max_bytes` are held without an end.
  size_t take(std::string_view input, Status& status);

  // The block so far: all of it, ending in "\r\n\r\n", once take() said kComplete.
  std::string_view block() const { return bytes_; }
  bool started() const { return !bytes_.empty(); }

  // Forgets the block, and gives back its memory when it was large.
  void reset();

 private:
  size_t max_bytes_;
  std::string bytes_;
  size_t scanned_ = 0;  // bytes_ before this are known not to start the final "\r\n\r\n"
};

// How a request's body is delimited, judged from its raw header block.
struct Framing {
  enum class Verdict {
    kAccepted,
    kBodyTooLarge,    // Content-Length over the limit, however many digits it has
    kLengthRequired,  // Transfer-Encoding (chunked): refused, code hosts always send a length
    kMalformed,       // a bad or repeated Content-Length, a header line that is not one, a bare CR
                      // or LF, or a NUL
  };
  Verdict verdict = Verdict::kAccepted;
  size_t content_length = 0;  // when accepted; 0 when the request declares no body
};

// Judges `block` (a complete header block) before anything else parses it: lines that end in
// CRLF, never a bare CR or LF (nor a NUL) inside them; at most one
// Content-Length, made of digits, not over `max_body_bytes`; no Transfer-Encoding; each header
// line `name: value` with no space before the colon and no continuation lines (a proxy in
// front might read those differently, and the body's end must be the same for both).
Framing judgeFraming(std::string_view block, size_t max_body_bytes);

// The value (without surrounding blanks) of the first header called `name`, compared without
// case, among the complete lines of `block`, which may be a partial header block.
std::optional<std::string_view> rawHeader(std::string_view block, std::string_view name);

// The method and the path (without the query string) of the request line at the start of
// `block`, for the log of a request refused before it was parsed; "-" for what is not there.
std::pair<std::string, std::string> requestLineForLog(std::string_view block);

// `id` as the access log shows it: kept when it is a valid delivery id, otherwise cut to 128
// characters with every character outside A-Z a-z 0-9 . _ : - replaced by `?`, so that a
// client cannot write into the log what it likes.
std::string deliveryIdForLog(std::string_view id);

}  // namespace conduit::http
