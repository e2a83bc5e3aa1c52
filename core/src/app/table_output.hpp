#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

// What the administration commands (`conduit deliveries`, `dead-letters`, `hooks`) print for
// people: aligned columns, times relative to now, and colour only where someone is looking.
namespace conduit::app {

enum class Colour { kNone, kRed, kGreen, kYellow, kBlue, kCyan, kDim, kBold };

// Whether standard output gets colour: it is a terminal and NO_COLOR is unset or empty
// (https://no-color.org). Pipes and files get plain text, so scripts never see escapes.
bool colourWanted();

// Whether standard input is a terminal, where a question can be answered.
bool inputIsTerminal();

// `text` wrapped in the colour's escape codes when `enabled`, else `text` itself.
std::string paint(std::string_view text, Colour colour, bool enabled);

// How far `at_ms` is from `now_ms`, for people: `just now`, `42 s ago`, `3 min ago`,
// `5 h ago`, `2 days ago`, `in 4 min`; past 30 days the UTC date (`2026-11-02`).
std::string relativeTime(int64_t at_ms, int64_t now_ms);

struct Cell {
  std::string text;
  Colour colour = Colour::kNone;
};

// Rows of cells under a header, each column as wide as its widest cell (counted in characters,
// not bytes or escape codes); the last column is not padded, so lines carry no trailing spaces.
class Table {
 public:
  explicit Table(std::vector<std::string> headers);

  void addRow(std::vector<Cell> cells);
  bool empty() const { return rows_.empty(); }

  // The header (dim when `colour`) and the rows, one line each, columns two spaces apart.
  std::string render(bool colour) const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<Cell>> rows_;
};

}  // namespace conduit::app
