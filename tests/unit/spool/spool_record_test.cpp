// The spool's record format and its reader: a round trip, and what a torn or damaged file reads
// as (spool/spool_record.hpp, spool/spool_file_reader.hpp).
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "spool/spool_error.hpp"
#include "spool/spool_file_reader.hpp"
#include "spool/spool_record.hpp"

using conduit::spool::Damage;
using conduit::spool::SpooledDelivery;
using conduit::spool::SpoolFileReader;

namespace {

namespace fs = std::filesystem;

conduit::queue::Delivery delivery(const std::string& id, const std::string& payload) {
  return {"github", "repo-1", "org/repo", "pull_request", id, 1700000000123, payload};
}

class TempFile {
 public:
  TempFile() {
    static int n = 0;
    path_ = (fs::temp_directory_path() /
             ("conduit-spool-record-" + std::to_string(::getpid()) + "-" + std::to_string(++n)))
                .string();
  }
  ~TempFile() { fs::remove(path_); }
  void write(const std::string& bytes) const {
    std::ofstream(path_, std::ios::binary | std::ios::trunc) << bytes;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct Walk {
  std::vector<std::string> ids;
  std::vector<Damage> damage;
};

Walk walk(const std::string& path) {
  Walk result;
  SpoolFileReader reader(path, 0, [&](const Damage& d) { result.damage.push_back(d); });
  SpooledDelivery record;
  while (reader.next(record))
    result.ids.push_back(record.delivery_id);
  return result;
}

}  // namespace

TEST_CASE("spool record: CRC32C is Castagnoli's (the standard check value)") {
  CHECK(conduit::spool::crc32c("123456789") == 0xe3069283u);
  CHECK(conduit::spool::crc32c("") == 0u);
}

TEST_CASE("spool record: every field comes back as written - binary payload bytes too") {
  const std::string payload = std::string("{\"a\":1}\0\xff CSP1", 13);
  const std::string bytes = conduit::spool::encodeRecord(delivery("d-1", payload));
  CHECK(bytes.substr(0, 4) == "CSP1");
  const auto header = conduit::spool::parseHeader(bytes);
  REQUIRE(header.valid);
  CHECK(header.body_bytes == bytes.size() - conduit::spool::kRecordHeaderBytes);
  SpooledDelivery out;
  REQUIRE(conduit::spool::decodeBody(header, std::string_view(bytes).substr(12), out));
  CHECK(out.provider == "github");
  CHECK(out.repo_id == "repo-1");
  CHECK(out.repo_path == "org/repo");
  CHECK(out.event == "pull_request");
  CHECK(out.delivery_id == "d-1");
  CHECK(out.received_at_ms == 1700000000123);
  CHECK(out.payload == payload);
}

TEST_CASE("spool record: a file of records reads back in order") {
  TempFile file;
  std::string bytes;
  for (int i = 0; i < 5; ++i)
    bytes += conduit::spool::encodeRecord(delivery("d-" + std::to_string(i), "{}"));
  file.write(bytes);
  const Walk read = walk(file.path());
  CHECK(read.ids == std::vector<std::string>{"d-0", "d-1", "d-2", "d-3", "d-4"});
  CHECK(read.damage.empty());
}

TEST_CASE("spool record: a truncated file - the whole records are read, the torn end reported") {
  const std::string first = conduit::spool::encodeRecord(delivery("d-1", R"({"x":1})"));
  const std::string second = conduit::spool::encodeRecord(delivery("d-2", R"({"x":2})"));
  // Cut inside the second record's body, and inside its header.
  for (size_t keep : {second.size() - 1, size_t{20}, size_t{5}}) {
    CAPTURE(keep);
    TempFile file;
    file.write(first + second.substr(0, keep));
    const Walk read = walk(file.path());
    CHECK(read.ids == std::vector<std::string>{"d-1"});
    REQUIRE(read.damage.size() == 1);
    CHECK(read.damage[0].path == file.path());
    CHECK(read.damage[0].offset == first.size());
    CHECK(read.damage[0].bytes == keep);
    CHECK(read.damage[0].why.find("torn record") != std::string::npos);
  }
}

TEST_CASE("spool record: a flipped byte - that record is skipped, the ones after it are read") {
  const std::string first = conduit::spool::encodeRecord(delivery("d-1", R"({"x":1})"));
  const std::string second = conduit::spool::encodeRecord(delivery("d-2", R"({"x":22})"));
  const std::string third = conduit::spool::encodeRecord(delivery("d-3", R"({"x":333})"));
  // A byte of the payload, of the length, of the magic: each only costs its own record.
  for (size_t at : {second.size() - 3, size_t{5}, size_t{0}}) {
    CAPTURE(at);
    std::string damaged = second;
    damaged[at] = static_cast<char>(damaged[at] ^ 0x40);
    TempFile file;
    file.write(first + damaged + third);
    const Walk read = walk(file.path());
    CHECK(read.ids == std::vector<std::string>{"d-1", "d-3"});
    REQUIRE(read.damage.size() == 1);
    CHECK(read.damage[0].offset == first.size());
    CHECK(read.damage[0].bytes == second.size());
  }
}

TEST_CASE("spool record: garbage between records, and a record whose payload holds a record") {
  const std::string inner = conduit::spool::encodeRecord(delivery("inner", "{}"));
  const std::string outer = conduit::spool::encodeRecord(delivery("outer", inner));
  const std::string last = conduit::spool::encodeRecord(delivery("last", "{}"));
  TempFile file;
  file.write(std::string("garbage CSP1 more garbage") + outer + last);
  const Walk read = walk(file.path());
  // The inner record is payload, not a record: the reader resumes at the outer one.
  CHECK(read.ids == std::vector<std::string>{"outer", "last"});
  REQUIRE(read.damage.size() == 1);
  CHECK(read.damage[0].offset == 0);
  CHECK(read.damage[0].bytes == 25);
}

TEST_CASE("spool record: nothing readable after the damage - the rest of the file is the stretch") {
  const std::string first = conduit::spool::encodeRecord(delivery("d-1", "{}"));
  TempFile file;
  file.write(first + std::string(100000, 'x'));
  const Walk read = walk(file.path());
  CHECK(read.ids == std::vector<std::string>{"d-1"});
  REQUIRE(read.damage.size() == 1);
  CHECK(read.damage[0].offset == first.size());
  CHECK(read.damage[0].bytes == 100000);
}

TEST_CASE("spool record: a reader starts at a given record - and says where each one started") {
  const std::string first = conduit::spool::encodeRecord(delivery("d-1", "{}"));
  const std::string second = conduit::spool::encodeRecord(delivery("d-2", "{}"));
  TempFile file;
  file.write(first + second);
  SpoolFileReader reader(file.path(), first.size());
  SpooledDelivery record;
  REQUIRE(reader.next(record));
  CHECK(record.delivery_id == "d-2");
  CHECK(reader.recordOffset() == first.size());
  CHECK_FALSE(reader.next(record));
  CHECK_THROWS_AS(SpoolFileReader(file.path() + ".missing"), conduit::spool::SpoolError);
}
