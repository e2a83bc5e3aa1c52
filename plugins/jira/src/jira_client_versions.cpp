// JiraClient's calls for fix versions and remote links: through request() (the deadline, the
// site's Retry-After) and failureOf() (one classification of Jira's answers), as the others.
#include <httplib.h>
#include <rapidjson/document.h>

#include "jira_client.hpp"
#include "jira_client_detail.hpp"

namespace conduit::jira {
namespace {

using detail::failureOf;
using detail::jsonString;
using detail::member;
using detail::toJson;

// A 200 whose body is not what Jira sends: a proxy's page, say. Not Jira's refusal; perhaps
// better on the next attempt.
JiraFailure unexpectedAnswer(const std::string& what, const std::string& expected) {
  return JiraFailure{
      JiraFailure::Kind::kRetryLater, 200, {}, what + ": Jira's answer is not " + expected, false};
}

Version versionOf(const rapidjson::Value& item) {
  Version version;
  // Jira writes ids as strings; some proxies and old versions as numbers.
  if (const auto* id = member(item, "id"); id != nullptr && id->IsInt64()) {
    version.id = std::to_string(id->GetInt64());
  } else {
    version.id = jsonString(item, "id");
  }
  version.name = jsonString(item, "name");
  if (const auto* released = member(item, "released"); released != nullptr && released->IsBool())
    version.released = released->GetBool();
  version.release_date = jsonString(item, "releaseDate");
  return version;
}

// The versions of a JSON array, skipping entries without a name.
std::vector<Version> versionsOf(const rapidjson::Value& list) {
  std::vector<Version> versions;
  for (const auto& item : list.GetArray()) {
    Version version = versionOf(item);
    if (!version.name.empty()) versions.push_back(std::move(version));
  }
  return versions;
}

}  // namespace

std::variant<std::vector<Version>, JiraFailure> JiraClient::versions(const std::string& project) {
  const std::string path = address_.base_path + "/rest/api/2/project/" + project + "/versions";
  const std::string what = "GET " + project + " versions";
  std::optional<JiraFailure> failure;
  httplib::Result result =
      request([&](httplib::Client& client) { return client.Get(path.c_str()); }, &failure, what);
  if (failure) return *failure;
  if (!result || result->status != 200) return failureOf(result, what, siteWait());
  rapidjson::Document document;
  document.Parse(result->body.data(), result->body.size());
  if (document.HasParseError() || !document.IsArray()) {
    return unexpectedAnswer(what, "a JSON array");
  }
  return versionsOf(document);
}

std::variant<Version, JiraFailure> JiraClient::createVersion(const NewVersion& version) {
  const std::string path = address_.base_path + "/rest/api/2/version";
  const std::string body = toJson([&](auto& w) {
    w.StartObject();
    w.Key("name");
    w.String(version.name.c_str(), static_cast<rapidjson::SizeType>(version.name.size()));
    // The project's key: Jira Cloud and Data Center both take it (Cloud also projectId).
    w.Key("project");
    w.String(version.project.c_str(), static_cast<rapidjson::SizeType>(version.project.size()));
    w.Key("released");
    w.Bool(version.released);
    if (!version.release_date.empty()) {
      w.Key("releaseDate");
      w.String(version.release_date.c_str());
    }
    w.EndObject();
  });
  const std::string what = "POST " + version.project + " version \"" + version.name + "\"";
  std::optional<JiraFailure> failure;
  httplib::Result result = request(
      [&](httplib::Client& client) { return client.Post(path.c_str(), body, "application/json"); },
      &failure, what);
  if (failure) return *failure;
  if (!result || result->status < 200 || result->status >= 300) {
    return failureOf(result, what, siteWait());
  }
  rapidjson::Document document;
  document.Parse(result->body.data(), result->body.size());
  Version made = versionOf(document);
  // Made, whatever the body says: a retry finds it in the list.
  if (made.name.empty()) made.name = version.name;
  return made;
}

std::variant<std::vector<Version>, JiraFailure> JiraClient::fixVersions(const std::string& key) {
  const std::string path = address_.base_path + "/rest/api/2/issue/" + key + "?fields=fixVersions";
  const std::string what = "GET " + key + " fix versions";
  std::optional<JiraFailure> failure;
  httplib::Result result =
      request([&](httplib::Client& client) { return client.Get(path.c_str()); }, &failure, what);
  if (failure) return *failure;
  if (!result || result->status != 200) return failureOf(result, what, siteWait());
  rapidjson::Document document;
  document.Parse(result->body.data(), result->body.size());
  if (document.HasParseError() || !document.IsObject()) {
    return unexpectedAnswer(what, "a JSON object");
  }
  const auto* fields = member(document, "fields");
  if (fields == nullptr || !fields->IsObject()) return unexpectedAnswer(what, "an issue");
  const auto* list = member(*fields, "fixVersions");
  // Jira leaves the field out, or null, where an issue type's screens lack it: none then.
  if (list == nullptr || list->IsNull()) return std::vector<Version>{};
  if (!list->IsArray()) return unexpectedAnswer(what, "an issue with fields.fixVersions");
  return versionsOf(*list);
}

std::optional<JiraFailure> JiraClient::addFixVersion(const std::string& key,
                                                     const std::string& name) {
  const std::string path = address_.base_path + "/rest/api/2/issue/" + key;
  const std::string body = toJson([&](auto& w) {
    w.StartObject();
    w.Key("update");
    w.StartObject();
    w.Key("fixVersions");
    w.StartArray();
    w.StartObject();
    w.Key("add");
    w.StartObject();
    w.Key("name");
    w.String(name.c_str(), static_cast<rapidjson::SizeType>(name.size()));
    w.EndObject();
    w.EndObject();
    w.EndArray();
    w.EndObject();
    w.EndObject();
  });
  const std::string what = "PUT " + key + " fix version \"" + name + "\"";
  std::optional<JiraFailure> failure;
  httplib::Result result = request(
      [&](httplib::Client& client) { return client.Put(path.c_str(), body, "application/json"); },
      &failure, what);
  if (failure) return failure;
  if (result && result->status >= 200 && result->status < 300) return std::nullopt;
  return failureOf(result, what, siteWait());
}

std::variant<bool, JiraFailure> JiraClient::remoteLink(const std::string& key,
                                                       const RemoteLink& link) {
  const std::string path = address_.base_path + "/rest/api/2/issue/" + key + "/remotelink";
  auto text = [](auto& w, const std::string& value) {
    w.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
  };
  const std::string body = toJson([&](auto& w) {
    w.StartObject();
    w.Key("globalId");
    text(w, link.global_id);
    w.Key("application");
    w.StartObject();
    w.Key("type");
    text(w, link.application_type);
    w.Key("name");
    text(w, link.application_name);
    w.EndObject();
    if (!link.relationship.empty()) {
      w.Key("relationship");
      text(w, link.relationship);
    }
    w.Key("object");
    w.StartObject();
    w.Key("url");
    text(w, link.url);
    w.Key("title");
    text(w, link.title);
    if (!link.summary.empty()) {
      w.Key("summary");
      text(w, link.summary);
    }
    if (!link.icon_url.empty()) {
      w.Key("icon");
      w.StartObject();
      w.Key("url16x16");
      text(w, link.icon_url);
      w.Key("title");
      text(w, link.icon_title);
      w.EndObject();
    }
    if (link.resolved) {
      w.Key("status");
      w.StartObject();
      w.Key("resolved");
      w.Bool(*link.resolved);
      w.EndObject();
    }
    w.EndObject();
    w.EndObject();
  });
  const std::string what = "POST " + key + " remote link " + link.url;
  std::optional<JiraFailure> failure;
  httplib::Result result = request(
      [&](httplib::Client& client) { return client.Post(path.c_str(), body, "application/json"); },
      &failure, what);
  if (failure) return *failure;
  if (result && result->status >= 200 && result->status < 300) return result->status == 201;
  return failureOf(result, what, siteWait());
}

}  // namespace conduit::jira
