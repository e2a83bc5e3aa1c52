#include "spool/spool.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>
#include <system_error>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace conduit::spool {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kFilePrefix = "spool-";
constexpr std::string_view kFileSuffix = ".log";
// A long outage fills several files rather than one: the drainer removes each as soon as it is
// in Redis, giving its room back before the whole spool is drained.
constexpr uint64_t kFileRotateBytes = uint64_t{64} << 20;

// The sequence number of a spool file's name, or 0 when the name is not one.
uint64_t sequenceOf(const std::string& name) {
  if (name.size() <= kFilePrefix.size() + kFileSuffix.size()) return 0;
  if (name.compare(0, kFilePrefix.size(), kFilePrefix) != 0) return 0;
  if (name.compare(name.size() - kFileSuffix.size(), kFileSuffix.size(), kFileSuffix) != 0) {
    return 0;
  }
  const std::string digits =
      name.substr(kFilePrefix.size(), name.size() - kFilePrefix.size() - kFileSuffix.size());
  if (digits.empty() || !std::all_of(digits.begin(), digits.end(),
                                     [](unsigned char c) { return c >= '0' && c <= '9'; }))
    return 0;
  try {
    return std::stoull(digits);
  } catch (const std::exception&) {
    return 0;
  }
}

bool writeAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// The pid written in a lock file, for the message of the process that finds it held.
std::string holderOf(int fd) {
  char text[32] = {};
  const ssize_t n = ::pread(fd, text, sizeof text - 1, 0);
  std::string pid(text, n > 0 ? static_cast<size_t>(n) : 0);
  while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' '))
    pid.pop_back();
  return pid.empty() ? "unknown" : pid;
}

}  // namespace

Spool::Spool(std::string dir, uint64_t max_bytes) : dir_(std::move(dir)), max_bytes_(max_bytes) {}

Spool::~Spool() {
  closeCurrent();
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
}

void Spool::open() {
  std::error_code error;
  fs::create_directories(dir_, error);
  if (error) {
    throw SpoolUnusable(
        fmt::format("spool_dir {}: cannot create it: {}; create it for the "
                    "service's user, or set spool_dir= (empty) to turn "
                    "spooling off",
                    dir_, error.message()));
  }
  const std::string lock_path = dir_ + "/lock";
  // Not through a link: the lock is truncated and written, and must be the folder's own.
  lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (lock_fd_ < 0) {
    throw SpoolUnusable(
        fmt::format("spool_dir {}: cannot open {}: {}; the service's user must "
                    "be able to write the folder",
                    dir_, lock_path, std::strerror(errno)));
  }
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    const int flock_error = errno;
    if (flock_error == EWOULDBLOCK) {
      throw SpoolUnusable(fmt::format(
          "spool_dir {} is in use by another conduit process (pid {}, which holds {}): two "
          "servers never share a spool folder; give each its own spool_dir",
          dir_, holderOf(lock_fd_), lock_path));
    }
    throw SpoolUnusable(fmt::format("spool_dir {}: cannot lock {}: {}", dir_, lock_path,
                                    std::strerror(flock_error)));
  }
  const std::string pid = fmt::format("{}\n", ::getpid());
  if (::ftruncate(lock_fd_, 0) != 0 || ::pwrite(lock_fd_, pid.data(), pid.size(), 0) < 0) {
    throw SpoolUnusable(
        fmt::format("spool_dir {}: cannot write {}: {}", dir_, lock_path, std::strerror(errno)));
  }

  // What an earlier process left: counted now, drained by the drainer, which also sets damaged
  // stretches aside (counting reports none, so that each is logged once).
  uint64_t bytes = 0;
  uint64_t records = 0;
  uint64_t files = 0;
  for (const auto& path : this->files(/*seal=*/false)) {
    try {
      SpoolFileReader reader(path);
      SpooledDelivery record;
      while (reader.next(record))
        ++records;
    } catch (const SpoolError& e) {
      // Its records cannot be counted; the drainer sets the file aside, and the rest still go.
      spdlog::error("spool {}: {}", dir_, e.what());
    }
    bytes += fs::file_size(path, error);
    ++files;
    next_sequence_ = std::max(next_sequence_, sequenceOf(fs::path(path).filename()) + 1);
  }
  {
    std::lock_guard lock(mutex_);
    opened_ = true;
  }
  bytes_ = bytes;
  records_ = records;
  file_count_ = files;
  spooling_ = records > 0;
  if (files > 0) {
    spdlog::warn(
        "spool {} holds {} deliveries ({} bytes in {} files) from before: they are "
        "moved into the stream as soon as Redis takes them",
        dir_, records, bytes, files);
  }
}

std::string Spool::filePath(uint64_t sequence) const {
  return fmt::format("{}/{}{:020}{}", dir_, kFilePrefix, sequence, kFileSuffix);
}

void Spool::syncDir() const {
  // A new or removed file's name is durable only once its folder is.
  const int fd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

void Spool::closeCurrent() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  current_path_.clear();
  current_bytes_ = 0;
}

bool Spool::append(const queue::Delivery& delivery, std::string_view why) {
  const std::string record = encodeRecord(delivery);
  std::lock_guard lock(mutex_);
  if (bytes_.load() + record.size() > max_bytes_) {
    if (!full_.exchange(true)) {
      spdlog::error(
          "spool {} is full ({} bytes of spool_max_bytes {}): deliveries are answered "
          "503 until the drainer has moved some into Redis",
          dir_, bytes_.load(), max_bytes_);
    }
    return false;
  }
  if (fd_ >= 0 && current_bytes_ >= kFileRotateBytes) closeCurrent();
  if (fd_ < 0) {
    const std::string path = filePath(next_sequence_++);
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
    if (fd_ < 0) {
      spdlog::error("spool {}: cannot create {}: {}", dir_, path, std::strerror(errno));
      return false;
    }
    current_path_ = path;
    current_bytes_ = 0;
    file_count_.fetch_add(1);
    syncDir();
  }
  if (!writeAll(fd_, record) || ::fdatasync(fd_) != 0) {
    const int error = errno;
    // Whatever part reached the file is cut off again; if even that fails, the file is closed
    // and the next append starts another, and the reader skips the torn end.
    spdlog::error("spool {}: cannot write {}: {}", dir_, current_path_, std::strerror(error));
    if (::ftruncate(fd_, static_cast<off_t>(current_bytes_)) != 0) closeCurrent();
    return false;
  }
  current_bytes_ += record.size();
  bytes_.fetch_add(record.size());
  spooling_ = true;
  if (records_.fetch_add(1) == 0) {
    spdlog::warn(
        "Redis cannot take deliveries ({}): spooling them to {} until it can (room for "
        "{} bytes)",
        why, dir_, max_bytes_ - bytes_.load());
  }
  return true;
}

std::vector<std::string> Spool::files(bool seal) {
  std::string current;
  uint64_t begun_after = 0;  // files from this sequence on were begun after the listing started
  {
    std::lock_guard lock(mutex_);
    if (seal) closeCurrent();
    current = current_path_;
    // Before open() has counted the folder, no append has begun a file.
    begun_after = opened_ ? next_sequence_ : std::numeric_limits<uint64_t>::max();
  }
  std::vector<std::pair<uint64_t, std::string>> found;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(dir_, error)) {
    const std::string path = entry.path().string();
    const uint64_t sequence = sequenceOf(entry.path().filename());
    // An append may begin a file while the folder is read: it is the appender's, not listed.
    // Links are not followed: a spool file is one the server wrote.
    if (sequence == 0 || sequence >= begun_after || path == current ||
        entry.symlink_status(error).type() != fs::file_type::regular) {
      continue;
    }
    found.emplace_back(sequence, path);
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> paths;
  for (auto& [sequence, path] : found)
    paths.push_back(std::move(path));
  return paths;
}

void Spool::markDrained() {
  std::lock_guard lock(mutex_);  // an append holds it from its room check to spooling_ = true
  if (file_count_.load() == 0) spooling_ = false;
}

void Spool::recordDrained() {
  uint64_t left = records_.load();
  while (left > 0 && !records_.compare_exchange_weak(left, left - 1)) {
  }
}

void Spool::removeFile(const std::string& path) {
  {
    std::lock_guard lock(mutex_);
    if (path == current_path_) return;  // appended to since it was listed: drained later
  }
  std::error_code error;
  const uint64_t size = fs::file_size(path, error);
  if (!fs::remove(path, error) || error) {
    spdlog::error("spool {}: cannot remove {}, whose records are all in Redis: {}", dir_, path,
                  error.message());
    return;
  }
  syncDir();
  uint64_t bytes = bytes_.load();
  while (!bytes_.compare_exchange_weak(bytes, bytes >= size ? bytes - size : 0)) {
  }
  file_count_.fetch_sub(1);
  full_ = false;
}

void Spool::setAside(const Damage& damage) {
  const fs::path source(damage.path);
  const fs::path aside =
      fs::path(dir_) / "corrupt" / fmt::format("{}.{}", source.filename().string(), damage.offset);
  spdlog::error(
      "spool {}: {} bytes at byte offset {} of {} cannot be read ({}): copied to {} "
      "and skipped; the records after them are still drained",
      dir_, damage.bytes, damage.offset, damage.path, damage.why, aside.string());
  std::error_code error;
  fs::create_directories(aside.parent_path(), error);
  const int in = ::open(damage.path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  const int out = ::open(aside.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  bool copied = in >= 0 && out >= 0;
  uint64_t done = 0;
  std::string buffer(65536, '\0');
  while (copied && done < damage.bytes) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(buffer.size(), damage.bytes - done));
    const ssize_t n = ::pread(in, buffer.data(), want, static_cast<off_t>(damage.offset + done));
    if (n <= 0) break;
    copied = writeAll(out, std::string_view(buffer.data(), static_cast<size_t>(n)));
    done += static_cast<size_t>(n);
  }
  if (copied && out >= 0) copied = ::fsync(out) == 0;
  if (in >= 0) ::close(in);
  if (out >= 0) ::close(out);
  if (!copied) {
    spdlog::error("spool {}: could not copy the unreadable bytes to {}: {}", dir_, aside.string(),
                  std::strerror(errno));
  }
}

bool Spool::setFileAside(const std::string& path, std::string_view why) {
  const fs::path source(path);
  const fs::path aside = fs::path(dir_) / "corrupt" / source.filename();
  std::error_code error;
  const uint64_t size = fs::file_size(source, error);
  fs::create_directories(aside.parent_path(), error);
  fs::rename(source, aside, error);
  if (error) {
    spdlog::error(
        "spool {}: {} cannot be read ({}) nor moved to {}: {}; it is skipped until the "
        "server restarts",
        dir_, path, why, aside.string(), error.message());
    return false;
  }
  spdlog::error("spool {}: {} cannot be read ({}): moved to {}; the other files are still drained",
                dir_, path, why, aside.string());
  syncDir();
  uint64_t bytes = bytes_.load();
  while (!bytes_.compare_exchange_weak(bytes, bytes >= size ? bytes - size : 0)) {
  }
  file_count_.fetch_sub(1);
  full_ = false;
  return true;
}

}  // namespace conduit::spool
