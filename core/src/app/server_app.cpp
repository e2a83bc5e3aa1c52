#include "app/server_app.hpp"

#include <algorithm>
#include <functional>
#include <optional>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "app/service_metrics.hpp"
#include "app/version.hpp"
#include "crypto/secret_box.hpp"
#include "http/admin_guard.hpp"
#include "http/delivery_routes.hpp"
#include "http/hook_admin_routes.hpp"
#include "http/http_server.hpp"
#include "http/metrics_route.hpp"
#include "http/payload_route.hpp"
#include "http/refused_requests.hpp"
#include "http/service_routes.hpp"
#include "http/ui_routes.hpp"
#include "http/ui_sessions.hpp"
#include "providers/registry.hpp"
#include "queue/delivery_log.hpp"
#include "queue/delivery_queue.hpp"
#include "spool/spool.hpp"
#include "spool/spool_drainer.hpp"
#include "store/hook_cache.hpp"
#include "store/hook_registry.hpp"
#include "store/redis_pool.hpp"

namespace conduit::app {
namespace {

int httpThreads(const config::ServerSettings& settings) {
  if (settings.http_threads > 0) return settings.http_threads;
  // A handler waits for its delivery's enqueue, and concurrent enqueues share Redis round trips:
  // the more handlers wait at once, the fuller each batch and the less Redis does per delivery.
  // Eight per core measured best (docs/BENCHMARKS.md, issue 14: 4 threads 2,301 deliveries/s,
  // 16 threads 3,033 on 2 cores; 32 no better).
  return std::max(8, 8 * static_cast<int>(std::thread::hardware_concurrency()));
}

// What the server tells of each answer: the metrics and the refused-request ring. Each is short
// and runs on the answering thread.
std::function<void(const http::AnsweredRequest&)> answerObserver(
    std::shared_ptr<metrics::ConduitMetrics> metrics, http::RefusedRequests& refused) {
  return [metrics = std::move(metrics), &refused](const http::AnsweredRequest& answer) {
    metrics->answered(answer.route, answer.status, answer.duration_seconds);
    refused.observe(answer);
  };
}

http::HttpServerOptions httpOptions(const config::ServerSettings& s,
                                    std::function<void(const http::AnsweredRequest&)> on_answer) {
  http::HttpServerOptions options;
  options.on_answer = std::move(on_answer);
  options.bind = s.bind;
  options.port = s.port;
  options.threads = httpThreads(s);
  options.max_body_bytes = s.max_body_bytes;
  options.max_header_bytes = s.max_header_bytes;
  options.header_timeout = std::chrono::milliseconds(s.header_timeout_ms);
  options.request_timeout = std::chrono::milliseconds(s.request_timeout_ms);
  options.max_connections = s.max_connections;
  options.max_inflight_bytes = s.max_inflight_bytes;
  return options;
}

queue::LogSettings logSettings(const config::ServerSettings& s) {
  return queue::LogSettings{std::chrono::hours(s.delivery_log_hours), s.delivery_log_max};
}

http::UiOptions uiOptions(const config::ServerSettings& s) {
  http::UiOptions options;
  options.version = version();
  options.issue_base_url = s.ui_issue_base_url;
  return options;
}

std::shared_ptr<spool::Spool> makeSpool(const config::ServerSettings& s) {
  if (s.spool_dir.empty()) return nullptr;
  return std::make_shared<spool::Spool>(s.spool_dir, s.spool_max_bytes);
}

std::optional<crypto::SecretBox> secretBox(const config::ServerSettings& settings) {
  if (!settings.secret_key) return std::nullopt;
  return crypto::SecretBox(*settings.secret_key);
}

// Every provider's hooks are held in memory by the hook cache.
std::vector<std::string> providerNames() {
  std::vector<std::string> names;
  for (const auto* provider : providers::allProviders())
    names.emplace_back(provider->name());
  return names;
}

}  // namespace

// Declared in the order they are built; destroyed in reverse, server first.
struct ServerApp::Parts {
  Parts(const config::ServerSettings& s, bool with_worker_ping,
        std::shared_ptr<metrics::ConduitMetrics> shared_metrics)
      : metrics(shared_metrics ? std::move(shared_metrics) : makeServiceMetrics(s)),
        redis(s.redis, std::chrono::milliseconds(s.redis_timeout_ms)),
        registry(redis, secretBox(s)),
        hooks(registry, providerNames()),
        queue(redis, logSettings(s)),
        spool(makeSpool(s)),
        log(redis, logSettings(s)),
        // One guard for every admin route: the bearer token, or the web page's session.
        guard(s.admin_token, std::make_shared<http::UiSessions>(
                                 s.admin_token, std::chrono::hours(s.ui_session_hours))),
        admin_routes(registry, guard),
        delivery_routes(log, refused, guard),
        ui_routes(guard, redis, uiOptions(s)),
        payload_route(hooks, queue, metrics.get(), spool.get()),
        router(std::make_shared<http::Router>()),
        server(httpOptions(s, answerObserver(metrics, refused)), router) {
    http::addServiceRoutes(*router, version());
    http::addReadinessProbe(*router, [this] { return readiness(); });
    admin_routes.addTo(*router);
    delivery_routes.addTo(*router);
    ui_routes.addTo(*router);
    payload_route.addTo(*router);
    if (with_worker_ping) http::addWorkerPing(*router);
    // The admin rules without the web page's session: scrapers have no cookie, and the page
    // reads the queue's numbers from /conduit/ui/summary.
    http::addMetricsRoute(*router, http::AdminGuard(s.admin_token), s.metrics_token,
                          [m = metrics] { return m->render(); });
    // The metrics may outlive this server (`conduit run` shares them with its worker half).
    metrics->watchSpool([weak = std::weak_ptr<spool::Spool>(spool)] {
      const auto held = weak.lock();
      return held ? metrics::ConduitMetrics::SpoolSize{held->bytes(), held->records()}
                  : metrics::ConduitMetrics::SpoolSize{};
    });
  }

  // `ready` while Redis answers and the spool is empty; `spooling` while Redis does not answer,
  // or deliveries wait in the spool, and the spool has room, so that a load balancer keeps
  // sending; else the reason, for a 503.
  std::string readiness() {
    if (!spool) {
      redis.ping();
      return "ready";
    }
    try {
      redis.ping();
    } catch (const std::exception& e) {
      if (spool->hasRoom()) return "spooling";
      throw std::runtime_error(fmt::format("{}; and the spool {} is full", e.what(), spool->dir()));
    }
    // Answering, but deliveries wait in the spool: Redis refused them (out of memory, read-only
    // after a failover), or the drainer has not moved them yet.
    if (spool->spooling()) {
      if (spool->hasRoom()) return "spooling";
      throw std::runtime_error(
          fmt::format("Redis refuses deliveries and the spool {} is full", spool->dir()));
    }
    return "ready";
  }

  std::shared_ptr<metrics::ConduitMetrics> metrics;
  store::RedisPool redis;
  store::HookRegistry registry;
  store::HookCache hooks;
  queue::DeliveryQueue queue;
  std::shared_ptr<spool::Spool> spool;           // null: spool_dir is empty
  std::unique_ptr<spool::SpoolDrainer> drainer;  // made at start, once the spool is open
  queue::DeliveryLog log;
  http::RefusedRequests refused;
  http::AdminGuard guard;
  http::HookAdminRoutes admin_routes;
  http::DeliveryRoutes delivery_routes;
  http::UiRoutes ui_routes;
  http::PayloadRoute payload_route;
  std::shared_ptr<http::Router> router;
  http::HttpServer server;
};

ServerApp::ServerApp(const config::ServerSettings& settings, bool with_worker_ping,
                     std::shared_ptr<metrics::ConduitMetrics> metrics)
    : parts_(std::make_unique<Parts>(settings, with_worker_ping, std::move(metrics))) {}

ServerApp::~ServerApp() = default;

void ServerApp::start() {
  const auto& redis = parts_->redis.endpoint();
  try {
    parts_->queue.ensureConsumerGroup();
    spdlog::info("Redis at {}: queue {} with consumer group {} ready", redis.describe(),
                 queue::QueueNames::kStream, queue::QueueNames::kGroup);
  } catch (const std::exception& e) {
    // Not fatal: deliveries get 503 until Redis answers, and the first one creates the group.
    spdlog::warn("Redis at {} is not answering yet: {}", redis.describe(), e.what());
  }
  if (auto& spool = parts_->spool) {
    spool->open();  // SpoolUnusable: another process holds it, or it cannot be written
  }
  // The hooks in memory before the first delivery; without Redis, loaded when it answers.
  parts_->hooks.start();
  if (auto& spool = parts_->spool) {
    parts_->drainer = std::make_unique<spool::SpoolDrainer>(
        *spool, [&queue = parts_->queue](const queue::Delivery& d) { return queue.enqueue(d); });
    parts_->drainer->start();
  }
  parts_->server.start();
}

uint16_t ServerApp::port() const {
  return parts_->server.port();
}

int ServerApp::stop(std::chrono::milliseconds grace) {
  const int unfinished = parts_->server.drainAndStop(grace);
  // What is left in the spool stays there for the next start.
  if (parts_->drainer) parts_->drainer->stop();
  // With requests left stuck on Redis the caller exits at once: the poller, which may be stuck
  // on it too, is not waited for either.
  if (unfinished == 0) parts_->hooks.stop();
  return unfinished;
}

}  // namespace conduit::app
