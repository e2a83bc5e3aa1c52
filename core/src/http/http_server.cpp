#include "http/http_server.hpp"

#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
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
#include "logging/log_context.hpp"
#include "providers/registry.hpp"

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

// Answers are written on the socket as soon as they are decided. What the socket does not take
// at once (a client that does not read) is kept and written by the reaper, this often, until
// it is taken. A client that starts another request while more than kMaxUnreadAnswerBytes of
// two or more of its earlier answers wait is not reading them: it is reset rather than let the
// server's memory grow with every request it pipelines. (One large answer being read slowly,
// with the next request sent behind it, is fine.)
constexpr auto kOutputRetry = std::chrono::milliseconds(5);
constexpr size_t kMaxUnreadAnswerBytes = size_t{1} << 20;

// Pistache 0.0.5 has timeouts of its own, checked every half second against its parser's step;
// when one expires it closes the socket without telling the handler (no onDisconnection), so a
// connection count or a reservation would leak. This class drives the parser differently and
// enforces its own timeouts, so Pistache's are put out of reach.
constexpr auto kPistacheTimeoutNever = std::chrono::hours(24 * 365 * 10);

constexpr const char* kConnectionData = "conduit.connection";

// Files a server process holds besides its connections: Redis, logs, Pistache's epoll and
// event descriptors, plugins.
constexpr rlim_t kFilesBesideConnections = 64;

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
  Connection(int fd_, size_t max_header_bytes, std::string peer_)
      : fd(fd_), peer(std::move(peer_)), header(max_header_bytes) {}

  std::recursive_mutex mutex;
  const int fd;
  const std::string peer;  // the client's address, for the answer observer
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
  // Answers (and 100 Continue) not yet taken by the socket, written in order.
  std::string output;
  size_t output_written = 0;
  int output_answers = 0;             // answers in `output`
  Clock::time_point output_progress;  // when the socket last took some of `output`
  bool close_after_output = false;    // half-close once `output` is written
  // kClosing:
  Clock::time_point answered_at;  // when the answer was written and the write side shut
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

  // Connections with output the socket did not take at once, for the reaper to write. Taken
  // after a connection's mutex, never before.
  std::mutex unwritten_mutex;
  std::unordered_map<const Connection*, std::shared_ptr<Connection>> unwritten;

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

// Half-closes once the answer is written: the client reads it, then the end of the stream.
void shutWrite(Connection& conn, Clock::time_point now) {
  if (conn.write_shut) return;
  if (!conn.closed) ::shutdown(conn.fd, SHUT_WR);
  conn.write_shut = true;
  conn.answered_at = now;
  conn.last_input = now;
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
  std::string().swap(conn.output);
  conn.output_written = 0;
}

size_t unwrittenBytes(const Connection& conn) {
  return conn.output.size() - conn.output_written;
}

// Writes what the socket takes of the connection's output now, without waiting, and
// half-closes after the last answer when it asked so. True when nothing is left to write.
// Under the connection's mutex, on the connection's Pistache thread or the reaper: both write
// the socket directly rather than through Pistache, whose write queue names a socket by its
// number, which a connection closed meanwhile may have handed to another client.
bool writeOutput(Connection& conn, Clock::time_point now) {
  while (unwrittenBytes(conn) > 0 && !conn.closed && conn.phase != Phase::kShut) {
    const ssize_t n = ::send(conn.fd, conn.output.data() + conn.output_written,
                             unwrittenBytes(conn), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      conn.output_written += static_cast<size_t>(n);
      conn.output_progress = now;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return false;
    } else {
      break;  // the client is gone: Pistache reads the reset or the end, and closes
    }
  }
  if (conn.output.capacity() > 64 * 1024) {
    std::string().swap(conn.output);
  } else {
    conn.output.clear();
  }
  conn.output_written = 0;
  conn.output_answers = 0;
  if (conn.close_after_output && !conn.closed && conn.phase == Phase::kClosing) {
    shutWrite(conn, now);
  }
  return true;
}

// Appends `bytes` to what the connection has to write and writes what the socket takes now;
// the reaper writes the rest. With `close`, the connection is half-closed once all is written.
void sendOnConnection(State& state, const std::shared_ptr<Connection>& conn, std::string_view bytes,
                      bool close) {
  if (conn->closed || conn->phase == Phase::kShut) return;
  if (unwrittenBytes(*conn) == 0) conn->output_progress = Clock::now();
  conn->output.append(bytes);
  ++conn->output_answers;
  conn->close_after_output = conn->close_after_output || close;
  if (writeOutput(*conn, Clock::now())) return;
  {
    std::lock_guard lock(state.unwritten_mutex);
    state.unwritten.emplace(conn.get(), conn);
  }
  state.reaper_wake.notify_one();
}

double millisecondsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// The delivery id a request carries, whichever code host sent it, as the access log shows it.
std::string deliveryIdOf(const providers::HeaderLookup& header) {
  for (const providers::Provider* provider : providers::allProviders()) {
    if (auto id = provider->deliveryId(header)) return deliveryIdForLog(*id);
  }
  return "-";
}

std::string deliveryIdOfBlock(std::string_view block) {
  return deliveryIdOf([block](std::string_view name) { return rawHeader(block, name); });
}

// Logs the answer and tells the options' observer of it. `route` is empty for a request no
// route served (refused before routing, or no route matched).
void noteAnswer(const State& state, const Connection& conn, std::string_view method,
                std::string_view path, std::string_view route, const Response& response,
                std::string_view delivery) {
  const int status = response.status;
  const double elapsed_ms = millisecondsSince(conn.request_started);
  logging::LogScope log_scope;  // the JSON log's `delivery` field
  if (!delivery.empty() && delivery != "-") log_scope.delivery(delivery);
  spdlog::info("{} {} {} {:.2f}ms delivery={}", method, path, status, elapsed_ms, delivery);
  if (state.options.on_answer) {
    state.options.on_answer(AnsweredRequest{method, path, route, status, elapsed_ms / 1000.0,
                                            delivery == "-" ? std::string_view() : delivery,
                                            conn.peer, response.error});
  }
}

// The whole HTTP answer as written on the socket. `Connection` says what the server does
// next: `Close` when it closes after this answer, `Keep-Alive` otherwise.
std::string answerBytes(Http::Version version, const Response& response) {
  std::string bytes = fmt::format("{} {} {}\r\n", Http::versionString(version), response.status,
                                  Http::codeString(static_cast<Http::Code>(response.status)));
  if (!response.content_type.empty()) {
    bytes += fmt::format("Content-Type: {}\r\n", response.content_type);
  }
  bytes += response.close_connection ? "Connection: Close\r\n" : "Connection: Keep-Alive\r\n";
  if (response.retry_after_s > 0) {
    bytes += fmt::format("Retry-After: {}\r\n", response.retry_after_s);
  }
  for (const auto& [name, value] : response.headers)
    bytes += fmt::format("{}: {}\r\n", name, value);
  bytes += fmt::format("Content-Length: {}\r\n\r\n", response.body.size());
  bytes += response.body;
  return bytes;
}

// What the reaper does with one connection: write what the socket did not take, time out a
// request, end a linger, close an idle one.
void reap(State& state, const std::shared_ptr<Connection>& conn_ptr, Clock::time_point now) {
  Connection& conn = *conn_ptr;
  std::lock_guard lock(conn.mutex);
  if (conn.closed) return;
  const auto& options = state.options;
  // A client that takes none of its answers for header_timeout_ms is not reading them.
  const bool stuck = unwrittenBytes(conn) > 0 && !writeOutput(conn, now) &&
                     now - conn.output_progress > options.header_timeout;
  switch (conn.phase) {
    case Phase::kIdle:
      if (stuck ||
          (unwrittenBytes(conn) == 0 &&
           now - std::max(conn.idle_since, conn.output_progress) > options.header_timeout)) {
        spdlog::debug("closing a connection idle for over header_timeout_ms");
        shutBoth(conn, /*reset=*/stuck);
      }
      return;
    case Phase::kHeaders:
    case Phase::kBody: {
      if (stuck) {
        shutBoth(conn, /*reset=*/true);
        return;
      }
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
      response.close_connection = true;
      const auto [method, path] = requestLineForLog(conn.header.block());
      noteAnswer(state, conn, method, path, {}, response, deliveryIdOfBlock(conn.header.block()));
      releaseRequest(state, conn);
      conn.header.reset();
      conn.phase = Phase::kClosing;
      sendOnConnection(state, conn_ptr, answerBytes(Http::Version::Http11, response), true);
      return;
    }
    case Phase::kClosing:
      if (!conn.write_shut) {  // the answer is still being written
        if (stuck) shutBoth(conn, /*reset=*/true);
      } else if (now - conn.answered_at > kLingerTotal) {
        shutBoth(conn, /*reset=*/true);
      } else if (now - conn.last_input > kLingerIdle) {
        shutBoth(conn);
      }
      return;
    case Phase::kHandling:
    case Phase::kShut:
      return;
  }
}

// Writes, every kOutputRetry, what sockets did not take at once.
void writeUnwritten(State& state, Clock::time_point now) {
  std::unordered_map<const Connection*, std::shared_ptr<Connection>> unwritten;
  {
    std::lock_guard lock(state.unwritten_mutex);
    unwritten.swap(state.unwritten);
  }
  for (auto& [key, conn] : unwritten) {
    std::lock_guard conn_lock(conn->mutex);
    if (conn->closed || writeOutput(*conn, now)) continue;
    std::lock_guard lock(state.unwritten_mutex);
    state.unwritten.emplace(key, conn);
  }
}

void runReaper(State& state) {
  const auto shortest = std::min(state.options.header_timeout, state.options.request_timeout);
  const auto tick = std::clamp<std::chrono::milliseconds>(
      shortest / 4, std::chrono::milliseconds(10), std::chrono::milliseconds(100));
  auto next_reap = Clock::now() + tick;
  std::unique_lock lock(state.reaper_mutex);
  while (!state.reaper_stop) {
    bool writing = false;
    {
      std::lock_guard unwritten_lock(state.unwritten_mutex);
      writing = !state.unwritten.empty();
    }
    state.reaper_wake.wait_until(
        lock, writing ? std::min(next_reap, Clock::now() + kOutputRetry) : next_reap);
    if (state.reaper_stop) break;
    lock.unlock();
    auto now = Clock::now();
    writeUnwritten(state, now);
    if (now >= next_reap) {
      std::vector<std::shared_ptr<Connection>> connections;
      {
        std::lock_guard registry_lock(state.registry_mutex);
        connections.reserve(state.registry.size());
        for (const auto& entry : state.registry)
          connections.push_back(entry.second);
      }
      now = Clock::now();
      for (const auto& conn : connections)
        reap(state, conn, now);
      next_reap = now + tick;
    }
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
    auto conn = std::make_shared<Connection>(peer->fd(), max_header_bytes, peer->address().host());
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
      std::string().swap(conn->output);
      conn->output_written = 0;
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
    while (!input.empty()) {
      switch (conn->phase) {
        case Phase::kClosing:
          conn->last_input = Clock::now();  // dropped, never parsed
          return;
        case Phase::kHandling:  // requests are handled on this thread: never here
        case Phase::kShut:
          return;
        case Phase::kIdle:
          if (conn->output_answers > 1 && unwrittenBytes(*conn) > kMaxUnreadAnswerBytes) {
            spdlog::debug("resetting a connection that sends requests but reads no answers");
            shutBoth(*conn, /*reset=*/true);
            return;
          }
          conn->request_started = Clock::now();
          conn->phase = Phase::kHeaders;
          [[fallthrough]];
        case Phase::kHeaders: {
          HeaderBlockReader::Status status;
          input.remove_prefix(conn->header.take(input, status));
          if (status == HeaderBlockReader::Status::kTooLarge) {
            refuse(conn, ApiError::kRequestHeaderTooLarge,
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
        refuse(conn, ApiError::kPayloadTooLarge,
               fmt::format("Content-Length is over max_body_bytes ({})",
                           state_->options.max_body_bytes));
        return;
      case Framing::Verdict::kLengthRequired:
        refuse(conn, ApiError::kLengthRequired,
               "send the body with a Content-Length, not Transfer-Encoding");
        return;
      case Framing::Verdict::kMalformed:
        refuse(conn, ApiError::kMalformedRequest,
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
      refuse(conn, ApiError::kMalformedRequest, "the request line or a header cannot be parsed");
      return;
    }
    if (state_->draining.load()) {
      refuse(conn, ApiError::kShuttingDown, "the server is shutting down; retry");
      return;
    }
    if (length > 0 && !reserveInflight(*state_, length)) {
      refuse(conn, ApiError::kServerBusy,
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
    // An HTTP/1.0 client does not know 100 Continue (RFC 9110, 10.1.1): it sends its body anyway.
    const auto expect = rawHeader(block, "Expect");
    if (expect && expect->size() == 12 && ::strncasecmp(expect->data(), "100-continue", 12) == 0 &&
        parser->request.version() == Http::Version::Http11) {
      sendOnConnection(*state_, conn, "HTTP/1.1 100 Continue\r\n\r\n", false);
    }
  }

  // Answers `error` and closes: the request's body, if any, is never read.
  void refuse(const std::shared_ptr<Connection>& conn, ApiError error, std::string_view detail,
              int retry_after_s = 0) {
    Response response = errorResponse(error, detail);
    response.close_connection = true;
    response.retry_after_s = retry_after_s;
    const std::string_view block = conn->header.block();
    const auto [method, path] = requestLineForLog(block);
    const std::string delivery = deliveryIdOfBlock(block);
    releaseRequest(*state_, *conn);
    conn->header.reset();
    conn->phase = Phase::kClosing;
    // Logged first: a client that has its answer finds its log line written.
    noteAnswer(*state_, *conn, method, path, {}, response, delivery);
    sendOnConnection(*state_, conn, answerBytes(Http::Version::Http11, response), true);
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
    routed.peer = conn->peer;

    Response response;
    if (state_->draining.load()) {
      response = errorResponse(ApiError::kShuttingDown, "the server is shutting down; retry");
      response.close_connection = true;
    } else {
      response = state_->router->dispatch(routed);
    }
    // The connection is kept only when the client asked for it (`Connection: keep-alive`), as
    // Pistache did; otherwise the answer says `Close` and the server closes after it, so that
    // a client reading to the end of the stream (HTTP/1.0's way) is not kept waiting.
    const auto connection_header = request.headers().tryGet<Http::Header::Connection>();
    if (!connection_header || connection_header->control() != Http::ConnectionControl::KeepAlive) {
      response.close_connection = true;
    }
    const std::string delivery =
        routed.log_delivery_id.empty() ? deliveryIdOf(routed.header) : routed.log_delivery_id;
    const std::string path = request.resource();
    const Http::Version version = request.version();

    lock.lock();
    releaseRequest(*state_, *conn);
    conn->header.reset();
    parser->reset();
    if (response.close_connection) {
      conn->phase = Phase::kClosing;
    } else {
      conn->phase = Phase::kIdle;
      conn->idle_since = Clock::now();
    }
    noteAnswer(*state_, *conn, method, path, routed.route, response, delivery);
    sendOnConnection(*state_, conn, answerBytes(version, response), response.close_connection);
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
  // Each connection is a file descriptor. Past the process's limit accept() fails, Pistache's
  // listener tries again and again (CPU), and new clients wait unanswered in the backlog: the
  // limit, not max_connections, would decide who is served. systemd starts services with a soft
  // limit of 1024 and a far higher hard one, meant to be raised by those who need it (nothing
  // here uses select(), which fails past 1024).
  rlimit files{};
  const rlim_t needed = static_cast<rlim_t>(options_.max_connections) + kFilesBesideConnections;
  if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur != RLIM_INFINITY &&
      files.rlim_cur < needed) {
    rlimit raised = files;
    raised.rlim_cur = files.rlim_max == RLIM_INFINITY ? needed : std::min(needed, files.rlim_max);
    if (raised.rlim_cur > files.rlim_cur && ::setrlimit(RLIMIT_NOFILE, &raised) == 0) {
      files = raised;
    }
    if (files.rlim_cur < needed) {
      spdlog::warn(
          "max_connections ({}) is not well under this process's open-file limit ({}): "
          "past that limit new connections wait unanswered; raise it (LimitNOFILE= in "
          "the systemd unit, ulimit -n) or lower max_connections",
          options_.max_connections, files.rlim_cur);
    }
  }
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
  for (const auto& [method, pattern] : state_->router->patterns())
    spdlog::debug("port {} serves {} {}", port(), method, pattern);
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
