#include "statemachine/hcl_parser.hpp"

#include <doctest/doctest.h>

using conduit::statemachine::hcl::parse;
using conduit::statemachine::hcl::SyntaxError;
using conduit::statemachine::hcl::Value;

namespace {

// The message of the SyntaxError that parsing `text` throws, or "" when it parses.
std::string errorOf(const std::string& text) {
  try {
    parse(text, "f.hcl");
  } catch (const SyntaxError& e) {
    return e.what();
  }
  return "";
}

const Value& attribute(const conduit::statemachine::hcl::Body& body, const std::string& name) {
  for (const auto& a : body.attributes) {
    if (a.name == name) return a.value;
  }
  FAIL("no attribute " << name);
  static Value none;
  return none;
}

}  // namespace

TEST_CASE("hcl: blocks with any number of labels - nested - and one-line blocks") {
  auto body = parse(R"(provisioner "soc" {
  statemachine "soc" {
    state "to_do" "next" { transition = "in_progress" }
  }
}
empty {}
bare_label x "y" {
}
)",
                    "f.hcl");
  REQUIRE(body.blocks.size() == 3);
  const auto& provisioner = body.blocks[0];
  CHECK(provisioner.type == "provisioner");
  CHECK(provisioner.labels == std::vector<std::string>{"soc"});
  CHECK(provisioner.position.line == 1);
  const auto& state = provisioner.body.blocks[0].body.blocks[0];
  CHECK(state.labels == std::vector<std::string>{"to_do", "next"});
  CHECK(state.label_positions[1].line == 3);
  CHECK(state.label_positions[1].column == 19);
  CHECK(attribute(state.body, "transition").text == "in_progress");
  CHECK(body.blocks[1].labels.empty());
  CHECK(body.blocks[2].labels == std::vector<std::string>{"x", "y"});
}

TEST_CASE("hcl: literals - strings with escapes - numbers - booleans - null") {
  auto body = parse(
      "s = \"tab\\tnew\\nquote\\\" back\\\\ e\\u00e9 smile\\U0001F600\"\n"
      "dollar = \"$${not interpolated} %%{nor this}\"\n"
      "n1 = 42\nn2 = -3.5e+2\nt = true\nf = false\nz = null\n",
      "f.hcl");
  CHECK(attribute(body, "s").text == "tab\tnew\nquote\" back\\ e\xc3\xa9 smile\xf0\x9f\x98\x80");
  CHECK(attribute(body, "dollar").text == "${not interpolated} %{nor this}");
  CHECK(attribute(body, "n1").kind == Value::Kind::kNumber);
  CHECK(attribute(body, "n2").text == "-3.5e+2");
  CHECK(attribute(body, "t").boolean);
  CHECK_FALSE(attribute(body, "f").boolean);
  CHECK(attribute(body, "z").kind == Value::Kind::kNull);
}

TEST_CASE("hcl: tuples and objects - items by commas or newlines - `=` or `:`") {
  auto body = parse(R"(list = [1, "two",
  [true],
]
aliases = {
  to_do: "To Do",
  in_progress = "In Progress"
  "done": "Done", other = { deep = [] }
}
inline = { a = 1, b: 2 }
)",
                    "f.hcl");
  const auto& list = attribute(body, "list");
  REQUIRE(list.items.size() == 3);
  CHECK(list.items[1].text == "two");
  const auto& aliases = attribute(body, "aliases");
  REQUIRE(aliases.members.size() == 4);
  CHECK(aliases.members[0].key == "to_do");
  CHECK(aliases.members[0].value.text == "To Do");
  CHECK(aliases.members[0].position.line == 5);
  CHECK(aliases.members[1].key == "in_progress");
  CHECK(aliases.members[2].key == "done");
  CHECK(aliases.members[3].value.kind == Value::Kind::kObject);
  CHECK(attribute(body, "inline").members.size() == 2);
}

TEST_CASE("hcl: heredocs - plain and indented") {
  auto body =
      parse("a = <<EOT\nline one\n  line two\nEOT\nb = <<-EOT\n    x\n      y\n    EOT\n", "f.hcl");
  CHECK(attribute(body, "a").text == "line one\n  line two\n");
  CHECK(attribute(body, "b").text == "x\n  y\n");
}

TEST_CASE("hcl: comments of all three kinds") {
  auto body =
      parse("# hash\n// slashes\n/* block\n spanning */ a = 1 # after\nb = /* in */ 2\n", "f.hcl");
  CHECK(body.attributes.size() == 2);
}

TEST_CASE("hcl: constructs outside the subset are refused by name with their position") {
  CHECK(errorOf("a = \"x ${var.y}\"\n") ==
        "f.hcl:1:8: interpolation (`${...}`) is not supported in state files; write `$${` for a "
        "literal `${`");
  CHECK(errorOf("a = \"%{ if x }\"\n").find("f.hcl:1:6: template directives") == 0);
  CHECK(errorOf("a = upper(\"x\")\n") ==
        "f.hcl:1:5: function calls (`upper(...)`) are not supported in state files");
  CHECK(errorOf("a = to_do\n")
            .find("f.hcl:1:5: variables and references (`to_do`) are not "
                  "supported in state files; to mean the text, quote it") == 0);
  CHECK(errorOf("a = [for s in x: s]\n") ==
        "f.hcl:1:6: `for` expressions are not supported in state files");
  CHECK(errorOf("a = {for k, v in x: k => v}\n").find("f.hcl:1:6: `for` expressions") == 0);
  CHECK(errorOf("a = 1 + 2\n") ==
        "f.hcl:1:7: operators are not supported in state files: write the value itself");
  CHECK(errorOf("a = true ? 1 : 2\n") ==
        "f.hcl:1:10: conditional expressions are not supported in state files");
  CHECK(errorOf("a = !true\n").find("f.hcl:1:5: operators") == 0);
  CHECK(errorOf("a = x.y\n").find("f.hcl:1:5: variables") == 0);
  CHECK(errorOf("a = \"s\".y\n").find("f.hcl:1:8: attribute access") == 0);
  CHECK(errorOf("a = (1)\n").find("f.hcl:1:5: parenthesized") == 0);
}

TEST_CASE("hcl: syntax errors stop at their position") {
  CHECK(errorOf("a = \"open\n") ==
        "f.hcl:1:5: this string is never closed on its line (use a heredoc for several lines)");
  CHECK(errorOf("block \"x\" {\n  a = 1\n") == "f.hcl:1:11: this `{` of `block` is never closed");
  CHECK(errorOf("}\n") == "f.hcl:1:1: unexpected `}` with no block open");
  CHECK(errorOf("a = 1 b = 2\n") == "f.hcl:1:7: expected the end of the line, found `b`");
  CHECK(errorOf("a = \"\\q\"\n").find("f.hcl:1:6: unknown escape `\\q`") == 0);
  CHECK(errorOf("a = \"\\u12\"\n") == "f.hcl:1:6: `\\u` needs 4 hex digits");
  CHECK(errorOf("a = [1, 2\n") == "f.hcl:1:5: this `[` is never closed");
  CHECK(errorOf("a = {x = 1 y = 2}\n").find("f.hcl:1:12: expected `,`") == 0);
  CHECK(errorOf("a = {x 1}\n").find("f.hcl:1:8: expected `=` or `:` after the key `x`") == 0);
  CHECK(errorOf("a = <<EOT\nno end\n") == "f.hcl:1:5: the heredoc is never closed by a line `EOT`");
  CHECK(errorOf("/* never closed\n") == "f.hcl:1:1: unterminated `/*` comment");
  CHECK(errorOf("a =\n").find("f.hcl:1:4: expected a value, found the end of the line") == 0);
  CHECK(errorOf("\"label\" {}\n").find("f.hcl:1:1: expected an attribute or a block") == 0);
  CHECK(errorOf("s \"a\" { x = 1\n}\n").find("f.hcl:1:14: expected `}` to close") == 0);
  CHECK(errorOf("a = 1.\n") == "f.hcl:1:7: expected digits after the `.` of a number");
  CHECK(errorOf("a = 12ab\n") == "f.hcl:1:5: malformed number");
}

TEST_CASE("hcl: an attribute set twice in one block is an error") {
  CHECK(errorOf("s \"a\" \"b\" {\n  transition = \"x\"\n  transition = \"y\"\n}\n") ==
        "f.hcl:3:3: `transition` is set twice in this block (first at line 2)");
  CHECK(errorOf("a = 1\nb = 2\na = 3\n") ==
        "f.hcl:3:1: `a` is set twice in this block (first at line 1)");
}

TEST_CASE("hcl: interpolation as a whole value is named - not a generic error") {
  CHECK(errorOf("a = ${b}\n") ==
        "f.hcl:1:5: interpolation (`${...}`) is not supported in state files");
}

TEST_CASE("hcl: Unicode identifiers - and columns counted in characters") {
  auto body = parse("aliases = { \xc3\xa9tat: \"\xc3\x89tat\" }\n", "f.hcl");
  CHECK(attribute(body, "aliases").members[0].key == "\xc3\xa9tat");
  CHECK(errorOf("a = \"Termin\xc3\xa9\" +\n") ==
        "f.hcl:1:15: operators are not supported in state files: write the value itself");
}

TEST_CASE("hcl: comment text never becomes a value") {
  auto body = parse("# a = 1\n/* b = 2 */ c = \"# not a comment\" // d = 4\n", "f.hcl");
  REQUIRE(body.attributes.size() == 1);
  CHECK(body.attributes[0].name == "c");
  CHECK(body.attributes[0].value.text == "# not a comment");
}

TEST_CASE("hcl: a tab-indented <<- heredoc loses its common indentation") {
  auto body = parse("a = <<-EOT\n\t\tone\n\t\t\ttwo\n\tEOT\n", "f.hcl");
  CHECK(attribute(body, "a").text == "one\n\ttwo\n");
}

TEST_CASE("hcl: deep nesting is an error - not a stack overflow") {
  std::string deep = "a = " + std::string(10000, '[') + std::string(10000, ']') + "\n";
  CHECK(errorOf(deep).find("nested too deep") != std::string::npos);
  std::string blocks;
  for (int i = 0; i < 5000; ++i)
    blocks += "b {\n";
  CHECK(errorOf(blocks).find("nested too deep") != std::string::npos);
}
