// A test plugin built with the C++ SDK that uses every host service, so that the SDK's
// plumbing is checked end to end through a real .so.
#include <string>

#include <conduit/sdk.hpp>

class SdkEcho : public conduit::sdk::Processor {
 public:
  static constexpr const char* kConfigKeys[] = {"echo_greeting", nullptr};

  void configure(const conduit::sdk::Config& config) override {
    if (config.projects.empty()) throw std::invalid_argument("sdk_echo needs at least one project");
    project_ = config.projects.front();
  }

  conduit::sdk::Result process(const conduit::sdk::Event& event,
                               conduit::sdk::Delivery& delivery) override {
    host().info(host().config("echo_greeting").value_or("hello") + " " + std::string(event.kind()));
    host().count("echo.events");
    if (delivery.get("done")) return conduit::sdk::Result::ok();  // a retry: already done
    if (event.kind() == "release.published") {
      return conduit::sdk::Result::failed("releases are not for echo");
    }
    auto answer = host().next(delivery, project_, std::string(event.title()), "next");
    if (!answer.next) return conduit::sdk::Result::retry(answer.error, std::chrono::seconds(3));
    delivery.put("done", answer.next->end ? "<end>" : answer.next->status);
    return conduit::sdk::Result::ok();
  }

 private:
  std::string project_;
};

CONDUIT_PLUGIN(SdkEcho, "sdk_echo", "2.1.0", CONDUIT_CAPABILITY_THREAD_SAFE)
