#include "http/header_block.hpp"

#include <algorithm>
#include <cctype>

#include "queue/delivery.hpp"

namespace conduit::http {
namespace {

constexpr std::string_view kBlockEnd = "\r\n\r\n";

bool sameNameIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trimBlanks(std::string_view s) {
  const size_t first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  const size_t last = s.find_last_not_of(" \t");
  return s.substr(first, last - first + 1);
}

// Calls `visit(line)` for each complete header line of `block` (after the request line, before
// the empty line), until it returns false.
template <typename Visit>
void forEachHeaderLine(std::string_view block, Visit visit) {
  size_t line = block.find("\r\n");
  if (line == std::string_view::npos) return;
  line += 2;
  while (line < block.size()) {
    const size_t end = block.find("\r\n", line);
    if (end == std::string_view::npos || end == line) return;  // partial, or the empty line
    if (!visit(block.substr(line, end - line))) return;
    line = end + 2;
  }
}

// A character a log line may show as it is.
std::string printableForLog(std::string_view s, size_t max_chars) {
  std::string out;
  for (char c : s.substr(0, max_chars)) {
    const auto u = static_cast<unsigned char>(c);
    out.push_back(u > 0x20 && u < 0x7f ? c : '?');
  }
  return out.empty() ? "-" : out;
}

}  // namespace

size_t HeaderBlockReader::take(std::string_view input, Status& status) {
  size_t skipped = 0;
  if (bytes_.empty()) {
    while (skipped < input.size() && (input[skipped] == '\r' || input[skipped] == '\n'))
      ++skipped;
    input.remove_prefix(skipped);
  }
  const size_t room = max_bytes_ - bytes_.size();
  const size_t taken = std::min(room, input.size());
  bytes_.append(input.data(), taken);
  // The end may straddle the previous piece and this one: look again at the last 3 bytes only.
  const size_t from = scanned_ >= kBlockEnd.size() - 1 ? scanned_ - (kBlockEnd.size() - 1) : 0;
  const size_t found = bytes_.find(kBlockEnd, from);
  if (found != std::string::npos) {
    const size_t end = found + kBlockEnd.size();
    const size_t beyond = bytes_.size() - end;  // taken from `input` but not part of the block
    bytes_.resize(end);
    scanned_ = end;
    status = Status::kComplete;
    return skipped + taken - beyond;
  }
  scanned_ = bytes_.size();
  status = bytes_.size() >= max_bytes_ ? Status::kTooLarge : Status::kIncomplete;
  return skipped + taken;
}

void HeaderBlockReader::reset() {
  // A block of a few hundred bytes is the common case: keep that much, not a megabyte.
  if (bytes_.capacity() > 16 * 1024) {
    std::string().swap(bytes_);
  } else {
    bytes_.clear();
  }
  scanned_ = 0;
}

Framing judgeFraming(std::string_view block, size_t max_body_bytes) {
  Framing framing;
  // Lines end in CRLF only: a bare LF or CR, which other parsers (a proxy in front) may take for
  // the end of a line where this one does not, could hide a header from one of them.
  for (size_t i = 0; i < block.size(); ++i) {
    const char c = block[i];
    const bool bare_cr = c == '\r' && (i + 1 == block.size() || block[i + 1] != '\n');
    const bool bare_lf = c == '\n' && (i == 0 || block[i - 1] != '\r');
    if (bare_cr || bare_lf || c == '\0') {
      framing.verdict = Framing::Verdict::kMalformed;
      return framing;
    }
  }
  int lengths = 0;
  std::string_view length;
  forEachHeaderLine(block, [&](std::string_view line) {
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0 || line[0] == ' ' || line[0] == '\t' ||
        line[colon - 1] == ' ' || line[colon - 1] == '\t') {
      framing.verdict = Framing::Verdict::kMalformed;
      return false;
    }
    const std::string_view name = line.substr(0, colon);
    if (sameNameIgnoringCase(name, "transfer-encoding")) {
      framing.verdict = Framing::Verdict::kLengthRequired;
      return false;
    }
    if (sameNameIgnoringCase(name, "content-length")) {
      ++lengths;
      length = trimBlanks(line.substr(colon + 1));
    }
    return true;
  });
  if (framing.verdict != Framing::Verdict::kAccepted || lengths == 0) return framing;
  if (lengths > 1 || length.empty() ||
      length.find_first_not_of("0123456789") != std::string_view::npos) {
    framing.verdict = Framing::Verdict::kMalformed;
    return framing;
  }
  // More digits than the limit has is over it, however large (and beyond 64 bits).
  const size_t first_digit = std::min(length.find_first_not_of('0'), length.size());
  const std::string_view digits = length.substr(first_digit);
  if (digits.size() > std::to_string(max_body_bytes).size()) {
    framing.verdict = Framing::Verdict::kBodyTooLarge;
    return framing;
  }
  size_t value = 0;
  for (char c : digits)
    value = value * 10 + static_cast<size_t>(c - '0');
  if (value > max_body_bytes) {
    framing.verdict = Framing::Verdict::kBodyTooLarge;
    return framing;
  }
  framing.content_length = value;
  return framing;
}

std::optional<std::string_view> rawHeader(std::string_view block, std::string_view name) {
  std::optional<std::string_view> value;
  forEachHeaderLine(block, [&](std::string_view line) {
    const size_t colon = line.find(':');
    if (colon != std::string_view::npos && sameNameIgnoringCase(line.substr(0, colon), name)) {
      value = trimBlanks(line.substr(colon + 1));
      return false;
    }
    return true;
  });
  return value;
}

std::pair<std::string, std::string> requestLineForLog(std::string_view block) {
  const std::string_view line = block.substr(0, block.find("\r\n"));
  const size_t space = line.find(' ');
  if (space == std::string_view::npos) return {printableForLog(line, 16), "-"};
  std::string_view target = line.substr(space + 1);
  target = target.substr(0, std::min(target.find(' '), target.find('?')));
  return {printableForLog(line.substr(0, space), 16), printableForLog(target, 256)};
}

std::string deliveryIdForLog(std::string_view id) {
  if (queue::isValidDeliveryId(id)) return std::string(id);
  std::string shown;
  for (char c : id.substr(0, 128)) {
    const bool allowed = std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' ||
                         c == ':' || c == '-';
    shown.push_back(allowed ? c : '?');
  }
  return shown.empty() ? "-" : shown;
}

}  // namespace conduit::http
