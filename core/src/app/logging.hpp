#pragma once

#include <string>
#include <string_view>

namespace conduit::app {

// Sends logs to standard error (journald keeps them under systemd) at `level`: trace, debug,
// info, warn, error, critical or off; in `format` `text` (a line for people) or `json` (one
// JSON object per line, for log collectors). Both carry the fields of logging::LogScope: JSON
// as members, text as ` delivery=<id>` on a line whose message does not name its delivery.
void setUpLogging(const std::string& level, const std::string& format = "text");

// One log line as the `json` format writes it, without its newline: `time` (RFC 3339, UTC, with
// milliseconds), `level`, `msg`, then the LogScope fields that are set. Bytes that are not
// UTF-8 are written as U+FFFD, so that every line parses. For tests.
std::string jsonLogLine(std::string_view time, std::string_view level, std::string_view message);

}  // namespace conduit::app
