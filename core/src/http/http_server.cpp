#include "http/http_server.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <list>
#include <stdexcept>
#include <thread>

#include <pistache/endpoint.h>
#include <pistache/http.h>
#include <pistache/peer.h>
#include <spdlog/spdlog.h>

#include "http/api_response.hpp"
#include "http/peer_address.hpp"

namespace conduit::http {

namespace {

namespace Http = Pistache::Http;

// Room for the request line and headers on top of the largest body.
constexpr size_t kHeaderAllowanceBytes = 64 * 1024;

// Why a request was refused before its body was read.
enum class Refusal { kNone, kBodyTooLarge, kLengthRequired, kMalformedHeaders };

// Pistache 0.0.5 reserves a body's declared Content-Length, and each chunk's declared size,
// before any size check of its own, so a request declaring terabytes would exhaust memory before
// being refused; of two Content-Length headers it silently keeps the first, where a proxy in
// front may have used the other; and a header it cannot parse (a length beyond 64 bits) gets a
// plain-text 500. This step takes the place of Pistache's header step and judges the raw header
// block before Pistache parses it: no Transfer-Encoding (code hosts always send a length), at
// most one Content-Length, made of digits, not over the limit. A refused request ends its parse
// there, without its body being read or reserved; the handler answers and closes the connection.
class GuardedHeadersStep : public Http::Private::HeadersStep {
 public:
  GuardedHeadersStep(Http::Request* request, size_t max_body_bytes, Refusal* refusal)
      : HeadersStep(request),
        max_body_bytes_(max_body_bytes),
        max_body_digits_(std::to_string(max_body_bytes).size()),
        refusal_(refusal) {}

  Http::Private::State apply(Pistache::StreamCursor& cursor) override {
    // Pistache only moves on once the whole block is there, so the last call judges all of it.
    *refusal_ = judge(std::string_view(cursor.offset(), cursor.remaining()));
    if (*refusal_ != Refusal::kNone) return Http::Private::State::Done;
    try {
      return HeadersStep::apply(cursor);
    } catch (const Http::HttpError&) {
      throw;
    } catch (const std::exception&) {
      *refusal_ = Refusal::kMalformedHeaders;
      return Http::Private::State::Done;
    }
  }

 private:
  static bool named(std::string_view header, std::string_view lower_name) {
    return header.size() > lower_name.size() && header[lower_name.size()] == ':' &&
           std::equal(lower_name.begin(), lower_name.end(), header.begin(), [](char a, char b) {
             return a == std::tolower(static_cast<unsigned char>(b));
           });
  }

  Refusal judge(std::string_view input) const {
    // A request without headers: its empty line comes first, and what follows belongs to the
    // next request (pipelined), judged when its own turn comes.
    if (input.substr(0, 2) == "\r\n") return Refusal::kNone;
    const size_t block_end = input.find("\r\n\r\n");
    if (block_end == std::string_view::npos) return Refusal::kNone;  // not all here yet
    int lengths = 0;
    std::string_view length;
    for (size_t line = 0; line < block_end + 2;) {
      const size_t next = input.find("\r\n", line);
      const std::string_view header = input.substr(line, next - line);
      if (named(header, "transfer-encoding")) return Refusal::kLengthRequired;
      if (named(header, "content-length")) {
        ++lengths;
        length = header.substr(header.find(':') + 1);
      }
      line = next + 2;
    }
    if (lengths == 0) return Refusal::kNone;
    if (lengths > 1) return Refusal::kMalformedHeaders;
    const size_t first = length.find_first_not_of(" \t");
    const size_t last = length.find_last_not_of(" \t");
    length = first == std::string_view::npos ? std::string_view()
                                             : length.substr(first, last - first + 1);
    if (length.empty() || length.find_first_not_of("0123456789") != std::string_view::npos) {
      return Refusal::kMalformedHeaders;
    }
    // More digits than the limit has is over it, however large (and beyond 64 bits).
    if (length.size() > max_body_digits_) return Refusal::kBodyTooLarge;
    return std::stoull(std::string(length)) > max_body_bytes_ ? Refusal::kBodyTooLarge
                                                              : Refusal::kNone;
  }

  size_t max_body_bytes_;
  size_t max_body_digits_;  // of max_body_bytes_, computed once rather than per request
  Refusal* refusal_;
};

class LimitedRequestParser : public Http::RequestParser {
 public:
  LimitedRequestParser(size_t max_request_bytes, size_t max_body_bytes)
      : Http::RequestParser(max_request_bytes) {
    allSteps[1] = std::make_unique<GuardedHeadersStep>(&request, max_body_bytes, &refusal_);
  }

  void reset() override {
    Http::RequestParser::reset();
    refusal_ = Refusal::kNone;
  }

  Refusal refusal() const { return refusal_; }

  // Once a response has closed the connection, whatever else arrives on it (the rest of a
  // refused body, say) is never handled as a request. Survives reset(), unlike the rest.
  void stopHandling() { closing_ = true; }
  bool closing() const { return closing_; }

 private:
  Refusal refusal_ = Refusal::kNone;
  bool closing_ = false;
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
    auto peer = writer.peer();
    auto parser = std::static_pointer_cast<LimitedRequestParser>(getParser(peer));
    if (parser->closing()) return;  // bytes after a closing answer: never a request

    const auto started = std::chrono::steady_clock::now();
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
    routed.body = request.body();
    routed.from_loopback = isLoopbackAddress(peer->address().host());

    Response response;
    if (parser->refusal() != Refusal::kNone) {
      response = refusalResponse(parser->refusal());
    } else if (state_->draining.load()) {
      response = errorResponse(ApiError::kShuttingDown, "the server is shutting down; retry");
      response.close_connection = true;
    } else {
      response = state_->router->dispatch(routed);
    }
    if (response.close_connection) parser->stopHandling();
    send(std::move(writer), response, peer);

    const double elapsed_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
            .count();
    spdlog::info("{} {} {} {:.2f}ms delivery={}", method, request.resource(), response.status,
                 elapsed_ms, routed.log_delivery_id.empty() ? "-" : routed.log_delivery_id);
  }

 private:
  Response refusalResponse(Refusal refusal) const {
    Response response;
    switch (refusal) {
      case Refusal::kBodyTooLarge:
        response = errorResponse(
            ApiError::kPayloadTooLarge,
            fmt::format("Content-Length is over max_body_bytes ({})", state_->max_body_bytes));
        break;
      case Refusal::kLengthRequired:
        response = errorResponse(ApiError::kLengthRequired,
                                 "send the body with a Content-Length, not Transfer-Encoding");
        break;
      case Refusal::kMalformedHeaders:
      case Refusal::kNone:
        response = errorResponse(ApiError::kMalformedRequest,
                                 "a header, such as Content-Length, cannot be parsed");
        break;
    }
    // The body was never read: what follows on the connection is not a request.
    response.close_connection = true;
    return response;
  }

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
      // answer is written, so that the client sees the end of the stream; what it still sends
      // is read and dropped (the parser stops handling), and Pistache closes the connection
      // when the client does.
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
  if (endpoint_) endpoint_->endpoint->shutdown();
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
  // Pistache's shutdown() joins its threads, so it would wait for the handlers still running
  // however long they take: with some left, the endpoint stays up (answering 503) and the
  // caller decides, typically by exiting.
  if (unfinished == 0 && endpoint_) {
    endpoint_->endpoint->shutdown();
    endpoint_.reset();
  }
  return unfinished;
}

}  // namespace conduit::http
