// The host's side of `report` (ABI 1.2): what it accepts, what it refuses and says why, and what
// it hands back after process(). Called through the API table, as a plugin calls it.
#include <sstream>
#include <string>

#include <doctest/doctest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "plugin/plugin_host.hpp"

using conduit::plugin::PluginHost;

namespace {

conduit_status report(PluginHost& host, PluginHost::DeliveryScope& scope, const std::string& json) {
  return PluginHost::api()->report(host.handle(), scope.handle(),
                                   conduit_str{json.data(), json.size()});
}

std::string refusal(std::string_view json) {
  return PluginHost::checkAction(json).error;
}

// Captures what is logged while it lives.
struct LogCapture {
  std::ostringstream lines;
  std::shared_ptr<spdlog::logger> before = spdlog::default_logger();
  LogCapture() {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(lines);
    sink->set_pattern("%v");
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("capture", sink));
  }
  ~LogCapture() { spdlog::set_default_logger(before); }
};

size_t count(const std::string& text, std::string_view part) {
  size_t n = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1))
    ++n;
  return n;
}

}  // namespace

TEST_CASE("plugin host: report - the table has it - ABI 1.2") {
  CHECK(CONDUIT_ABI_MINOR >= 2);
  const auto* api = PluginHost::api();
  CHECK(api->struct_size == sizeof(conduit_host_api));
  CHECK(CONDUIT_STRUCT_HAS(api, conduit_host_api, report));
  CHECK(static_cast<bool>(api->report));
}

TEST_CASE("plugin host: report - a flat JSON object with a string action is kept - compact") {
  PluginHost host(PluginHost::Context{"jira-1", "jira", {}, {}, nullptr});
  PluginHost::DeliveryScope scope(host, "github::repo::d-1");
  CHECK(report(host, scope,
               R"( { "action" : "moved", "issue": "SOC-1", "from": "To Do", "to": "In Progress",
                     "transition": "Start work" } )") == CONDUIT_STATUS_OK);
  CHECK(report(host, scope,
               R"({"action":"failed","issue":"SOC-2","reason":"say \"no\"\n","n":-1.5e3})") ==
        CONDUIT_STATUS_OK);
  CHECK(report(host, scope, R"({"action":"ignored","reason":"caf\u00e9 \ud83d\ude00 café"})") ==
        CONDUIT_STATUS_OK);
  const auto actions = scope.takeActions();
  REQUIRE(actions.size() == 3);
  CHECK(
      actions[0] ==
      R"({"action":"moved","issue":"SOC-1","from":"To Do","to":"In Progress","transition":"Start work"})");
  CHECK(actions[1] == R"({"action":"failed","issue":"SOC-2","reason":"say \"no\"\n","n":-1500.0})");
  CHECK(actions[2] ==
        "{\"action\":\"ignored\",\"reason\":\"caf\xc3\xa9 \xf0\x9f\x98\x80 caf\xc3\xa9\"}");
  // Handed over once.
  CHECK(scope.takeActions().empty());
}

TEST_CASE("plugin host: report - anything else is refused - and says why") {
  CHECK(refusal(R"({"action":"moved"})").empty());
  CHECK(refusal(R"({"action":"moved","count":3,"ratio":0.5})").empty());
  CHECK(refusal("").find("not JSON") == 0);
  CHECK(refusal("moved SOC-1").find("not JSON") == 0);
  CHECK(refusal(R"({"action":"moved"} {})").find("not JSON") == 0);
  CHECK(refusal(R"({"action":"moved",})").find("not JSON") == 0);
  CHECK(refusal(R"(["action","moved"])") == "not a JSON object");
  CHECK(refusal(R"("moved")") == "not a JSON object");
  CHECK(refusal(R"({"issue":"SOC-1"})") == "no string member `action` naming what was done");
  CHECK(refusal(R"({"action":7})") == "no string member `action` naming what was done");
  CHECK(refusal(R"({"action":""})") == "no string member `action` naming what was done");
  CHECK(refusal(R"({"action":"moved","to":{"status":"Done"}})") ==
        "the member `to` is neither a string nor a number");
  CHECK(refusal(R"({"action":"moved","keys":["SOC-1"]})") ==
        "the member `keys` is neither a string nor a number");
  CHECK(refusal(R"({"action":"moved","dry":true})") ==
        "the member `dry` is neither a string nor a number");
  CHECK(refusal(R"({"action":"moved","to":null})") ==
        "the member `to` is neither a string nor a number");
  CHECK(refusal(R"({"action":"moved","action":"end"})") == "the member `action` twice");
  CHECK(refusal("{\"action\":\"moved\",\"to\":\"\xff\"}").find("not JSON") == 0);

  // 4096 bytes at most, whitespace included.
  const std::string frame = R"({"action":"moved","pad":""})";
  const std::string largest =
      frame.substr(0, frame.size() - 2) + std::string(4096 - frame.size(), 'x') + "\"}";
  REQUIRE(largest.size() == 4096);
  CHECK(refusal(largest).empty());
  CHECK(refusal(largest + " ") == "4097 bytes, more than 4096");
}

TEST_CASE("plugin host: report - 200 per process() call - refusals logged once with why") {
  LogCapture log;
  PluginHost host(PluginHost::Context{"jira-1", "jira", {}, {}, nullptr});
  {
    PluginHost::DeliveryScope scope(host, "github::repo::d-1");
    for (int i = 0; i < 200; ++i) {
      REQUIRE(report(host, scope, R"({"action":"commented","n":)" + std::to_string(i) + "}") ==
              CONDUIT_STATUS_OK);
    }
    CHECK(report(host, scope, R"({"action":"commented"})") == CONDUIT_STATUS_ERROR);
    CHECK(report(host, scope, R"({"action":"commented"})") == CONDUIT_STATUS_ERROR);
    CHECK(report(host, scope, "not json") == CONDUIT_STATUS_ERROR);
    const auto actions = scope.takeActions();
    REQUIRE(actions.size() == 200);
    CHECK(actions.back() == R"({"action":"commented","n":199})");
  }
  const std::string logged = log.lines.str();
  CHECK(count(logged, "a reported action was refused") == 1);
  CHECK(logged.find("jira-1 (jira): a reported action was refused: more than 200 in one "
                    "process() call; it is not in the delivery log") != std::string::npos);

  // The next call starts again, and logs its own first refusal.
  PluginHost::DeliveryScope next(host, "github::repo::d-2");
  CHECK(report(host, next, R"({"action":"commented"})") == CONDUIT_STATUS_OK);
  CHECK(report(host, next, R"({"issue":"SOC-1"})") == CONDUIT_STATUS_ERROR);
  CHECK(count(log.lines.str(), "a reported action was refused") == 2);
  CHECK(log.lines.str().find("refused: no string member `action`") != std::string::npos);
  CHECK(next.takeActions().size() == 1);
}

TEST_CASE("plugin host: report - only for a delivery of this instance being processed") {
  PluginHost host(PluginHost::Context{"a", "p", {}, {}, nullptr});
  PluginHost other(PluginHost::Context{"b", "p", {}, {}, nullptr});
  const std::string json = R"({"action":"moved"})";
  const conduit_str action{json.data(), json.size()};
  CHECK(PluginHost::api()->report(host.handle(), nullptr, action) == CONDUIT_STATUS_ERROR);
  PluginHost::DeliveryScope scope(other, "github::repo::d-1");
  CHECK(PluginHost::api()->report(host.handle(), scope.handle(), action) == CONDUIT_STATUS_ERROR);
  CHECK(scope.takeActions().empty());
}

TEST_CASE("plugin host: a delivery handle kept past its process() never reaches a later one") {
  PluginHost host(PluginHost::Context{"jira-1", "jira", {}, {}, nullptr});
  conduit_delivery* stale = nullptr;
  {
    PluginHost::DeliveryScope first(host, "github::repo::d-1");
    stale = first.handle();
  }
  // Built where the first one was, on the same stack: its handle is still its own.
  PluginHost::DeliveryScope second(host, "github::repo::d-2");
  CHECK(second.handle() != stale);
  const std::string json = R"({"action":"moved","issue":"SOC-1"})";
  CHECK(PluginHost::api()->report(host.handle(), stale, conduit_str{json.data(), json.size()}) ==
        CONDUIT_STATUS_ERROR);
  CHECK(second.takeActions().empty());
  CHECK(report(host, second, json) == CONDUIT_STATUS_OK);
  CHECK(second.takeActions().size() == 1);
}
