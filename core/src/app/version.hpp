#pragma once

#include <string_view>

namespace conduit::app {

// The release, from the project version in CMakeLists.txt.
std::string_view version();

}  // namespace conduit::app
