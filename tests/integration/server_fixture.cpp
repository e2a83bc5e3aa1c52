#include "server_fixture.hpp"

#include <doctest/doctest.h>
#include <rapidjson/document.h>
#include <rapidjson/pointer.h>

#include "crypto/digest.hpp"
#include "crypto/hex.hpp"

namespace conduit::testing {

ServerFixture::ServerFixture(const std::function<void(config::ServerSettings&)>& adjust) {
  settings_.bind = "127.0.0.1";
  settings_.port = 0;
  settings_.http_threads = 2;
  settings_.redis = redis_.endpoint();
  settings_.redis_timeout_ms = 1000;
  if (adjust) adjust(settings_);
  app_ = std::make_unique<app::ServerApp>(settings_);
  app_->start();
}

ServerFixture::~ServerFixture() {
  app_->stop(std::chrono::seconds(2));
}

httplib::Client ServerFixture::client() const {
  httplib::Client client("127.0.0.1", app_->port());
  client.set_connection_timeout(5);
  client.set_read_timeout(10);
  return client;
}

std::unique_ptr<store::RedisConnection> ServerFixture::redisClient() const {
  return std::make_unique<store::RedisConnection>(redis_.endpoint(), std::chrono::seconds(2));
}

std::string ServerFixture::registerHook(const std::string& repo_id, const std::string& repo_path) {
  httplib::Headers headers;
  if (settings_.admin_token) headers.emplace("Authorization", "Bearer " + *settings_.admin_token);
  auto response = client().Post(
      "/conduit/webhooks/register", headers,
      R"({"provider":"github","repo_path":")" + repo_path + R"(","repo_id":")" + repo_id + "\"}",
      "application/json");
  REQUIRE(response);
  REQUIRE(response->status == 201);
  return jsonString(response->body, "/data/secret");
}

httplib::Result ServerFixture::deliver(const std::string& repo_id, const std::string& body,
                                       const std::string& secret, const std::string& event,
                                       const std::string& delivery_id,
                                       const std::string& content_type,
                                       const std::optional<std::string>& signature) const {
  httplib::Headers headers;
  headers.emplace("X-Hub-Signature-256", signature.value_or(githubSignature(secret, body)));
  if (!event.empty()) headers.emplace("X-GitHub-Event", event);
  if (!delivery_id.empty()) headers.emplace("X-GitHub-Delivery", delivery_id);
  return client().Post("/conduit/webhooks/github/" + repo_id + "/payload", headers, body,
                       content_type.c_str());
}

std::string githubSignature(const std::string& secret, const std::string& body) {
  return "sha256=" + crypto::toHex(crypto::hmacSha256(secret, body));
}

std::string jsonString(const std::string& body, const char* pointer) {
  rapidjson::Document doc;
  doc.Parse(body.c_str());
  REQUIRE_FALSE(doc.HasParseError());
  const rapidjson::Value* value = rapidjson::Pointer(pointer).Get(doc);
  REQUIRE(value != nullptr);
  REQUIRE(value->IsString());
  return value->GetString();
}

}  // namespace conduit::testing
