#include "http/ui_sessions.hpp"

#include <charconv>
#include <vector>

#include "crypto/hex.hpp"

namespace conduit::http {
namespace {

constexpr size_t kNonceBytes = 16;

int64_t systemNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

}  // namespace

UiSessions::UiSessions(const std::optional<std::string>& admin_token, std::chrono::hours lifetime,
                       Clock now_ms)
    : lifetime_(lifetime), now_ms_(now_ms ? std::move(now_ms) : Clock(systemNowMs)) {
  // Derived, not the token itself: a MAC under the admin_token would be one more place where it
  // is used as a key, and a purpose string keeps these MACs from standing in for any other.
  const auto key = admin_token ? crypto::hmacSha256(*admin_token, "conduit web page sessions v1")
                               : crypto::sha256(crypto::randomBytes(32));
  key_.assign(reinterpret_cast<const char*>(key.data()), key.size());
}

std::string UiSessions::mac(std::string_view purpose, std::string_view text) const {
  std::string message(purpose);
  message += '\n';
  message += text;
  return crypto::toHex(crypto::hmacSha256(key_, message));
}

UiSessions::Session UiSessions::make(int64_t expires_at_ms, std::string nonce) const {
  Session session;
  const std::string signed_part = std::to_string(expires_at_ms) + "." + nonce;
  session.cookie = signed_part + "." + mac("session", signed_part);
  session.csrf_token = mac("csrf", nonce);
  session.nonce = std::move(nonce);
  session.expires_at_ms = expires_at_ms;
  return session;
}

UiSessions::Session UiSessions::create() const {
  const int64_t lifetime_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(lifetime_).count();
  return make(now_ms_() + lifetime_ms, crypto::toHex(crypto::randomBytes(kNonceBytes)));
}

std::optional<UiSessions::Session> UiSessions::check(std::string_view cookie) const {
  const size_t first = cookie.find('.');
  const size_t second = first == std::string_view::npos ? first : cookie.find('.', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  const std::string_view expires_text = cookie.substr(0, first);
  const std::string_view nonce = cookie.substr(first + 1, second - first - 1);
  int64_t expires_at_ms = 0;
  auto [end, ec] = std::from_chars(expires_text.data(), expires_text.data() + expires_text.size(),
                                   expires_at_ms);
  if (ec != std::errc() || end != expires_text.data() + expires_text.size()) return std::nullopt;
  if (nonce.size() != 2 * kNonceBytes || !crypto::fromHex(nonce)) return std::nullopt;

  // The whole cookie is compared with the one this key makes, the MAC included.
  Session session = make(expires_at_ms, std::string(nonce));
  if (!crypto::secretsEqual(session.cookie, cookie)) return std::nullopt;
  const int64_t now = now_ms_();
  if (expires_at_ms <= now) return std::nullopt;
  std::lock_guard lock(mutex_);
  if (signed_out_.count(session.nonce) != 0) return std::nullopt;
  return session;
}

std::optional<UiSessions::Session> UiSessions::fromCookieHeader(
    std::optional<std::string_view> header) const {
  if (!header) return std::nullopt;
  std::string_view rest = *header;
  while (!rest.empty()) {
    const size_t end = rest.find(';');
    const std::string_view pair = trim(rest.substr(0, end));
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    const size_t equals = pair.find('=');
    if (equals == std::string_view::npos || trim(pair.substr(0, equals)) != kCookieName) continue;
    std::string_view value = trim(pair.substr(equals + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
      value = value.substr(1, value.size() - 2);
    if (auto session = check(value)) return session;
  }
  return std::nullopt;
}

bool UiSessions::csrfValid(const Session& session, std::string_view token) const {
  return !token.empty() && crypto::secretsEqual(session.csrf_token, token);
}

void UiSessions::signOut(const Session& session) {
  const int64_t now = now_ms_();
  std::lock_guard lock(mutex_);
  // Forget the marks of sessions that have expired anyway: the set stays as small as the
  // sessions signed out within one lifetime.
  for (auto it = signed_out_.begin(); it != signed_out_.end();) {
    it = it->second <= now ? signed_out_.erase(it) : std::next(it);
  }
  signed_out_.emplace(session.nonce, session.expires_at_ms);
}

}  // namespace conduit::http
