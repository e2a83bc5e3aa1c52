#pragma once

#include <string_view>

namespace conduit::http {

// A file of the web page (core/ui/), built into the binary by cmake/EmbedFiles.cmake.
struct UiAsset {
  std::string_view name;  // "index.html", "app.js", "app.css"
  std::string_view content_type;
  std::string_view bytes;
};

// nullptr when no file has this name.
const UiAsset* findUiAsset(std::string_view name);

}  // namespace conduit::http
