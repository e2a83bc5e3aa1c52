// The smallest useful processor: it logs what it receives, counts it, and asks the state
// machine where a merged pull request would move the issue named in its title.
#include <string>

#include <conduit/sdk.hpp>

class Hello : public conduit::sdk::Processor {
 public:
  void configure(const conduit::sdk::Config& config) override {
    project_ = config.projects.empty() ? "" : config.projects.front();
  }

  conduit::sdk::Result process(const conduit::sdk::Event& event,
                               conduit::sdk::Delivery& delivery) override {
    host().info("hello: " + std::string(event.kind()) + " in " + std::string(event.repoPath()) +
                " (delivery " + std::string(event.deliveryId()) + ", attempt " +
                std::to_string(event.attempt()) + "): " + std::string(event.title()));
    host().count("hello.events");
    if (!project_.empty()) {
      auto answer = host().next(delivery, project_, "To Do", "next");
      host().info(answer.next ? "hello: To Do moves to " + answer.next->status
                              : "hello: " + answer.error);
    }
    return conduit::sdk::Result::ok();
  }

 private:
  std::string project_;
};

CONDUIT_PLUGIN(Hello, "hello", "1.0.0", CONDUIT_CAPABILITY_THREAD_SAFE)
