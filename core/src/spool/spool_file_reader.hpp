#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "spool/spool_record.hpp"

namespace conduit::spool {

// A stretch of a spool file that holds no readable record: a record torn by a power cut or a
// crash mid-write, or bytes changed on disk.
struct Damage {
  std::string path;
  uint64_t offset = 0;  // where the stretch starts, in bytes from the start of the file
  uint64_t bytes = 0;   // its length: up to the next readable record, or to the end of the file
  std::string why;
};

// Walks one spool file's records, oldest first, with pread: one record in memory at a time.
//
// A damaged stretch never stops it: at an offset where no readable record starts, it looks for
// the next offset at which one does (the magic, a length that fits in the file, and a checksum
// over length and body that matches: a stretch of payload bytes passes that by chance with odds
// of 2^-32) and goes on from there; when there is none, the rest of the file is the damaged
// stretch. Each stretch is handed to `on_damage` before the record after it is returned.
class SpoolFileReader {
 public:
  // Starts at `offset` (a record's start: where an earlier reader stopped). Throws SpoolError
  // when the file cannot be opened.
  SpoolFileReader(std::string path, uint64_t offset = 0,
                  std::function<void(const Damage&)> on_damage = {});
  ~SpoolFileReader();
  SpoolFileReader(const SpoolFileReader&) = delete;
  SpoolFileReader& operator=(const SpoolFileReader&) = delete;

  // The next readable record into `out`; false at the end of the file. Throws SpoolError on a
  // read error.
  bool next(SpooledDelivery& out);

  // Where the record last returned by next() starts.
  uint64_t recordOffset() const { return record_offset_; }
  const std::string& path() const { return path_; }

 private:
  // Whether a whole readable record starts at `at`; its end in `end`, else the reason in `why`.
  bool readAt(uint64_t at, SpooledDelivery& out, uint64_t& end, std::string& why);
  // The first offset after `from` at which a readable record starts; the file's size if none.
  uint64_t findNext(uint64_t from);
  std::string readBytes(uint64_t at, size_t count);

  std::string path_;
  int fd_ = -1;
  uint64_t size_ = 0;
  uint64_t offset_ = 0;
  uint64_t record_offset_ = 0;
  std::function<void(const Damage&)> on_damage_;
};

}  // namespace conduit::spool
