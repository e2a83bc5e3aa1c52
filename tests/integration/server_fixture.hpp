#pragma once

#include <functional>
#include <memory>
#include <string>

#include <httplib.h>

#include "app/server_app.hpp"
#include "config/server_settings.hpp"
#include "redis_server.hpp"
#include "store/redis_connection.hpp"

namespace conduit::testing {

// A whole `conduit serve` in this process (the same ServerApp the command runs) on an
// ephemeral loopback port, with its own redis-server.
class ServerFixture {
 public:
  explicit ServerFixture(const std::function<void(config::ServerSettings&)>& adjust = {});
  ~ServerFixture();

  httplib::Client client() const;
  uint16_t port() const { return app_->port(); }

  // A direct connection to the fixture's Redis, to look at what the server wrote.
  std::unique_ptr<store::RedisConnection> redisClient() const;

  // Registers github/<repo_id> through the API and returns its secret.
  std::string registerHook(const std::string& repo_id, const std::string& repo_path = "org/repo");

  // POSTs a delivery to the payload route, signed with `secret` unless `signature` is given.
  httplib::Result deliver(const std::string& repo_id, const std::string& body,
                          const std::string& secret, const std::string& event = "pull_request",
                          const std::string& delivery_id = "delivery-1",
                          const std::string& content_type = "application/json",
                          const std::optional<std::string>& signature = std::nullopt) const;

  RedisServer& redis() { return redis_; }
  const config::ServerSettings& settings() const { return settings_; }

 private:
  RedisServer redis_;
  config::ServerSettings settings_;
  std::unique_ptr<app::ServerApp> app_;
};

// `sha256=<hex HMAC-SHA256 of body with secret>`, as GitHub signs.
std::string githubSignature(const std::string& secret, const std::string& body);

// The `data.secret` (or other string field) of a JSON answer.
std::string jsonString(const std::string& body, const char* pointer);

}  // namespace conduit::testing
