#include "jira_settings.hpp"

#include <map>
#include <stdexcept>

#include <doctest/doctest.h>

using conduit::jira::base64;
using conduit::jira::parseAddress;
using conduit::jira::readSettings;

namespace {

conduit::jira::ConfigLookup lookup(std::map<std::string, std::string> values) {
  return [values](std::string_view key) -> std::optional<std::string> {
    auto it = values.find(std::string(key));
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

const std::map<std::string, std::string> kCloud = {
    {"atlassian_domain_url", "https://example.atlassian.net"},
    {"atlassian_email", "bot@example.com"},
    {"atlassian_api_key", "t0ken"}};

std::string errorOf(const std::string& json, const std::map<std::string, std::string>& config) {
  try {
    readSettings(json, {"SOC"}, lookup(config));
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("jira settings: the original's keys - Basic auth for Jira Cloud") {
  auto s = readSettings(R"({"statefile":"jira.hcl","projects":["soc"]})", {"SOC"}, lookup(kCloud));
  CHECK(s.address.scheme_host_port == "https://example.atlassian.net");
  CHECK(s.address.base_path == "");
  CHECK(s.credentials.authorization == "Basic " + base64("bot@example.com:t0ken"));
  CHECK(s.credentials.who == "bot@example.com");
  CHECK(s.triggers.at("pull_request.merged") == "next");
  CHECK(s.triggers.at("release.published") == "next");
  CHECK(s.triggers.size() == 2);
  CHECK_FALSE(s.comment);
  CHECK_FALSE(s.dry_run);
  CHECK(s.timeout == std::chrono::milliseconds(10000));
  CHECK(s.max_keys_per_event == 100);
}

TEST_CASE("jira settings: max_keys_per_event from 1 to 10000, named when outside") {
  CHECK(readSettings(R"({"max_keys_per_event":1})", {"SOC"}, lookup(kCloud)).max_keys_per_event ==
        1);
  CHECK(
      readSettings(R"({"max_keys_per_event":10000})", {"SOC"}, lookup(kCloud)).max_keys_per_event ==
      10000);
  for (const char* wrong : {"0", "10001", "-1", "2.5", "\"many\""}) {
    CHECK(errorOf(std::string(R"({"max_keys_per_event":)") + wrong + "}", kCloud) ==
          "workers.yaml: `max_keys_per_event` must be a number from 1 to 10000");
  }
}

TEST_CASE("jira settings: blanks around a credential (a file's CRLF) are dropped") {
  auto s = readSettings("{}", {"SOC"},
                        lookup({{"atlassian_domain_url", "https://x.atlassian.net"},
                                {"atlassian_email", " bot@example.com "},
                                {"atlassian_api_key", "t0ken\r\n"}}));
  CHECK(s.credentials.authorization == "Basic " + base64("bot@example.com:t0ken"));
}

TEST_CASE("jira settings: a personal access token means Bearer (Jira Data Center)") {
  auto s = readSettings("{}", {"SOC"},
                        lookup({{"atlassian_domain_url", "https://jira.example.com/jira/"},
                                {"atlassian_pat", "p4t"}}));
  CHECK(s.credentials.authorization == "Bearer p4t");
  CHECK(s.credentials.who.find("p4t") == std::string::npos);
  CHECK(s.address.base_path == "/jira");
}

TEST_CASE("jira settings: triggers - comment and dry_run from workers.yaml") {
  auto s = readSettings(R"({"triggers":{"push":"next","release.published":"release"},
                            "comment":true,"dry_run":true})",
                        {"SOC"}, lookup(kCloud));
  CHECK(s.triggers ==
        std::map<std::string, std::string>{{"push", "next"}, {"release.published", "release"}});
  CHECK(s.comment);
  CHECK(s.dry_run);
}

TEST_CASE("jira settings: every mistake is named") {
  CHECK(errorOf("{}", {}).find("atlassian_domain_url is not set") == 0);
  CHECK(errorOf("{}", {{"atlassian_domain_url", "https://x.atlassian.net"}})
            .find("Jira credentials are not set") == 0);
  CHECK(errorOf(R"({"triggers":{"push":1}})", kCloud).find("triggers: `push`") !=
        std::string::npos);
  CHECK(errorOf(R"({"triggers":[]})", kCloud).find("`triggers` must map") != std::string::npos);
  CHECK(errorOf(R"({"comment":"yes"})", kCloud).find("`comment` must be true or false") !=
        std::string::npos);
  auto crlf = kCloud;
  crlf["atlassian_api_key"] = "t0k\r\nen";
  CHECK(errorOf("{}", crlf) == "atlassian_api_key: contains a control character");
  auto bad_timeout = kCloud;
  bad_timeout["atlassian_timeout_ms"] = "fast";
  CHECK(errorOf("{}", bad_timeout).find("atlassian_timeout_ms") == 0);
}

TEST_CASE("jira settings: https - or plain http only for this machine") {
  CHECK(parseAddress("http://127.0.0.1:9095").scheme_host_port == "http://127.0.0.1:9095");
  CHECK(parseAddress("http://localhost:9095/").base_path == "");
  CHECK_THROWS_WITH_AS(parseAddress("http://jira.example.com"),
                       doctest::Contains("use https:// for `jira.example.com`"),
                       std::invalid_argument);
  CHECK_THROWS_AS(parseAddress("ftp://jira.example.com"), std::invalid_argument);
  CHECK_THROWS_AS(parseAddress("jira.example.com"), std::invalid_argument);
  CHECK_THROWS_AS(parseAddress("https://user@jira.example.com"), std::invalid_argument);
  CHECK(parseAddress("https://jira.example.com:8443/jira").scheme_host_port ==
        "https://jira.example.com:8443");
  CHECK_THROWS_WITH_AS(parseAddress("https://jira.example.com:99999999999"),
                       doctest::Contains("is not a port number"), std::invalid_argument);
  CHECK_THROWS_AS(parseAddress("https://jira.example.com:"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(parseAddress("https://[2001:db8::a]"),
                       doctest::Contains("is not a host name"), std::invalid_argument);
  CHECK_THROWS_AS(parseAddress("https://jira.example.com?x=1"), std::invalid_argument);
  CHECK_THROWS_AS(parseAddress("https://jira.example.com/a b"), std::invalid_argument);
  CHECK_THROWS_AS(parseAddress("https://jira.example.com/a\r\nX: y"), std::invalid_argument);
}

TEST_CASE("jira settings: base64 as RFC 4648") {
  CHECK(base64("") == "");
  CHECK(base64("f") == "Zg==");
  CHECK(base64("fo") == "Zm8=");
  CHECK(base64("foo") == "Zm9v");
  CHECK(base64("foob") == "Zm9vYg==");
}

TEST_CASE("jira settings: issue 13's keys - fix versions - smart commits - links - key case") {
  auto defaults = readSettings("{}", {"SOC"}, lookup(kCloud));
  CHECK_FALSE(defaults.fix_versions);
  CHECK(defaults.fix_version_name == "{tag}");
  CHECK_FALSE(defaults.smart_commits);
  CHECK_FALSE(defaults.link);
  CHECK(defaults.key_case == conduit::jira::JiraSettings::KeyCase::kExact);
  CHECK(defaults.concurrency == 4);
  CHECK(defaults.max_requests_per_second == 0);

  auto config = kCloud;
  config["atlassian_max_requests_per_second"] = "2.5";
  const std::string entry =
      R"json({"fix_versions":true,"fix_version_name":"{repo} {tag} ({name})",)json"
      R"json("smart_commits":true,"link":true,"key_case":"insensitive","concurrency":16})json";
  auto s = readSettings(entry, {"SOC"}, lookup(config));
  CHECK(s.fix_versions);
  CHECK(s.fix_version_name == "{repo} {tag} ({name})");
  CHECK(s.smart_commits);
  CHECK(s.link);
  CHECK(s.key_case == conduit::jira::JiraSettings::KeyCase::kInsensitive);
  CHECK(s.concurrency == 16);
  CHECK(s.max_requests_per_second == 2.5);
}

TEST_CASE("jira settings: a trigger mapped to nothing moves nothing - it is still a trigger") {
  auto s = readSettings(R"({"triggers":{"release.published":null,"pull_request.merged":""}})",
                        {"SOC"}, lookup(kCloud));
  CHECK(s.triggers ==
        std::map<std::string, std::string>{{"pull_request.merged", ""}, {"release.published", ""}});
}

TEST_CASE("jira settings: issue 13's mistakes are named") {
  CHECK(errorOf(R"({"fix_version_name":"{version}"})", kCloud) ==
        "workers.yaml: `fix_version_name`: `{version}` is not a placeholder (use {tag}, {name} "
        "or {repo})");
  CHECK(errorOf(R"({"fix_version_name":"v{tag"})", kCloud).find("`{tag` is not a placeholder") !=
        std::string::npos);
  CHECK(errorOf(R"({"fix_version_name":3})", kCloud).find("`fix_version_name` must be a text") !=
        std::string::npos);
  CHECK(errorOf(R"({"key_case":"upper"})", kCloud) ==
        "workers.yaml: `key_case` must be exact or insensitive");
  CHECK(errorOf(R"({"concurrency":0})", kCloud) ==
        "workers.yaml: `concurrency` must be a number from 1 to 64");
  CHECK(errorOf(R"({"concurrency":65})", kCloud).find("from 1 to 64") != std::string::npos);
  CHECK(errorOf(R"({"link":"yes"})", kCloud) == "workers.yaml: `link` must be true or false");
  for (const char* rate : {"-1", "fast", "1e9", "nan", "2 ", "0.001", "1e-11"}) {
    auto config = kCloud;
    config["atlassian_max_requests_per_second"] = rate;
    CAPTURE(rate);
    CHECK(errorOf("{}", config).find("atlassian_max_requests_per_second: `") == 0);
  }
}

TEST_CASE("jira settings: a key nobody reads is refused - with the one meant") {
  CHECK(errorOf(R"({"fix_version":true})", kCloud) ==
        "workers.yaml: `fix_version` is not a key of the Jira processor (did you mean "
        "`fix_versions`?); its keys are statefile, projects, plugin, triggers, comment, "
        "dry_run, max_keys_per_event, fix_versions, fix_version_name, smart_commits, link, "
        "key_case, concurrency");
  CHECK(errorOf(R"({"colour":"red"})", kCloud)
            .find("`colour` is not a key of the Jira "
                  "processor; its keys are") != std::string::npos);
  // The original's entries: conduit's own keys.
  CHECK(errorOf(R"({"statefile":"jira.hcl","projects":["soc"],"plugin":"jira"})", kCloud) == "");
}
