// Consumer names held by one live process at a time, against a real Redis.
#include "queue/consumer_lease.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <fstream>
#include <sstream>
#include <thread>

#include <doctest/doctest.h>

#include "redis_server.hpp"

using conduit::queue::ConsumerHolder;
using conduit::queue::ConsumerLease;
using conduit::queue::ConsumerNameTaken;
using conduit::store::RedisConnection;
using conduit::store::RedisPool;
using conduit::testing::RedisServer;
using std::chrono::milliseconds;

namespace {

struct Site {
  RedisServer redis;
  RedisPool pool{redis.endpoint(), std::chrono::seconds(2)};
  RedisConnection direct{redis.endpoint(), std::chrono::seconds(2)};

  // Writes a lease as another process would have.
  void holdAs(const ConsumerHolder& holder, const std::string& name = "host:1") {
    direct.command({"HSET", "conduit::consumers::" + name, "token", holder.token, "host",
                    holder.host, "pid", std::to_string(holder.pid), "start", holder.start_ticks,
                    "boot", holder.boot_id, "pid_ns", holder.pid_namespace});
    direct.command({"PEXPIRE", "conduit::consumers::" + name, std::to_string(lifetime_ms)});
  }

  // Refreshes the lease every `every`, as a live holder elsewhere would, until destroyed.
  struct Refresher {
    Refresher(Site& site, const std::string& name, milliseconds every)
        : thread([this, endpoint = site.redis.endpoint(), name, every] {
            RedisConnection connection(endpoint, std::chrono::seconds(2));
            while (!done) {
              connection.command({"PEXPIRE", "conduit::consumers::" + name, "3000"});
              std::this_thread::sleep_for(every);
            }
          }) {}
    ~Refresher() {
      done = true;
      thread.join();
    }
    std::atomic<bool> done{false};
    std::thread thread;
  };

  int64_t lifetime_ms = 60000;
};

// /proc/<pid>/stat's 22nd field, counted from the command name's closing parenthesis.
std::string startTicksOf(pid_t pid) {
  std::ifstream file("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  std::istringstream rest(stat.substr(stat.rfind(')') + 1));
  std::string value;
  for (int field = 3; field <= 22 && (rest >> value); ++field) {
    if (field == 22) return value;
  }
  return "";
}

// A process of this machine that has ended.
ConsumerHolder deadProcess() {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ::waitpid(child, nullptr, 0);
  ConsumerHolder holder = ConsumerHolder::self();
  holder.pid = child;
  holder.start_ticks = "1";
  holder.token = "dead";
  return holder;
}

}  // namespace

TEST_CASE("consumer lease: this process is alive and runs here") {
  const auto self = ConsumerHolder::self();
  CHECK(self.runsHere());
  CHECK(self.alive());
  CHECK_FALSE(self.start_ticks.empty());
  CHECK_FALSE(self.boot_id.empty());
  auto restarted = self;  // the same pid, but not the same process: a container's pid 1
  restarted.start_ticks = "1";
  CHECK_FALSE(restarted.alive());
  CHECK_FALSE(deadProcess().alive());
}

TEST_CASE("consumer lease: a name held by a live process is refused - naming its host") {
  Site site;
  ConsumerLease first(site.pool, "host:1", milliseconds(15000));
  first.acquire();
  const auto ttl = site.direct.command({"PTTL", "conduit::consumers::host:1"}).integer;
  CHECK(ttl > 10000);
  CHECK(ttl <= 15000);
  first.acquire();  // again by its holder: fine

  // Another live process of this machine: this one's pid and start time stand for it.
  auto live = ConsumerHolder::self();
  live.token = "another-live-process";
  site.holdAs(live);
  ConsumerLease second(site.pool, "host:1", milliseconds(15000));
  try {
    second.acquire();
    FAIL("expected ConsumerNameTaken");
  } catch (const ConsumerNameTaken& e) {
    const std::string what = e.what();
    CHECK(what.find("`host:1` is held by a live worker process on host " + live.host) !=
          std::string::npos);
    CHECK(what.find("`consumer_name`") != std::string::npos);
  }
  ConsumerLease other_name(site.pool, "host:2", milliseconds(15000));
  other_name.acquire();
}

TEST_CASE("consumer lease: a holder of this machine that died is replaced at once") {
  Site site;
  site.holdAs(deadProcess());
  ConsumerLease lease(site.pool, "host:1", milliseconds(15000));
  lease.acquire();
  CHECK(site.direct.command({"HGET", "conduit::consumers::host:1", "token"}).text ==
        ConsumerHolder::self().token);
}

TEST_CASE("consumer lease: a holder killed but not yet reaped by its parent is dead") {
  // A zombie keeps its /proc entry, start time included, until its parent waits for it.
  Site site;
  const pid_t child = ::fork();
  if (child == 0) {
    ::pause();
    ::_exit(0);
  }
  ConsumerHolder killed = ConsumerHolder::self();
  killed.pid = child;
  killed.start_ticks = startTicksOf(child);
  killed.token = "killed";
  REQUIRE_FALSE(killed.start_ticks.empty());
  CHECK(killed.alive());
  ::kill(child, SIGKILL);
  std::this_thread::sleep_for(milliseconds(200));  // a zombie now: not waited for
  REQUIRE(startTicksOf(child) == killed.start_ticks);
  CHECK_FALSE(killed.alive());
  site.holdAs(killed);
  ConsumerLease lease(site.pool, "host:1", milliseconds(15000));
  lease.acquire();
  ::waitpid(child, nullptr, 0);
}

TEST_CASE("consumer lease: a holder on another machine - refused while it refreshes its lease") {
  Site site;
  ConsumerHolder elsewhere;
  elsewhere.host = "another-host";
  elsewhere.pid = 1;
  elsewhere.start_ticks = "1";
  elsewhere.boot_id = "another-boot";
  elsewhere.token = "elsewhere";
  site.lifetime_ms = 3000;
  site.holdAs(elsewhere);
  Site::Refresher refresher(site, "host:1", milliseconds(500));
  ConsumerLease lease(site.pool, "host:1", milliseconds(3000));
  const auto started = std::chrono::steady_clock::now();
  CHECK_THROWS_AS(lease.acquire(), ConsumerNameTaken);
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(5));
  CHECK(site.direct.command({"HGET", "conduit::consumers::host:1", "token"}).text == "elsewhere");
}

TEST_CASE("consumer lease: a holder that cannot be looked up here - taken once its lease expires") {
  // This machine before a quick reboot (another boot id): its process is gone, but all that
  // says so is that its lease is not refreshed. Refused at once, the unit would never start
  // again (systemd does not restart after exit status 2).
  Site site;
  ConsumerHolder before_reboot = ConsumerHolder::self();
  before_reboot.boot_id = "the-boot-before";
  before_reboot.token = "before-reboot";
  site.lifetime_ms = 1500;
  site.holdAs(before_reboot);
  ConsumerLease lease(site.pool, "host:1", milliseconds(3000));
  lease.acquire();
  CHECK(site.direct.command({"HGET", "conduit::consumers::host:1", "token"}).text ==
        ConsumerHolder::self().token);
}

TEST_CASE("consumer lease: a live holder in another pid namespace - its pid means nothing here") {
  // Another container with the same host name: its pid here is another process (or none), so
  // the pid would call it dead; its refreshed lease says it lives.
  Site site;
  ConsumerHolder other_container = ConsumerHolder::self();
  other_container.pid_namespace = "pid:[1]";
  other_container.start_ticks = "1";  // this pid here started at another time
  other_container.token = "other-container";
  site.lifetime_ms = 3000;
  site.holdAs(other_container);
  Site::Refresher refresher(site, "host:1", milliseconds(500));
  ConsumerLease lease(site.pool, "host:1", milliseconds(3000));
  CHECK_THROWS_AS(lease.acquire(), ConsumerNameTaken);
  CHECK(site.direct.command({"HGET", "conduit::consumers::host:1", "token"}).text ==
        "other-container");
}

TEST_CASE("consumer lease: refreshed while held - lost once another took it - released") {
  Site site;
  ConsumerLease lease(site.pool, "host:1", milliseconds(15000));
  lease.acquire();
  site.direct.command({"PEXPIRE", "conduit::consumers::host:1", "5000"});
  CHECK(lease.refresh() == ConsumerLease::Refresh::kHeld);
  CHECK(site.direct.command({"PTTL", "conduit::consumers::host:1"}).integer > 10000);
  // Expired (Redis restarted empty, say) and no one took it: taken again.
  site.direct.command({"DEL", "conduit::consumers::host:1"});
  CHECK(lease.refresh() == ConsumerLease::Refresh::kHeld);
  CHECK(site.direct.command({"EXISTS", "conduit::consumers::host:1"}).integer == 1);

  ConsumerHolder elsewhere;
  elsewhere.host = "another-host";
  elsewhere.token = "elsewhere";
  site.holdAs(elsewhere);
  CHECK(lease.refresh() == ConsumerLease::Refresh::kLost);
  lease.release();  // not its own any more: left alone
  CHECK(site.direct.command({"HGET", "conduit::consumers::host:1", "token"}).text == "elsewhere");

  ConsumerLease mine(site.pool, "host:2", milliseconds(15000));
  mine.acquire();
  mine.release();
  CHECK(site.direct.command({"EXISTS", "conduit::consumers::host:2"}).integer == 0);
}
