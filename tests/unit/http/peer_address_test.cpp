#include "http/peer_address.hpp"

#include <doctest/doctest.h>

using conduit::http::isLoopbackAddress;

TEST_CASE("peer address: loopback is 127.0.0.0/8 and ::1 in any spelling") {
  CHECK(isLoopbackAddress("127.0.0.1"));
  CHECK(isLoopbackAddress("127.255.0.9"));
  CHECK(isLoopbackAddress("::1"));
  CHECK(isLoopbackAddress("0:0:0:0:0:0:0:1"));
  CHECK(isLoopbackAddress("::ffff:127.0.0.1"));
}

TEST_CASE("peer address: everything else is remote") {
  CHECK_FALSE(isLoopbackAddress("10.0.0.1"));
  CHECK_FALSE(isLoopbackAddress("128.0.0.1"));
  CHECK_FALSE(isLoopbackAddress("1.127.0.0"));
  CHECK_FALSE(isLoopbackAddress("::ffff:10.0.0.1"));
  CHECK_FALSE(isLoopbackAddress("fe80::1"));
  CHECK_FALSE(isLoopbackAddress("127.0.0.1.example.com"));
  CHECK_FALSE(isLoopbackAddress(""));
}
