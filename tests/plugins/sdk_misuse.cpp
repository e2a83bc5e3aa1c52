// Processor classes CONDUIT_PLUGIN must refuse, one per SDK_MISUSE value, each with the readable
// message of sdk.hpp's CheckedProcessor: compiled (and expected to fail) by the tests in
// CMakeLists.txt, never built into anything.
#include <conduit/sdk.hpp>

#if SDK_MISUSE == 1
// Not a Processor at all.
class NotAProcessor {
 public:
  conduit::sdk::Result process(const conduit::sdk::Event&, conduit::sdk::Delivery&) {
    return conduit::sdk::Result::ok();
  }
};
CONDUIT_PLUGIN(NotAProcessor, "misuse", "1.0.0", 0)
#elif SDK_MISUSE == 2
// process() with another signature: it overrides nothing, and the class stays abstract.
class WrongProcess : public conduit::sdk::Processor {
 public:
  conduit::sdk::Result process(const conduit::sdk::Event&) { return conduit::sdk::Result::ok(); }
};
CONDUIT_PLUGIN(WrongProcess, "misuse", "1.0.0", 0)
#elif SDK_MISUSE == 3
// Needs its settings in the constructor: the host has none to give.
class NeedsArguments : public conduit::sdk::Processor {
 public:
  explicit NeedsArguments(int limit) : limit_(limit) {}
  conduit::sdk::Result process(const conduit::sdk::Event&, conduit::sdk::Delivery&) override {
    return limit_ > 0 ? conduit::sdk::Result::ok() : conduit::sdk::Result::failed("no limit");
  }

 private:
  int limit_;
};
CONDUIT_PLUGIN(NeedsArguments, "misuse", "1.0.0", 0)
#endif
