#include "providers/payload.hpp"

#include <doctest/doctest.h>

using namespace conduit::providers;

TEST_CASE("payload: the two content types GitHub sends - parameters ignored") {
  CHECK(bodyEncoding("application/json") == BodyEncoding::kJson);
  CHECK(bodyEncoding("Application/JSON; charset=utf-8") == BodyEncoding::kJson);
  CHECK(bodyEncoding("application/x-www-form-urlencoded") == BodyEncoding::kForm);
  CHECK_FALSE(bodyEncoding("text/plain").has_value());
  CHECK_FALSE(bodyEncoding("").has_value());
}

TEST_CASE("payload: the form body's payload field is percent-decoded") {
  CHECK(formPayloadField("payload=%7B%22a%22%3A1%7D") == "{\"a\":1}");
  CHECK(formPayloadField("x=1&payload=%7B%22t%22%3A%22a+b%22%7D&y=2") == "{\"t\":\"a b\"}");
  CHECK_FALSE(formPayloadField("data=%7B%7D").has_value());
  CHECK_FALSE(formPayloadField("payload=%7").has_value());
  CHECK_FALSE(formPayloadField("payload=%zz").has_value());
}
