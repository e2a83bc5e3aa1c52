#include "store/host_resolver.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

namespace conduit::store {
namespace {

bool isNumeric(const std::string& host) {
  in6_addr buffer{};
  return ::inet_pton(AF_INET, host.c_str(), &buffer) == 1 ||
         ::inet_pton(AF_INET6, host.c_str(), &buffer) == 1;
}

// What the helper thread hands over. Shared, so that a thread that outlives its caller's
// deadline still has somewhere to put its answer.
struct Lookup {
  std::mutex mutex;
  std::condition_variable done;
  bool finished = false;
  std::vector<std::string> addresses;
  std::string error;
};

}  // namespace

std::vector<std::string> systemResolve(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &found); rc != 0) {
    throw std::runtime_error(::gai_strerror(rc));
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> list(found, &::freeaddrinfo);
  std::vector<std::string> addresses;
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    const void* address =
        a->ai_family == AF_INET
            ? static_cast<const void*>(&reinterpret_cast<const sockaddr_in*>(a->ai_addr)->sin_addr)
            : static_cast<const void*>(
                  &reinterpret_cast<const sockaddr_in6*>(a->ai_addr)->sin6_addr);
    if ((a->ai_family != AF_INET && a->ai_family != AF_INET6) ||
        ::inet_ntop(a->ai_family, address, text, sizeof text) == nullptr) {
      continue;
    }
    if (std::find(addresses.begin(), addresses.end(), text) == addresses.end()) {
      addresses.emplace_back(text);
    }
  }
  if (addresses.empty()) throw std::runtime_error("no address of a known family");
  return addresses;
}

std::vector<std::string> resolveHost(const std::string& host,
                                     std::chrono::steady_clock::time_point deadline,
                                     const BlockingResolver& resolve) {
  if (isNumeric(host)) return {host};
  auto lookup = std::make_shared<Lookup>();
  std::thread([lookup, host, resolve] {
    std::vector<std::string> addresses;
    std::string error;
    try {
      addresses = resolve(host);
    } catch (const std::exception& e) {
      error = e.what();
    }
    std::lock_guard lock(lookup->mutex);
    lookup->addresses = std::move(addresses);
    lookup->error = std::move(error);
    lookup->finished = true;
    lookup->done.notify_all();
  }).detach();

  std::unique_lock lock(lookup->mutex);
  if (!lookup->done.wait_until(lock, deadline, [&] { return lookup->finished; })) {
    throw std::runtime_error(fmt::format("cannot resolve {}: no answer in time", host));
  }
  if (!lookup->error.empty()) {
    throw std::runtime_error(fmt::format("cannot resolve {}: {}", host, lookup->error));
  }
  if (lookup->addresses.empty()) {
    throw std::runtime_error(fmt::format("cannot resolve {}: no address", host));
  }
  return lookup->addresses;
}

}  // namespace conduit::store
