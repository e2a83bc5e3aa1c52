#include "spool/spool_file_reader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "spool/spool_error.hpp"

namespace conduit::spool {
namespace {

constexpr size_t kScanChunkBytes = 65536;

}  // namespace

SpoolFileReader::SpoolFileReader(std::string path, uint64_t offset,
                                 std::function<void(const Damage&)> on_damage)
    : path_(std::move(path)), offset_(offset), on_damage_(std::move(on_damage)) {
  fd_ = ::open(path_.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd_ < 0) throw SpoolError(fmt::format("{}: cannot open: {}", path_, std::strerror(errno)));
  struct stat info {};
  if (::fstat(fd_, &info) != 0) {
    const int error = errno;
    ::close(fd_);
    throw SpoolError(fmt::format("{}: cannot read its size: {}", path_, std::strerror(error)));
  }
  size_ = static_cast<uint64_t>(info.st_size);
}

SpoolFileReader::~SpoolFileReader() {
  if (fd_ >= 0) ::close(fd_);
}

std::string SpoolFileReader::readBytes(uint64_t at, size_t count) {
  std::string bytes(count, '\0');
  size_t done = 0;
  while (done < count) {
    const ssize_t n =
        ::pread(fd_, bytes.data() + done, count - done, static_cast<off_t>(at + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      throw SpoolError(
          fmt::format("{}: read error at byte {}: {}", path_, at + done, std::strerror(errno)));
    }
    if (n == 0) break;  // the file is shorter than its size said: the caller sees fewer bytes
    done += static_cast<size_t>(n);
  }
  bytes.resize(done);
  return bytes;
}

bool SpoolFileReader::readAt(uint64_t at, SpooledDelivery& out, uint64_t& end, std::string& why) {
  const uint64_t left = size_ - at;
  if (left < kRecordHeaderBytes) {
    why = fmt::format(
        "torn record: {} bytes at the end of the file, shorter than a record's "
        "header (a write cut short)",
        left);
    return false;
  }
  const RecordHeader header = parseHeader(readBytes(at, kRecordHeaderBytes));
  if (!header.valid) {
    why = "no record starts here (its magic or length is wrong)";
    return false;
  }
  if (header.body_bytes > left - kRecordHeaderBytes) {
    why = fmt::format(
        "torn record: it declares {} bytes but the file ends {} bytes after its "
        "header (a write cut short, or a damaged length)",
        header.body_bytes, left - kRecordHeaderBytes);
    return false;
  }
  const std::string body = readBytes(at + kRecordHeaderBytes, header.body_bytes);
  if (!decodeBody(header, body, out)) {
    why = "corrupt record: its checksum does not match its bytes";
    return false;
  }
  end = at + kRecordHeaderBytes + header.body_bytes;
  return true;
}

uint64_t SpoolFileReader::findNext(uint64_t from) {
  SpooledDelivery scratch;
  std::string why;
  uint64_t chunk_start = from;
  while (chunk_start < size_) {
    // Each chunk overlaps the next by the magic's length less one, so no magic is cut in two.
    const std::string chunk = readBytes(
        chunk_start, static_cast<size_t>(std::min<uint64_t>(kScanChunkBytes, size_ - chunk_start)));
    if (chunk.size() < kRecordMagic.size()) break;
    for (size_t at = chunk.find(kRecordMagic); at != std::string::npos;
         at = chunk.find(kRecordMagic, at + 1)) {
      uint64_t end = 0;
      if (readAt(chunk_start + at, scratch, end, why)) return chunk_start + at;
    }
    chunk_start += chunk.size() - (kRecordMagic.size() - 1);
  }
  return size_;
}

bool SpoolFileReader::next(SpooledDelivery& out) {
  while (offset_ < size_) {
    uint64_t end = 0;
    std::string why;
    if (readAt(offset_, out, end, why)) {
      record_offset_ = offset_;
      offset_ = end;
      return true;
    }
    const uint64_t resume = findNext(offset_ + 1);
    if (on_damage_) on_damage_(Damage{path_, offset_, resume - offset_, why});
    offset_ = resume;
  }
  record_offset_ = offset_;
  return false;
}

}  // namespace conduit::spool
