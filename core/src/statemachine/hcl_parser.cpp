#include "statemachine/hcl_parser.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>

#include <fmt/format.h>

namespace conduit::statemachine::hcl {
namespace {

// Deep enough for any state file; shallow enough that random input cannot exhaust the stack.
constexpr int kMaxNesting = 128;

// HCL identifiers are Unicode letters, digits, `_` and `-`: bytes of a UTF-8 sequence count as
// letters here (the subset has no operators that they could be confused with).
bool isIdentifierStart(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) != 0 || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}

bool isIdentifierChar(char c) {
  return isIdentifierStart(c) || std::isdigit(static_cast<unsigned char>(c)) != 0 || c == '-';
}

int hexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void appendUtf8(std::string& out, uint32_t code_point) {
  if (code_point < 0x80) {
    out += static_cast<char>(code_point);
  } else if (code_point < 0x800) {
    out += static_cast<char>(0xC0 | (code_point >> 6));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else if (code_point < 0x10000) {
    out += static_cast<char>(0xE0 | (code_point >> 12));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code_point >> 18));
    out += static_cast<char>(0x80 | ((code_point >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  }
}

class Parser {
 public:
  Parser(std::string_view text, const std::string& file) : text_(text), file_(file) {}

  Body parseFile() { return parseBody(false, 0); }

 private:
  // ---- characters ----

  bool atEnd() const { return pos_ >= text_.size(); }
  char peek(size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }
  Position here() const { return position_; }

  void advance(size_t count = 1) {
    for (size_t i = 0; i < count && !atEnd(); ++i) {
      const auto byte = static_cast<unsigned char>(text_[pos_]);
      if (byte == '\n') {
        ++position_.line;
        position_.column = 1;
      } else if ((byte & 0xC0) != 0x80) {  // columns count characters, not UTF-8 bytes
        ++position_.column;
      }
      ++pos_;
    }
  }

  [[noreturn]] void fail(Position at, const std::string& message) const {
    throw SyntaxError(file_, at, message);
  }

  // What the next character is, for messages.
  std::string describeNext() const {
    if (atEnd()) return "the end of the file";
    char c = peek();
    if (c == '\n') return "the end of the line";
    if (std::isprint(static_cast<unsigned char>(c)) != 0) return fmt::format("`{}`", c);
    return fmt::format("byte 0x{:02x}", static_cast<unsigned char>(c));
  }

  // Skips spaces, tabs, carriage returns and comments; newlines too when `newlines` is set. A
  // line comment stops before its newline, which still ends an attribute.
  void skipBlank(bool newlines) {
    while (!atEnd()) {
      char c = peek();
      if (c == ' ' || c == '\t' || c == '\r' || (newlines && c == '\n')) {
        advance();
      } else if (c == '#' || (c == '/' && peek(1) == '/')) {
        while (!atEnd() && peek() != '\n')
          advance();
      } else if (c == '/' && peek(1) == '*') {
        Position start = here();
        advance(2);
        while (!atEnd() && !(peek() == '*' && peek(1) == '/'))
          advance();
        if (atEnd()) fail(start, "unterminated `/*` comment");
        advance(2);
      } else {
        return;
      }
    }
  }

  std::string identifier() {
    size_t start = pos_;
    while (!atEnd() && isIdentifierChar(peek()))
      advance();
    return std::string(text_.substr(start, pos_ - start));
  }

  // After an attribute or a block: only blanks and a comment may follow on the line.
  void expectEndOfLine() {
    skipBlank(false);
    if (atEnd()) return;
    if (peek() != '\n') {
      fail(here(), fmt::format("expected the end of the line, found {}", describeNext()));
    }
    advance();
  }

  // ---- bodies ----

  Body parseBody(bool nested, int depth) {
    if (depth > kMaxNesting) fail(here(), "blocks are nested too deep");
    Body body;
    while (true) {
      skipBlank(true);
      if (atEnd()) return body;
      if (peek() == '}') {
        if (nested) return body;
        fail(here(), "unexpected `}` with no block open");
      }
      parseItem(body, depth);
    }
  }

  void parseItem(Body& body, int depth) {
    Position start = here();
    if (!isIdentifierStart(peek())) {
      fail(start, fmt::format("expected an attribute or a block, found {}", describeNext()));
    }
    std::string name = identifier();
    skipBlank(false);

    if (peek() == '=' && peek(1) != '=') {
      for (const auto& earlier : body.attributes) {
        if (earlier.name == name) {
          fail(start, fmt::format("`{}` is set twice in this block (first at line {})", name,
                                  earlier.position.line));
        }
      }
      advance();
      skipBlank(false);
      Value value = parseExpression(depth);
      body.attributes.push_back(Attribute{std::move(name), std::move(value), start});
      expectEndOfLine();
      return;
    }

    Block block;
    block.type = std::move(name);
    block.position = start;
    while (peek() == '"' || isIdentifierStart(peek())) {
      block.label_positions.push_back(here());
      block.labels.push_back(peek() == '"' ? quotedString() : identifier());
      skipBlank(false);
    }
    if (peek() != '{') {
      fail(here(), fmt::format("expected `=` or a block's labels and `{{` after `{}`, found {}",
                               block.type, describeNext()));
    }
    Position open = here();
    advance();
    skipBlank(false);
    if (peek() == '}') {
      advance();  // an empty block
    } else if (peek() == '\n' || atEnd()) {
      block.body = parseBody(true, depth + 1);
      if (atEnd()) fail(open, fmt::format("this `{{` of `{}` is never closed", block.type));
      advance();  // '}'
    } else {
      // A one-line block holds a single attribute: `state "a" "next" { transition = "b" }`.
      Position attribute_start = here();
      if (!isIdentifierStart(peek())) {
        fail(attribute_start, fmt::format("expected an attribute, found {}", describeNext()));
      }
      std::string attribute = identifier();
      skipBlank(false);
      if (peek() != '=' || peek(1) == '=') {
        fail(here(),
             "a one-line block holds one `name = value` attribute; put blocks on lines "
             "of their own");
      }
      advance();
      skipBlank(false);
      Value value = parseExpression(depth + 1);
      block.body.attributes.push_back(
          Attribute{std::move(attribute), std::move(value), attribute_start});
      skipBlank(false);
      if (peek() != '}') {
        fail(here(),
             fmt::format("expected `}}` to close the one-line block, found {}", describeNext()));
      }
      advance();
    }
    body.blocks.push_back(std::move(block));
    expectEndOfLine();
  }

  // ---- expressions ----

  Value parseExpression(int depth) {
    Value value = parseTerm(depth);
    skipBlank(false);
    const char c = peek();
    if (c == '?') fail(here(), "conditional expressions are not supported in state files");
    if ((c != '\0' && std::string_view("+-*/%<>!&|").find(c) != std::string_view::npos) ||
        (c == '=' && peek(1) == '=')) {
      fail(here(), "operators are not supported in state files: write the value itself");
    }
    if (c == '.' || c == '[') {
      fail(here(), "attribute access and indexing are not supported in state files");
    }
    return value;
  }

  Value parseTerm(int depth) {
    if (depth > kMaxNesting) fail(here(), "values are nested too deep");
    Value value;
    value.position = here();
    const char c = peek();
    if (c == '"') {
      value.kind = Value::Kind::kString;
      value.text = quotedString();
    } else if (c == '<' && peek(1) == '<') {
      value.kind = Value::Kind::kString;
      value.text = heredoc();
    } else if (c == '[') {
      value.kind = Value::Kind::kTuple;
      parseTuple(value, depth + 1);
    } else if (c == '{') {
      value.kind = Value::Kind::kObject;
      parseObject(value, depth + 1);
    } else if (std::isdigit(static_cast<unsigned char>(c)) != 0 ||
               (c == '-' && std::isdigit(static_cast<unsigned char>(peek(1))) != 0)) {
      value.kind = Value::Kind::kNumber;
      value.text = number();
    } else if (isIdentifierStart(c)) {
      std::string word = identifier();
      if (word == "true" || word == "false") {
        value.kind = Value::Kind::kBool;
        value.boolean = word == "true";
      } else if (word == "null") {
        value.kind = Value::Kind::kNull;
      } else {
        skipBlank(false);
        if (peek() == '(') {
          fail(value.position, fmt::format("function calls (`{}(...)`) are not supported in "
                                           "state files",
                                           word));
        }
        fail(value.position,
             fmt::format("variables and references (`{}`) are not supported in state files; "
                         "to mean the text, quote it: \"{}\"",
                         word, word));
      }
    } else if ((c == '$' || c == '%') && peek(1) == '{') {
      fail(value.position, c == '$' ? "interpolation (`${...}`) is not supported in state files"
                                    : "template directives (`%{...}`) are not supported in state "
                                      "files");
    } else if (c == '(') {
      fail(value.position, "parenthesized expressions are not supported in state files");
    } else if (c == '!' || c == '-') {
      fail(value.position, "operators are not supported in state files: write the value itself");
    } else {
      fail(value.position, fmt::format("expected a value, found {}", describeNext()));
    }
    return value;
  }

  std::string number() {
    size_t start = pos_;
    Position at = here();
    if (peek() == '-') advance();
    auto digits = [&] {
      size_t from = pos_;
      while (std::isdigit(static_cast<unsigned char>(peek())) != 0)
        advance();
      return pos_ > from;
    };
    digits();
    if (peek() == '.') {
      advance();
      if (!digits()) fail(here(), "expected digits after the `.` of a number");
    }
    if (peek() == 'e' || peek() == 'E') {
      advance();
      if (peek() == '+' || peek() == '-') advance();
      if (!digits()) fail(here(), "expected the exponent's digits");
    }
    if (isIdentifierChar(peek())) fail(at, "malformed number");
    return std::string(text_.substr(start, pos_ - start));
  }

  // A `for` right after `[` or `{` is a `for` expression, which the subset leaves out.
  void refuseFor() {
    if (text_.substr(pos_, 3) == "for" && (peek(3) == ' ' || peek(3) == '\t')) {
      fail(here(), "`for` expressions are not supported in state files");
    }
  }

  void parseTuple(Value& tuple, int depth) {
    Position open = here();
    advance();  // '['
    skipBlank(true);
    refuseFor();
    while (true) {
      skipBlank(true);
      if (atEnd()) fail(open, "this `[` is never closed");
      if (peek() == ']') {
        advance();
        return;
      }
      tuple.items.push_back(parseExpression(depth));
      skipBlank(true);
      if (atEnd()) fail(open, "this `[` is never closed");
      if (peek() == ',') {
        advance();
      } else if (peek() != ']') {
        fail(here(), fmt::format("expected `,` or `]` in the tuple, found {}", describeNext()));
      }
    }
  }

  void parseObject(Value& object, int depth) {
    Position open = here();
    advance();  // '{'
    skipBlank(true);
    refuseFor();
    while (true) {
      skipBlank(true);
      if (atEnd()) fail(open, "this `{` is never closed");
      if (peek() == '}') {
        advance();
        return;
      }
      ObjectItem item;
      item.position = here();
      if (peek() == '"') {
        item.key = quotedString();
      } else if (isIdentifierStart(peek())) {
        item.key = identifier();
      } else if (peek() == '(') {
        fail(here(), "computed object keys are not supported in state files");
      } else {
        fail(here(), fmt::format("expected an object key, found {}", describeNext()));
      }
      skipBlank(false);
      if ((peek() != '=' && peek() != ':') || (peek() == '=' && peek(1) == '=')) {
        fail(here(), fmt::format("expected `=` or `:` after the key `{}`, found {}", item.key,
                                 describeNext()));
      }
      advance();
      skipBlank(false);
      item.value = parseExpression(depth);
      object.members.push_back(std::move(item));
      skipBlank(false);
      if (peek() == ',') {
        advance();
      } else if (peek() != '\n' && peek() != '}') {
        fail(here(), fmt::format("expected `,`, a new line or `}}` after the object item, found {}",
                                 describeNext()));
      }
    }
  }

  // A template character that HCL gives meaning to: `${` and `%{` open an interpolation or a
  // directive (refused); `$${` and `%%{` stand for the literal text.
  bool templateSequence(std::string& out) {
    const char c = peek();
    if ((c == '$' || c == '%') && peek(1) == c && peek(2) == '{') {
      out += c;
      out += '{';
      advance(3);
      return true;
    }
    if (c == '$' && peek(1) == '{') {
      fail(here(),
           "interpolation (`${...}`) is not supported in state files; write `$${` for a "
           "literal `${`");
    }
    if (c == '%' && peek(1) == '{') {
      fail(here(),
           "template directives (`%{...}`) are not supported in state files; write "
           "`%%{` for a literal `%{`");
    }
    return false;
  }

  std::string quotedString() {
    Position open = here();
    advance();  // '"'
    std::string out;
    while (true) {
      if (atEnd()) fail(open, "this string is never closed");
      const char c = peek();
      if (c == '"') {
        advance();
        return out;
      }
      if (c == '\n') {
        fail(open, "this string is never closed on its line (use a heredoc for several lines)");
      }
      if (c == '\\') {
        escape(out);
      } else if (!templateSequence(out)) {
        out += c;
        advance();
      }
    }
  }

  void escape(std::string& out) {
    Position at = here();
    advance();  // '\\'
    const char c = peek();
    switch (c) {
      case 'n':
        out += '\n';
        break;
      case 't':
        out += '\t';
        break;
      case 'r':
        out += '\r';
        break;
      case '"':
        out += '"';
        break;
      case '\\':
        out += '\\';
        break;
      case 'u':
      case 'U': {
        const int size = c == 'u' ? 4 : 8;
        uint32_t code_point = 0;
        for (int i = 1; i <= size; ++i) {
          int digit = hexDigit(peek(static_cast<size_t>(i)));
          if (digit < 0) {
            fail(at, fmt::format("`\\{}` needs {} hex digits", c, size));
          }
          code_point = code_point * 16 + static_cast<uint32_t>(digit);
        }
        if (code_point > 0x10FFFF || (code_point >= 0xD800 && code_point <= 0xDFFF)) {
          fail(at, fmt::format("`\\{}` names no Unicode character", c));
        }
        appendUtf8(out, code_point);
        advance(static_cast<size_t>(size));
        break;
      }
      default:
        fail(at, fmt::format("unknown escape `\\{}`; HCL knows \\n \\t \\r \\\" \\\\ \\uXXXX "
                             "\\UXXXXXXXX",
                             atEnd() ? ' ' : c));
    }
    advance();
  }

  // `<<EOT` or `<<-EOT` (which removes the lines' common indentation), through a line holding
  // only `EOT`. Each line keeps its newline, as HCL does.
  std::string heredoc() {
    Position open = here();
    advance(2);
    const bool flush = peek() == '-';
    if (flush) advance();
    if (!isIdentifierStart(peek())) fail(here(), "expected the heredoc's marker, as in <<EOT");
    const std::string marker = identifier();
    skipBlank(false);
    if (peek() != '\n') fail(here(), "the heredoc's text starts on the line after its marker");
    advance();

    std::vector<std::string> lines;
    while (true) {
      if (atEnd()) fail(open, fmt::format("the heredoc is never closed by a line `{}`", marker));
      size_t end = text_.find('\n', pos_);
      if (end == std::string_view::npos) end = text_.size();
      std::string_view line = text_.substr(pos_, end - pos_);
      std::string_view trimmed = line;
      while (!trimmed.empty() && (trimmed.front() == ' ' || trimmed.front() == '\t')) {
        trimmed.remove_prefix(1);
      }
      while (!trimmed.empty() &&
             (trimmed.back() == ' ' || trimmed.back() == '\t' || trimmed.back() == '\r')) {
        trimmed.remove_suffix(1);
      }
      if (trimmed == marker) {
        advance(line.size());
        break;
      }
      std::string content;
      while (pos_ < end) {
        if (!templateSequence(content)) {
          content += peek();
          advance();
        }
      }
      advance();  // '\n'
      lines.push_back(std::move(content));
    }

    size_t indent = 0;
    if (flush) {
      indent = std::string::npos;
      for (const auto& line : lines) {
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        indent = std::min(indent, line.find_first_not_of(" \t"));
      }
      if (indent == std::string::npos) indent = 0;
    }
    std::string out;
    for (const auto& line : lines) {
      out += line.size() > indent ? line.substr(indent) : std::string();
      out += '\n';
    }
    return out;
  }

  std::string_view text_;
  const std::string& file_;
  size_t pos_ = 0;
  Position position_;
};

}  // namespace

SyntaxError::SyntaxError(const std::string& file, Position position, const std::string& message)
    : std::runtime_error(
          fmt::format("{}:{}:{}: {}", file, position.line, position.column, message)) {}

Body parse(std::string_view text, const std::string& file_name) {
  return Parser(text, file_name).parseFile();
}

const char* Value::kindName() const {
  switch (kind) {
    case Kind::kString:
      return "a string";
    case Kind::kNumber:
      return "a number";
    case Kind::kBool:
      return "a boolean";
    case Kind::kNull:
      return "null";
    case Kind::kTuple:
      return "a tuple";
    case Kind::kObject:
      return "an object";
  }
  return "a value";
}

}  // namespace conduit::statemachine::hcl
