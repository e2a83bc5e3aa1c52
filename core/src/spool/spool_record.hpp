#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "queue/delivery.hpp"

namespace conduit::spool {

// One spooled delivery on disk (docs/operations.md, "When Redis is away: the spool"):
//
//   magic "CSP1" | body length (u32 LE) | CRC32C of the length's 4 bytes and the body (u32 LE)
//   | body: provider, repo_id, repo_path, event, delivery_id (each u32 LE length + bytes),
//           received_at_ms (i64 LE), payload (u32 LE length + bytes)
//
// The magic lets a reader find the next record after a damaged one; the checksum covers the
// length too, so that a flipped length cannot make a reader trust a wrong extent.
inline constexpr std::string_view kRecordMagic = "CSP1";
inline constexpr size_t kRecordHeaderBytes = 12;
// Far above any delivery (max_body_bytes is at most 2 GiB minus the fields), and a bound on what
// a reader allocates for a length it has not checked yet.
inline constexpr uint32_t kMaxRecordBodyBytes = 0x7fffffffu;

// CRC32C (Castagnoli), as iSCSI and ext4 use it; `crc` continues an earlier call's result.
uint32_t crc32c(std::string_view bytes, uint32_t crc = 0);

// A delivery read back from the spool, owning its bytes.
struct SpooledDelivery {
  std::string provider;
  std::string repo_id;
  std::string repo_path;
  std::string event;
  std::string delivery_id;
  int64_t received_at_ms = 0;
  std::string payload;

  queue::Delivery view() const {
    return {provider, repo_id, repo_path, event, delivery_id, received_at_ms, payload};
  }
};

// The record's bytes, header included.
std::string encodeRecord(const queue::Delivery& delivery);

// A record's header as read: `valid` when it starts with the magic and its length is within
// kMaxRecordBodyBytes (the length and checksum are trusted only once decodeBody agrees).
struct RecordHeader {
  bool valid = false;
  uint32_t body_bytes = 0;
  uint32_t checksum = 0;
};
RecordHeader parseHeader(std::string_view header);  // kRecordHeaderBytes of it

// Whether `body` is the body `header` announced (its checksum matches), and then its fields in
// `out`. False when the checksum differs or the fields do not fill the body exactly.
bool decodeBody(const RecordHeader& header, std::string_view body, SpooledDelivery& out);

}  // namespace conduit::spool
