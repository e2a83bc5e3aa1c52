#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "http/router.hpp"

namespace conduit::http {

// One answered request, as the server's observer sees it (for metrics and the refused-request
// ring). The views are valid during the call only.
struct AnsweredRequest {
  std::string_view method;
  std::string_view path;   // without the query string
  std::string_view route;  // the route pattern that served it; empty when none did
  int status = 0;
  double duration_seconds = 0;  // from the request's first byte to its answer
  std::string_view delivery;    // the code host's delivery id the request carried, if any
  std::string_view peer;        // the client's address
  std::string_view error;       // the API error's name (`error_msg`); empty for a success
};

struct HttpServerOptions {
  std::string bind = "0.0.0.0";
  uint16_t port = 9091;  // 0: any free port (tests)
  int threads = 2;
  size_t max_body_bytes = 26214400;
  size_t max_header_bytes = 65536;  // request line and headers, the empty line included
  std::chrono::milliseconds header_timeout{10000};   // from a request's first byte
  std::chrono::milliseconds request_timeout{60000};  // the same, to its body's last byte
  int max_connections = 1024;
  size_t max_inflight_bytes = size_t{256} << 20;  // declared bodies being received, together
  // Called once per answer, refusals included, on the thread that answered: keep it short.
  std::function<void(const AnsweredRequest&)> on_answer;
};

// The Pistache endpoint in front of a Router, made safe to face the Internet. Pistache accepts
// connections, reads and writes them, and parses request lines and headers; this class frames
// each request itself (from its raw header block, before anything is parsed or reserved) and
// bounds what a client can take:
// - a header block over max_header_bytes is 431, found in time linear in the bytes received;
// - a declared Content-Length over max_body_bytes is 413, Transfer-Encoding 411, a bad one 400;
// - a request whose declared body would take the bodies being received past max_inflight_bytes
//   is 503 `server_busy` with Retry-After;
// - a header block not complete after header_timeout, or a request after request_timeout, is
//   408 and closed; an idle connection is closed after header_timeout;
// - connections past max_connections are closed at once.
// Answers are written on the socket as soon as they are decided, by the connection's thread
// (what the socket does not take at once is written by the reaper thread), never through
// Pistache's write queue; a client that pipelines requests but reads no answers is reset once
// over a MiB of them wait. A connection is kept after an answer only when the client asked
// for it (`Connection: keep-alive`); otherwise the answer says `Connection: Close` and, as for
// a refusal, the connection is then half-closed and what the client still sends is read and
// dropped, unparsed, for a few seconds at most, so that a client that writes its whole body
// before reading gets the answer rather than a reset. It logs one line per answer and stops
// gracefully: new requests are answered 503 while the ones in flight finish.
class HttpServer {
 public:
  HttpServer(HttpServerOptions options, std::shared_ptr<const Router> router);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and serves on background threads. Throws std::runtime_error if it cannot bind.
  void start();

  // The bound port (the chosen one when the options said 0).
  uint16_t port() const;

  // From now on answers every new request 503 with `Connection: close`, and waits up to
  // `grace` for the requests being handled to finish. Returns how many were still running
  // then. When all finished, the endpoint is closed; otherwise it is left answering 503, since
  // closing it would wait for them: the caller should exit the process.
  int drainAndStop(std::chrono::milliseconds grace);

  struct State;

 private:
  HttpServerOptions options_;
  std::shared_ptr<State> state_;
  struct Endpoint;
  std::unique_ptr<Endpoint> endpoint_;
};

}  // namespace conduit::http
