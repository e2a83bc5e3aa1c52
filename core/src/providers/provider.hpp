#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "providers/event.hpp"

namespace conduit::providers {

// Looks up a request header by name, case-insensitively. The view lives as long as the request.
using HeaderLookup = std::function<std::optional<std::string_view>(std::string_view name)>;

enum class SignatureStatus { kValid, kMissing, kMalformed, kMismatch };

// How a host's headers are named in the payload route's refusals, so that a user reads the
// names their host's delivery page shows: "X-Gitlab-Token is required".
struct HeaderNames {
  std::string_view credential;         // "X-Hub-Signature-256", "X-Gitlab-Token"
  std::string_view credential_format;  // "sha256= and 64 hex characters"; "" if any value is
                                       // well formed (a token compared as it is)
  std::string_view event;              // "X-GitHub-Event"
  std::string_view delivery;           // "X-GitHub-Delivery"
};

// Everything Conduit knows of one code host, and the only place that knows it: the payload
// route, the worker, the hook registration and the docs go through this interface and the
// registry (providers/registry.hpp). Plain C++ with no I/O: the HTTP layer hands headers and
// body in and decides the status codes from the answers.
//
// Adding a host is a class implementing this (`<host>_provider.{hpp,cpp}`), its tests, its
// section of docs/http-api.md and one line in registry.cpp.
class Provider {
 public:
  virtual ~Provider() = default;

  // The `provider` of a hook and of the payload route: "github", "bitbucket-server".
  virtual std::string_view name() const = 0;
  // The host as people call it: "GitHub", "Bitbucket Data Center". Carried by every event it
  // sends, so that a plugin can say "merge request !12 ... on GitLab".
  virtual std::string_view title() const = 0;

  // ---- Registration ----

  // Why `repo_path` is not a repository path as this host writes it ("group/subgroup/project"),
  // or nullopt when it is. Called after the generic checks (at most 256 bytes, no spaces or
  // control characters), so only the shape is left to check. The message follows the field's
  // name ("repo_path " or "--repo-path ") and shows the expected form: "must be owner/repo, as
  // in GitHub's address of the repository".
  virtual std::optional<std::string> repoPathProblem(std::string_view repo_path) const = 0;

  // ---- Receiving a delivery ----

  // The header names the payload route's refusals quote.
  virtual const HeaderNames& headerNames() const = 0;

  // True when the request carries this host's own marks (its event header, say), and not those
  // of another host that imitates it: Gitea sends GitHub's headers too, but carries its
  // X-Gitea-Event, so GitHub's provider does not recognize a Gitea delivery, Gitea's does. A
  // hook is for one host: the route refuses a delivery its hook's host does not recognize when
  // another host does.
  virtual bool recognizes(const HeaderLookup& headers) const = 0;

  // Checks that the delivery comes from someone holding the hook's secret: an HMAC of the raw
  // body, or the secret itself in a header. In constant time either way.
  virtual SignatureStatus authenticate(const HeaderLookup& headers, std::string_view body,
                                       std::string_view secret) const = 0;

  // The event type (`pull_request`, `Merge Request Hook`, `pr:merged`, ...) and the delivery's
  // unique id, the same across the host's own retries where the host has such an id. Empty
  // header values are treated as missing.
  virtual std::optional<std::string_view> eventType(const HeaderLookup& headers) const = 0;
  virtual std::optional<std::string_view> deliveryId(const HeaderLookup& headers) const = 0;

  // The host's hook-creation handshake or connection test, answered but never queued.
  virtual bool isPing(std::string_view event_type) const = 0;

  // Whether the host may send its ping without the signature its deliveries carry (Bitbucket
  // Data Center's "Test connection" has come unsigned): such a ping is answered 200 all the
  // same, as it queues nothing. A ping with a malformed or wrong signature is still refused.
  virtual bool sendsUnsignedPings() const { return false; }

  // Whether the host may send `application/x-www-form-urlencoded` bodies with a `payload=`
  // field, signed over the raw body (GitHub). Others are sent as JSON only.
  virtual bool acceptsFormBodies() const { return false; }

  // The event types worth a metrics series of their own: any other is counted as `other`, so
  // that a client cannot grow the label set by sending made-up event headers.
  virtual const std::vector<std::string_view>& knownEvents() const = 0;

  // ---- Processing a delivery (in the worker) ----

  // Reduces a delivery to the Event processors see (event.hpp lists the kinds and fields).
  // nullopt with `error` set when the payload is not a JSON object. `host` is left to the
  // registry's normalize(), which sets it from title().
  virtual std::optional<Event> normalize(std::string_view event_type, std::string_view payload,
                                         std::string& error) const = 0;
};

}  // namespace conduit::providers
