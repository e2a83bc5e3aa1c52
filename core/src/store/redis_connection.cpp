#include "store/redis_connection.hpp"

#include <errno.h>
#include <limits.h>
#include <sys/time.h>
#include <sys/uio.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstring>

#include <fmt/format.h>
#include <hiredis.h>

namespace conduit::store {
namespace {

timeval toTimeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

RedisValue convert(const redisReply* reply) {
  RedisValue value;
  switch (reply->type) {
    case REDIS_REPLY_STRING:
      value.type = RedisValue::Type::kString;
      value.text.assign(reply->str, reply->len);
      break;
    case REDIS_REPLY_STATUS:
      value.type = RedisValue::Type::kStatus;
      value.text.assign(reply->str, reply->len);
      break;
    case REDIS_REPLY_ERROR:
      value.type = RedisValue::Type::kError;
      value.text.assign(reply->str, reply->len);
      break;
    case REDIS_REPLY_INTEGER:
      value.type = RedisValue::Type::kInteger;
      value.integer = reply->integer;
      break;
    case REDIS_REPLY_ARRAY:
      value.type = RedisValue::Type::kArray;
      value.elements.reserve(reply->elements);
      for (size_t i = 0; i < reply->elements; ++i)
        value.elements.push_back(convert(reply->element[i]));
      break;
    default:
      value.type = RedisValue::Type::kNil;
  }
  return value;
}

// A RESP header: `*<count>\r\n` or `$<length>\r\n`.
void appendHeader(std::string& out, char kind, size_t number) {
  char digits[24];
  auto end = std::to_chars(digits, digits + sizeof digits, number).ptr;
  out += kind;
  out.append(digits, end);
  out += "\r\n";
}

void appendCommand(redisContext* context, const RedisArgs& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  argv.reserve(args.size());
  lengths.reserve(args.size());
  for (auto arg : args) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  redisAppendCommandArgv(context, static_cast<int>(args.size()), argv.data(), lengths.data());
}

}  // namespace

RedisConnection::RedisConnection(const config::RedisEndpoint& endpoint,
                                 std::chrono::milliseconds timeout, const BlockingResolver& resolve)
    : context_(nullptr, &redisFree) {
  // `timeout` bounds the whole connect, name resolution included (hiredis's own resolution
  // would block in getaddrinfo for as long as a silent DNS server lets it), and then each call.
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  if (endpoint.kind == config::RedisEndpoint::Kind::kUnix) {
    context_.reset(redisConnectUnixWithTimeout(endpoint.socket_path.c_str(), toTimeval(timeout)));
    if (!context_) throw RedisUnavailable("cannot allocate a Redis connection");
    if (context_->err != 0) fail("cannot connect");
  } else {
    connectTcp(endpoint, deadline, resolve);
  }
  if (redisSetTimeout(context_.get(), toTimeval(timeout)) != REDIS_OK) {
    fail("cannot set the timeout");
  }

  try {
    if (!endpoint.password.empty()) {
      if (endpoint.username.empty()) {
        command({"AUTH", endpoint.password});
      } else {
        command({"AUTH", endpoint.username, endpoint.password});
      }
    }
    if (endpoint.db != 0) {
      std::string db = std::to_string(endpoint.db);
      command({"SELECT", db});
    }
  } catch (const RedisError& e) {
    // A wrong password or database is not a passing outage, but the caller can do nothing
    // else about it either: report it the same way, with Redis's own words.
    broken_ = true;
    throw RedisUnavailable(fmt::format("Redis refused the login: {}", e.what()));
  }
}

RedisConnection::~RedisConnection() = default;

void RedisConnection::connectTcp(const config::RedisEndpoint& endpoint,
                                 std::chrono::steady_clock::time_point deadline,
                                 const BlockingResolver& resolve) {
  std::vector<std::string> addresses;
  try {
    addresses = resolveHost(endpoint.host, deadline, resolve);
  } catch (const std::runtime_error& e) {
    broken_ = true;
    throw RedisUnavailable(fmt::format("Redis: cannot connect: {}", e.what()));
  }
  // Each address in the resolver's order, within what is left of the one deadline.
  for (const auto& address : addresses) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left <= std::chrono::milliseconds::zero()) break;
    context_.reset(redisConnectWithTimeout(address.c_str(), endpoint.port, toTimeval(left)));
    if (!context_) throw RedisUnavailable("cannot allocate a Redis connection");
    if (context_->err == 0) return;
  }
  if (context_) fail("cannot connect");
  broken_ = true;
  throw RedisUnavailable(
      fmt::format("Redis: cannot connect: {} resolved too late to connect", endpoint.host));
}

void RedisConnection::fail(const char* what) {
  broken_ = true;
  std::string reason =
      context_ && context_->errstr[0] != '\0' ? context_->errstr : "connection lost";
  throw RedisUnavailable(fmt::format("Redis: {}: {}", what, reason));
}

RedisValue RedisConnection::readReply() {
  void* raw = nullptr;
  if (redisGetReply(context_.get(), &raw) != REDIS_OK || raw == nullptr) fail("no reply");
  std::unique_ptr<redisReply, decltype(&freeReplyObject)> reply(static_cast<redisReply*>(raw),
                                                                &freeReplyObject);
  return convert(reply.get());
}

std::string_view passingErrorCode(std::string_view reply) {
  // Redis saying it cannot serve right now: out of memory under noeviction, still loading its
  // data after a restart, a replica after a failover, a failed save, a busy script. Like an
  // unreachable Redis, these pass; callers answer 503 so that the sender retries.
  static constexpr std::string_view kPassing[] = {"OOM",        "LOADING",  "BUSY",
                                                  "MISCONF",    "READONLY", "MASTERDOWN",
                                                  "NOREPLICAS", "TRYAGAIN", "CLUSTERDOWN"};
  const std::string_view code = reply.substr(0, reply.find(' '));
  for (auto passing : kPassing) {
    if (code == passing) return passing;
  }
  // Before Redis 7, an error raised by a command inside a script comes back wrapped, its own
  // code after a dash: `ERR Error running script (call to f_...): @user_script:12:
  // @user_script: 12: -OOM command not allowed when used memory > 'maxmemory'.`
  if (code != "ERR" || reply.find("Error running script") == std::string_view::npos) return {};
  for (size_t dash = reply.find(" -"); dash != std::string_view::npos;
       dash = reply.find(" -", dash + 1)) {
    const std::string_view rest = reply.substr(dash + 2);
    const std::string_view inner = rest.substr(0, rest.find(' '));
    for (auto passing : kPassing) {
      if (inner == passing) return passing;
    }
  }
  return {};
}

void RedisConnection::throwErrorReply(const std::string& text) {
  const std::string_view code = passingErrorCode(text);
  if (!code.empty()) {
    // A primary that became a replica stays one: reconnect, perhaps to the new primary.
    if (code == "READONLY" || code == "MASTERDOWN") broken_ = true;
    throw RedisUnavailable(fmt::format("Redis cannot serve now: {}", text));
  }
  throw RedisError(text);
}

RedisValue RedisConnection::command(const RedisArgs& args) {
  if (broken_) throw RedisUnavailable("Redis: connection already broken");
  appendCommand(context_.get(), args);
  RedisValue value = readReply();
  if (value.type == RedisValue::Type::kError) throwErrorReply(value.text);
  return value;
}

std::vector<RedisValue> RedisConnection::pipeline(const std::vector<RedisArgs>& commands) {
  if (broken_) throw RedisUnavailable("Redis: connection already broken");
  for (const auto& args : commands)
    appendCommand(context_.get(), args);
  return readReplies(commands.size());
}

std::vector<RedisValue> RedisConnection::pipelineVectored(const std::vector<RedisArgs>& commands) {
  if (broken_) throw RedisUnavailable("Redis: connection already broken");
  // Anything hiredis still holds to send goes first, so that the replies stay in order.
  int done = 0;
  while (context_->obuf != nullptr && context_->obuf[0] != '\0' && done == 0) {
    if (redisBufferWrite(context_.get(), &done) != REDIS_OK) fail("cannot send");
  }
  // RESP: *<argc>\r\n then $<len>\r\n<bytes>\r\n per argument. The framing and the small
  // arguments are copied into `framing`; a large argument becomes a segment of its own. Where
  // each piece lies is noted as an offset first: `framing` may move while it grows.
  struct Piece {
    const char* external;  // nullptr: `framing`'s bytes [offset, offset + size)
    size_t offset;
    size_t size;
  };
  std::string framing;
  framing.reserve(1024);
  std::vector<Piece> pieces;
  size_t framed_from = 0;
  auto closeFraming = [&] {
    if (framing.size() > framed_from) {
      pieces.push_back({nullptr, framed_from, framing.size() - framed_from});
      framed_from = framing.size();
    }
  };
  for (const auto& args : commands) {
    appendHeader(framing, '*', args.size());
    for (auto arg : args) {
      appendHeader(framing, '$', arg.size());
      if (arg.size() >= kOwnSegmentBytes) {
        closeFraming();
        pieces.push_back({arg.data(), 0, arg.size()});
      } else {
        framing.append(arg);
      }
      framing += "\r\n";
    }
  }
  closeFraming();
  std::vector<iovec> segments;
  segments.reserve(pieces.size());
  for (const auto& piece : pieces) {
    const char* base = piece.external != nullptr ? piece.external : framing.data() + piece.offset;
    segments.push_back({const_cast<char*>(base), piece.size});
  }
  writeAll(segments);
  return readReplies(commands.size());
}

void RedisConnection::writeAll(const std::vector<iovec>& segments) {
  std::vector<iovec> left = segments;
  size_t first = 0;
  while (first < left.size()) {
    const int count = static_cast<int>(std::min<size_t>(left.size() - first, IOV_MAX));
    const ssize_t written = ::writev(context_->fd, &left[first], count);
    if (written < 0) {
      if (errno == EINTR) continue;
      broken_ = true;
      // The socket's send timeout (the connection's command timeout) ran out, or it broke.
      throw RedisUnavailable(
          fmt::format("Redis: cannot send: {}", errno == EAGAIN || errno == EWOULDBLOCK
                                                    ? "timed out"
                                                    : std::string(std::strerror(errno))));
    }
    // Skip what went out; a segment sent in part keeps its rest.
    size_t sent = static_cast<size_t>(written);
    while (first < left.size() && sent >= left[first].iov_len) {
      sent -= left[first].iov_len;
      ++first;
    }
    if (sent > 0) {
      left[first].iov_base = static_cast<char*>(left[first].iov_base) + sent;
      left[first].iov_len -= sent;
    }
  }
}

std::vector<RedisValue> RedisConnection::readReplies(size_t count) {
  std::vector<RedisValue> replies;
  replies.reserve(count);
  for (size_t i = 0; i < count; ++i)
    replies.push_back(readReply());
  // Every reply is read first, so that the connection stays in step for the next caller.
  for (const auto& reply : replies) {
    if (reply.type == RedisValue::Type::kError) throwErrorReply(reply.text);
  }
  return replies;
}

}  // namespace conduit::store
