// The spool and its drainer without Redis: the drainer's enqueue is a function the test scripts
// (spool/spool.hpp, spool/spool_drainer.hpp).
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "log_capture.hpp"
#include "spool/spool.hpp"
#include "spool/spool_drainer.hpp"
#include "spool/spool_record.hpp"
#include "store/redis_connection.hpp"

using conduit::queue::EnqueueResult;
using conduit::spool::Spool;
using conduit::spool::SpoolDrainer;

namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    static int n = 0;
    path_ = (fs::temp_directory_path() /
             ("conduit-spool-" + std::to_string(::getpid()) + "-" + std::to_string(++n)))
                .string();
    fs::remove_all(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

conduit::queue::Delivery delivery(const std::string& id) {
  static const std::string payload = R"({"action":"closed"})";
  return {"github", "repo-1", "org/repo", "pull_request", id, 1700000000000, payload};
}

// An enqueue that records what it was given, refuses while `away`, and finds an id it saw
// before a duplicate, as Redis's de-duplication does.
struct FakeRedis {
  std::vector<std::string> queued;
  std::set<std::string> seen;
  int calls = 0;
  bool away = false;
  int refuse_at_call = -1;  // this call (1-based) is refused once: Redis going away mid-drain

  EnqueueResult operator()(const conduit::queue::Delivery& d) {
    ++calls;
    if (away || calls == refuse_at_call)
      throw conduit::store::RedisUnavailable("connection refused");
    EnqueueResult result;
    result.duplicate = !seen.insert(std::string(d.delivery_id)).second;
    if (!result.duplicate) queued.emplace_back(d.delivery_id);
    return result;
  }
};

SpoolDrainer::Enqueue through(FakeRedis& redis) {
  return [&redis](const conduit::queue::Delivery& d) { return redis(d); };
}

std::vector<std::string> ids(int from, int to) {
  std::vector<std::string> out;
  for (int i = from; i < to; ++i)
    out.push_back("d-" + std::to_string(i));
  return out;
}

}  // namespace

TEST_CASE("spool: appended deliveries are drained oldest first - then the files are gone") {
  TempDir dir;
  Spool spool(dir.path(), 1 << 20);
  spool.open();
  for (const auto& id : ids(0, 10))
    REQUIRE(spool.append(delivery(id), "connection refused"));
  CHECK(spool.records() == 10);
  CHECK(spool.bytes() > 0);
  CHECK(spool.holdsFiles());
  CHECK(spool.spooling());

  FakeRedis redis;
  SpoolDrainer drainer(spool, through(redis));
  CHECK(drainer.drainOnce());
  CHECK(redis.queued == ids(0, 10));
  CHECK(spool.records() == 0);
  CHECK(spool.bytes() == 0);
  CHECK(spool.files(false).empty());
  CHECK_FALSE(drainer.refused());
  CHECK_FALSE(spool.spooling());
}

TEST_CASE("spool: the log says when spooling starts and when the spool is drained, with counts") {
  conduit::testing::LogCapture log;
  TempDir dir;
  Spool spool(dir.path(), 1 << 20);
  spool.open();
  for (const auto& id : ids(0, 3))
    REQUIRE(spool.append(delivery(id), "Redis at x: connection refused"));
  REQUIRE(spool.append(delivery("d-0"), "again"));  // the code host sent it again
  FakeRedis redis;
  SpoolDrainer drainer(spool, through(redis));
  REQUIRE(drainer.drainOnce());
  const std::string text = log.text();
  CHECK(text.find("Redis cannot take deliveries (Redis at x: connection refused): spooling them "
                  "to " +
                  dir.path()) != std::string::npos);
  CHECK(text.find("spooling them", text.find("spooling them") + 1) == std::string::npos);
  CHECK(text.find("spool " + dir.path() +
                  " drained: 4 spooled deliveries moved into the stream, "
                  "1 of them dropped there as duplicates") != std::string::npos);
  CHECK(redis.queued == ids(0, 3));
}

TEST_CASE("spool: Redis going away mid-drain - nothing lost, nothing queued twice") {
  TempDir dir;
  Spool spool(dir.path(), 1 << 20);
  spool.open();
  for (const auto& id : ids(0, 5))
    REQUIRE(spool.append(delivery(id), "down"));
  spool.files(true);  // a second file for the next five
  for (const auto& id : ids(5, 10))
    REQUIRE(spool.append(delivery(id), "down"));

  FakeRedis redis;
  redis.refuse_at_call = 7;  // in the second file
  SpoolDrainer drainer(spool, through(redis));
  CHECK_FALSE(drainer.drainOnce());
  CHECK(drainer.refused());
  CHECK(redis.queued == ids(0, 6));
  CHECK(spool.records() == 4);
  CHECK(spool.files(false).size() == 1);  // the first file, all in Redis, is gone

  redis.away = true;
  CHECK_FALSE(drainer.drainOnce());
  CHECK(spool.records() == 4);
  redis.away = false;
  CHECK(drainer.drainOnce());
  CHECK(redis.queued == ids(0, 10));
  CHECK(redis.seen.size() == 10);
  CHECK(spool.records() == 0);
}

TEST_CASE("spool: a full spool refuses - and has room again once a file is drained") {
  TempDir dir;
  const size_t record = conduit::spool::encodeRecord(delivery("100")).size();
  Spool spool(dir.path(), 65536);
  spool.open();
  const size_t fits = 65536 / record;
  for (size_t i = 0; i < fits; ++i)  // ids of one length: records of one size
    REQUIRE(spool.append(delivery(std::to_string(100 + i)), "down"));
  CHECK(spool.hasRoom());
  conduit::testing::LogCapture log;
  CHECK_FALSE(spool.append(delivery("999"), "down"));
  CHECK_FALSE(spool.hasRoom());
  CHECK(spool.bytes() == fits * record);
  CHECK(log.text().find("spool " + dir.path() + " is full") != std::string::npos);

  FakeRedis redis;
  SpoolDrainer drainer(spool, through(redis));
  REQUIRE(drainer.drainOnce());
  CHECK(spool.hasRoom());
  CHECK(redis.queued.size() == fits);
  CHECK(spool.append(delivery("999"), "down"));
}

TEST_CASE("spool: a second spool on the folder is refused - naming the folder and the holder") {
  TempDir dir;
  Spool first(dir.path(), 1 << 20);
  first.open();
  Spool second(dir.path(), 1 << 20);
  try {
    second.open();
    FAIL("the second open succeeded");
  } catch (const conduit::spool::SpoolUnusable& e) {
    const std::string message = e.what();
    CHECK(message.find("spool_dir " + dir.path() + " is in use by another conduit process (pid " +
                       std::to_string(::getpid()) + ",") != std::string::npos);
  }
}

TEST_CASE("spool: a folder that cannot be created is a clear error") {
  TempDir dir;
  std::ofstream(dir.path()) << "a file";  // where the folder would be
  Spool spool(dir.path() + "/spool", 1 << 20);
  try {
    spool.open();
    FAIL("the open succeeded");
  } catch (const conduit::spool::SpoolUnusable& e) {
    CHECK(std::string(e.what()).find("spool_dir " + dir.path() + "/spool: cannot create it") !=
          std::string::npos);
  }
  fs::remove(dir.path());
}

TEST_CASE("spool: a new process counts what the last one left - drains it before its own") {
  TempDir dir;
  {
    Spool spool(dir.path(), 1 << 20);
    spool.open();
    for (const auto& id : ids(0, 3))
      REQUIRE(spool.append(delivery(id), "down"));
  }  // as a kill would leave it: the lock released with the process
  Spool spool(dir.path(), 1 << 20);
  spool.open();
  CHECK(spool.records() == 3);
  CHECK(spool.holdsFiles());
  CHECK(spool.spooling());
  for (const auto& id : ids(3, 5))
    REQUIRE(spool.append(delivery(id), "down"));
  CHECK(spool.files(true).size() == 2);  // never appended to the old file

  FakeRedis redis;
  SpoolDrainer drainer(spool, through(redis));
  REQUIRE(drainer.drainOnce());
  CHECK(redis.queued == ids(0, 5));
}

TEST_CASE("spool: a torn record from a crash is set aside with the file and offset in the log") {
  TempDir dir;
  {
    Spool spool(dir.path(), 1 << 20);
    spool.open();
    for (const auto& id : ids(0, 3))
      REQUIRE(spool.append(delivery(id), "down"));
  }
  const auto files = Spool(dir.path(), 1).files(false);  // listing takes no lock
  REQUIRE(files.size() == 1);
  const std::string path = files[0];
  const auto size = fs::file_size(path);
  const size_t record = size / 3;
  // A flipped byte in the middle record, and half a record at the end (a write cut short).
  {
    std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(static_cast<std::streamoff>(record + record - 2));
    file.put('#');
    file.seekp(0, std::ios::end);
    const std::string torn = conduit::spool::encodeRecord(delivery("torn"));
    file.write(torn.data(), static_cast<std::streamsize>(torn.size() / 2));
  }

  conduit::testing::LogCapture log;
  Spool spool(dir.path(), 1 << 20);
  spool.open();
  CHECK(spool.records() == 2);
  FakeRedis redis;
  SpoolDrainer drainer(spool, through(redis));
  REQUIRE(drainer.drainOnce());
  CHECK(redis.queued == std::vector<std::string>{"d-0", "d-2"});
  const std::string text = log.text();
  CHECK(text.find("at byte offset " + std::to_string(record) + " of " + path) != std::string::npos);
  CHECK(text.find("at byte offset " + std::to_string(3 * record) + " of " + path) !=
        std::string::npos);
  const std::string aside = dir.path() + "/corrupt/" + fs::path(path).filename().string();
  CHECK(fs::file_size(aside + "." + std::to_string(record)) == record);
  CHECK(fs::exists(aside + "." + std::to_string(3 * record)));
  CHECK(text.find("1 of them") == std::string::npos);
  CHECK(text.find("2 unreadable stretches kept in " + dir.path() + "/corrupt") !=
        std::string::npos);
  CHECK_FALSE(fs::exists(path));
}

TEST_CASE("spool: the file being appended to is never listed for the drainer, nor removed") {
  TempDir dir;
  Spool spool(dir.path(), 1 << 20);
  spool.open();
  REQUIRE(spool.append(delivery("a"), "down"));
  CHECK(spool.files(false).empty());  // the current file is the appender's
  const auto sealed = spool.files(true);
  REQUIRE(sealed.size() == 1);
  REQUIRE(spool.append(delivery("b"), "down"));  // begins a second file
  CHECK(spool.files(false) == sealed);
  // Removing the file appended to would lose what is written to it next: refused.
  const auto all = spool.files(true);
  REQUIRE(all.size() == 2);
  REQUIRE(spool.append(delivery("c"), "down"));
  const std::string current = dir.path() + "/spool-00000000000000000003.log";
  REQUIRE(fs::exists(current));
  spool.removeFile(current);
  CHECK(fs::exists(current));
  FakeRedis redis;
  SpoolDrainer drainer(spool, through(redis));
  REQUIRE(drainer.drainOnce());
  CHECK(redis.queued == std::vector<std::string>{"a", "b", "c"});
}

TEST_CASE("spool: links in the folder are not followed - the lock, nor a spool file") {
  TempDir dir;
  fs::create_directories(dir.path());
  const std::string victim = dir.path() + "-victim";
  std::ofstream(victim) << "precious";
  SUBCASE("the lock file") {
    fs::create_symlink(victim, dir.path() + "/lock");
    Spool spool(dir.path(), 1 << 20);
    CHECK_THROWS_AS(spool.open(), conduit::spool::SpoolUnusable);
  }
  SUBCASE("a spool file") {
    fs::create_symlink(victim, dir.path() + "/spool-00000000000000000001.log");
    Spool spool(dir.path(), 1 << 20);
    spool.open();
    CHECK(spool.files(true).empty());
    CHECK_FALSE(spool.holdsFiles());
    CHECK(spool.bytes() == 0);
  }
  std::ifstream in(victim);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(content == "precious");
  fs::remove(victim);
}

TEST_CASE("spool: a file that cannot be read is moved aside whole - the others still drain") {
  TempDir dir;
  Spool spool(dir.path(), 1 << 20);
  spool.open();
  REQUIRE(spool.append(delivery("a"), "down"));
  const auto first = spool.files(true);
  REQUIRE(spool.append(delivery("b"), "down"));
  const auto both = spool.files(true);
  REQUIRE(both.size() == 2);
  const auto size = fs::file_size(first[0]);
  const auto before = spool.bytes();
  conduit::testing::LogCapture log;
  REQUIRE(spool.setFileAside(first[0], "cannot open: Permission denied"));
  CHECK_FALSE(fs::exists(first[0]));
  CHECK(fs::exists(dir.path() + "/corrupt/" + fs::path(first[0]).filename().string()));
  CHECK(spool.bytes() == before - size);
  CHECK(log.text().find("cannot be read (cannot open: Permission denied): moved to") !=
        std::string::npos);
  FakeRedis redis;
  SpoolDrainer drainer(spool, through(redis));
  REQUIRE(drainer.drainOnce());
  CHECK(redis.queued == std::vector<std::string>{"b"});
  CHECK_FALSE(spool.holdsFiles());
}
