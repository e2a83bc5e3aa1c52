#include "app/logging.hpp"

#include <chrono>
#include <ctime>
#include <memory>

#include <fmt/format.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "logging/log_context.hpp"

namespace conduit::app {
namespace {

// The length of the valid UTF-8 sequence at the start of `text`, or 0 when it is not one.
size_t utf8SequenceLength(std::string_view text) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(0);
  size_t length = 0;
  uint32_t min = 0;
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) {
    length = 2;
    min = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3;
    min = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4;
    min = 0x10000;
  } else {
    return 0;
  }
  if (text.size() < length) return 0;
  uint32_t code = lead & (0x7F >> length);
  for (size_t i = 1; i < length; ++i) {
    if ((byte(i) & 0xC0) != 0x80) return 0;
    code = (code << 6) | (byte(i) & 0x3F);
  }
  // Overlong forms, surrogates and code points past U+10FFFF are not UTF-8.
  if (code < min || (code >= 0xD800 && code <= 0xDFFF) || code > 0x10FFFF) return 0;
  return length;
}

void appendJsonString(std::string& out, std::string_view text) {
  out += '"';
  while (!text.empty()) {
    const char c = text.front();
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u == 0x7F) {
      out += fmt::format("\\u{:04x}", u);
    } else if (u >= 0x80) {
      const size_t length = utf8SequenceLength(text);
      if (length == 0) {
        out += "\\ufffd";
        text.remove_prefix(1);
        continue;
      }
      out.append(text.substr(0, length));
      text.remove_prefix(length);
      continue;
    } else {
      out += c;
    }
    text.remove_prefix(1);
  }
  out += '"';
}

void appendMember(std::string& out, std::string_view name, std::string_view value) {
  out += ',';
  appendJsonString(out, name);
  out += ':';
  appendJsonString(out, value);
}

std::string rfc3339(std::chrono::system_clock::time_point when) {
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(when.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", utc.tm_year + 1900,
                     utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, ms % 1000);
}

// The level as the text format names it (`warning`, not `warn`), so that both formats agree.
std::string_view levelName(spdlog::level::level_enum level) {
  const auto name = spdlog::level::to_string_view(level);
  return std::string_view(name.data(), name.size());
}

// `json`: one object per line.
class JsonFormatter : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const std::string line = jsonLogLine(rfc3339(msg.time), levelName(msg.level),
                                         std::string_view(msg.payload.data(), msg.payload.size()));
    dest.append(line.data(), line.data() + line.size());
    dest.push_back('\n');
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

// `%&` of the text pattern: ` delivery=<id>` when the thread works on a delivery that the
// message does not name, so that every line about a delivery carries its id.
class DeliveryFlag : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    const auto fields = logging::currentLogFields();
    if (fields.delivery.empty()) return;
    const std::string_view payload(msg.payload.data(), msg.payload.size());
    if (payload.find(fields.delivery) != std::string_view::npos) return;
    constexpr std::string_view kName = " delivery=";
    dest.append(kName.data(), kName.data() + kName.size());
    dest.append(fields.delivery.data(), fields.delivery.data() + fields.delivery.size());
  }

  std::unique_ptr<spdlog::custom_flag_formatter> clone() const override {
    return std::make_unique<DeliveryFlag>();
  }
};

}  // namespace

std::string jsonLogLine(std::string_view time, std::string_view level, std::string_view message) {
  std::string line = "{\"time\":";
  appendJsonString(line, time);
  appendMember(line, "level", level);
  appendMember(line, "msg", message);
  const auto fields = logging::currentLogFields();
  if (!fields.delivery.empty()) appendMember(line, "delivery", fields.delivery);
  if (!fields.provider.empty()) appendMember(line, "provider", fields.provider);
  if (!fields.repo_id.empty()) appendMember(line, "repo_id", fields.repo_id);
  if (!fields.worker.empty()) appendMember(line, "worker", fields.worker);
  if (!fields.issue.empty()) appendMember(line, "issue", fields.issue);
  line += '}';
  return line;
}

void setUpLogging(const std::string& level, const std::string& format) {
  auto logger = spdlog::stderr_logger_mt("conduit");
  if (format == "json") {
    logger->set_formatter(std::make_unique<JsonFormatter>());
  } else {
    auto formatter = std::make_unique<spdlog::pattern_formatter>();
    formatter->add_flag<DeliveryFlag>('&').set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v%&");
    logger->set_formatter(std::move(formatter));
  }
  logger->set_level(spdlog::level::from_str(level));
  spdlog::set_default_logger(logger);
}

}  // namespace conduit::app
