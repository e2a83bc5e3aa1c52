#include "logging/log_context.hpp"

#include <string>

#include <doctest/doctest.h>

#include "app/logging.hpp"

using conduit::logging::currentLogFields;
using conduit::logging::leadingIssueKey;
using conduit::logging::LogScope;

TEST_CASE("log context: scopes nest - the inner adds fields - the outer's come back after it") {
  CHECK(currentLogFields().delivery.empty());
  {
    LogScope outer;
    outer.delivery("d-1").provider("github").repoId("payments");
    {
      LogScope inner;
      inner.worker("jira").issue("SOC-1");
      const auto fields = currentLogFields();
      CHECK(fields.delivery == "d-1");
      CHECK(fields.provider == "github");
      CHECK(fields.worker == "jira");
      CHECK(fields.issue == "SOC-1");
      LogScope innermost;
      innermost.delivery("d-2");
      CHECK(currentLogFields().delivery == "d-2");
    }
    CHECK(currentLogFields().delivery == "d-1");
    CHECK(currentLogFields().worker.empty());
  }
  CHECK(currentLogFields().delivery.empty());
}

TEST_CASE("log context: an issue key starting a plugin's line") {
  CHECK(leadingIssueKey("SOC-12 moved from \"To Do\" to \"In Progress\"") == "SOC-12");
  CHECK(leadingIssueKey("DEV_OPS2-7: took back the lease") == "DEV_OPS2-7");
  CHECK(leadingIssueKey("SOC-3") == "SOC-3");
  CHECK(leadingIssueKey("dry run: would move SOC-1") == "");
  CHECK(leadingIssueKey("SOC-12x is odd") == "");
  CHECK(leadingIssueKey("SOC- 12") == "");
  CHECK(leadingIssueKey("soc-12 lower case") == "");
  CHECK(leadingIssueKey("") == "");
}

TEST_CASE("json log: time, level, msg, then the fields set - escaped, always valid UTF-8") {
  using conduit::app::jsonLogLine;
  CHECK(jsonLogLine("2026-12-05T14:02:03.123Z", "info", "plain") ==
        R"({"time":"2026-12-05T14:02:03.123Z","level":"info","msg":"plain"})");
  LogScope scope;
  scope.delivery("d-1").provider("github").repoId("payments").worker("jira").issue("SOC-1");
  CHECK(jsonLogLine("t", "warn", "a \"quoted\" \\ line\nwith\ttabs\x01") ==
        R"({"time":"t","level":"warn","msg":"a \"quoted\" \\ line\nwith\ttabs\u0001",)"
        R"("delivery":"d-1","provider":"github","repo_id":"payments","worker":"jira",)"
        R"("issue":"SOC-1"})");
  // UTF-8 is kept; a stray byte, a truncated sequence or an overlong form becomes U+FFFD.
  LogScope none;
  none.delivery("").provider("").repoId("").worker("").issue("");
  CHECK(jsonLogLine("t", "info", "caf\xc3\xa9 \xff \xe2\x82 \xc0\xaf") ==
        R"({"time":"t","level":"info","msg":"café \ufffd \ufffd\ufffd \ufffd\ufffd"})");
}
