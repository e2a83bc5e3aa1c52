#include "config/redis_url.hpp"

#include <charconv>

#include <fmt/format.h>

namespace conduit::config {
namespace {

std::optional<int> parseNumber(std::string_view text, int min, int max) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    return std::nullopt;
  }
  return value;
}

// `host[:port]`, with `[v6]` brackets allowed around the host.
bool parseHostPort(std::string_view text, RedisEndpoint& out, std::string& error) {
  std::string_view host = text;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) {
      error = "an IPv6 host needs a closing `]`";
      return false;
    }
    host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        error = "expected `:port` after `]`";
        return false;
      }
      port = rest.substr(1);
      if (port.empty()) {
        error = "the port after `:` is empty";
        return false;
      }
    }
  } else if (size_t colon = text.rfind(':'); colon != std::string_view::npos) {
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (port.empty()) {
      error = "the port after `:` is empty";
      return false;
    }
  }
  if (host.empty()) {
    error = "the host is empty";
    return false;
  }
  out.host = std::string(host);
  if (!port.empty()) {
    auto number = parseNumber(port, 1, 65535);
    if (!number) {
      error = fmt::format("port `{}` is not a number from 1 to 65535", port);
      return false;
    }
    out.port = *number;
  }
  return true;
}

}  // namespace

std::string RedisEndpoint::describe() const {
  if (kind == Kind::kUnix) return fmt::format("unix://{} (db {})", socket_path, db);
  return fmt::format("{}:{} (db {})", host, port, db);
}

std::optional<RedisEndpoint> parseRedisUrl(std::string_view url, std::string& error) {
  RedisEndpoint out;
  constexpr std::string_view kRedis = "redis://";
  constexpr std::string_view kUnix = "unix://";

  if (url.substr(0, kUnix.size()) == kUnix) {
    std::string_view rest = url.substr(kUnix.size());
    std::string_view query;
    if (size_t q = rest.find('?'); q != std::string_view::npos) {
      query = rest.substr(q + 1);
      rest = rest.substr(0, q);
    }
    if (rest.empty() || rest.front() != '/') {
      error = "a unix socket URL needs an absolute path, as in unix:///run/redis/redis.sock";
      return std::nullopt;
    }
    out.kind = RedisEndpoint::Kind::kUnix;
    out.socket_path = std::string(rest);
    if (!query.empty()) {
      if (query.substr(0, 3) != "db=") {
        error = fmt::format("unknown option `{}` (only `db=N` is supported)", query);
        return std::nullopt;
      }
      auto db = parseNumber(query.substr(3), 0, 1 << 20);
      if (!db) {
        error = fmt::format("database `{}` is not a number", query.substr(3));
        return std::nullopt;
      }
      out.db = *db;
    }
    return out;
  }

  std::string_view rest = url;
  bool is_url = rest.substr(0, kRedis.size()) == kRedis;
  if (is_url) {
    rest.remove_prefix(kRedis.size());
  } else if (rest.find("://") != std::string_view::npos) {
    error =
        "only redis://, unix:// and host:port are supported (TLS, rediss://, is not: "
        "hiredis 0.14 cannot speak it)";
    return std::nullopt;
  }

  if (is_url) {
    if (size_t at = rest.rfind('@'); at != std::string_view::npos) {
      std::string_view credentials = rest.substr(0, at);
      rest = rest.substr(at + 1);
      size_t colon = credentials.find(':');
      if (colon == std::string_view::npos) {
        error = "credentials must be written `:password@` or `user:password@`";
        return std::nullopt;
      }
      out.username = std::string(credentials.substr(0, colon));
      out.password = std::string(credentials.substr(colon + 1));
    }
    if (size_t slash = rest.find('/'); slash != std::string_view::npos) {
      std::string_view db = rest.substr(slash + 1);
      rest = rest.substr(0, slash);
      if (!db.empty()) {
        auto number = parseNumber(db, 0, 1 << 20);
        if (!number) {
          error = fmt::format("database `{}` is not a number", db);
          return std::nullopt;
        }
        out.db = *number;
      }
    }
  } else if (rest.find('/') != std::string_view::npos || rest.find('@') != std::string_view::npos) {
    error = "expected host:port, redis://[:password@]host[:port][/db] or unix:///path";
    return std::nullopt;
  }

  if (!parseHostPort(rest, out, error)) return std::nullopt;
  return out;
}

}  // namespace conduit::config
