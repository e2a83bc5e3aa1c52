#include "http/http_server.hpp"

#include <sys/socket.h>

#include <atomic>
#include <list>
#include <stdexcept>
#include <thread>

#include <pistache/endpoint.h>
#include <pistache/http.h>
#include <pistache/peer.h>
#include <spdlog/spdlog.h>

#include "http/api_response.hpp"

namespace conduit::http {

namespace {

namespace Http = Pistache::Http;

// Room for the request line and headers on top of the largest body.
constexpr size_t kHeaderAllowanceBytes = 64 * 1024;

// Pistache 0.0.5 reserves a body's declared Content-Length before any size check of its own,
// so a request declaring terabytes would exhaust memory before being refused. This step takes
// the place of Pistache's body step: when the declared length is over the limit it marks the
// request refused and ends the parse without reading or reserving anything; the handler then
// answers 413 and closes the connection.
class BodyLimitStep : public Http::Private::Step {
 public:
  BodyLimitStep(Http::Request* request, size_t max_body_bytes, bool* refused)
      : Step(request), body_(request), max_body_bytes_(max_body_bytes), refused_(refused) {}

  Http::Private::StepId id() const override { return body_.id(); }

  Http::Private::State apply(Pistache::StreamCursor& cursor) override {
    auto length = message->headers().tryGet<Http::Header::ContentLength>();
    if (length && length->value() > max_body_bytes_) {
      *refused_ = true;
      return Http::Private::State::Done;
    }
    return body_.apply(cursor);
  }

 private:
  Http::Private::BodyStep body_;
  size_t max_body_bytes_;
  bool* refused_;
};

class LimitedRequestParser : public Http::RequestParser {
 public:
  LimitedRequestParser(size_t max_request_bytes, size_t max_body_bytes)
      : Http::RequestParser(max_request_bytes) {
    allSteps[2] = std::make_unique<BodyLimitStep>(&request, max_body_bytes, &body_refused_);
  }

  void reset() override {
    Http::RequestParser::reset();
    body_refused_ = false;
  }

  bool bodyRefused() const { return body_refused_; }

 private:
  bool body_refused_ = false;
};

bool isLoopback(const std::string& host) {
  return host.rfind("127.", 0) == 0 || host == "::1" || host.rfind("::ffff:127.", 0) == 0;
}

// Request header lookups for the routes. Pistache hands header values out by copy, so the
// copies are kept here, alive as long as the request.
class HeaderCopies {
 public:
  explicit HeaderCopies(const Http::Header::Collection& headers) : headers_(headers) {}

  std::optional<std::string_view> get(std::string_view name) {
    const auto& raw = headers_.rawList();
    auto it = raw.find(std::string(name));
    if (it == raw.end())
      return std::nullopt;
    return std::string_view(values_.emplace_back(it->second.value()));
  }

 private:
  const Http::Header::Collection& headers_;
  std::list<std::string> values_;
};

}  // namespace

struct HttpServer::State {
  std::shared_ptr<const Router> router;
  size_t max_body_bytes = 0;
  std::atomic<bool> draining{false};
  std::atomic<int> in_flight{0};
};

namespace {

class ConduitHandler : public Http::Handler {
 public:
  HTTP_PROTOTYPE(ConduitHandler)

  explicit ConduitHandler(std::shared_ptr<HttpServer::State> state) : state_(std::move(state)) {}

  void onConnection(const std::shared_ptr<Pistache::Tcp::Peer>& peer) override {
    peer->putData(ParserData, std::make_shared<LimitedRequestParser>(getMaxRequestSize(),
                                                                     state_->max_body_bytes));
  }

  void onRequest(const Http::Request& request, Http::ResponseWriter writer) override {
    const auto started = std::chrono::steady_clock::now();
    // Counted before the draining check, so that a drain never misses a request it let in.
    state_->in_flight.fetch_add(1);
    struct Done {
      std::atomic<int>& counter;
      ~Done() { counter.fetch_sub(1); }
    } done{state_->in_flight};

    auto peer = writer.peer();
    auto parser = std::static_pointer_cast<LimitedRequestParser>(getParser(peer));
    const std::string method = Http::methodString(request.method());

    Response response;
    if (parser->bodyRefused()) {
      response = errorResponse(
          ApiError::kPayloadTooLarge,
          fmt::format("Content-Length is over max_body_bytes ({})", state_->max_body_bytes));
      response.close_connection = true;
    } else if (state_->draining.load()) {
      response = errorResponse(ApiError::kShuttingDown, "the server is shutting down; retry");
      response.close_connection = true;
    } else {
      HeaderCopies headers(request.headers());
      Request routed;
      routed.method = method;
      routed.path = request.resource();
      routed.header = [&headers](std::string_view name) { return headers.get(name); };
      routed.query = [&request](std::string_view name) {
        return request.query().get(std::string(name));
      };
      routed.body = request.body();
      routed.from_loopback = isLoopback(peer->address().host());
      response = state_->router->dispatch(routed);
    }
    send(std::move(writer), response, peer);

    const double elapsed_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
            .count();
    spdlog::info("{} {} {} {:.2f}ms delivery={}", method, request.resource(), response.status,
                 elapsed_ms, response.delivery_id.empty() ? "-" : response.delivery_id);
  }

 private:
  static void send(Http::ResponseWriter writer, const Response& response,
                   const std::shared_ptr<Pistache::Tcp::Peer>& peer) {
    if (response.close_connection) {
      writer.headers().remove<Http::Header::Connection>();
      writer.headers().add<Http::Header::Connection>(Http::ConnectionControl::Close);
    }
    auto mime = response.content_type.empty()
                    ? Http::Mime::MediaType()
                    : Http::Mime::MediaType::fromString(std::string(response.content_type));
    auto sent = writer.send(static_cast<Http::Code>(response.status), response.body, mime);
    if (response.close_connection) {
      // Pistache keeps the connection open whatever the response says. Half-close it once the
      // answer is written, so that the client sees the end of the stream and whatever it is
      // still sending (the rest of a refused body) goes nowhere.
      const int fd = peer->fd();
      sent.then([fd, peer](ssize_t) { ::shutdown(fd, SHUT_WR); }, [](std::exception_ptr) {});
    }
  }

  std::shared_ptr<HttpServer::State> state_;
};

}  // namespace

struct HttpServer::Endpoint {
  std::unique_ptr<Http::Endpoint> endpoint;
};

HttpServer::HttpServer(HttpServerOptions options, std::shared_ptr<const Router> router)
    : options_(std::move(options)), state_(std::make_shared<State>()) {
  state_->router = std::move(router);
  state_->max_body_bytes = options_.max_body_bytes;
}

HttpServer::~HttpServer() {
  if (endpoint_)
    endpoint_->endpoint->shutdown();
}

void HttpServer::start() {
  auto endpoint = std::make_unique<Http::Endpoint>(
      Pistache::Address(options_.bind, Pistache::Port(options_.port)));
  // Pistache's own limit counts the request line and headers too, and defaults to 4 KiB: set it
  // above max_body_bytes as a backstop for bodies that declare no length (chunked).
  auto opts = Http::Endpoint::options()
                  .threads(options_.threads)
                  .maxRequestSize(options_.max_body_bytes + kHeaderAllowanceBytes)
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
  if (endpoint_) {
    endpoint_->endpoint->shutdown();
    endpoint_.reset();
  }
  return unfinished;
}

}  // namespace conduit::http
