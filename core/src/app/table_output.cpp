#include "app/table_output.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include <fmt/format.h>

#include "http/time_text.hpp"

namespace conduit::app {
namespace {

// Characters, not bytes: repo paths and messages may hold UTF-8.
size_t displayWidth(std::string_view text) {
  size_t width = 0;
  for (char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++width;
  }
  return width;
}

std::string_view escapeCode(Colour colour) {
  switch (colour) {
    case Colour::kNone:
      return "";
    case Colour::kRed:
      return "\033[31m";
    case Colour::kGreen:
      return "\033[32m";
    case Colour::kYellow:
      return "\033[33m";
    case Colour::kBlue:
      return "\033[34m";
    case Colour::kCyan:
      return "\033[36m";
    case Colour::kDim:
      return "\033[2m";
    case Colour::kBold:
      return "\033[1m";
  }
  return "";
}

}  // namespace

bool colourWanted() {
  const char* no_color = std::getenv("NO_COLOR");
  if (no_color != nullptr && *no_color != '\0') return false;
  return isatty(STDOUT_FILENO) == 1;
}

bool inputIsTerminal() {
  return isatty(STDIN_FILENO) == 1;
}

std::string paint(std::string_view text, Colour colour, bool enabled) {
  if (!enabled || colour == Colour::kNone || text.empty()) return std::string(text);
  return fmt::format("{}{}\033[0m", escapeCode(colour), text);
}

std::string relativeTime(int64_t at_ms, int64_t now_ms) {
  if (at_ms <= 0) return "-";
  const int64_t delta_s = (now_ms - at_ms) / 1000;
  const bool future = delta_s < 0;
  const int64_t s = future ? -delta_s : delta_s;
  if (s < 5) return "just now";
  std::string amount;
  if (s < 60) {
    amount = fmt::format("{} s", s);
  } else if (s < 3600) {
    amount = fmt::format("{} min", s / 60);
  } else if (s < 48 * 3600) {
    amount = fmt::format("{} h", s / 3600);
  } else if (s < 30 * 86400) {
    amount = fmt::format("{} days", s / 86400);
  } else {
    return http::formatRfc3339(at_ms).substr(0, 10);
  }
  return future ? "in " + amount : amount + " ago";
}

Table::Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}

void Table::addRow(std::vector<Cell> cells) {
  cells.resize(headers_.size());
  rows_.push_back(std::move(cells));
}

std::string Table::render(bool colour) const {
  std::vector<size_t> widths(headers_.size());
  for (size_t c = 0; c < headers_.size(); ++c) {
    widths[c] = displayWidth(headers_[c]);
    for (const auto& row : rows_)
      widths[c] = std::max(widths[c], displayWidth(row[c].text));
  }
  std::string out;
  auto line = [&](const std::vector<Cell>& cells) {
    for (size_t c = 0; c < cells.size(); ++c) {
      if (c > 0) out += "  ";
      out += paint(cells[c].text, cells[c].colour, colour);
      if (c + 1 < cells.size()) out.append(widths[c] - displayWidth(cells[c].text), ' ');
    }
    out += '\n';
  };
  std::vector<Cell> header;
  for (const auto& name : headers_)
    header.push_back({name, Colour::kDim});
  line(header);
  for (const auto& row : rows_)
    line(row);
  return out;
}

}  // namespace conduit::app
