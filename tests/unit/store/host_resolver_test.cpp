#include "store/host_resolver.hpp"

#include <atomic>
#include <stdexcept>
#include <thread>

#include <doctest/doctest.h>

using conduit::store::resolveHost;
using namespace std::chrono_literals;

namespace {

std::chrono::steady_clock::time_point in(std::chrono::milliseconds ms) {
  return std::chrono::steady_clock::now() + ms;
}

}  // namespace

TEST_CASE("resolveHost: a resolver that does not answer is given up on at the deadline") {
  // A DNS server that does not answer holds getaddrinfo() for tens of seconds.
  auto silent = [](const std::string&) -> std::vector<std::string> {
    std::this_thread::sleep_for(3s);
    return {"10.0.0.1"};
  };
  const auto started = std::chrono::steady_clock::now();
  std::string message;
  try {
    resolveHost("redis.example", in(200ms), silent);
  } catch (const std::runtime_error& e) {
    message = e.what();
  }
  const auto took = std::chrono::steady_clock::now() - started;
  CHECK(message == "cannot resolve redis.example: no answer in time");
  CHECK(took >= 190ms);
  CHECK(took < 2s);  // generous: the point is that the 3 s are not waited for
}

TEST_CASE("resolveHost: the resolver's answer, its failure in its words, numbers untouched") {
  std::atomic<int> calls = 0;
  auto resolver = [&calls](const std::string& host) -> std::vector<std::string> {
    ++calls;
    if (host == "nowhere.example") throw std::runtime_error("Name or service not known");
    return {"192.0.2.7", "2001:db8::7"};
  };
  CHECK(resolveHost("redis.example", in(5s), resolver) ==
        std::vector<std::string>{"192.0.2.7", "2001:db8::7"});
  CHECK_THROWS_WITH_AS(resolveHost("nowhere.example", in(5s), resolver),
                       "cannot resolve nowhere.example: Name or service not known",
                       std::runtime_error);
  CHECK(calls == 2);
  CHECK(resolveHost("127.0.0.1", in(5s), resolver) == std::vector<std::string>{"127.0.0.1"});
  CHECK(resolveHost("::1", in(5s), resolver) == std::vector<std::string>{"::1"});
  CHECK(calls == 2);  // numeric hosts need no resolver
  auto empty = [](const std::string&) { return std::vector<std::string>{}; };
  CHECK_THROWS_WITH_AS(resolveHost("redis.example", in(5s), empty),
                       "cannot resolve redis.example: no address", std::runtime_error);
}

TEST_CASE("resolveHost: the system's resolver finds localhost") {
  const auto addresses = resolveHost("localhost", in(5s));
  REQUIRE_FALSE(addresses.empty());
  for (const auto& address : addresses)
    CHECK((address == "127.0.0.1" || address == "::1"));
}
