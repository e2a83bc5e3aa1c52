#include "queue/delivery_log.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>
#include <set>
#include <stdexcept>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "queue/delivery.hpp"
#include "store/redis_script.hpp"

namespace conduit::queue {
namespace {

namespace keys = redis_keys;
namespace field = redis_keys::record;

// How many index members one listing looks at, and how many dead letters: bounds the time Redis
// spends on one page, whatever the filter. A page may then hold fewer than its limit.
constexpr int kListBudget = 2000;
constexpr int kDeadLetterBudget = 1000;
constexpr int kMaxLimit = 500;
// What a worker's part of a record keeps: its last attempts, and its actions.
constexpr size_t kMaxAttempts = 20;
constexpr size_t kMaxActions = 200;
// A record update that lost a race with another write of the same record is made again.
constexpr int kUpdateTries = 5;
// A delivery's dead letters were written after its stream entry. Both ids come from Redis's
// clock, which may have stepped back meanwhile (a failover to another machine): look this much
// earlier.
constexpr int64_t kClockSlackMs = 10 * 60 * 1000;

// Reads a record's fields but its payload, which may be megabytes and is seldom wanted.
const std::string kRecordWithout = R"lua(
local function recordWithout(key, payload_field)
  local wanted = {}
  for _, name in ipairs(redis.call('HKEYS', key)) do
    if name ~= payload_field then wanted[#wanted + 1] = name end
  end
  if #wanted == 0 then return {} end
  local values = redis.call('HMGET', key, unpack(wanted))
  local flat = {}
  for i, name in ipairs(wanted) do
    flat[#flat + 1] = name
    flat[#flat + 1] = values[i]
  end
  return flat
end
)lua";

// KEYS[1]: the record. ARGV[1]: the payload field, ARGV[2]: '1' to read it too. Returns the
// record's field/value pairs, none when it does not exist.
const store::RedisScript kFindScript(kRecordWithout + R"lua(
if ARGV[2] == '1' then return redis.call('HGETALL', KEYS[1]) end
return recordWithout(KEYS[1], ARGV[1])
)lua");

// KEYS[1]: the sorted set walked, newest first (the index, or an issue's), KEYS[2]: the index.
// ARGV[1]: the record key prefix, ARGV[2]: the highest score, ARGV[3]: the lowest, ARGV[4]: a
// cursor's member ('': none): members of score ARGV[2] that come before it in the walk (or are
// it) were on an earlier page. ARGV[5]: most matches, ARGV[6]: most members looked at, ARGV[7]:
// the payload field, ARGV[8]: the issues field, ARGV[9]: an issue key a record must name ('':
// any), then (field, value) pairs a record must hold ('' value: any). Returns {cursor score,
// cursor member, {identity, {field, value, ...}}, ...}, the cursor empty when the walk reached
// the end. A member whose record is gone (expired) is removed from both sets. Members of equal
// score come in reverse byte order; Lua's own string comparison follows the locale, not bytes.
const store::RedisScript kListScript(kRecordWithout + R"lua(
local function less(a, b)
  for i = 1, math.min(#a, #b) do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end
local limit, budget = tonumber(ARGV[5]), tonumber(ARGV[6])
local cursor_high = tonumber(ARGV[2])
local fields, values = {}, {}
for i = 10, #ARGV, 2 do
  if ARGV[i + 1] ~= '' then
    fields[#fields + 1] = ARGV[i]
    values[#values + 1] = ARGV[i + 1]
  end
end
local function matches(key)
  if #fields > 0 then
    local held = redis.call('HMGET', key, unpack(fields))
    for i, value in ipairs(values) do
      if held[i] ~= value then return false end
    end
  end
  if ARGV[9] ~= '' then
    local issues = redis.call('HGET', key, ARGV[8])
    if not issues or not string.find(' ' .. issues .. ' ', ' ' .. ARGV[9] .. ' ', 1, true) then
      return false
    end
  end
  return true
end
local found, stale = {}, {}
local looked, offset, chunk, done = 0, 0, 100, false
local cursor_score, cursor_member = '', ''
while not done do
  local page = redis.call('ZREVRANGEBYSCORE', KEYS[1], ARGV[2], ARGV[3], 'WITHSCORES', 'LIMIT',
                          offset, chunk)
  offset = offset + #page / 2
  for i = 1, #page, 2 do
    local member, score = page[i], page[i + 1]
    if not (ARGV[4] ~= '' and tonumber(score) == cursor_high and not less(member, ARGV[4])) then
      looked = looked + 1
      local key = ARGV[1] .. member
      if redis.call('EXISTS', key) == 0 then
        stale[#stale + 1] = member
      elseif matches(key) then
        found[#found + 1] = {member, recordWithout(key, ARGV[7])}
      end
      if #found == limit or looked >= budget then
        if i + 1 < #page or #page == 2 * chunk then cursor_score, cursor_member = score, member end
        done = true
        break
      end
    end
  end
  if #page < 2 * chunk then done = true end
end
for _, member in ipairs(stale) do
  redis.call('ZREM', KEYS[1], member)
  redis.call('ZREM', KEYS[2], member)
end
local reply = {cursor_score, cursor_member}
for _, record in ipairs(found) do reply[#reply + 1] = record end
return reply
)lua");

// KEYS[1]: the dead-letter stream. ARGV[1]: the highest id ('+', or '(' and a cursor), ARGV[2]:
// the lowest ('-', or an id), ARGV[3]: most matches, ARGV[4]: most entries looked at, ARGV[5]:
// the payload field, ARGV[6]: the failed_at_ms field, ARGV[7] and ARGV[8]: the earliest and the
// latest failed_at_ms ('0': any), then (field, value) pairs a dead letter must hold ('' value:
// any). Returns {cursor, {id, {field, value, ...}}, ...}, newest first, payloads left out; the
// cursor is empty when the walk reached the end.
const store::RedisScript kDeadLettersScript(R"lua(
local limit, budget = tonumber(ARGV[3]), tonumber(ARGV[4])
local since, till = tonumber(ARGV[7]), tonumber(ARGV[8])
local found, looked, high, chunk, cursor, done = {}, 0, ARGV[1], 100, '', false
while not done do
  local page = redis.call('XREVRANGE', KEYS[1], high, ARGV[2], 'COUNT', chunk)
  for i, entry in ipairs(page) do
    looked = looked + 1
    local held, flat = {}, {}
    local raw = entry[2]
    for j = 1, #raw, 2 do
      held[raw[j]] = raw[j + 1]
      if raw[j] ~= ARGV[5] then
        flat[#flat + 1] = raw[j]
        flat[#flat + 1] = raw[j + 1]
      end
    end
    local wanted = true
    for j = 9, #ARGV, 2 do
      if ARGV[j + 1] ~= '' and held[ARGV[j]] ~= ARGV[j + 1] then wanted = false end
    end
    local failed = tonumber(held[ARGV[6]] or '0') or 0
    if (since > 0 and failed < since) or (till > 0 and failed > till) then wanted = false end
    if wanted then found[#found + 1] = {entry[1], flat} end
    if #found == limit or looked >= budget then
      if i < #page or #page == chunk then cursor = entry[1] end
      done = true
      break
    end
  end
  if not done then
    if #page < chunk then done = true else high = '(' .. page[#page][1] end
  end
end
local reply = {cursor}
for _, letter in ipairs(found) do reply[#reply + 1] = letter end
return reply
)lua");

// Puts one delivery back on the queue under its identity. KEYS[1]: the record, KEYS[2]: the
// stream, KEYS[3]: the dead-letter stream, KEYS[4]: the delivery's seen key.
// ARGV[1]: 'record' (a replay of the record: it must exist; dead, or done and ignored with
// ARGV[2] = '1'; a dead one's dead letters, found by the caller a page at a time, follow the
// fixed arguments: those still there, of this delivery, are removed) or 'letters' (a replay of
// the dead letters whose ids follow the fixed arguments: those still there, of this delivery, are
// removed, and the delivery is put back from its record, or from the first of them when the
// record is gone). The script looks only at the ids it is given: walking the dead-letter stream
// from the delivery's entry on would block Redis for as long as that stream is. ARGV[3]: group,
// ARGV[4]: now (Unix ms), ARGV[5]: the record's lifetime (s), ARGV[6]: the new entry's progress key
// prefix, ARGV[7]: its lifetime (s), ARGV[8]: the progress's ok:: prefix, ARGV[9]: the record's
// worker:: prefix, ARGV[10]: the entry schema version, ARGV[11] to ARGV[16]: the record's status,
// entry, replays, updated_at_ms, reason and next_attempt_ms fields, ARGV[17] to ARGV[20]: the
// status names queued, processing, retrying and dead, ARGV[21] to ARGV[23]: the entry's provider,
// repo_id and delivery field names, ARGV[24] to ARGV[26]: the delivery's, ARGV[27]: n, the number
// of arguments that follow naming the entry's fields (entry field, record field: '' for the
// schema), then the dead-letter ids. Returns {'queued', new entry id, dead letters removed} or
// {'not_found'} (also for a record without the payload to queue again), {'in_progress'},
// {'not_failed'}.
// The new entry's progress says which workers ended ok, so that only the others run again: the
// record's worker fields are JSON objects with an `outcome`. A record that says queued,
// processing or retrying is in progress only while its entry is on the queue; past that its last
// update was lost, and it is taken as dead when dead letters of it are given, as done otherwise.
const store::RedisScript kReplayScript(R"lua(
local mode, force, group, now, lifetime = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local progress_prefix, progress_lifetime, ok_prefix = ARGV[6], ARGV[7], ARGV[8]
local worker_prefix, schema = ARGV[9], ARGV[10]
local f_status, f_entry, f_replays, f_updated, f_reason, f_next = unpack(ARGV, 11, 16)
local queued, processing, retrying, dead = unpack(ARGV, 17, 20)
local e_provider, e_repo_id, e_delivery = unpack(ARGV, 21, 23)
local provider, repo_id, delivery = unpack(ARGV, 24, 26)
local names_end = 27 + tonumber(ARGV[27])

local function ofThisDelivery(raw)
  local held = {}
  for i = 1, #raw, 2 do held[raw[i]] = raw[i + 1] end
  if held[e_provider] == provider and held[e_repo_id] == repo_id and
      held[e_delivery] == delivery then
    return held
  end
  return nil
end

local status = redis.call('HGET', KEYS[1], f_status)
-- A record that says queued, processing or retrying of an entry the queue has finished with
-- (a finish deletes it) lost its last update (the worker could not write it): the dead letters,
-- if any, say how it ended.
local stale = false
if status == queued or status == processing or status == retrying then
  local entry = redis.call('HGET', KEYS[1], f_entry) or ''
  if entry == '' or #redis.call('XRANGE', KEYS[2], entry, entry) > 0 then
    return {'in_progress'}
  end
  stale = true
end
local letters, letter = {}, nil
if mode == 'letters' or status == dead or stale then
  for i = names_end + 1, #ARGV do
    local found = redis.call('XRANGE', KEYS[3], ARGV[i], ARGV[i])
    local held = found[1] and ofThisDelivery(found[1][2])
    if held then
      letters[#letters + 1] = ARGV[i]
      letter = letter or held
    end
  end
end
if mode == 'letters' then
  if #letters == 0 then return {'not_found'} end
elseif not status then
  return {'not_found'}
end
if stale then
  if #letters > 0 then status = dead else status = 'finished' end
end
if mode == 'record' and status ~= dead and force ~= '1' then return {'not_failed'} end
if mode == 'record' and status ~= dead then letters = {} end

local fields = {}
for i = 28, names_end, 2 do
  local entry_field, record_field = ARGV[i], ARGV[i + 1]
  local value
  if letter and not status then
    value = letter[entry_field] or (record_field == '' and schema) or ''
  elseif record_field == '' then
    value = schema
  else
    -- A record gets its payload when its entry leaves the stream: before that, the entry has
    -- it; one whose entry left some other way (deleted by hand) has only its dead letters'.
    value = redis.call('HGET', KEYS[1], record_field)
    if not value then
      local queued_as = redis.call('HGET', KEYS[1], f_entry) or ''
      local found = queued_as ~= '' and redis.call('XRANGE', KEYS[2], queued_as, queued_as)
      local held = found and found[1] and ofThisDelivery(found[1][2])
      value = (held and held[entry_field]) or (letter and letter[entry_field])
    end
    if not value then return {'not_found'} end
  end
  fields[#fields + 1] = entry_field
  fields[#fields + 1] = value
end
if redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('XGROUP', 'CREATE', KEYS[2], group, '0', 'MKSTREAM')
end
local id = redis.call('XADD', KEYS[2], '*', unpack(fields))
if status == dead then
  local progress = progress_prefix .. id
  for _, name in ipairs(redis.call('HKEYS', KEYS[1])) do
    if string.sub(name, 1, #worker_prefix) == worker_prefix then
      local ok, worker = pcall(cjson.decode, redis.call('HGET', KEYS[1], name))
      if ok and type(worker) == 'table' and worker.outcome == 'ok' then
        redis.call('HSET', progress, ok_prefix .. string.sub(name, #worker_prefix + 1), '1')
      end
    end
  end
  if redis.call('EXISTS', progress) == 1 then redis.call('EXPIRE', progress, progress_lifetime) end
end
if #letters > 0 then redis.call('XDEL', KEYS[3], unpack(letters)) end
if status then
  redis.call('HSET', KEYS[1], f_status, queued, f_entry, id, f_updated, now, f_reason, '',
             f_next, '0')
  redis.call('HINCRBY', KEYS[1], f_replays, 1)
  redis.call('EXPIRE', KEYS[1], lifetime)
end
if redis.call('EXISTS', KEYS[4]) == 1 then redis.call('SET', KEYS[4], id, 'KEEPTTL') end
return {'queued', id, #letters}
)lua");

// KEYS[1]: the record, KEYS[2]: the delivery's seen key. ARGV[1]: the record's entry field,
// ARGV[2]: the stream entry the update is about, then field/value pairs. Sets them only when the
// record exists and follows that entry (1; 0 otherwise): a record past its life or trimmed is
// not made again by a late update, and one of a delivery accepted again since is not written by
// the older entry's attempts. An entry of '' is one being queued: the enqueue step writes the id
// right after its transaction, and a server stopped in between leaves it to this update, which
// writes it in the record and in the seen key.
const store::RedisScript kUpdateScript(R"lua(
local held = redis.call('HGET', KEYS[1], ARGV[1])
if held ~= ARGV[2] and held ~= '' then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
if held == '' then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  if redis.call('GET', KEYS[2]) == '' then redis.call('SET', KEYS[2], ARGV[2], 'KEEPTTL') end
end
return 1
)lua");

// KEYS[1]: the record, KEYS[2...]: the issue sets of the keys the actions named. ARGV[1]: the
// identity, ARGV[2]: the issue sets' lifetime (s), ARGV[3]: the record's accepted_at_ms field,
// ARGV[4]: the earliest acceptance time kept in the log (Unix ms), ARGV[5]: the most records
// kept, ARGV[6]: n, the number of arguments that follow checking (field, value read before): the
// update was computed from those, and is made only if they are unchanged ('' for a field that
// was not there). Then field/value pairs to set. Returns 1 when written, 0 when the record does
// not exist, -1 when a checked field changed meanwhile (read again and retry).
// An issue named again and again keeps its set alive: each write also drops up to 100 of the
// set's members past the log's bounds (their records are gone), so that it does not grow for as
// long as the issue is busy, and no write walks a long set.
const store::RedisScript kEndScript(R"lua(
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local checks_end = 6 + tonumber(ARGV[6])
for i = 7, checks_end, 2 do
  if (redis.call('HGET', KEYS[1], ARGV[i]) or '') ~= ARGV[i + 1] then return -1 end
end
if #ARGV > checks_end then redis.call('HSET', KEYS[1], unpack(ARGV, checks_end + 1)) end
local score = redis.call('HGET', KEYS[1], ARGV[3]) or '0'
for i = 2, #KEYS do
  redis.call('ZADD', KEYS[i], score, ARGV[1])
  redis.call('EXPIRE', KEYS[i], ARGV[2])
  local room = 100
  local old = redis.call('ZRANGEBYSCORE', KEYS[i], '-inf', '(' .. ARGV[4], 'LIMIT', 0, room)
  if #old > 0 then redis.call('ZREM', KEYS[i], unpack(old)) end
  room = room - #old
  local excess = redis.call('ZCARD', KEYS[i]) - tonumber(ARGV[5])
  if excess > 0 and room > 0 then
    redis.call('ZREMRANGEBYRANK', KEYS[i], 0, math.min(excess, room) - 1)
  end
end
return 1
)lua");

int64_t toInteger(std::string_view text) {
  int64_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

bool isDigits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) != 0;
  });
}

std::string upper(std::string_view text) {
  std::string result(text);
  for (char& c : result)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return result;
}

std::string seconds(std::chrono::seconds duration) {
  return std::to_string(duration.count());
}

using Fields = std::map<std::string, std::string, std::less<>>;

Fields toFields(const store::RedisValue& flat) {
  Fields fields;
  for (size_t i = 0; i + 1 < flat.elements.size(); i += 2)
    fields[flat.elements[i].text] = flat.elements[i + 1].text;
  return fields;
}

std::string get(const Fields& fields, std::string_view name) {
  auto it = fields.find(name);
  return it == fields.end() ? std::string() : it->second;
}

std::string toJson(const rapidjson::Value& value) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  value.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::string stringMember(const rapidjson::Value& object, const char* name) {
  auto it = object.FindMember(name);
  return it != object.MemberEnd() && it->value.IsString()
             ? std::string(it->value.GetString(), it->value.GetStringLength())
             : std::string();
}

// A worker's part of a record, from its JSON object; what is not understood is left out.
WorkerRecord parseWorker(std::string name, std::string_view json) {
  WorkerRecord worker;
  worker.worker = std::move(name);
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) return worker;
  worker.outcome = stringMember(doc, "outcome");
  worker.message = stringMember(doc, "message");
  auto attempts = doc.FindMember("attempts");
  if (attempts != doc.MemberEnd() && attempts->value.IsArray()) {
    for (const auto& item : attempts->value.GetArray()) {
      if (!item.IsObject()) continue;
      WorkerAttempt attempt;
      auto at = item.FindMember("at_ms");
      if (at != item.MemberEnd() && at->value.IsInt64()) attempt.at_ms = at->value.GetInt64();
      attempt.outcome = stringMember(item, "outcome");
      attempt.message = stringMember(item, "message");
      worker.attempts.push_back(std::move(attempt));
    }
  }
  auto actions = doc.FindMember("actions");
  if (actions != doc.MemberEnd() && actions->value.IsArray()) {
    for (const auto& item : actions->value.GetArray())
      if (item.IsObject()) worker.actions.push_back(toJson(item));
  }
  return worker;
}

std::string workerJson(const WorkerRecord& worker) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  auto text = [&w](const std::string& value) {
    w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
  };
  w.StartObject();
  w.Key("outcome");
  text(worker.outcome);
  w.Key("message");
  text(worker.message);
  w.Key("attempts");
  w.StartArray();
  for (const auto& attempt : worker.attempts) {
    w.StartObject();
    w.Key("at_ms");
    w.Int64(attempt.at_ms);
    w.Key("outcome");
    text(attempt.outcome);
    w.Key("message");
    text(attempt.message);
    w.EndObject();
  }
  w.EndArray();
  w.Key("actions");
  w.StartArray();
  for (const auto& action : worker.actions)
    w.RawValue(action.data(), action.size(), rapidjson::kObjectType);
  w.EndArray();
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::vector<std::string> splitWords(std::string_view text) {
  std::vector<std::string> words;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find(' ', start);
    if (end == std::string_view::npos) end = text.size();
    if (end > start) words.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return words;
}

DeliveryRecord parseRecord(const Fields& fields) {
  DeliveryRecord record;
  record.provider = get(fields, field::kProvider);
  record.repo_id = get(fields, field::kRepoId);
  record.repo_path = get(fields, field::kRepoPath);
  record.event = get(fields, field::kEvent);
  record.kind = get(fields, field::kKind);
  record.url = get(fields, field::kUrl);
  record.delivery_id = get(fields, field::kDelivery);
  record.entry_id = get(fields, field::kEntry);
  record.size_bytes = toInteger(get(fields, field::kSize));
  record.accepted_at_ms = toInteger(get(fields, field::kAcceptedAtMs));
  record.updated_at_ms = toInteger(get(fields, field::kUpdatedAtMs));
  record.status = parseStatus(get(fields, field::kStatus)).value_or(DeliveryStatus::kQueued);
  record.reason = get(fields, field::kReason);
  record.next_attempt_ms = toInteger(get(fields, field::kNextAttemptMs));
  record.attempts = static_cast<int>(toInteger(get(fields, field::kAttempts)));
  record.replays = static_cast<int>(toInteger(get(fields, field::kReplays)));
  record.issues = splitWords(get(fields, field::kIssues));
  for (const auto& [name, value] : fields) {
    if (name.compare(0, field::kWorkerPrefix.size(), field::kWorkerPrefix) == 0) {
      record.workers.push_back(parseWorker(name.substr(field::kWorkerPrefix.size()), value));
    }
  }
  if (auto it = fields.find(field::kPayload); it != fields.end()) record.payload = it->second;
  return record;
}

DeadLetter parseDeadLetter(std::string id, const Fields& fields) {
  namespace entry = keys::entry;
  namespace letter = keys::dead_letter;
  DeadLetter dead;
  dead.id = std::move(id);
  dead.key = {get(fields, entry::kProvider), get(fields, entry::kRepoId),
              get(fields, entry::kDelivery)};
  dead.repo_path = get(fields, entry::kRepoPath);
  dead.event = get(fields, entry::kEvent);
  dead.entry_id = get(fields, letter::kEntry);
  dead.worker = get(fields, letter::kWorker);
  dead.error = get(fields, letter::kError);
  dead.attempts = static_cast<int>(toInteger(get(fields, letter::kAttempts)));
  dead.received_at_ms = toInteger(get(fields, entry::kReceivedAtMs));
  dead.failed_at_ms = toInteger(get(fields, letter::kFailedAtMs));
  return dead;
}

std::string identityOf(const DeliveryKey& key) {
  return keys::deliveryIdentity(key.provider, key.repo_id, key.delivery_id);
}

int clampedLimit(int limit) {
  return std::clamp(limit, 1, kMaxLimit);
}

// The action's `action` and, for the issue index, its `issue` member; nullopt when it is not a
// JSON object with a string `action`.
struct ActionParts {
  std::string action;
  std::string issue;
  std::string reason;
};

std::optional<ActionParts> actionParts(std::string_view json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) return std::nullopt;
  auto action = doc.FindMember("action");
  if (action == doc.MemberEnd() || !action->value.IsString()) return std::nullopt;
  return ActionParts{action->value.GetString(), stringMember(doc, "issue"),
                     stringMember(doc, "reason")};
}

// A page of dead letters; `delivery_id`, when not empty, keeps those of that delivery id only.
DeadLetterPage readDeadLetters(store::RedisPool& redis, const DeliveryFilter& filter,
                               std::string_view delivery_id) {
  std::string high = "+";
  if (!filter.cursor.empty()) {
    const size_t dash = filter.cursor.find('-');
    if (dash == std::string::npos || !isDigits(filter.cursor.substr(0, dash)) ||
        !isDigits(filter.cursor.substr(dash + 1))) {
      throw std::invalid_argument("cursor");
    }
    high = "(" + filter.cursor;
  } else if (filter.until_ms > 0) {
    high = std::to_string(filter.until_ms + kClockSlackMs);
  }
  const std::string low =
      filter.since_ms > kClockSlackMs ? std::to_string(filter.since_ms - kClockSlackMs) : "-";
  const std::string limit = std::to_string(clampedLimit(filter.limit));
  const std::string budget = std::to_string(kDeadLetterBudget);
  const std::string since = std::to_string(std::max<int64_t>(filter.since_ms, 0));
  const std::string until = std::to_string(std::max<int64_t>(filter.until_ms, 0));
  namespace entry = keys::entry;
  const store::RedisArgs args = {keys::kDeadLetterStream,
                                 high,
                                 low,
                                 limit,
                                 budget,
                                 entry::kPayload,
                                 keys::dead_letter::kFailedAtMs,
                                 since,
                                 until,
                                 entry::kProvider,
                                 filter.provider,
                                 entry::kRepoId,
                                 filter.repo_id,
                                 keys::dead_letter::kWorker,
                                 filter.worker,
                                 entry::kDelivery,
                                 delivery_id};
  auto reply = redis.run(store::Retry::kIdempotent, [&](store::RedisConnection& c) {
    return kDeadLettersScript.run(c, 1, args);
  });
  DeadLetterPage page;
  if (reply.elements.empty()) throw store::RedisError("unexpected reply from the list script");
  page.next_cursor = reply.elements[0].text;
  for (size_t i = 1; i < reply.elements.size(); ++i) {
    const auto& found = reply.elements[i];
    if (found.elements.size() != 2) continue;
    page.letters.push_back(parseDeadLetter(found.elements[0].text, toFields(found.elements[1])));
  }
  return page;
}

// How one run of the replay script went.
struct ReplayRun {
  ReplayOutcome outcome = ReplayOutcome::kNotFound;
  std::string entry_id;
};

// Runs the replay script for one delivery: mode "record" (its record) or "letters" (the dead
// letters `letter_ids`).
ReplayRun runReplay(store::RedisPool& redis, const LogSettings& settings, const DeliveryKey& key,
                    std::string_view mode, bool force, const std::vector<std::string>& letter_ids) {
  namespace entry = keys::entry;
  const std::string record_key = keys::logKey(identityOf(key));
  const std::string seen = keys::seenKey(key.provider, key.repo_id, key.delivery_id);
  const std::string now = std::to_string(unixTimeMs());
  const std::string lifetime = seconds(settings.lifetime);
  const std::string progress_lifetime = seconds(keys::kProgressLifetime);
  const store::RedisArgs names = {entry::kSchema,       "",
                                  entry::kProvider,     field::kProvider,
                                  entry::kRepoId,       field::kRepoId,
                                  entry::kRepoPath,     field::kRepoPath,
                                  entry::kEvent,        field::kEvent,
                                  entry::kDelivery,     field::kDelivery,
                                  entry::kReceivedAtMs, field::kAcceptedAtMs,
                                  entry::kPayload,      field::kPayload};
  const std::string name_count = std::to_string(names.size());
  store::RedisArgs args = {record_key,
                           keys::kStream,
                           keys::kDeadLetterStream,
                           seen,
                           mode,
                           force ? "1" : "0",
                           keys::kGroup,
                           now,
                           lifetime,
                           keys::kProgressPrefix,
                           progress_lifetime,
                           keys::progress::kOkPrefix,
                           field::kWorkerPrefix,
                           keys::kSchemaVersion,
                           field::kStatus,
                           field::kEntry,
                           field::kReplays,
                           field::kUpdatedAtMs,
                           field::kReason,
                           field::kNextAttemptMs,
                           statusName(DeliveryStatus::kQueued),
                           statusName(DeliveryStatus::kProcessing),
                           statusName(DeliveryStatus::kRetrying),
                           statusName(DeliveryStatus::kDead),
                           entry::kProvider,
                           entry::kRepoId,
                           entry::kDelivery,
                           key.provider,
                           key.repo_id,
                           key.delivery_id,
                           name_count};
  args.insert(args.end(), names.begin(), names.end());
  args.insert(args.end(), letter_ids.begin(), letter_ids.end());
  // Not safe to send twice: a second run would queue the delivery again. Redis gone mid-call
  // is reported, and the caller looks before trying again.
  auto reply = redis.run(store::Retry::kOnce,
                         [&](store::RedisConnection& c) { return kReplayScript.run(c, 4, args); });
  if (reply.elements.empty()) throw store::RedisError("unexpected reply from the replay script");
  const std::string& outcome = reply.elements[0].text;
  ReplayRun run;
  if (outcome == "queued" && reply.elements.size() >= 2) {
    run.outcome = ReplayOutcome::kQueued;
    run.entry_id = reply.elements[1].text;
  } else if (outcome == "in_progress") {
    run.outcome = ReplayOutcome::kInProgress;
  } else if (outcome == "not_failed") {
    run.outcome = ReplayOutcome::kNotFailed;
  }
  return run;
}

// Every dead letter matching `filter` (of `delivery_id` when not empty), by delivery, oldest
// first within each; looked for a page at a time.
std::map<std::string, std::pair<DeliveryKey, std::vector<std::string>>> deadLettersByDelivery(
    store::RedisPool& redis, DeliveryFilter filter, std::string_view delivery_id) {
  std::map<std::string, std::pair<DeliveryKey, std::vector<std::string>>> found;
  filter.limit = kMaxLimit;
  filter.cursor.clear();
  do {
    auto page = readDeadLetters(redis, filter, delivery_id);
    for (auto& letter : page.letters) {
      auto& group = found[identityOf(letter.key)];
      group.first = letter.key;
      group.second.insert(group.second.begin(), letter.id);
    }
    filter.cursor = page.next_cursor;
  } while (!filter.cursor.empty());
  return found;
}

}  // namespace

std::string_view statusName(DeliveryStatus status) {
  switch (status) {
    case DeliveryStatus::kQueued:
      return "queued";
    case DeliveryStatus::kProcessing:
      return "processing";
    case DeliveryStatus::kRetrying:
      return "retrying";
    case DeliveryStatus::kDone:
      return "done";
    case DeliveryStatus::kDead:
      return "dead";
    case DeliveryStatus::kIgnored:
      return "ignored";
  }
  return "queued";
}

std::optional<DeliveryStatus> parseStatus(std::string_view name) {
  for (auto status :
       {DeliveryStatus::kQueued, DeliveryStatus::kProcessing, DeliveryStatus::kRetrying,
        DeliveryStatus::kDone, DeliveryStatus::kDead, DeliveryStatus::kIgnored}) {
    if (statusName(status) == name) return status;
  }
  return std::nullopt;
}

DeliveryStatus decideLoggedStatus(const std::vector<WorkerRecord>& workers, std::string* reason) {
  std::vector<std::string> reasons;
  bool all_ignored = !workers.empty();
  for (const auto& worker : workers) {
    if (worker.outcome != "ok" || worker.actions.empty()) all_ignored = false;
    for (const auto& action : worker.actions) {
      auto parts = actionParts(action);
      if (!parts || parts->action != "ignored") {
        all_ignored = false;
        continue;
      }
      std::string why = worker.worker + ": " + parts->reason;
      if (std::find(reasons.begin(), reasons.end(), why) == reasons.end()) {
        reasons.push_back(std::move(why));
      }
    }
  }
  if (!all_ignored) return DeliveryStatus::kDone;
  if (reason != nullptr) {
    reason->clear();
    for (const auto& why : reasons) {
      if (!reason->empty()) reason->append("; ");
      reason->append(why);
    }
  }
  return DeliveryStatus::kIgnored;
}

DeliveryLog::DeliveryLog(store::RedisPool& redis, LogSettings settings)
    : redis_(redis), settings_(settings) {}

DeliveryPage DeliveryLog::list(const DeliveryFilter& filter) {
  std::string high = filter.until_ms > 0 ? std::to_string(filter.until_ms) : "+inf";
  std::string after;
  if (!filter.cursor.empty()) {
    const size_t colon = filter.cursor.find(':');
    if (colon == std::string::npos || !isDigits(filter.cursor.substr(0, colon)) ||
        colon + 1 == filter.cursor.size()) {
      throw std::invalid_argument("cursor");
    }
    const std::string score = filter.cursor.substr(0, colon);
    // An `until` earlier than the cursor starts below it: nothing of the cursor's score is left.
    if (filter.until_ms <= 0 || toInteger(score) <= filter.until_ms) {
      high = score;
      after = filter.cursor.substr(colon + 1);
    }
  }
  const std::string low = filter.since_ms > 0 ? std::to_string(filter.since_ms) : "-inf";
  const std::string walked =
      filter.issue.empty() ? std::string(keys::kLogIndex) : keys::logIssueKey(upper(filter.issue));
  const std::string issue = upper(filter.issue);
  const std::string limit = std::to_string(clampedLimit(filter.limit));
  const std::string budget = std::to_string(kListBudget);
  const std::string status = filter.status ? std::string(statusName(*filter.status)) : "";
  const store::RedisArgs args = {
      walked,          keys::kLogIndex, keys::kLogPrefix, high,           low,    after,
      limit,           budget,          field::kPayload,  field::kIssues, issue,  field::kProvider,
      filter.provider, field::kRepoId,  filter.repo_id,   field::kStatus, status, field::kKind,
      filter.kind};
  auto reply = redis_.run(store::Retry::kIdempotent,
                          [&](store::RedisConnection& c) { return kListScript.run(c, 2, args); });
  DeliveryPage page;
  if (reply.elements.size() < 2) throw store::RedisError("unexpected reply from the list script");
  if (!reply.elements[0].text.empty()) {
    page.next_cursor = reply.elements[0].text + ":" + reply.elements[1].text;
  }
  for (size_t i = 2; i < reply.elements.size(); ++i) {
    const auto& found = reply.elements[i];
    if (found.elements.size() != 2) continue;
    page.records.push_back(parseRecord(toFields(found.elements[1])));
  }
  return page;
}

std::optional<DeliveryRecord> DeliveryLog::find(const DeliveryKey& key, bool with_payload) {
  const std::string record_key = keys::logKey(identityOf(key));
  auto reply = redis_.run(store::Retry::kIdempotent, [&](store::RedisConnection& c) {
    return kFindScript.run(c, 1, {record_key, field::kPayload, with_payload ? "1" : "0"});
  });
  if (reply.elements.empty()) return std::nullopt;
  DeliveryRecord record = parseRecord(toFields(reply));
  // A record gets its payload when its entry leaves the stream (the worker's finish); until
  // then the entry has it.
  if (with_payload && !record.payload && !record.entry_id.empty()) {
    auto found = redis_.run(store::Retry::kIdempotent, [&](store::RedisConnection& c) {
      return c.command({"XRANGE", keys::kStream, record.entry_id, record.entry_id});
    });
    if (!found.elements.empty() && found.elements[0].elements.size() == 2) {
      const auto& pairs = found.elements[0].elements[1].elements;
      for (size_t i = 0; i + 1 < pairs.size(); i += 2) {
        if (pairs[i].text == keys::entry::kPayload) record.payload = pairs[i + 1].text;
      }
    }
  }
  return record;
}

DeadLetterPage DeliveryLog::listDeadLetters(const DeliveryFilter& filter) {
  return readDeadLetters(redis_, filter, "");
}

std::vector<DeliveryKey> DeliveryLog::keysOf(std::string_view delivery_id) {
  std::vector<DeliveryKey> found;
  // Also keeps glob characters out of the MATCH pattern.
  if (!isValidDeliveryId(delivery_id)) return found;
  std::set<std::string> identities;
  const std::string pattern = "*::" + std::string(delivery_id);
  std::string cursor = "0";
  do {
    auto reply = redis_.run(store::Retry::kIdempotent, [&](store::RedisConnection& c) {
      return c.command({"ZSCAN", keys::kLogIndex, cursor, "MATCH", pattern, "COUNT", "1000"});
    });
    if (reply.elements.size() != 2) throw store::RedisError("unexpected reply from ZSCAN");
    cursor = reply.elements[0].text;
    const auto& members = reply.elements[1].elements;
    for (size_t i = 0; i < members.size(); i += 2) {  // member, score
      const std::string& identity = members[i].text;
      // Provider and repo id hold no ':', the delivery id may.
      const size_t first = identity.find("::");
      const size_t second =
          first == std::string::npos ? std::string::npos : identity.find("::", first + 2);
      if (second == std::string::npos || identity.substr(second + 2) != delivery_id) continue;
      if (identities.insert(identity).second) {
        found.push_back({identity.substr(0, first), identity.substr(first + 2, second - first - 2),
                         std::string(delivery_id)});
      }
    }
  } while (cursor != "0");
  for (auto& [identity, group] : deadLettersByDelivery(redis_, {}, delivery_id)) {
    if (identities.insert(identity).second) found.push_back(group.first);
  }
  return found;
}

ReplayResult DeliveryLog::replay(const DeliveryKey& key, bool force) {
  // A dead delivery's dead letters are found here, a bounded page per call (they were written
  // after its entry), and the script only checks them. Once a record says dead, none of its
  // delivery is written until a replay changes that status, which the script sees. Those of a
  // record still in progress too: it may be one whose last update was lost, which the script
  // tells by its entry being gone from the queue.
  std::vector<std::string> letters;
  auto record = find(key, false);
  if (!record) return ReplayResult{ReplayOutcome::kNotFound, {}};
  if (record->status != DeliveryStatus::kDone && record->status != DeliveryStatus::kIgnored) {
    DeliveryFilter filter;
    filter.provider = key.provider;
    filter.repo_id = key.repo_id;
    // failed_at_ms is the worker's clock, the entry id Redis's.
    filter.since_ms = std::max<int64_t>(toInteger(record->entry_id) - kClockSlackMs, 0);
    auto groups = deadLettersByDelivery(redis_, filter, key.delivery_id);
    if (auto group = groups.find(identityOf(key)); group != groups.end()) {
      letters = std::move(group->second.second);
    }
  }
  auto run = runReplay(redis_, settings_, key, "record", force, letters);
  return ReplayResult{run.outcome, run.entry_id};
}

int DeliveryLog::replayDeadLetters(const DeadLetterSelection& selection) {
  std::map<std::string, std::pair<DeliveryKey, std::vector<std::string>>> groups;
  if (selection.deliveries.empty()) {
    groups = deadLettersByDelivery(redis_, selection.filter, "");
  } else {
    for (const auto& key : selection.deliveries) {
      DeliveryFilter filter;
      filter.provider = key.provider;
      filter.repo_id = key.repo_id;
      groups.merge(deadLettersByDelivery(redis_, filter, key.delivery_id));
    }
  }
  int replayed = 0;
  for (const auto& [identity, group] : groups) {
    auto run = runReplay(redis_, settings_, group.first, "letters", false, group.second);
    if (run.outcome == ReplayOutcome::kQueued) ++replayed;
  }
  return replayed;
}

bool DeliveryLog::discardDeadLetters(const DeliveryKey& key) {
  DeliveryFilter filter;
  filter.provider = key.provider;
  filter.repo_id = key.repo_id;
  auto groups = deadLettersByDelivery(redis_, filter, key.delivery_id);
  auto group = groups.find(identityOf(key));
  if (group == groups.end()) return false;
  store::RedisArgs command = {"XDEL", keys::kDeadLetterStream};
  command.insert(command.end(), group->second.second.begin(), group->second.second.end());
  // Deleting what is already deleted does nothing: safe to send twice.
  auto reply = redis_.run(store::Retry::kIdempotent,
                          [&](store::RedisConnection& c) { return c.command(command); });
  return reply.integer > 0;
}

void DeliveryLog::attemptStarted(const DeliveryKey& key, std::string_view entry_id, int attempt,
                                 std::string_view kind, std::string_view url) {
  const std::string record_key = keys::logKey(identityOf(key));
  const std::string seen = keys::seenKey(key.provider, key.repo_id, key.delivery_id);
  const std::string attempts = std::to_string(attempt);
  const std::string now = std::to_string(unixTimeMs());
  store::RedisArgs args = {record_key,
                           seen,
                           field::kEntry,
                           entry_id,
                           field::kStatus,
                           statusName(DeliveryStatus::kProcessing),
                           field::kAttempts,
                           attempts,
                           field::kNextAttemptMs,
                           "0",
                           field::kUpdatedAtMs,
                           now};
  if (!kind.empty()) args.insert(args.end(), {field::kKind, kind});
  if (!url.empty()) args.insert(args.end(), {field::kUrl, url});
  redis_.run(store::Retry::kIdempotent,
             [&](store::RedisConnection& c) { return kUpdateScript.run(c, 2, args); });
}

void DeliveryLog::attemptEnded(const DeliveryKey& key, std::string_view entry_id,
                               const std::vector<WorkerRecord>& answers, DeliveryStatus status,
                               std::string_view reason, int64_t next_attempt_ms) {
  const std::string identity = identityOf(key);
  const std::string record_key = keys::logKey(identity);
  const std::string issue_lifetime = seconds(settings_.lifetime);
  for (int tries = 0; tries < kUpdateTries; ++tries) {
    // What the record holds now (its payload left out): the update is made from it, and only
    // if it is unchanged when written.
    auto current = redis_.run(store::Retry::kIdempotent, [&](store::RedisConnection& c) {
      return kFindScript.run(c, 1, {record_key, field::kPayload, "0"});
    });
    if (current.elements.empty()) return;  // past its life, or trimmed: not made again
    const Fields before = toFields(current);
    // An entry the record no longer follows (the delivery was accepted again meanwhile). ''
    // is an entry still being queued (see kUpdateScript): this one, written below.
    const std::string held_entry = get(before, field::kEntry);
    if (held_entry != entry_id && !held_entry.empty()) return;
    Fields fields = before;
    const int64_t now = unixTimeMs();

    std::map<std::string, std::string> written;  // worker field -> its new JSON
    std::set<std::string> issues;
    for (auto& issue : splitWords(get(fields, field::kIssues)))
      issues.insert(std::move(issue));
    std::set<std::string> new_issues;
    for (const auto& answer : answers) {
      const std::string name = std::string(field::kWorkerPrefix) + answer.worker;
      auto old = fields.find(name);
      WorkerRecord merged = old == fields.end() ? WorkerRecord{answer.worker, "", "", {}, {}}
                                                : parseWorker(answer.worker, old->second);
      std::vector<WorkerAttempt> attempts = answer.attempts;
      if (attempts.empty()) attempts.push_back({now, answer.outcome, answer.message});
      // The same answer sent again (a reply lost on the way) is not counted twice.
      const auto& first = attempts.front();
      if (!merged.attempts.empty() && merged.attempts.back().at_ms == first.at_ms &&
          merged.attempts.back().outcome == first.outcome &&
          merged.attempts.back().message == first.message) {
        continue;
      }
      merged.outcome = answer.outcome;
      merged.message = answer.message;
      merged.attempts.insert(merged.attempts.end(), attempts.begin(), attempts.end());
      if (merged.attempts.size() > kMaxAttempts) {
        merged.attempts.erase(merged.attempts.begin(),
                              merged.attempts.end() - static_cast<long>(kMaxAttempts));
      }
      for (const auto& action : answer.actions) {
        auto parts = actionParts(action);
        if (!parts) continue;  // the host lets only objects with an `action` through
        merged.actions.push_back(action);
        if (!parts->issue.empty()) {
          std::string issue_key = upper(parts->issue);
          if (issue_key.find(' ') != std::string::npos) continue;
          issues.insert(issue_key);
          new_issues.insert(std::move(issue_key));
        }
      }
      if (merged.actions.size() > kMaxActions) {
        merged.actions.erase(merged.actions.begin(),
                             merged.actions.end() - static_cast<long>(kMaxActions));
      }
      fields[name] = workerJson(merged);
      written[name] = fields[name];
    }

    // done or ignored is decided from every worker's part, earlier attempts' included.
    std::string logged_reason(reason);
    DeliveryStatus logged = status;
    if (status == DeliveryStatus::kDone || status == DeliveryStatus::kIgnored) {
      std::vector<WorkerRecord> workers = parseRecord(fields).workers;
      logged = decideLoggedStatus(workers, &logged_reason);
      if (logged == DeliveryStatus::kDone) logged_reason = std::string(reason);
    }
    std::string issue_text;
    for (const auto& issue : issues) {
      if (!issue_text.empty()) issue_text += ' ';
      issue_text += issue;
    }

    const std::string next =
        logged == DeliveryStatus::kRetrying ? std::to_string(next_attempt_ms) : "0";
    const std::string now_text = std::to_string(now);
    std::vector<std::string> issue_keys;
    for (const auto& issue : new_issues)
      issue_keys.push_back(keys::logIssueKey(issue));
    store::RedisArgs args = {record_key};
    args.insert(args.end(), issue_keys.begin(), issue_keys.end());
    const size_t key_count = args.size();
    std::vector<std::string_view> checks = {field::kEntry, held_entry};
    auto old_issues = before.find(field::kIssues);
    checks.push_back(field::kIssues);
    checks.push_back(old_issues == before.end() ? std::string_view()
                                                : std::string_view(old_issues->second));
    for (const auto& [name, value] : written) {
      auto old = before.find(name);
      checks.push_back(name);
      checks.push_back(old == before.end() ? std::string_view() : std::string_view(old->second));
    }
    const std::string check_count = std::to_string(checks.size());
    const std::string earliest_kept =
        std::to_string(now - std::chrono::milliseconds(settings_.lifetime).count());
    const std::string max_records = std::to_string(settings_.max_records);
    args.insert(args.end(), {identity, issue_lifetime, field::kAcceptedAtMs, earliest_kept,
                             max_records, check_count});
    args.insert(args.end(), checks.begin(), checks.end());
    args.insert(args.end(), {field::kEntry, entry_id, field::kStatus, statusName(logged),
                             field::kReason, logged_reason, field::kNextAttemptMs, next,
                             field::kUpdatedAtMs, now_text, field::kIssues, issue_text});
    for (const auto& [name, value] : written)
      args.insert(args.end(), {name, value});
    auto reply = redis_.run(store::Retry::kIdempotent, [&](store::RedisConnection& c) {
      return kEndScript.run(c, key_count, args);
    });
    if (reply.integer >= 0) return;
  }
  throw store::RedisError("the delivery log record kept changing while it was being updated");
}

}  // namespace conduit::queue
