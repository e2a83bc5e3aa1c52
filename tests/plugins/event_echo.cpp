// A test plugin built with the C++ SDK that reports every field of each event it is handed, read
// through sdk::Event's accessors: what a third-party plugin sees of an event, end to end through
// a real .so. Each process() call reports (ABI 1.2) one action `event` with every field, then one
// action `commit` per commit of Event::commits(), oldest first.
#include <string>

#include <conduit/sdk.hpp>

class EventEcho : public conduit::sdk::Processor {
 public:
  conduit::sdk::Result process(const conduit::sdk::Event& event,
                               conduit::sdk::Delivery& delivery) override {
    const auto commits = event.commits();
    host().report(delivery, "event",
                  {{"attempt", event.attempt()},
                   {"provider", event.provider()},
                   {"repo_id", event.repoId()},
                   {"repo_path", event.repoPath()},
                   {"kind", event.kind()},
                   {"delivery_id", event.deliveryId()},
                   {"title", event.title()},
                   {"body", event.body()},
                   {"branch", event.branch()},
                   {"release_name", event.releaseName()},
                   {"release_body", event.releaseBody()},
                   {"url", event.url()},
                   {"author", event.author()},
                   {"raw_json", event.rawJson()},
                   {"host_name", event.hostName()},
                   {"repository", event.repository()},
                   {"number", event.number()},
                   {"reference", event.reference()},
                   {"target_branch", event.targetBranch()},
                   {"tag", event.tag()},
                   {"released_at", event.releasedAt()},
                   {"commit_messages", event.commitMessages().size()},
                   {"commits", commits.size()}});
    for (size_t i = 0; i < commits.size(); ++i) {
      host().report(delivery, "commit",
                    {{"index", i},
                     {"id", commits[i].id},
                     {"message", commits[i].message},
                     {"url", commits[i].url},
                     {"author", commits[i].author}});
    }
    return conduit::sdk::Result::ok();
  }
};

CONDUIT_PLUGIN(EventEcho, "event_echo", "1.0.0", CONDUIT_CAPABILITY_THREAD_SAFE)
