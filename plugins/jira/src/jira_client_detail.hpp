#pragma once

// The helpers jira_client.cpp defines for its own calls, for the JiraClient calls other files
// define (jira_client_versions.cpp): one classification of Jira's answers for every call.

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include <httplib.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "jira_client.hpp"

namespace conduit::jira::detail {

// The member `name` of `value` when `value` is an object that has it; nullptr otherwise.
const rapidjson::Value* member(const rapidjson::Value& value, const char* name);
// The string member `name` of `object`; empty when it is missing or not a string.
std::string jsonString(const rapidjson::Value& object, const char* name);
// What a call that did not succeed means (JiraFailure's kinds); `site_wait`: what is left of
// the site's Retry-After.
JiraFailure failureOf(const httplib::Result& result, std::string_view what,
                      std::chrono::milliseconds site_wait);
std::string toJson(const std::function<void(rapidjson::Writer<rapidjson::StringBuffer>&)>& write);

}  // namespace conduit::jira::detail
