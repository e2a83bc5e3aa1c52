#include "http/http_server.hpp"

#include <strings.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <list>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <vector>

#include <pistache/endpoint.h>
#include <pistache/http.h>
#include <pistache/peer.h>
#include <spdlog/spdlog.h>

#include "http/api_response.hpp"
#include "http/header_block.hpp"
#include "http/peer_address.hpp"
#include "providers/provider.hpp"

namespace conduit::http {

namespace {

namespace Http = Pistache::Http;
namespace Tcp = Pistache::Tcp;
using Clock = std::chrono::steady_clock;

// After the answer that closes a connection, the server half-closes it and reads and drops,
// unparsed, what the client still sends, so that a client writing its whole body before reading
// is not reset (a reset can destroy the answer it has not read yet). Until the client closes
// its end, or sends nothing for kLingerIdle (it has the answer and the end of the stream: the
// connection is closed), or is still sending after kLingerTotal (it is reset).
constexpr auto kLingerTotal = std::chrono::seconds(5);
constexpr auto kLingerIdle = std::chrono::seconds(2);

// Retry-After of a 503 `server_busy`: bodies being received take about this long to finish.
constexpr int kBusyRetryAfterSeconds = 5;

// Pistache 0.0.5 has timeouts of its own, checked every half second against its parser's step;
// when one expires it closes the socket without telling the handler (no onDisconnection), so a
// connection count or a reservation would leak. This class drives the parser differently and
// enforces its own timeouts, so Pistache's are put out of reach.
constexpr auto kPistacheTimeoutNever = std::chrono::hours(24 * 365 * 10);

constexpr const char* kConnectionData = "conduit.connection";

// Pistache parses the request line and headers of a complete header block; the body is framed
// and collected by the handler, so Pistache's body step (which would reserve a declared length
// and copy the body once more) is replaced by one that has nothing to do.
class BodyFramedElsewhereStep : public Http::Private::Step {
 public:
  static constexpr Http::Private::StepId Id = Pistache::Meta::Hash::fnv1a("ConduitBody");

  explicit BodyFramedElsewhereStep(Http::Message* request) : Step(request) {}
  Http::Private::StepId id() const override { return Id; }
  Http::Private::State apply(Pistache::StreamCursor&) override {
    return Http::Private::State::Done;
  }
};

class HeaderBlockParser : public Http::RequestParser {
 public:
  explicit HeaderBlockParser(size_t max_header_bytes) : Http::RequestParser(max_header_bytes) {
    allSteps[2] = std::make_unique<BodyFramedElsewhereStep>(&request);
  }
};

// Pistache 0.0.5 writes only typed headers, and has no type for Retry-After.
class RetryAfter : public Http::Header::Header {
 public:
  NAME("Retry-After")

  explicit RetryAfter(int seconds) : seconds_(seconds) {}
  void write(std::ostream& stream) const override { stream << seconds_; }

 private:
  int seconds_;
};

// Request header lookups for the routes. Pistache hands header values out by copy, so the
// copies are kept here, alive as long as the request.
class HeaderCopies {
 public:
  explicit HeaderCopies(const Http::Header::Collection& headers) : headers_(headers) {}

  std::optional<std::string_view> get(std::string_view name) {
    const auto& raw = headers_.rawList();
    auto it = raw.find(std::string(name));
    if (it == raw.end()) return std::nullopt;
    return std::string_view(values_.emplace_back(it->second.value()));
  }

 private:
  const Http::Header::Collection& headers_;
  std::list<std::string> values_;
};

// Where a connection is in its current request.
enum class Phase {
  kIdle,      // waiting for a request's first byte
  kHeaders,   // collecting the header block
  kBody,      // collecting a declared body
  kHandling,  // the router is handling the request (on the connection's Pistache thread)
  kClosing,   // answered with `Connection: close`; what still arrives is dropped
  kShut,      // shut down both ways; Pistache closes it when it reads the end
};

// One connection's state. The Pistache thread that owns the connection and the reaper thread
// both use it, under `mutex`.
struct Connection {
  Connection(int fd_, size_t max_header_bytes) : fd(fd_), header(max_header_bytes) {}

  std::recursive_mutex mutex;
  const int fd;
  // Set when Pistache tells the handler the connection ended, before it closes the socket:
  // from then on the number may belong to another connection, so nothing touches `fd`.
  bool closed = false;
  Phase phase = Phase::kIdle;
  Clock::time_point idle_since;
  Clock::time_point request_started;
  HeaderBlockReader header;
  std::string body;
  size_t body_expected = 0;
  size_t reserved_bytes = 0;  // of max_inflight_bytes, held while the body is received
  int pending_writes = 0;     // answers handed to Pistache and not yet written
  // kClosing:
  Clock::time_point answered_at;
  Clock::time_point last_input;
  bool write_shut = false;
};

}  // namespace

struct HttpServer::State {
  std::shared_ptr<const Router> router;
  HttpServerOptions options;
  std::atomic<bool> draining{false};
  std::atomic<int> in_flight{0};
  std::atomic<int> connections{0};
  std::atomic<size_t> inflight_bytes{0};
  std::atomic<int64_t> last_connection_refusal_log_ms{0};
  std::atomic<int> connections_refused_since_log{0};

  std::mutex registry_mutex;
  std::unordered_map<const Connection*, std::shared_ptr<Connection>> registry;

  std::mutex reaper_mutex;
  std::condition_variable reaper_wake;
  bool reaper_stop = false;
  std::thread reaper;
};

namespace {

using State = HttpServer::State;

bool reserveInflight(State& state, size_t bytes) {
  size_t current = state.inflight_bytes.load();
  do {
    if (bytes >
        state.options.max_inflight_bytes - std::min(current, state.options.max_inflight_bytes))
      return false;
  } while (!state.inflight_bytes.compare_exchange_weak(current, current + bytes));
  return true;
}

// Gives back the request's reservation and body memory. Under the connection's mutex.
void releaseRequest(State& state, Connection& conn) {
  state.inflight_bytes.fetch_sub(conn.reserved_bytes);
  conn.reserved_bytes = 0;
  conn.body_expected = 0;
  std::string().swap(conn.body);
}

void shutWrite(Connection& conn) {
  if (!conn.closed && !conn.write_shut) ::shutdown(conn.fd, SHUT_WR);
  conn.write_shut = true;
}

// Pistache's thread for the connection then reads the end of the stream and closes it. With
// `reset`, the close resets the connection: for a client still sending, which a plain close
// could leave waiting for a window that never opens.
void shutBoth(Connection& conn, bool reset = false) {
  if (!conn.closed) {
    if (reset) {
      const linger abortive{1, 0};
      ::setsockopt(conn.fd, SOL_SOCKET, SO_LINGER, &abortive, sizeof abortive);
    }
    ::shutdown(conn.fd, SHUT_RDWR);
  }
  conn.phase = Phase::kShut;
}

double millisecondsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// The delivery id a request carries, whichever code host sent it, as the access log shows it.
std::string deliveryIdOf(const providers::HeaderLookup& header) {
  for (std::string_view name : providers::providerNames()) {
    if (auto id = providers::findProvider(name)->deliveryId(header)) return deliveryIdForLog(*id);
  }
  return "-";
}

std::string deliveryIdOfBlock(std::string_view block) {
  return deliveryIdOf([block](std::string_view name) { return rawHeader(block, name); });
}

void logAnswer(std::string_view method, std::string_view path, int status,
               Clock::time_point started, std::string_view delivery) {
  spdlog::info("{} {} {} {:.2f}ms delivery={}", method, path, status, millisecondsSince(started),
               delivery);
}

// The whole HTTP answer, for the reaper, which writes it on the socket itself.
std::string rawAnswer(const Response& response, std::string_view reason) {
  return fmt::format(
      "HTTP/1.1 {} {}\r\nConnection: Close\r\nContent-Type: {}\r\nContent-Length: {}\r\n\r\n{}",
      response.status, reason, response.content_type, response.body.size(), response.body);
}

// What the reaper does with one connection: time out a request, end a linger, close an idle one.
void reap(State& state, Connection& conn, Clock::time_point now) {
  std::lock_guard lock(conn.mutex);
  if (conn.closed) return;
  const auto& options = state.options;
  switch (conn.phase) {
    case Phase::kIdle:
      if (now - conn.idle_since > options.header_timeout) {
        spdlog::debug("closing a connection idle for over header_timeout_ms");
        shutBoth(conn);
      }
      return;
    case Phase::kHeaders:
    case Phase::kBody: {
      const auto limit = conn.phase == Phase::kHeaders
                             ? std::min(options.header_timeout, options.request_timeout)
                             : options.request_timeout;
      if (now - conn.request_started <= limit) return;
      const bool headers = conn.phase == Phase::kHeaders;
      Response response = errorResponse(
          ApiError::kRequestTimeout,
          headers ? fmt::format("the request's headers did not arrive within header_timeout_ms "
                                "({})",
                                options.header_timeout.count())
                  : fmt::format("the request did not arrive within request_timeout_ms ({})",
                                options.request_timeout.count()));
      // Written here rather than through Pistache, which would write it later from another
      // thread; only when no other answer is on its way, so that the two cannot interleave.
      if (conn.pending_writes == 0) {
        const std::string bytes = rawAnswer(response, "Request Timeout");
        [[maybe_unused]] ssize_t sent =
            ::send(conn.fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      }
      const auto [method, path] = requestLineForLog(conn.header.block());
      logAnswer(method, path, response.status, conn.request_started,
                deliveryIdOfBlock(conn.header.block()));
      releaseRequest(state, conn);
      conn.header.reset();
      conn.phase = Phase::kClosing;
      conn.answered_at = now;
      conn.last_input = now;
      shutWrite(conn);
      return;
    }
    case Phase::kClosing:
      if (now - conn.answered_at > kLingerTotal) {
        shutBoth(conn, /*reset=*/true);
      } else if (conn.write_shut && now - conn.last_input > kLingerIdle) {
        shutBoth(conn);
      }
      return;
    case Phase::kHandling:
    case Phase::kShut:
      return;
  }
}

void runReaper(State& state) {
  const auto shortest = std::min(state.options.header_timeout, state.options.request_timeout);
  const auto tick = std::clamp<std::chrono::milliseconds>(
      shortest / 4, std::chrono::milliseconds(10), std::chrono::milliseconds(100));
  std::unique_lock lock(state.reaper_mutex);
  while (!state.reaper_stop) {
    state.reaper_wake.wait_for(lock, tick);
    if (state.reaper_stop) break;
    lock.unlock();
    std::vector<std::shared_ptr<Connection>> connections;
    {
      std::lock_guard registry_lock(state.registry_mutex);
      connections.reserve(state.registry.size());
      for (const auto& entry : state.registry)
        connections.push_back(entry.second);
    }
    const auto now = Clock::now();
    for (const auto& conn : connections)
      reap(state, *conn, now);
    lock.lock();
  }
}

class ConduitHandler : public Http::Handler {
 public:
  HTTP_PROTOTYPE(ConduitHandler)

  explicit ConduitHandler(std::shared_ptr<State> state) : state_(std::move(state)) {}

  void onConnection(const std::shared_ptr<Tcp::Peer>& peer) override {
    const size_t max_header_bytes = state_->options.max_header_bytes;
    peer->putData(ParserData, std::make_shared<HeaderBlockParser>(max_header_bytes));
    auto conn = std::make_shared<Connection>(peer->fd(), max_header_bytes);
    conn->idle_since = Clock::now();
    peer->putData(kConnectionData, conn);
    {
      std::lock_guard lock(state_->registry_mutex);
      state_->registry.emplace(conn.get(), conn);
    }
    if (state_->connections.fetch_add(1) + 1 > state_->options.max_connections) {
      std::lock_guard lock(conn->mutex);
      shutBoth(*conn);
      noteRefusedConnection();
    }
  }

  void onDisconnection(const std::shared_ptr<Tcp::Peer>& peer) override {
    auto conn = connectionOf(peer);
    if (!conn) return;
    {
      std::lock_guard lock(conn->mutex);
      conn->closed = true;
      releaseRequest(*state_, *conn);
    }
    {
      std::lock_guard lock(state_->registry_mutex);
      state_->registry.erase(conn.get());
    }
    state_->connections.fetch_sub(1);
  }

  // Every byte read from a connection comes here first (Pistache's own request path, which
  // buffers and parses again and again as pieces arrive, is not used): requests are framed
  // here, judged from their header block, and handed to the router once whole.
  void onInput(const char* data, size_t length, const std::shared_ptr<Tcp::Peer>& peer) override {
    auto conn = connectionOf(peer);
    if (!conn) return;
    std::unique_lock lock(conn->mutex);
    std::string_view input(data, length);
    const auto now = Clock::now();
    while (!input.empty()) {
      switch (conn->phase) {
        case Phase::kClosing:
          conn->last_input = now;  // dropped, never parsed
          return;
        case Phase::kHandling:  // requests are handled on this thread: never here
        case Phase::kShut:
          return;
        case Phase::kIdle:
          conn->request_started = now;
          conn->phase = Phase::kHeaders;
          [[fallthrough]];
        case Phase::kHeaders: {
          HeaderBlockReader::Status status;
          input.remove_prefix(conn->header.take(input, status));
          if (status == HeaderBlockReader::Status::kTooLarge) {
            refuse(*conn, peer, ApiError::kRequestHeaderTooLarge,
                   fmt::format("the request line and headers are over max_header_bytes ({})",
                               state_->options.max_header_bytes));
          } else if (status == HeaderBlockReader::Status::kComplete) {
            onHeaderBlock(conn, lock, peer);
          } else if (!conn->header.started()) {
            conn->phase = Phase::kIdle;  // only empty lines so far
          }
          break;
        }
        case Phase::kBody: {
          const size_t taken = std::min(input.size(), conn->body_expected - conn->body.size());
          conn->body.append(input.data(), taken);
          input.remove_prefix(taken);
          if (conn->body.size() == conn->body_expected) dispatch(conn, lock, peer);
          break;
        }
      }
    }
  }

  // Not called: onInput hands requests to the router itself.
  void onRequest(const Http::Request&, Http::ResponseWriter) override {}

 private:
  static std::shared_ptr<Connection> connectionOf(const std::shared_ptr<Tcp::Peer>& peer) {
    return std::static_pointer_cast<Connection>(peer->tryGetData(kConnectionData));
  }

  void noteRefusedConnection() {
    state_->connections_refused_since_log.fetch_add(1);
    const int64_t now_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch())
            .count();
    int64_t last = state_->last_connection_refusal_log_ms.load();
    if (now_ms - last >= 1000 &&
        state_->last_connection_refusal_log_ms.compare_exchange_strong(last, now_ms)) {
      spdlog::warn("max_connections ({}) reached: closed {} new connection(s) at once",
                   state_->options.max_connections,
                   state_->connections_refused_since_log.exchange(0));
    }
  }

  // A complete header block: judge it, let Pistache parse it, then collect the body or dispatch.
  void onHeaderBlock(const std::shared_ptr<Connection>& conn,
                     std::unique_lock<std::recursive_mutex>& lock,
                     const std::shared_ptr<Tcp::Peer>& peer) {
    const std::string_view block = conn->header.block();
    const Framing framing = judgeFraming(block, state_->options.max_body_bytes);
    switch (framing.verdict) {
      case Framing::Verdict::kBodyTooLarge:
        refuse(*conn, peer, ApiError::kPayloadTooLarge,
               fmt::format("Content-Length is over max_body_bytes ({})",
                           state_->options.max_body_bytes));
        return;
      case Framing::Verdict::kLengthRequired:
        refuse(*conn, peer, ApiError::kLengthRequired,
               "send the body with a Content-Length, not Transfer-Encoding");
        return;
      case Framing::Verdict::kMalformed:
        refuse(*conn, peer, ApiError::kMalformedRequest,
               "a header, such as Content-Length, cannot be parsed");
        return;
      case Framing::Verdict::kAccepted:
        break;
    }
    const size_t length = framing.content_length;

    auto parser = getParser(peer);
    parser->reset();
    bool parsed = false;
    try {
      parsed =
          parser->feed(block.data(), block.size()) && parser->parse() == Http::Private::State::Done;
    } catch (const std::exception&) {
      parsed = false;
    }
    if (!parsed) {
      parser->reset();
      refuse(*conn, peer, ApiError::kMalformedRequest,
             "the request line or a header cannot be parsed");
      return;
    }
    if (state_->draining.load()) {
      refuse(*conn, peer, ApiError::kShuttingDown, "the server is shutting down; retry");
      return;
    }
    if (length > 0 && !reserveInflight(*state_, length)) {
      refuse(*conn, peer, ApiError::kServerBusy,
             fmt::format("the bodies being received would exceed max_inflight_bytes ({}); retry "
                         "later",
                         state_->options.max_inflight_bytes),
             kBusyRetryAfterSeconds);
      return;
    }
    conn->reserved_bytes = length;
    conn->body_expected = length;
    if (length == 0) {
      dispatch(conn, lock, peer);
      return;
    }
    // Reserved whole (it was counted against max_inflight_bytes), so that it is never copied
    // as it grows; the pages are only touched as the bytes arrive.
    conn->body.reserve(length);
    conn->phase = Phase::kBody;
    const auto expect = rawHeader(block, "Expect");
    if (expect && expect->size() == 12 && ::strncasecmp(expect->data(), "100-continue", 12) == 0) {
      ++conn->pending_writes;
      std::weak_ptr<Connection> weak = conn;
      const std::string interim = "HTTP/1.1 100 Continue\r\n\r\n";
      peer->send(Pistache::RawBuffer(interim, interim.size()))
          .then([weak](ssize_t) { afterWrite(weak, false); },
                [weak](std::exception_ptr) { afterWrite(weak, false); });
    }
  }

  // Answers `error` and closes: the request's body, if any, is never read.
  void refuse(Connection& conn, const std::shared_ptr<Tcp::Peer>& peer, ApiError error,
              std::string_view detail, int retry_after_s = 0) {
    Response response = errorResponse(error, detail);
    response.close_connection = true;
    response.retry_after_s = retry_after_s;
    const std::string_view block = conn.header.block();
    const auto [method, path] = requestLineForLog(block);
    const std::string delivery = deliveryIdOfBlock(block);
    releaseRequest(*state_, conn);
    conn.header.reset();
    conn.phase = Phase::kClosing;
    conn.answered_at = Clock::now();
    conn.last_input = conn.answered_at;
    write(conn, peer, Http::Version::Http11, response, std::nullopt);
    logAnswer(method, path, response.status, conn.request_started, delivery);
  }

  // Hands the whole request to the router, without holding the connection's lock, and answers.
  void dispatch(const std::shared_ptr<Connection>& conn,
                std::unique_lock<std::recursive_mutex>& lock,
                const std::shared_ptr<Tcp::Peer>& peer) {
    auto parser = getParser(peer);
    const Http::Request& request = parser->request;
    conn->phase = Phase::kHandling;
    lock.unlock();

    // Counted before the draining check, so that a drain never misses a request it let in.
    state_->in_flight.fetch_add(1);
    struct Done {
      std::atomic<int>& counter;
      ~Done() { counter.fetch_sub(1); }
    } done{state_->in_flight};

    const std::string method = Http::methodString(request.method());
    HeaderCopies headers(request.headers());
    Request routed;
    routed.method = method;
    routed.path = request.resource();
    routed.header = [&headers](std::string_view name) { return headers.get(name); };
    routed.query = [&request](std::string_view name) {
      return request.query().get(std::string(name));
    };
    routed.body = conn->body;
    routed.from_loopback = isLoopbackAddress(peer->address().host());

    Response response;
    if (state_->draining.load()) {
      response = errorResponse(ApiError::kShuttingDown, "the server is shutting down; retry");
      response.close_connection = true;
    } else {
      response = state_->router->dispatch(routed);
    }
    const auto connection_header = request.headers().tryGet<Http::Header::Connection>();
    std::optional<Http::ConnectionControl> control;
    if (connection_header) control = connection_header->control();
    // A client that says it closes is taken at its word: its connection is not kept waiting.
    if (control == Http::ConnectionControl::Close) response.close_connection = true;
    const std::string delivery =
        routed.log_delivery_id.empty() ? deliveryIdOf(routed.header) : routed.log_delivery_id;
    const std::string path = request.resource();
    const Http::Version version = request.version();

    lock.lock();
    releaseRequest(*state_, *conn);
    conn->header.reset();
    parser->reset();
    const auto now = Clock::now();
    if (response.close_connection) {
      conn->phase = Phase::kClosing;
      conn->answered_at = now;
      conn->last_input = now;
    } else {
      conn->phase = Phase::kIdle;
      conn->idle_since = now;
    }
    write(*conn, peer, version, response, control);
    logAnswer(method, path, response.status, conn->request_started, delivery);
  }

  // Hands `response` to Pistache to write. With `close_connection`, the connection is
  // half-closed once it is written, and closed as kLingerIdle and kLingerTotal say.
  void write(Connection& conn, const std::shared_ptr<Tcp::Peer>& peer, Http::Version version,
             const Response& response, std::optional<Http::ConnectionControl> control) {
    Http::ResponseWriter writer(version, transport(), this, peer);
    // As Pistache does: the client's Connection header echoed, `Close` when there is none.
    writer.headers().add<Http::Header::Connection>(
        response.close_connection ? Http::ConnectionControl::Close
                                  : control.value_or(Http::ConnectionControl::Close));
    if (response.retry_after_s > 0) {
      writer.headers().add<RetryAfter>(response.retry_after_s);
    }
    auto mime = response.content_type.empty()
                    ? Http::Mime::MediaType()
                    : Http::Mime::MediaType::fromString(std::string(response.content_type));
    ++conn.pending_writes;
    std::weak_ptr<Connection> weak =
        std::static_pointer_cast<Connection>(peer->tryGetData(kConnectionData));
    const bool closing = response.close_connection;
    // Pistache resolves the promise on this thread once the answer is written (the lock is
    // recursive in case it ever does so within send()).
    writer.send(static_cast<Http::Code>(response.status), response.body, mime)
        .then([weak, closing](ssize_t) { afterWrite(weak, closing); },
              [weak, closing](std::exception_ptr) { afterWrite(weak, closing); });
  }

  static void afterWrite(const std::weak_ptr<Connection>& weak, bool closing) {
    auto conn = weak.lock();
    if (!conn) return;
    std::lock_guard lock(conn->mutex);
    --conn->pending_writes;
    if (!closing || conn->closed || conn->phase != Phase::kClosing) return;
    shutWrite(*conn);
    conn->last_input = Clock::now();
  }

  std::shared_ptr<State> state_;
};

void stopReaper(State& state) {
  {
    std::lock_guard lock(state.reaper_mutex);
    state.reaper_stop = true;
  }
  state.reaper_wake.notify_all();
  if (state.reaper.joinable()) state.reaper.join();
}

}  // namespace

struct HttpServer::Endpoint {
  std::unique_ptr<Http::Endpoint> endpoint;
};

HttpServer::HttpServer(HttpServerOptions options, std::shared_ptr<const Router> router)
    : options_(std::move(options)), state_(std::make_shared<State>()) {
  state_->router = std::move(router);
  state_->options = options_;
}

HttpServer::~HttpServer() {
  stopReaper(*state_);
  if (endpoint_) endpoint_->endpoint->shutdown();
}

void HttpServer::start() {
  auto endpoint = std::make_unique<Http::Endpoint>(
      Pistache::Address(options_.bind, Pistache::Port(options_.port)));
  auto opts = Http::Endpoint::options()
                  .threads(options_.threads)
                  .maxRequestSize(options_.max_header_bytes)
                  .headerTimeout(kPistacheTimeoutNever)
                  .bodyTimeout(kPistacheTimeoutNever)
                  .keepaliveTimeout(kPistacheTimeoutNever)
                  .flags(Pistache::Tcp::Options::ReuseAddr);
  endpoint->init(opts);
  endpoint->setHandler(Http::make_handler<ConduitHandler>(state_));
  try {
    endpoint->serveThreaded();  // binds, then serves
  } catch (const std::exception& e) {
    throw std::runtime_error(
        fmt::format("cannot listen on {}:{}: {}", options_.bind, options_.port, e.what()));
  }
  endpoint_ = std::make_unique<Endpoint>(Endpoint{std::move(endpoint)});
  state_->reaper = std::thread([state = state_] { runReaper(*state); });
}

uint16_t HttpServer::port() const {
  return endpoint_ ? static_cast<uint16_t>(endpoint_->endpoint->getPort()) : 0;
}

int HttpServer::drainAndStop(std::chrono::milliseconds grace) {
  state_->draining.store(true);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (state_->in_flight.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const int unfinished = state_->in_flight.load();
  // Pistache's shutdown() joins its threads, so it would wait for the handlers still running
  // however long they take: with some left, the endpoint stays up (answering 503) and the
  // caller decides, typically by exiting.
  if (unfinished == 0 && endpoint_) {
    stopReaper(*state_);
    endpoint_->endpoint->shutdown();
    endpoint_.reset();
  }
  return unfinished;
}

}  // namespace conduit::http
