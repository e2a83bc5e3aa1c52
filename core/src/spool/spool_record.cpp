#include "spool/spool_record.hpp"

#include <array>
#include <cstring>

namespace conduit::spool {
namespace {

constexpr uint32_t kCastagnoliReflected = 0x82f63b78u;

constexpr std::array<uint32_t, 256> makeTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t crc = i;
    for (int bit = 0; bit < 8; ++bit)
      crc = (crc >> 1) ^ ((crc & 1u) != 0 ? kCastagnoliReflected : 0u);
    table[i] = crc;
  }
  return table;
}

constexpr std::array<uint32_t, 256> kTable = makeTable();

void putU32(std::string& out, uint32_t value) {
  for (int i = 0; i < 4; ++i)
    out.push_back(static_cast<char>((value >> (8 * i)) & 0xffu));
}

void putI64(std::string& out, int64_t value) {
  const auto bits = static_cast<uint64_t>(value);
  for (int i = 0; i < 8; ++i)
    out.push_back(static_cast<char>((bits >> (8 * i)) & 0xffu));
}

uint32_t getU32(std::string_view bytes, size_t at) {
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i)
    value |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[at + i])) << (8 * i);
  return value;
}

void putField(std::string& out, std::string_view field) {
  putU32(out, static_cast<uint32_t>(field.size()));
  out.append(field);
}

// Reads one length-prefixed field at `at`, advancing it; false when it runs past the end.
bool getField(std::string_view body, size_t& at, std::string& field) {
  if (body.size() - at < 4) return false;
  const uint32_t size = getU32(body, at);
  at += 4;
  if (body.size() - at < size) return false;
  field.assign(body.substr(at, size));
  at += size;
  return true;
}

}  // namespace

uint32_t crc32c(std::string_view bytes, uint32_t crc) {
  crc = ~crc;
  for (char c : bytes)
    crc = kTable[(crc ^ static_cast<unsigned char>(c)) & 0xffu] ^ (crc >> 8);
  return ~crc;
}

std::string encodeRecord(const queue::Delivery& delivery) {
  std::string out;
  out.reserve(kRecordHeaderBytes + 6 * 4 + 8 + delivery.provider.size() + delivery.repo_id.size() +
              delivery.repo_path.size() + delivery.event.size() + delivery.delivery_id.size() +
              delivery.payload.size());
  out.append(kRecordMagic);
  putU32(out, 0);  // the body's length and checksum, once the body is written
  putU32(out, 0);
  putField(out, delivery.provider);
  putField(out, delivery.repo_id);
  putField(out, delivery.repo_path);
  putField(out, delivery.event);
  putField(out, delivery.delivery_id);
  putI64(out, delivery.received_at_ms);
  putField(out, delivery.payload);

  const auto body_bytes = static_cast<uint32_t>(out.size() - kRecordHeaderBytes);
  std::string length;
  putU32(length, body_bytes);
  std::memcpy(out.data() + 4, length.data(), 4);
  const uint32_t checksum =
      crc32c(std::string_view(out).substr(kRecordHeaderBytes), crc32c(length));
  std::string sum;
  putU32(sum, checksum);
  std::memcpy(out.data() + 8, sum.data(), 4);
  return out;
}

RecordHeader parseHeader(std::string_view header) {
  RecordHeader parsed;
  if (header.size() < kRecordHeaderBytes || header.substr(0, 4) != kRecordMagic) return parsed;
  parsed.body_bytes = getU32(header, 4);
  parsed.checksum = getU32(header, 8);
  parsed.valid = parsed.body_bytes <= kMaxRecordBodyBytes;
  return parsed;
}

bool decodeBody(const RecordHeader& header, std::string_view body, SpooledDelivery& out) {
  if (!header.valid || body.size() != header.body_bytes) return false;
  std::string length;
  putU32(length, header.body_bytes);
  if (crc32c(body, crc32c(length)) != header.checksum) return false;
  size_t at = 0;
  if (!getField(body, at, out.provider) || !getField(body, at, out.repo_id) ||
      !getField(body, at, out.repo_path) || !getField(body, at, out.event) ||
      !getField(body, at, out.delivery_id)) {
    return false;
  }
  if (body.size() - at < 8) return false;
  uint64_t bits = 0;
  for (int i = 0; i < 8; ++i)
    bits |= static_cast<uint64_t>(static_cast<unsigned char>(body[at + i])) << (8 * i);
  out.received_at_ms = static_cast<int64_t>(bits);
  at += 8;
  if (!getField(body, at, out.payload)) return false;
  return at == body.size();
}

}  // namespace conduit::spool
