#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "queue/delivery.hpp"
#include "spool/spool_error.hpp"
#include "spool/spool_file_reader.hpp"

namespace conduit::spool {

// The local spool (docs/operations.md, "When Redis is away: the spool"): deliveries that passed
// every check while Redis could not take them, appended to files in one folder and made durable
// (fdatasync) before the code host hears 202, until the drainer (SpoolDrainer) has moved them
// into the stream.
//
// The folder holds `spool-<sequence>.log` files (a new one every 64 MiB), oldest first by name;
// `lock`, held with flock by the one process that uses the folder (with its pid inside, for the
// message another process gets); and `corrupt/`, where damaged stretches of files are copied before
// their file goes. A process never appends to a file it did not create: each start begins a new
// one, so that a record torn by a crash is never followed by new records in the same file.
//
// Thread-safe: HTTP threads append while the drainer reads the files the spool has sealed.
class Spool {
 public:
  Spool(std::string dir, uint64_t max_bytes);
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  // Creates the folder if missing, takes its lock and counts the records already there (left
  // by an earlier process). Throws SpoolUnusable (the folder cannot be made or written, or
  // another process holds the lock: the message names the folder and that process's pid).
  void open();

  // Appends the delivery and returns once it is on disk. `why`: Redis's refusal, for the log
  // line that says spooling has started. False (and logged) when it does not fit within
  // max_bytes or the disk refused it: the caller answers 503 as without a spool.
  bool append(const queue::Delivery& delivery, std::string_view why);

  // The spool's files, oldest first. `seal`: also the file being appended to, which is closed
  // so that the next append starts a new one; otherwise only files no append will touch.
  std::vector<std::string> files(bool seal);

  // The drainer moved one record into Redis (queued, or found there already).
  void recordDrained();
  // Every record of `path` is in Redis: the file is removed.
  void removeFile(const std::string& path);
  // Copies a damaged stretch to corrupt/<file name>.<offset> and logs an error naming the file
  // and the offset.
  void setAside(const Damage& damage);
  // Moves a whole file that cannot be opened or read into `<dir>/corrupt/`, logging `why`, so
  // that the files after it are still drained. False when it could not be moved.
  bool setFileAside(const std::string& path, std::string_view why);

  const std::string& dir() const { return dir_; }
  uint64_t maxBytes() const { return max_bytes_; }
  uint64_t bytes() const { return bytes_.load(); }      // of the spool files, together
  uint64_t records() const { return records_.load(); }  // readable records not yet drained
  bool holdsFiles() const { return file_count_.load() > 0; }
  // False from an append refused for want of room until a file is drained.
  bool hasRoom() const { return !full_.load(); }
  // From an append (or an open that found records) until the drainer has emptied the spool:
  // deliveries are waiting for Redis.
  bool spooling() const { return spooling_.load(); }
  // The drainer found the spool empty: spooling() turns false unless an append came meanwhile.
  void markDrained();

 private:
  std::string filePath(uint64_t sequence) const;
  void syncDir() const;
  void closeCurrent();

  const std::string dir_;
  const uint64_t max_bytes_;
  int lock_fd_ = -1;

  std::mutex mutex_;  // the file being appended to, and the sequence
  int fd_ = -1;
  std::string current_path_;
  uint64_t current_bytes_ = 0;
  uint64_t next_sequence_ = 1;
  bool opened_ = false;  // open() has counted the folder; appends may begin files from now on

  std::atomic<uint64_t> bytes_{0};
  std::atomic<uint64_t> records_{0};
  std::atomic<uint64_t> file_count_{0};
  std::atomic<bool> full_{false};
  std::atomic<bool> spooling_{false};
};

}  // namespace conduit::spool
