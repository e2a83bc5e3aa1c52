#pragma once

#include <sys/uio.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "config/redis_url.hpp"
#include "store/host_resolver.hpp"

struct redisContext;

namespace conduit::store {

// Redis could not be reached, or the connection broke mid-call. The HTTP layer answers 503.
class RedisUnavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Redis answered a command with an error reply (`-ERR ...`).
class RedisError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One Redis reply, copied out of hiredis's tree. Replies here are small (ids, hash fields).
struct RedisValue {
  enum class Type { kNil, kString, kInteger, kArray, kStatus, kError };
  Type type = Type::kNil;
  std::string text;  // kString, kStatus, kError
  long long integer = 0;
  std::vector<RedisValue> elements;

  bool isNil() const { return type == Type::kNil; }
};

using RedisArgs = std::vector<std::string_view>;

// The code of an error reply that says Redis cannot serve for now (OOM, LOADING, READONLY, ...),
// whatever its wording: also when Redis 6 wraps it in `ERR Error running script ...` because a
// script's command raised it. Empty for any other error.
std::string_view passingErrorCode(std::string_view reply);

// One blocking connection (hiredis), with a deadline for the whole connect (name resolution
// included) and a timeout for each command. Not thread-safe: each thread leases its own from a
// RedisPool. After a RedisUnavailable it is broken for good.
class RedisConnection {
 public:
  // Connects and logs in within `timeout`; `resolve` turns the host name into addresses (the
  // tests give a slow one). Throws RedisUnavailable when that cannot be done in time.
  RedisConnection(const config::RedisEndpoint& endpoint, std::chrono::milliseconds timeout,
                  const BlockingResolver& resolve = systemResolve);
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // Sends one command. An error reply throws RedisError, or RedisUnavailable when it says Redis
  // cannot serve for now (OOM, LOADING, READONLY, ...).
  RedisValue command(const RedisArgs& args);

  // Sends several commands in one round trip; an error reply throws as command() does.
  std::vector<RedisValue> pipeline(const std::vector<RedisArgs>& commands);

  // As pipeline(), but writes the commands itself, in one writev(): each argument of at least
  // kOwnSegmentBytes goes to the socket straight from the caller's memory, as its own iovec,
  // where hiredis would first copy it into its output buffer (a 32 KB payload sent twice in
  // one transaction would be copied twice). The replies are read through hiredis.
  std::vector<RedisValue> pipelineVectored(const std::vector<RedisArgs>& commands);
  static constexpr size_t kOwnSegmentBytes = 1024;

  // Throws this connection away instead of returning it to its pool: for a caller that leaves
  // it in a state the next one must not inherit.
  void abandon() { broken_ = true; }

  bool broken() const { return broken_; }

 private:
  void connectTcp(const config::RedisEndpoint& endpoint,
                  std::chrono::steady_clock::time_point deadline, const BlockingResolver& resolve);
  RedisValue readReply();
  void writeAll(const std::vector<iovec>& segments);
  std::vector<RedisValue> readReplies(size_t count);
  [[noreturn]] void fail(const char* what);
  [[noreturn]] void throwErrorReply(const std::string& text);

  // Freed by the destructor, and also when the constructor throws.
  std::unique_ptr<redisContext, void (*)(redisContext*)> context_;
  bool broken_ = false;
};

}  // namespace conduit::store
