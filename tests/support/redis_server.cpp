#include "redis_server.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "process.hpp"
#include "store/redis_connection.hpp"

namespace conduit::testing {

RedisServer::RedisServer(Listen listen) : listen_(listen) {
  std::string pattern = (std::filesystem::temp_directory_path() / "conduit-redis-XXXXXX").string();
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (::mkdtemp(buffer.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  directory_ = buffer.data();
  if (listen_ == Listen::kTcp) port_ = freeLoopbackPort();
  start();
}

RedisServer::~RedisServer() {
  stop();
  std::error_code ignored;
  std::filesystem::remove_all(directory_, ignored);
}

config::RedisEndpoint RedisServer::endpoint() const {
  config::RedisEndpoint endpoint;
  if (listen_ == Listen::kUnixSocket) {
    endpoint.kind = config::RedisEndpoint::Kind::kUnix;
    endpoint.socket_path = directory_ + "/redis.sock";
  } else {
    endpoint.host = "127.0.0.1";
    endpoint.port = port_;
  }
  return endpoint;
}

std::string RedisServer::url() const {
  if (listen_ == Listen::kUnixSocket) return "unix://" + directory_ + "/redis.sock";
  return fmt::format("127.0.0.1:{}", port_);
}

void RedisServer::start() {
  if (pid_ > 0) return;
  // Append-only with an fsync per write, so that what was acknowledged survives a restart.
  std::vector<std::string> args = {
      "redis-server",           "--save", "",      "--appendonly", "yes",
      "--appendfsync",          "always", "--dir", directory_,     "--logfile",
      directory_ + "/redis.log"};
  if (listen_ == Listen::kUnixSocket) {
    args.insert(args.end(), {"--port", "0", "--unixsocket", directory_ + "/redis.sock"});
  } else {
    args.insert(args.end(), {"--port", std::to_string(port_), "--bind", "127.0.0.1"});
  }
  std::vector<char*> argv;
  for (auto& arg : args)
    argv.push_back(arg.data());
  argv.push_back(nullptr);

  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    ::execvp("redis-server", argv.data());
    std::_Exit(127);
  }

  // Ready when it answers PING.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    try {
      store::RedisConnection probe(endpoint(), std::chrono::milliseconds(200));
      probe.command({"PING"});
      return;
    } catch (const std::exception&) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  stop();
  throw std::runtime_error("redis-server did not start; is it installed? see " + directory_);
}

void RedisServer::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
  std::error_code ignored;
  std::filesystem::remove(directory_ + "/redis.sock", ignored);
}

void RedisServer::pause() {
  if (pid_ > 0) ::kill(pid_, SIGSTOP);
}

void RedisServer::resume() {
  if (pid_ > 0) ::kill(pid_, SIGCONT);
}

void RedisServer::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
  std::error_code ignored;
  std::filesystem::remove(directory_ + "/redis.sock", ignored);
}

std::map<std::string, std::string> streamEntryFields(const store::RedisValue& entry) {
  std::map<std::string, std::string> fields;
  if (entry.elements.size() != 2) return fields;
  const auto& pairs = entry.elements[1].elements;
  for (size_t i = 0; i + 1 < pairs.size(); i += 2)
    fields[pairs[i].text] = pairs[i + 1].text;
  return fields;
}

}  // namespace conduit::testing
