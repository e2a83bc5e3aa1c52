#include "providers/host_conventions.hpp"

#include <doctest/doctest.h>

using conduit::providers::commitsAt;
using conduit::providers::groupedKind;
using conduit::providers::isNullRevision;
using conduit::providers::kindWord;
using conduit::providers::pathSegments;
using conduit::providers::PayloadJson;

TEST_CASE("host conventions: path segments - an empty one makes the path none") {
  CHECK(pathSegments("acme/payments") == 2);
  CHECK(pathSegments("acme/platform/payments/api") == 4);
  CHECK(pathSegments("acme") == 1);
  for (const char* bad : {"", "/acme/payments", "acme/payments/", "acme//payments", "/"}) {
    CHECK_MESSAGE(pathSegments(bad) == 0, bad);
  }
}

TEST_CASE("host conventions: the null revision - SHA-1 and SHA-256 long") {
  CHECK(isNullRevision(std::string(40, '0')));
  CHECK(isNullRevision(std::string(64, '0')));
  CHECK_FALSE(isNullRevision(""));
  CHECK_FALSE(isNullRevision("0000000000000000000000000000000000000001"));
}

TEST_CASE("host conventions: kind words cannot spell a dot or another kind") {
  CHECK(kindWord("Wiki Page") == "wiki_page");
  CHECK(kindWord("pull_request.merged") == "pull_request_merged");
  CHECK(kindWord("Ünïcode") == "__n__code");
  CHECK(groupedKind("pr:reviewer:approved", "pr") == "pull_request.reviewer_approved");
  CHECK(groupedKind("pullrequest:comment_created", "pullrequest") ==
        "pull_request.comment_created");
  CHECK(groupedKind("repo:refs-changed", "pr") == "repo.refs_changed");
  CHECK(groupedKind("mirror", "pr") == "mirror");
  CHECK(groupedKind("PR.x:merged.y", "pr") == "pr_x.merged_y");  // a dot only between the two
}

TEST_CASE("host conventions: commits oldest first - without a message left out - author name") {
  std::string error;
  auto json = PayloadJson::parse(R"({"commits":[
      {"id":"a1","message":"SOC-1 one","url":"https://x/a1","author":{"name":"Ann Lee"}},
      {"id":"b2","message":"","url":"https://x/b2"}, 7, null,
      {"id":"c3","message":"SOC-2 two","author":{"username":"bob"}}]})",
                                 error);
  REQUIRE(json.has_value());
  auto commits = commitsAt(*json, "/commits");
  REQUIRE(commits.size() == 2);
  CHECK(commits[0].id == "a1");
  CHECK(commits[0].url == "https://x/a1");
  CHECK(commits[0].author == "Ann Lee");
  CHECK(commits[1].message == "SOC-2 two");
  CHECK(commits[1].author == "bob");
  CHECK(commitsAt(*json, "/missing").empty());
}
