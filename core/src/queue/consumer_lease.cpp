#include "queue/consumer_lease.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <climits>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "queue/redis_keys.hpp"
#include "store/redis_script.hpp"

namespace conduit::queue {
namespace {

namespace field = redis_keys::consumer;

// KEYS: lease. ARGV: lifetime (ms), the token it may replace ('' for none), then field/value
// pairs, the token first (ARGV[3] is its field name, ARGV[4] this process's token). Takes the lease
// when no one holds it, this process does, or the holder is the one it may replace; returns {}
// then, and the holder's fields otherwise.
const store::RedisScript kTakeScript(R"lua(
local current = redis.call('HGET', KEYS[1], ARGV[3])
if current and current ~= ARGV[2] and current ~= ARGV[4] then
  return redis.call('HGETALL', KEYS[1])
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return {}
)lua");

// KEYS: lease. ARGV: lifetime (ms), the token field name, then field/value pairs, the token
// first. Extends the lease of this process (taking it again when it expired); 0 when another
// holds it.
const store::RedisScript kRefreshScript(R"lua(
local current = redis.call('HGET', KEYS[1], ARGV[2])
if current and current ~= ARGV[4] then return 0 end
if not current then redis.call('HSET', KEYS[1], unpack(ARGV, 3)) end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
)lua");

// KEYS: lease. ARGV: the token field name, this process's token. Deletes the lease if it is
// this process's.
const store::RedisScript kReleaseScript(R"lua(
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then redis.call('DEL', KEYS[1]) end
return 1
)lua");

std::string firstLine(const std::string& path) {
  std::ifstream file(path);
  std::string line;
  std::getline(file, line);
  return line;
}

// The 22nd field of /proc/<pid>/stat (its start time in clock ticks since boot); empty when the
// process does not exist or has ended (a zombie, not yet reaped by its parent: it runs no more
// and refreshes nothing). The command name (field 2) may hold spaces and parentheses: the
// fields are counted from its closing parenthesis.
std::string startTicks(int64_t pid) {
  std::ifstream file(fmt::format("/proc/{}/stat", pid));
  std::string stat((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return "";
  std::istringstream rest(stat.substr(close + 1));
  std::string value;
  for (int field_number = 3; field_number <= 22 && (rest >> value); ++field_number) {
    if (field_number == 3 && (value == "Z" || value == "X")) return "";
    if (field_number == 22) return value;
  }
  return "";
}

// The pid namespace this process sees pids in ("pid:[4026531836]"): a pid from another one (another
// container with the same host name) means nothing here. Empty when it cannot be read.
std::string pidNamespace() {
  char target[PATH_MAX] = {};
  const ssize_t length = ::readlink("/proc/self/ns/pid", target, sizeof target - 1);
  return length > 0 ? std::string(target, static_cast<size_t>(length)) : std::string();
}

std::string hostName() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) return "localhost";
  return host;
}

ConsumerHolder holderFrom(const std::map<std::string, std::string>& fields) {
  ConsumerHolder holder;
  auto value = [&](std::string_view name) {
    auto it = fields.find(std::string(name));
    return it == fields.end() ? std::string() : it->second;
  };
  holder.host = value(field::kHost);
  const std::string pid = value(field::kPid);
  std::from_chars(pid.data(), pid.data() + pid.size(), holder.pid);
  holder.start_ticks = value(field::kStartTicks);
  holder.boot_id = value(field::kBootId);
  holder.pid_namespace = value(field::kPidNamespace);
  holder.token = value(field::kToken);
  return holder;
}

}  // namespace

ConsumerHolder ConsumerHolder::self() {
  ConsumerHolder holder;
  holder.host = hostName();
  holder.pid = ::getpid();
  holder.start_ticks = startTicks(holder.pid);
  holder.boot_id = firstLine("/proc/sys/kernel/random/boot_id");
  holder.pid_namespace = pidNamespace();
  holder.token = fmt::format("{}/{}/{}/{}/{}", holder.host, holder.boot_id, holder.pid_namespace,
                             holder.pid, holder.start_ticks);
  return holder;
}

bool ConsumerHolder::runsHere() const {
  const auto me = self();
  return host == me.host && !boot_id.empty() && boot_id == me.boot_id &&
         pid_namespace == me.pid_namespace;
}

bool ConsumerHolder::alive() const {
  // Another process may have the pid now (after a restart, a container's pid 1 is the new
  // process itself): the start time tells them apart.
  const std::string ticks = startTicks(pid);
  return !ticks.empty() && ticks == start_ticks;
}

ConsumerNameTaken::ConsumerNameTaken(const std::string& name, const ConsumerHolder& holder)
    : std::runtime_error(fmt::format(
          "the consumer name `{}` is held by a live worker process on host {} (pid {}): two "
          "processes must not act as one consumer; set another name with the `consumer_name` "
          "key",
          name, holder.host, holder.pid)),
      holder_(holder) {}

ConsumerLease::ConsumerLease(store::RedisPool& redis, std::string consumer_name,
                             std::chrono::milliseconds lifetime)
    : redis_(redis),
      name_(std::move(consumer_name)),
      key_(redis_keys::consumerKey(name_)),
      lifetime_(lifetime),
      self_(ConsumerHolder::self()) {}

void ConsumerLease::appendHolderFields(store::RedisArgs& args, std::string_view pid) const {
  args.insert(args.end(), {field::kToken, self_.token, field::kHost, self_.host, field::kPid, pid,
                           field::kStartTicks, self_.start_ticks, field::kBootId, self_.boot_id,
                           field::kPidNamespace, self_.pid_namespace});
}

std::map<std::string, std::string> ConsumerLease::take(const std::string& replacing) {
  const std::string lifetime = std::to_string(lifetime_.count());
  const std::string pid = std::to_string(self_.pid);
  store::RedisArgs args = {key_, lifetime, replacing};
  appendHolderFields(args, pid);
  auto reply = redis_.run(store::Retry::kIdempotent,
                          [&](store::RedisConnection& c) { return kTakeScript.run(c, 1, args); });
  std::map<std::string, std::string> fields;
  for (size_t i = 0; i + 1 < reply.elements.size(); i += 2)
    fields[reply.elements[i].text] = reply.elements[i + 1].text;
  return fields;
}

void ConsumerLease::acquire() {
  auto other = take("");
  if (other.empty()) return;
  const auto holder = holderFrom(other);
  if (holder.runsHere()) {
    if (holder.alive()) throw ConsumerNameTaken(name_, holder);
    // Its predecessor under this name died: no need to wait for the lease to expire.
    other = take(holder.token);
    if (other.empty()) return;
    throw ConsumerNameTaken(name_, holderFrom(other));
  }
  // Its process cannot be looked up from here: another machine, or this one before a reboot (a
  // quick one), or another container. Refusing at once would keep a unit from starting after a
  // crash (systemd does not restart after exit status 2), so its lease decides: a live holder
  // refreshes it every third of its lifetime, a dead one's expires. Whichever comes first.
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + lifetime_ + std::chrono::seconds(2);
  const auto pause = std::clamp<std::chrono::milliseconds>(
      lifetime_ / 30, std::chrono::milliseconds(10), std::chrono::milliseconds(500));
  int64_t last_ttl_ms = timeToLiveMs();
  while (Clock::now() < deadline) {
    std::this_thread::sleep_for(pause);
    other = take("");
    if (other.empty()) return;
    const auto now_holder = holderFrom(other);
    if (now_holder.token != holder.token) throw ConsumerNameTaken(name_, now_holder);
    const int64_t ttl_ms = timeToLiveMs();
    // A lease only ever grows by a refresh; some slack for the clock of the check itself.
    if (ttl_ms > last_ttl_ms + 50) throw ConsumerNameTaken(name_, holder);
    last_ttl_ms = ttl_ms;
  }
  throw ConsumerNameTaken(name_, holder);
}

int64_t ConsumerLease::timeToLiveMs() {
  return redis_
      .run(store::Retry::kIdempotent,
           [&](store::RedisConnection& c) {
             return c.command({"PTTL", key_});
           })
      .integer;
}

ConsumerLease::Refresh ConsumerLease::refresh() {
  const std::string lifetime = std::to_string(lifetime_.count());
  const std::string pid = std::to_string(self_.pid);
  store::RedisArgs args = {key_, lifetime, field::kToken};
  appendHolderFields(args, pid);
  auto reply = redis_.run(store::Retry::kIdempotent, [&](store::RedisConnection& c) {
    return kRefreshScript.run(c, 1, args);
  });
  return reply.integer == 1 ? Refresh::kHeld : Refresh::kLost;
}

void ConsumerLease::release() {
  redis_.run(store::Retry::kIdempotent, [&](store::RedisConnection& c) {
    return kReleaseScript.run(c, 1, {key_, field::kToken, self_.token});
  });
}

}  // namespace conduit::queue
