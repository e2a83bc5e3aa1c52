#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>

#include "store/redis_pool.hpp"

namespace conduit::queue {

// The process that holds a consumer name, as its lease in Redis describes it.
struct ConsumerHolder {
  std::string host;           // its hostname
  int64_t pid = 0;            // its process id
  std::string start_ticks;    // its start time, /proc/<pid>/stat's 22nd field
  std::string boot_id;        // /proc/sys/kernel/random/boot_id of its machine
  std::string pid_namespace;  // the pid namespace its pid is in: /proc/self/ns/pid's link
  std::string token;          // all of the above: unique to one run of one process

  // This process.
  static ConsumerHolder self();
  // Whether `this` describes a process of this machine's current boot that is still running.
  // Only meaningful when runsHere(): the pid is looked up in this machine's /proc.
  bool alive() const;
  // Same host name, same boot and same pid namespace: its pid can be looked up here.
  bool runsHere() const;
};

// A second live process asked for a consumer name that a live one holds.
class ConsumerNameTaken : public std::runtime_error {
 public:
  ConsumerNameTaken(const std::string& name, const ConsumerHolder& holder);
  const ConsumerHolder& holder() const { return holder_; }

 private:
  ConsumerHolder holder_;
};

// Two processes must never act as one consumer of the group: what one acknowledges or writes
// as "its own" would be the other's too. A lease per consumer name,
// conduit::consumers::<name>, a hash naming the holder (ConsumerHolder), with a short expiry
// that the holder keeps refreshing. A process that died holds its name no longer: on the same
// machine (same host name, boot and pid namespace) that is seen at once, by its pid and start
// time, so a restart (kill -9, a crash, systemd's Restart=) starts at once; otherwise (another
// machine, a reboot, a container restarted in a new pid namespace) acquire() watches the lease
// until it either expires (taken then) or is refreshed (refused then).
class ConsumerLease {
 public:
  ConsumerLease(store::RedisPool& redis, std::string consumer_name,
                std::chrono::milliseconds lifetime);

  // Takes the name. Throws ConsumerNameTaken when a live process holds it, and
  // store::RedisUnavailable. Waits up to the lifetime (and 2 s) when the holder's process cannot
  // be looked up here.
  void acquire();

  enum class Refresh { kHeld, kLost };
  // Extends the lease (taking the name again if it expired meanwhile and no one took it).
  // kLost: another process took the name while this one did not refresh it (it stalled past
  // the lifetime). Throws store::RedisUnavailable.
  Refresh refresh();

  // Gives the name up, if still held: at a clean stop.
  void release();

  const std::string& name() const { return name_; }
  std::chrono::milliseconds lifetime() const { return lifetime_; }
  // This process's token, which the lease holds while this process holds the name.
  const std::string& token() const { return self_.token; }

 private:
  // The (field, value) pairs naming this process, as the take and refresh scripts write them.
  // `pid` is the caller's text of self_.pid, alive as long as `args`.
  void appendHolderFields(store::RedisArgs& args, std::string_view pid) const;
  // Runs the take script; returns the other holder's fields, empty when taken.
  std::map<std::string, std::string> take(const std::string& replacing);
  int64_t timeToLiveMs();  // the lease's PTTL

  store::RedisPool& redis_;
  std::string name_;
  std::string key_;
  std::chrono::milliseconds lifetime_;
  ConsumerHolder self_;
};

}  // namespace conduit::queue
