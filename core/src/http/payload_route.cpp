#include "http/payload_route.hpp"

#include <chrono>

#include <fmt/format.h>

#include "http/api_response.hpp"
#include "logging/log_context.hpp"
#include "providers/json_check.hpp"
#include "providers/payload.hpp"
#include "providers/registry.hpp"
#include "store/redis_connection.hpp"

namespace conduit::http {
namespace {

Response deliveryResponse(int status, std::string_view delivery_id, bool duplicate,
                          std::string_view entry_id) {
  return successResponse(status, [&](JsonWriter& w) {
    w.StartObject();
    w.Key("delivery");
    writeString(w, delivery_id);
    w.Key("duplicate");
    w.Bool(duplicate);
    w.Key("entry");
    writeString(w, entry_id);
    w.EndObject();
  });
}

// The event's name for the `event` label: one of the host's known events, else `other`, so that
// a client cannot make a series per header value it sends.
std::string_view eventLabel(const providers::Provider* provider,
                            const providers::HeaderLookup& header) {
  if (provider == nullptr) return "other";
  auto event = provider->eventType(header);
  if (!event) return "other";
  for (std::string_view known : provider->knownEvents()) {
    if (*event == known) return known;
  }
  return "other";
}

// After Redis kept a delivery waiting this long and then failed it (a timeout: Redis hangs,
// or the network to it), the deliveries of the next kSpoolDirectlyMs go to the spool without
// trying it. A quick refusal (connection refused, READONLY, OOM) costs nothing to try again,
// and Redis may still answer that a delivery is a duplicate.
constexpr int64_t kSlowRefusalMs = 100;
constexpr int64_t kSpoolDirectlyMs = 1000;

int64_t steadyNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

bool PayloadRoute::tryRedisNow() {
  int64_t until = spool_directly_until_ms_.load();
  // An empty spool: the drainer has moved everything into Redis since, so Redis takes them.
  if (until == 0 || !spool_->holdsFiles()) return true;
  const int64_t now = steadyNowMs();
  if (now < until) return false;
  // The moment has passed: this delivery tries Redis; the others keep spooling while it does.
  return spool_directly_until_ms_.compare_exchange_strong(until, now + kSpoolDirectlyMs);
}

PayloadRoute::PayloadRoute(store::HookCache& hooks, queue::DeliveryQueue& queue,
                           metrics::ConduitMetrics* metrics, spool::Spool* spool)
    : hooks_(hooks), queue_(queue), metrics_(metrics), spool_(spool) {}

void PayloadRoute::addTo(Router& router) {
  auto receive = [this](const Request& request) { return this->receive(request); };
  router.add("POST", "/conduit/webhooks/:provider/:repo_id/payload", receive);
  router.add("POST", "/webhooks/:provider/:repo_id/payload", receive);
}

Response PayloadRoute::receive(const Request& request) {
  const providers::Provider* provider = providers::findProvider(request.param("provider"));
  logging::LogScope log_scope;  // every line written while it is handled names the delivery
  if (provider != nullptr) log_scope.provider(provider->name()).repoId(request.param("repo_id"));
  std::optional<std::string_view> delivery_id;
  if (provider != nullptr) delivery_id = provider->deliveryId(request.header);
  if (delivery_id && queue::isValidDeliveryId(*delivery_id)) {
    log_scope.delivery(*delivery_id);
  } else {
    delivery_id.reset();
  }
  auto count = [&](metrics::Received outcome) {
    if (metrics_ == nullptr) return;
    metrics_->received(provider != nullptr ? provider->name() : "unknown",
                       eventLabel(provider, request.header), outcome);
  };
  metrics::Received outcome = metrics::Received::kRefused;
  try {
    Response response = check(request, outcome);
    count(response.status >= 400 ? metrics::Received::kRefused : outcome);
    return response;
  } catch (...) {
    count(metrics::Received::kRefused);  // Redis unreachable: 503, the code host sends it again
    // For the router's line about the failure, written after this scope has ended.
    if (delivery_id && request.log_delivery_id.empty()) request.log_delivery_id = *delivery_id;
    throw;
  }
}

Response PayloadRoute::check(const Request& request, metrics::Received& outcome) {
  // 1. Too large: the server refused a declared Content-Length over max_body_bytes (and any
  //    body without a length) from the headers alone, before this route ran.

  // 2. No such hook.
  const providers::Provider* provider = providers::findProvider(request.param("provider"));
  std::string_view repo_id = request.param("repo_id");
  if (provider == nullptr || !store::isValidRepoId(repo_id)) {
    return errorResponse(ApiError::kHookNotFound, "no hook is registered at this address");
  }
  auto hook = hooks_.lookup(provider->name(), repo_id);
  if (!hook) return errorResponse(ApiError::kHookNotFound, "no hook is registered at this address");

  // 3. A delivery of another host: a hook is for one host, whatever headers a delivery copies.
  const providers::HeaderNames& names = provider->headerNames();
  if (!provider->recognizes(request.header)) {
    if (const providers::Provider* sender = providers::foreignSender(*provider, request.header)) {
      return errorResponse(ApiError::kWrongProvider,
                           fmt::format("this delivery comes from {}, but the hook at this address "
                                       "is for {}: register a {} hook for it",
                                       sender->title(), provider->title(), sender->name()));
    }
    // The host's event header, with another host's marks beside it (Gogs sends GitHub's
    // headers too): not this host's delivery. Without the event header, the checks below say
    // what is missing.
    if (provider->eventType(request.header)) {
      return errorResponse(ApiError::kWrongProvider,
                           fmt::format("this delivery carries another code host's headers beside "
                                       "{}, but the hook at this address is for {}",
                                       names.event, provider->title()));
    }
  }

  // 4. The signature or token, over the raw body, whatever its encoding.
  providers::SignatureStatus signature =
      provider->authenticate(request.header, request.body, hook->secret);
  if (signature == providers::SignatureStatus::kMismatch) {
    // The secret may have been changed by another writer since it was remembered.
    if (auto current = hooks_.recheck(*hook)) {
      hook = std::move(current);
      signature = provider->authenticate(request.header, request.body, hook->secret);
    }
  }
  switch (signature) {
    case providers::SignatureStatus::kValid:
      break;
    case providers::SignatureStatus::kMissing:
      if (provider->sendsUnsignedPings()) {
        auto event = provider->eventType(request.header);
        if (event && provider->isPing(*event)) break;  // answered at 7, never queued
      }
      return errorResponse(ApiError::kSignatureMissing,
                           fmt::format("{} is required", names.credential));
    case providers::SignatureStatus::kMalformed:
      return errorResponse(ApiError::kSignatureMalformed,
                           fmt::format("{} must be {}", names.credential, names.credential_format));
    case providers::SignatureStatus::kMismatch:
      return errorResponse(
          ApiError::kSignatureMismatch,
          names.credential_format.empty()
              ? fmt::format("{} does not match the hook's secret", names.credential)
              : std::string("the signature does not match the body and the "
                            "hook's secret"));
  }

  // 5. The event and its delivery id.
  auto event = provider->eventType(request.header);
  if (!event) {
    return errorResponse(ApiError::kMissingEventHeader, fmt::format("{} is required", names.event));
  }
  auto delivery_id = provider->deliveryId(request.header);
  if (!delivery_id) {
    return errorResponse(ApiError::kMissingDeliveryHeader,
                         fmt::format("{} is required", names.delivery));
  }
  if (!queue::isValidDeliveryId(*delivery_id)) {
    return errorResponse(ApiError::kInvalidDeliveryId,
                         "the delivery id must be 1 to 128 of A-Z a-z 0-9 . _ : -");
  }
  request.log_delivery_id = std::string(*delivery_id);

  // 6. The body's encoding.
  auto encoding = providers::bodyEncoding(request.header("Content-Type").value_or(""));
  if (encoding == providers::BodyEncoding::kForm && !provider->acceptsFormBodies()) {
    encoding.reset();
  }
  if (!encoding) {
    return errorResponse(ApiError::kUnsupportedContentType,
                         provider->acceptsFormBodies()
                             ? "send application/json or application/x-www-form-urlencoded"
                             : fmt::format("send application/json: choose it in {}'s webhook "
                                           "settings",
                                           provider->title()));
  }

  // 7. The hook-creation handshake: answered, never queued.
  if (provider->isPing(*event)) {
    outcome = metrics::Received::kPing;
    return successResponse(200, [&](JsonWriter& w) {
      w.StartObject();
      w.Key("delivery");
      writeString(w, *delivery_id);
      w.Key("queued");
      w.Bool(false);
      w.EndObject();
    });
  }

  // 8. The payload must be a JSON object.
  std::optional<std::string> decoded;
  std::string_view payload = request.body;
  if (*encoding == providers::BodyEncoding::kForm) {
    decoded = providers::formPayloadField(request.body);
    if (!decoded) {
      return errorResponse(ApiError::kInvalidPayload,
                           "a form-encoded body needs a percent-encoded `payload` field");
    }
    payload = *decoded;
  }
  if (!providers::isJsonObject(payload)) {
    return errorResponse(ApiError::kInvalidPayload, "the payload is not a JSON object");
  }

  // 9 and 10. Queue it, unless this delivery id was accepted in the last 72 hours.
  queue::Delivery delivery{provider->name(),    repo_id, hook->hook.repo_path, *event, *delivery_id,
                           queue::unixTimeMs(), payload};
  queue::EnqueueResult result;
  const int64_t tried_at_ms = steadyNowMs();
  try {
    if (spool_ != nullptr && !tryRedisNow()) {
      throw store::RedisUnavailable(
          "Redis did not answer a delivery within redis_timeout_ms "
          "less than a second ago");
    }
    result = queue_.enqueue(delivery);
    spool_directly_until_ms_.store(0);
  } catch (const store::RedisUnavailable& e) {
    // 11. Redis cannot take it: into the spool, on disk before the 202; its drainer queues it
    //     (or finds it a duplicate) once Redis can. Without room, 503 as without a spool.
    if (spool_ == nullptr) throw;
    const int64_t now = steadyNowMs();
    if (now - tried_at_ms >= kSlowRefusalMs) {
      // Redis hangs rather than refuses: the next deliveries are spooled without waiting too.
      int64_t until = spool_directly_until_ms_.load();
      while (until < now + kSpoolDirectlyMs &&
             !spool_directly_until_ms_.compare_exchange_weak(until, now + kSpoolDirectlyMs)) {
      }
    }
    if (!spool_->append(delivery, e.what())) throw;
    outcome = metrics::Received::kSpooled;
    return successResponse(202, [&](JsonWriter& w) {
      w.StartObject();
      w.Key("delivery");
      writeString(w, *delivery_id);
      w.Key("duplicate");
      w.Bool(false);
      w.Key("spooled");
      w.Bool(true);
      w.EndObject();
    });
  }
  outcome = result.duplicate ? metrics::Received::kDuplicate : metrics::Received::kQueued;
  return deliveryResponse(result.duplicate ? 200 : 202, *delivery_id, result.duplicate,
                          result.entry_id);
}

}  // namespace conduit::http
