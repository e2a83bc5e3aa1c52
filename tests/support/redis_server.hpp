#pragma once

#include <sys/types.h>

#include <map>
#include <string>

#include "config/redis_url.hpp"
#include "store/redis_connection.hpp"

namespace conduit::testing {

// A real redis-server for one test, in a temporary folder of its own, listening on a unix
// socket (TCP off) or on a free loopback port. Stopped and its folder removed on destruction.
class RedisServer {
 public:
  enum class Listen { kUnixSocket, kTcp };

  explicit RedisServer(Listen listen = Listen::kUnixSocket);
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  // Where the server listens, for a RedisPool or a redis_url.
  config::RedisEndpoint endpoint() const;
  std::string url() const;

  // Stops the server and starts it again at the same address, with its data (append-only
  // file): Redis going away and coming back.
  void stop();
  void start();
  // Kills the server with SIGKILL (no shutdown, no last write): a crash. start() restarts it on
  // the same files.
  void kill();
  // Stops the server's process where it is (SIGSTOP) and lets it go on (SIGCONT): a Redis that
  // hangs, whose connections stay open and answer nothing.
  void pause();
  void resume();

  const std::string& directory() const { return directory_; }

 private:
  std::string directory_;
  Listen listen_;
  int port_ = 0;
  pid_t pid_ = -1;
};

// The fields of one stream entry, as XRANGE returns it ([id, [field, value, ...]]).
std::map<std::string, std::string> streamEntryFields(const store::RedisValue& entry);

}  // namespace conduit::testing
