// What clients that are slow, greedy or hostile get from the HTTP edge, and what they cost the
// server: a real HttpServer on a loopback port, driven by raw sockets.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include <doctest/doctest.h>
#include <httplib.h>
#include <spdlog/spdlog.h>

#include "http/http_server.hpp"
#include "log_capture.hpp"
#include "process.hpp"
#include "redis_server.hpp"

using conduit::http::HttpServer;
using conduit::http::HttpServerOptions;
using conduit::http::Request;
using conduit::http::Response;
using conduit::http::Router;
using conduit::testing::eventually;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

constexpr size_t kMiB = 1024 * 1024;

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif

HttpServerOptions testOptions() {
  HttpServerOptions options;
  options.bind = "127.0.0.1";
  options.port = 0;
  options.threads = 2;
  options.max_body_bytes = kMiB;
  options.max_inflight_bytes = 64 * kMiB;
  return options;
}

std::shared_ptr<Router> testRouter() {
  auto router = std::make_shared<Router>();
  router->add("GET", "/ping", [](const Request&) {
    Response r;
    r.body = "pong";
    r.content_type = "text/plain";
    return r;
  });
  router->add("POST", "/echo", [](const Request& request) {
    Response r;
    r.body = std::to_string(request.body.size());
    r.content_type = "text/plain";
    return r;
  });
  return router;
}

bool pings(uint16_t port, const char* path = "/ping") {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(2, 0);
  client.set_read_timeout(2, 0);
  auto response = client.Get(path);
  return response && response->status == 200 && response->body == "pong";
}

// CPU time (user and system) of this whole process so far: the server's threads and the
// test's own clients, whose share here is small.
double processCpuSeconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  auto seconds_of = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds_of(usage.ru_utime) + seconds_of(usage.ru_stime);
}

size_t residentBytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  return 0;
}

// One TCP connection written and read by hand, to behave as clients that HTTP libraries would
// not: sending forever, writing everything before reading, or nothing at all.
class RawClient {
 public:
  // `receive_buffer_bytes` > 0: a small window, for a client that reads little or late.
  explicit RawClient(uint16_t port, int receive_buffer_bytes = 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (receive_buffer_bytes > 0) {
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer_bytes, sizeof receive_buffer_bytes);
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    // A bound on any one write, so that a test fails rather than hangs.
    timeval timeout{20, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  }
  ~RawClient() { ::close(fd_); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  // Writes all of `bytes` (blocking); false once the server has closed the connection.
  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Closes with a reset (SO_LINGER 0) rather than an orderly end, as a crashing client might.
  void resetOnClose() {
    const linger abortive{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &abortive, sizeof abortive);
  }

  // Says that the client sends nothing more; it can still read.
  void shutdownWrite() { ::shutdown(fd_, SHUT_WR); }

  // What has arrived, without waiting.
  std::string readAvailable() {
    std::string out;
    char buffer[65536];
    ssize_t n;
    while ((n = ::recv(fd_, buffer, sizeof buffer, MSG_DONTWAIT)) > 0)
      out.append(buffer, static_cast<size_t>(n));
    if (n == 0) ended_ = true;
    return out;
  }

  // Reads until the server ends the stream (or resets it), for at most `timeout`.
  std::string readUntilEnd(milliseconds timeout) {
    std::string out;
    const auto deadline = Clock::now() + timeout;
    while (!ended_ && Clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      ::poll(&p, 1, 50);
      char buffer[65536];
      const ssize_t n = ::recv(fd_, buffer, sizeof buffer, MSG_DONTWAIT);
      if (n > 0) {
        out.append(buffer, static_cast<size_t>(n));
      } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
        ended_ = true;
      }
    }
    return out;
  }

  bool ended() const { return ended_; }

 private:
  int fd_ = -1;
  bool ended_ = false;
};

using conduit::testing::LogCapture;

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
    ++n;
  return n;
}

std::string post(size_t content_length, const std::string& extra_headers = "") {
  return "POST /echo HTTP/1.1\r\nHost: x\r\n" + extra_headers +
         "Content-Length: " + std::to_string(content_length) + "\r\n\r\n";
}

}  // namespace

TEST_CASE("edge: a header line that never ends is 431 - in linear time - others are answered") {
  HttpServer server(testOptions(), testRouter());
  server.start();
  const uint16_t port = server.port();

  std::atomic<bool> attacking{true};
  std::atomic<int> pings_answered{0};
  std::atomic<int> pings_failed{0};
  std::thread pinger([&] {
    while (attacking) {
      (pings(port) ? pings_answered : pings_failed)++;
      std::this_thread::sleep_for(milliseconds(50));
    }
  });

  const double cpu_before = processCpuSeconds();
  RawClient attacker(port);
  REQUIRE(attacker.send("POST /echo HTTP/1.1\r\nX-GitHub-Delivery: endless-1\r\nX-Endless: "));
  // 4 MiB in 512-byte pieces, paced so that the server reads them as thousands of pieces: a
  // server that looked at the whole block again for each piece would scan gigabytes.
  std::string answer;
  const std::string piece(512, 'a');
  for (size_t sent = 0; sent < 4 * kMiB; sent += piece.size()) {
    if (!attacker.send(piece)) break;
    if ((sent / piece.size()) % 16 == 0) {
      std::this_thread::sleep_for(milliseconds(1));
      answer += attacker.readAvailable();
    }
  }
  answer += attacker.readUntilEnd(seconds(10));
  attacking = false;
  pinger.join();
  const double cpu_used = processCpuSeconds() - cpu_before;

  CHECK(answer.rfind("HTTP/1.1 431", 0) == 0);
  CHECK(answer.find("request_header_too_large") != std::string::npos);
  CHECK(answer.find("Connection: Close") != std::string::npos);
  CHECK(attacker.ended());  // and the connection was closed
  CHECK(pings_answered.load() >= 3);
  CHECK(pings_failed.load() == 0);
  CHECK(cpu_used < 3.0);  // in practice well under half a second
  CHECK(pings(port));
}

TEST_CASE("edge: a refused 30 MB body written whole before reading still gets its 413") {
  HttpServer server(testOptions(), testRouter());
  server.start();
  RawClient client(server.port());
  REQUIRE(client.send(post(30 * kMiB)));
  const std::string megabyte(kMiB, 'x');
  for (int i = 0; i < 30; ++i)
    REQUIRE(client.send(megabyte));  // the server reads and drops what it refused
  const std::string answer = client.readUntilEnd(seconds(10));
  CHECK(answer.rfind("HTTP/1.1 413", 0) == 0);
  CHECK(answer.find("payload_too_large") != std::string::npos);
  CHECK(client.ended());
}

TEST_CASE("edge: a refused client that keeps sending is closed within seconds - CPU goes idle") {
  HttpServer server(testOptions(), testRouter());
  server.start();
  const auto started = Clock::now();
  std::string answer;
  {
    RawClient client(server.port());
    REQUIRE(client.send(post(30 * kMiB)));
    const std::string piece(4096, 'x');
    // Sends for as long as the server lets it (at most 20 s here).
    while (Clock::now() - started < seconds(20) && client.send(piece)) {
      answer += client.readAvailable();
      std::this_thread::sleep_for(milliseconds(5));
    }
    answer += client.readAvailable();
  }
  const auto closed_after = Clock::now() - started;
  CHECK(answer.rfind("HTTP/1.1 413", 0) == 0);
  CHECK(closed_after < seconds(10));

  // Nothing keeps working on it: the process is idle again.
  std::this_thread::sleep_for(milliseconds(200));
  const double cpu_before = processCpuSeconds();
  std::this_thread::sleep_for(seconds(1));
  CHECK(processCpuSeconds() - cpu_before < 0.2);
  CHECK(pings(server.port()));
}

TEST_CASE("edge: refusals close the connection - what follows is never handled") {
  HttpServer server(testOptions(), testRouter());
  server.start();
  const std::string pipelined = "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n";
  struct Case {
    std::string request;
    std::string status;
  };
  const std::vector<Case> cases = {
      {post(2 * kMiB) + pipelined, "HTTP/1.1 413"},
      {"POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + pipelined,
       "HTTP/1.1 411"},
      {"POST /echo HTTP/1.1\r\nContent-Length: 1x\r\n\r\n" + pipelined, "HTTP/1.1 400"},
      {"POST /echo HTTP/1.1\r\nX: " + std::string(70000, 'a') + "\r\n\r\n" + pipelined,
       "HTTP/1.1 431"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.status);
    RawClient client(server.port());
    REQUIRE(client.send(c.request));
    const std::string answer = client.readUntilEnd(seconds(10));
    CHECK(answer.rfind(c.status, 0) == 0);
    CHECK(answer.find("pong") == std::string::npos);
    CHECK(client.ended());
  }
}

TEST_CASE("edge: headers not complete within header_timeout_ms are 408 - then closed") {
  auto options = testOptions();
  options.header_timeout = milliseconds(300);
  HttpServer server(options, testRouter());
  server.start();

  const auto started = Clock::now();
  RawClient slow(server.port());
  REQUIRE(slow.send("POST /echo HTTP/1.1\r\nHost: x\r\n"));
  const std::string answer = slow.readUntilEnd(seconds(5));
  CHECK(answer.rfind("HTTP/1.1 408", 0) == 0);
  CHECK(answer.find("request_timeout") != std::string::npos);
  CHECK(slow.ended());
  CHECK(Clock::now() - started < seconds(3));

  // A connection that says nothing, or nothing more after an answer, is closed too.
  RawClient silent(server.port());
  CHECK(silent.readUntilEnd(seconds(5)).empty());
  CHECK(silent.ended());
  RawClient kept(server.port());
  REQUIRE(kept.send("GET /ping HTTP/1.1\r\nConnection: keep-alive\r\n\r\n"));
  CHECK(kept.readUntilEnd(seconds(5)).find("pong") != std::string::npos);
  CHECK(kept.ended());
}

TEST_CASE("edge: a body not complete within request_timeout_ms is 408 - even trickled") {
  auto options = testOptions();
  options.header_timeout = seconds(5);
  options.request_timeout = milliseconds(600);
  HttpServer server(options, testRouter());
  server.start();

  const auto started = Clock::now();
  RawClient trickler(server.port());
  REQUIRE(trickler.send(post(100)));
  std::string answer;
  while (!trickler.ended() && Clock::now() - started < seconds(5)) {
    trickler.send("x");  // a byte every 50 ms never completes the body in time
    answer += trickler.readUntilEnd(milliseconds(50));
  }
  CHECK(answer.rfind("HTTP/1.1 408", 0) == 0);
  CHECK(answer.find("request_timeout_ms") != std::string::npos);
  CHECK(trickler.ended());
  CHECK(Clock::now() - started < seconds(3));

  // A body that arrives in time is handled as usual.
  RawClient prompt(server.port());
  REQUIRE(prompt.send(post(5, "Connection: close\r\n") + "hello"));
  const std::string handled = prompt.readUntilEnd(seconds(5));
  CHECK(handled.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(handled.substr(handled.size() - 1) == "5");
}

TEST_CASE("edge: connections past max_connections are closed at once - logged once a second") {
  auto options = testOptions();
  options.max_connections = 4;
  LogCapture log;
  HttpServer server(options, testRouter());
  server.start();

  std::vector<std::unique_ptr<RawClient>> held;
  for (int i = 0; i < 4; ++i)
    held.push_back(std::make_unique<RawClient>(server.port()));
  REQUIRE(held.back()->send("GET /ping HTTP/1.1\r\nConnection: keep-alive\r\n\r\n"));
  CHECK(held.back()->readUntilEnd(milliseconds(500)).find("pong") != std::string::npos);

  const auto started = Clock::now();
  for (int i = 0; i < 10; ++i) {
    RawClient extra(server.port());
    CHECK(extra.readUntilEnd(seconds(5)).empty());
    CHECK(extra.ended());
  }
  CHECK(Clock::now() - started < seconds(3));
  CHECK_FALSE(pings(server.port()));
  const std::string text = log.text();
  CHECK(text.find("max_connections (4) reached: closed 1 new connection(s) at once") !=
        std::string::npos);
  // Ten refusals within a second or two: one line for the first, at most one more a second.
  CHECK(count(text, "max_connections (4) reached") <= 3);

  held.pop_back();  // one goes away: there is room again
  CHECK(eventually([&] { return pings(server.port()); }));
}

TEST_CASE("edge: bodies being received are bounded together - past it 503 server_busy") {
  auto options = testOptions();
  options.max_body_bytes = kMiB;
  options.max_inflight_bytes = 4 * kMiB;
  HttpServer server(options, testRouter());
  server.start();

  // A hundred clients each announce a 1 MiB body.
  const size_t rss_before = residentBytes();
  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < 100; ++i) {
    clients.push_back(std::make_unique<RawClient>(server.port()));
    REQUIRE(clients.back()->send(post(kMiB)));
  }
  // Those refused are answered from their headers alone, at once.
  std::vector<std::string> answers(clients.size());
  auto answered = [&] {
    size_t n = 0;
    for (size_t i = 0; i < clients.size(); ++i) {
      answers[i] += clients[i]->readAvailable();
      n += answers[i].empty() ? 0 : 1;
    }
    return n;
  };
  eventually([&] { return answered() >= 96; }, seconds(10));
  std::vector<RawClient*> accepted;
  int busy = 0;
  for (size_t i = 0; i < clients.size(); ++i) {
    CAPTURE(answers[i]);
    if (answers[i].empty()) {
      accepted.push_back(clients[i].get());
    } else {
      CHECK(answers[i].rfind("HTTP/1.1 503", 0) == 0);
      CHECK(answers[i].find("server_busy") != std::string::npos);
      CHECK(answers[i].find("Retry-After: 5") != std::string::npos);
      ++busy;
    }
  }
  CHECK(accepted.size() == 4);
  CHECK(busy == 96);

  // All of them trickle all of their body but its last byte.
  const std::string chunk(64 * 1024, 'x');
  for (size_t sent = 0; sent < kMiB - 1; sent += chunk.size()) {
    const std::string_view part = std::string_view(chunk).substr(0, kMiB - 1 - sent);
    for (auto& client : clients)
      client->send(part);  // a refused client's bytes are dropped, or its connection is gone
  }
  std::this_thread::sleep_for(milliseconds(300));
  // Unbounded, the hundred bodies would hold 100 MiB; bounded, about 4 MiB.
  CHECK(residentBytes() < rss_before + 40 * kMiB);

  // The accepted ones finish; their room is given back.
  for (RawClient* client : accepted) {
    REQUIRE(client->send("x"));
    std::string answer;
    for (int i = 0; i < 100 && answer.find("1048576") == std::string::npos; ++i)
      answer += client->readUntilEnd(milliseconds(50));
    CHECK(answer.rfind("HTTP/1.1 200", 0) == 0);
    CHECK(answer.find("1048576") != std::string::npos);
  }
  clients.clear();
  httplib::Client again("127.0.0.1", server.port());
  auto response = again.Post("/echo", std::string(kMiB, 'y'), "application/octet-stream");
  REQUIRE(response);
  CHECK(response->status == 200);
}

TEST_CASE("edge: Expect 100-continue is answered once the headers are accepted") {
  HttpServer server(testOptions(), testRouter());
  server.start();
  RawClient client(server.port());
  REQUIRE(client.send(post(5, "Expect: 100-continue\r\nConnection: close\r\n")));
  std::string interim;
  for (int i = 0; i < 100 && interim.find("\r\n\r\n") == std::string::npos; ++i)
    interim += client.readUntilEnd(milliseconds(20));
  CHECK(interim == "HTTP/1.1 100 Continue\r\n\r\n");
  REQUIRE(client.send("hello"));
  const std::string answer = client.readUntilEnd(seconds(5));
  CHECK(answer.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(answer.substr(answer.size() - 1) == "5");
}

namespace {

// The log line that has all of `parts`, or "" when none has.
std::string lineWith(const std::string& text, const std::vector<std::string>& parts) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    bool all = true;
    for (const auto& part : parts)
      all = all && line.find(part) != std::string::npos;
    if (all) return line;
  }
  return "";
}

}  // namespace

TEST_CASE("edge: the access log names the delivery id of every answer - refusals included") {
  auto options = testOptions();
  options.header_timeout = milliseconds(400);
  options.max_inflight_bytes = kMiB;
  LogCapture log;
  HttpServer server(options, testRouter());
  server.start();
  auto exchange = [&](const std::string& bytes) {
    RawClient client(server.port());
    client.send(bytes);
    return client.readUntilEnd(seconds(5));
  };
  auto delivery = [](const std::string& id) { return "X-GitHub-Delivery: " + id + "\r\n"; };

  CHECK(exchange(post(2 * kMiB, delivery("too-large-1"))).rfind("HTTP/1.1 413", 0) == 0);
  CHECK(
      exchange("POST /echo HTTP/1.1\r\n" + delivery("too-long-1") + "X: " + std::string(70000, 'a'))
          .rfind("HTTP/1.1 431", 0) == 0);
  CHECK(exchange("POST /echo HTTP/1.1\r\n" + delivery("chunked-1") +
                 "Transfer-Encoding: chunked\r\n\r\n")
            .rfind("HTTP/1.1 411", 0) == 0);
  CHECK(exchange("POST /echo HTTP/1.1\r\n" + delivery("slow-1")).rfind("HTTP/1.1 408", 0) == 0);
  {
    RawClient holder(server.port());  // takes all of max_inflight_bytes for a while
    REQUIRE(holder.send(post(kMiB) + "x"));
    std::this_thread::sleep_for(milliseconds(100));
    CHECK(exchange(post(10, delivery("busy-1"))).rfind("HTTP/1.1 503", 0) == 0);
  }
  CHECK(exchange("POST /nowhere HTTP/1.1\r\n" + delivery("routed-1") +
                 "Connection: close\r\nContent-Length: 0\r\n\r\n")
            .rfind("HTTP/1.1 404", 0) == 0);
  CHECK(exchange("GET /ping HTTP/1.1\r\n" + delivery("bad id") + "Connection: close\r\n\r\n")
            .rfind("HTTP/1.1 200", 0) == 0);
  CHECK(exchange("GET /ping HTTP/1.1\r\nConnection: close\r\n\r\n").rfind("HTTP/1.1 200", 0) == 0);

  const std::string text = log.text();
  CHECK(lineWith(text, {"POST /echo 413 ", " delivery=too-large-1"}) != "");
  CHECK(lineWith(text, {"POST /echo 431 ", " delivery=too-long-1"}) != "");
  CHECK(lineWith(text, {"POST /echo 411 ", " delivery=chunked-1"}) != "");
  CHECK(lineWith(text, {"POST /echo 408 ", " delivery=slow-1"}) != "");
  CHECK(lineWith(text, {"POST /echo 503 ", " delivery=busy-1"}) != "");
  CHECK(lineWith(text, {"POST /nowhere 404 ", " delivery=routed-1"}) != "");
  CHECK(lineWith(text, {"GET /ping 200 ", " delivery=bad?id"}) != "");
  CHECK(lineWith(text, {"GET /ping 200 ", " delivery=-"}) != "");
}

TEST_CASE("edge: SIGTERM stops `conduit serve` promptly while clients attack it") {
  conduit::testing::RedisServer redis;
  const int port = conduit::testing::freeLoopbackPort();
  const std::string config = redis.directory() + "/app.env";
  std::ofstream(config) << "bind=127.0.0.1\nredis_url=" << redis.url()
                        << "\nmax_body_bytes=1048576\nheader_timeout_ms=60000\n";
  conduit::testing::Process conduit(
      {CONDUIT_BINARY, "serve", "--config", config, "-p", std::to_string(port)});
  REQUIRE(eventually([&] { return pings(static_cast<uint16_t>(port), "/conduit/ping"); }));

  std::atomic<bool> attacking{true};
  std::vector<std::thread> attackers;
  auto attack = [&](std::string start, std::string piece, milliseconds pause) {
    attackers.emplace_back([&attacking, port, start, piece, pause] {
      RawClient client(static_cast<uint16_t>(port));
      client.send(start);
      while (attacking && client.send(piece)) {
        client.readAvailable();
        std::this_thread::sleep_for(pause);
      }
    });
  };
  attack("POST /x HTTP/1.1\r\nX-Endless: ", "aaaa", milliseconds(10));  // headers never end
  attack(post(kMiB), "x", milliseconds(10));                            // a body trickled
  attack(post(30 * kMiB), std::string(65536, 'x'), milliseconds(0));    // refused, sent anyway
  attack("", "", milliseconds(10));                                     // says nothing
  std::this_thread::sleep_for(milliseconds(500));

  const auto stopping = Clock::now();
  conduit.signal(SIGTERM);
  const int status = conduit.wait(seconds(30));
  const auto took = Clock::now() - stopping;
  attacking = false;
  for (auto& attacker : attackers)
    attacker.join();
  CHECK(status == 0);
  // Nothing was being handled: the drain had nothing to wait for.
  CHECK(took < seconds(5));
}

TEST_CASE("edge: a client that half-closes after its request still gets the answer") {
  HttpServer server(testOptions(), testRouter());
  server.start();
  // As `printf 'GET ...' | nc -N` does: the request, then the end of what the client sends.
  // Pistache reads that end at once and closes; an answer still queued for it was lost.
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"GET /ping HTTP/1.0\r\n\r\n", "HTTP/1.0 200"},
      {"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 200"},
      {"POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "HTTP/1.1 411"},
  };
  for (const auto& [request, status] : cases) {
    CAPTURE(request);
    for (int i = 0; i < 20; ++i) {
      RawClient client(server.port());
      REQUIRE(client.send(request));
      client.shutdownWrite();
      const std::string answer = client.readUntilEnd(seconds(5));
      CHECK(answer.rfind(status, 0) == 0);
      CHECK(client.ended());
    }
  }
}

TEST_CASE("edge: an answer that says Connection: Close is followed by the close") {
  auto options = testOptions();
  options.header_timeout = seconds(30);
  HttpServer server(options, testRouter());
  server.start();
  // Clients that read to the end of the stream (HTTP/1.0's way) are not kept waiting until the
  // connection is idle for header_timeout_ms.
  for (const std::string request :
       {"GET /ping HTTP/1.0\r\n\r\n", "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /ping HTTP/1.1\r\nConnection: close\r\n\r\n"}) {
    CAPTURE(request);
    RawClient client(server.port());
    REQUIRE(client.send(request));
    const auto started = Clock::now();
    const std::string answer = client.readUntilEnd(seconds(10));
    CHECK(answer.find("Connection: Close\r\n") != std::string::npos);
    CHECK(answer.find("pong") != std::string::npos);
    CHECK(client.ended());
    CHECK(Clock::now() - started < seconds(3));
  }
  // Asked for, the connection is kept, and the answer says so.
  RawClient kept(server.port());
  REQUIRE(kept.send("GET /ping HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  const std::string answer = kept.readUntilEnd(milliseconds(500));
  CHECK(answer.rfind("HTTP/1.0 200", 0) == 0);
  CHECK(answer.find("Connection: Keep-Alive\r\n") != std::string::npos);
  CHECK_FALSE(kept.ended());
}

TEST_CASE("edge: a client that pipelines requests but reads no answer is reset - memory bounded") {
  HttpServer server(testOptions(), testRouter());
  server.start();
  RawClient client(server.port(), /*receive_buffer_bytes=*/4096);
  const size_t rss_before = residentBytes();
  std::string requests;
  for (int i = 0; i < 1000; ++i)
    requests += "GET /ping HTTP/1.1\r\nConnection: keep-alive\r\n\r\n";
  // Each answer is about three times its request: 32 MiB of requests would hold ~100 MiB of
  // answers, and more for as long as the client goes on.
  size_t sent = 0;
  bool reset = false;
  const auto started = Clock::now();
  while (sent < 32 * kMiB && Clock::now() - started < seconds(20)) {
    if (!client.send(requests)) {
      reset = true;
      break;
    }
    sent += requests.size();
  }
  CHECK(reset);
  CHECK(sent < 16 * kMiB);  // a MiB of answers, and what the sockets' buffers hold
  if (!kSanitized) {        // whose quarantine keeps freed memory
    CHECK(residentBytes() < rss_before + 48 * kMiB);
  }
  CHECK(pings(server.port()));
}

TEST_CASE("edge: a large answer reaches a client that reads it slowly, whole") {
  auto router = testRouter();
  const std::string large(4 * kMiB, 'z');
  router->add("GET", "/large", [&large](const Request&) {
    Response r;
    r.body = large;
    r.content_type = "text/plain";
    return r;
  });
  HttpServer server(testOptions(), router);
  server.start();
  RawClient client(server.port(), /*receive_buffer_bytes=*/4096);
  REQUIRE(
      client.send("GET /large HTTP/1.1\r\nConnection: keep-alive\r\n\r\n"
                  "GET /ping HTTP/1.1\r\nConnection: close\r\n\r\n"));
  std::string answer;
  const auto started = Clock::now();
  while (!client.ended() && Clock::now() - started < seconds(30)) {
    answer += client.readUntilEnd(milliseconds(20));
    std::this_thread::sleep_for(milliseconds(2));
  }
  CHECK(answer.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(answer.find(large) != std::string::npos);
  const size_t second = answer.find("HTTP/1.1 200", 1);
  REQUIRE(second != std::string::npos);
  CHECK(answer.substr(answer.size() - 4) == "pong");
  CHECK(client.ended());
}

TEST_CASE("edge: 100 Continue is never sent to an HTTP/1.0 client") {
  HttpServer server(testOptions(), testRouter());
  server.start();
  RawClient client(server.port());
  REQUIRE(client.send("POST /echo HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"));
  std::this_thread::sleep_for(milliseconds(200));
  REQUIRE(client.send("hello"));
  const std::string answer = client.readUntilEnd(seconds(5));
  CHECK(answer.rfind("HTTP/1.0 200", 0) == 0);
  CHECK(answer.find("100 Continue") == std::string::npos);
}

TEST_CASE("edge: a bare LF in the headers is 400 - what it might hide is never handled") {
  HttpServer server(testOptions(), testRouter());
  server.start();
  // A proxy that ends lines at a bare LF sees a Content-Length here, and a body of 5 bytes
  // followed by a second request; a server that does not would see two other requests.
  RawClient client(server.port());
  REQUIRE(
      client.send("POST /echo HTTP/1.1\r\nX: a\nContent-Length: 5\r\nConnection: keep-alive"
                  "\r\n\r\nhelloGET /ping HTTP/1.1\r\n\r\n"));
  const std::string answer = client.readUntilEnd(seconds(5));
  CHECK(answer.rfind("HTTP/1.1 400", 0) == 0);
  CHECK(answer.find("malformed_request") != std::string::npos);
  CHECK(answer.find("pong") == std::string::npos);
  CHECK(client.ended());
}

TEST_CASE("edge: pipelined requests cut at every byte are each answered once, in order") {
  HttpServer server(testOptions(), testRouter());
  server.start();
  const std::string requests =
      "POST /echo HTTP/1.1\r\nConnection: keep-alive\r\n"
      "Content-Length: 3\r\n\r\nabc"
      "GET /ping HTTP/1.1\r\nConnection: keep-alive\r\n\r\n"
      "\r\nPOST /echo HTTP/1.1\r\nContent-Length: 0\r\n\r\n";
  for (size_t cut = 1; cut < requests.size(); ++cut) {
    CAPTURE(cut);
    RawClient client(server.port());
    REQUIRE(client.send(requests.substr(0, cut)));
    std::this_thread::sleep_for(milliseconds(1));
    REQUIRE(client.send(requests.substr(cut)));
    const std::string answer = client.readUntilEnd(seconds(5));
    CHECK(count(answer, "HTTP/1.1 200") == 3);
    const size_t three = answer.find("\r\n\r\n3");
    const size_t pong = answer.find("\r\n\r\npong");
    const size_t zero = answer.find("\r\n\r\n0");
    CHECK((three < pong && pong < zero && zero != std::string::npos));
    CHECK(client.ended());
  }
}

TEST_CASE("edge: the open-file limit is raised for max_connections - warned about past it") {
  rlimit files{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &files) == 0);
  if (files.rlim_max < 2048 || files.rlim_max == RLIM_INFINITY || files.rlim_max > 1000000) {
    MESSAGE("skipped: the hard open-file limit is " << files.rlim_max);
    return;
  }
  rlimit lowered = files;
  lowered.rlim_cur = 512;  // as systemd's default soft limit is low and its hard one high
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &lowered) == 0);
  {
    LogCapture log;
    auto options = testOptions();
    options.max_connections = 1024;
    HttpServer raised(options, testRouter());
    raised.start();
    rlimit now{};
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &now) == 0);
    CHECK(now.rlim_cur >= 1024 + 64);
    CHECK(log.text().find("open-file limit") == std::string::npos);

    options.max_connections = static_cast<int>(files.rlim_max);  // more than the hard limit
    HttpServer over(options, testRouter());
    over.start();
    CHECK(count(log.text(), fmt::format("max_connections ({}) is not well under this process's "
                                        "open-file limit ({})",
                                        files.rlim_max, files.rlim_max)) == 1);
  }
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &files) == 0);
}

TEST_CASE("edge: clients that leave or reset at every stage give back their connection and bytes") {
  auto options = testOptions();
  options.max_connections = 8;
  options.max_body_bytes = kMiB;
  options.max_inflight_bytes = 2 * kMiB;
  HttpServer server(options, testRouter());
  server.start();
  const std::vector<std::string> stages = {
      "",                                                      // connects, says nothing
      "POST /echo HTTP/1.1\r\nContent-Le",                     // mid-headers
      post(kMiB),                                              // a body reserved, none of it sent
      post(kMiB) + std::string(100000, 'x'),                   // mid-body
      post(2 * kMiB) + std::string(50000, 'x'),                // refused, still sending
      "GET /ping HTTP/1.1\r\nConnection: keep-alive\r\n\r\n",  // answered, kept
  };
  for (int i = 0; i < 1200; ++i) {
    RawClient client(server.port());
    client.send(stages[static_cast<size_t>(i) % stages.size()]);
    if (i % 2 == 0) client.resetOnClose();
  }
  // All of max_inflight_bytes is free again: two bodies of max_body_bytes are taken at once.
  CHECK(eventually([&] {
    RawClient first(server.port());
    RawClient second(server.port());
    first.send(post(kMiB));
    second.send(post(kMiB));
    std::this_thread::sleep_for(milliseconds(50));
    return first.readAvailable().empty() && second.readAvailable().empty() && !first.ended() &&
           !second.ended();
  }));
  // And all of max_connections: eight held at once are each answered.
  CHECK(eventually([&] {
    std::vector<std::unique_ptr<RawClient>> held;
    for (int i = 0; i < 8; ++i)
      held.push_back(std::make_unique<RawClient>(server.port()));
    bool all = true;
    for (auto& client : held) {
      client->send("GET /ping HTTP/1.1\r\nConnection: close\r\n\r\n");
      all = all && client->readUntilEnd(seconds(2)).find("pong") != std::string::npos;
    }
    return all;
  }));
}
