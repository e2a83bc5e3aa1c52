// The docs' table of code hosts goes through the registry: a host added to allProviders() without
// its row and section in docs/http-api.md fails here, and so does a row naming a header the
// provider does not read.
#include <cctype>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "providers/registry.hpp"

namespace {

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), "cannot read " << path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The lines of the section `heading` ("## Code hosts"), up to the next heading of its level.
std::vector<std::string> sectionLines(const std::string& markdown, const std::string& heading) {
  std::vector<std::string> lines;
  std::istringstream in(markdown);
  bool inside = false;
  for (std::string line; std::getline(in, line);) {
    if (line == heading) {
      inside = true;
      continue;
    }
    if (inside && line.rfind("## ", 0) == 0) break;
    if (inside) lines.push_back(line);
  }
  return lines;
}

// The rows of the section's table of hosts: the table whose header starts `| provider |`.
std::vector<std::string> hostRows(const std::vector<std::string>& section) {
  std::vector<std::string> rows;
  bool inside = false;
  for (const auto& line : section) {
    if (line.rfind("| provider |", 0) == 0) {
      inside = true;
      continue;
    }
    if (!inside) continue;
    if (line.rfind("|", 0) != 0) break;
    if (line.rfind("|---", 0) != 0) rows.push_back(line);
  }
  return rows;
}

// The header names in a refusal's wording: the words with a dash ("X-Gitea-Event").
std::vector<std::string> headerNamesIn(std::string_view text) {
  std::vector<std::string> names;
  std::string word;
  for (size_t i = 0; i <= text.size(); ++i) {
    const char c = i < text.size() ? text[i] : ' ';
    if (std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-') {
      word += c;
      continue;
    }
    if (word.find('-') != std::string::npos) names.push_back(word);
    word.clear();
  }
  return names;
}

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("host docs: every provider has its row in http-api.md's table - and its section") {
  const auto section =
      sectionLines(readFile(std::string(CONDUIT_DOCS_DIR) + "/http-api.md"), "## Code hosts");
  REQUIRE_FALSE(section.empty());
  const auto table = hostRows(section);
  for (const auto* provider : conduit::providers::allProviders()) {
    CAPTURE(provider->name());
    const std::string row_start = "| `" + std::string(provider->name()) + "` ";
    std::vector<std::string> rows;
    for (const auto& line : table)
      if (line.rfind(row_start, 0) == 0) rows.push_back(line);
    REQUIRE_MESSAGE(rows.size() == 1, "one table row starting with " << row_start);
    // Each header the refusals name: "Idempotency-Key or X-Gitlab-Webhook-UUID" and
    // "X-Forgejo-Event (or X-Gitea-Event)" are two.
    const auto& names = provider->headerNames();
    for (std::string_view header : {names.event, names.delivery, names.credential}) {
      for (const auto& one : headerNamesIn(header)) {
        const bool named = contains(rows[0], "`" + one + "`") || contains(rows[0], "`" + one + ":");
        CHECK_MESSAGE(named, one << " is not named in " << rows[0]);
      }
    }
    const std::string title = "### " + std::string(provider->title());
    bool titled = false;
    for (const auto& line : section)
      titled = titled || line == title;
    CHECK_MESSAGE(titled, "no section " << title);
  }
}

TEST_CASE("host docs: every row of the table is a provider Conduit knows") {
  const auto section =
      sectionLines(readFile(std::string(CONDUIT_DOCS_DIR) + "/http-api.md"), "## Code hosts");
  std::set<std::string> known;
  for (const auto* provider : conduit::providers::allProviders())
    known.insert(std::string(provider->name()));
  size_t rows = 0;
  for (const auto& line : hostRows(section)) {
    REQUIRE(line.rfind("| `", 0) == 0);
    const auto end = line.find('`', 3);
    REQUIRE(end != std::string::npos);
    const std::string name = line.substr(3, end - 3);
    CHECK_MESSAGE(known.count(name) == 1, "a row for an unknown provider: " << line);
    ++rows;
  }
  CHECK(rows == known.size());
}
