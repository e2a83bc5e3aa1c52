#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include "statemachine/hcl_document.hpp"

namespace conduit::statemachine::hcl {

// A syntax error, or a construct outside the documented subset. what() reads
// `file:line:column: message`.
class SyntaxError : public std::runtime_error {
 public:
  SyntaxError(const std::string& file, Position position, const std::string& message);
};

// Reads the subset of HCL's native syntax that state files use (docs/statemachines.md):
// blocks with quoted labels, `name = value` attributes, strings with HCL's escapes, numbers,
// true/false/null, tuples, objects whose items are `k = v` or `k: v` separated by commas or
// newlines, heredocs, and `#`, `//` and `/* */` comments. Everything else HCL has
// (interpolation, function calls, variables, `for`, conditionals, operators) is refused by
// name, never misread. Stops at the first error with a SyntaxError.
Body parse(std::string_view text, const std::string& file_name);

}  // namespace conduit::statemachine::hcl
