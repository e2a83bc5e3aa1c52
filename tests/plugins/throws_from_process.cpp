// A test plugin built with the C++ SDK whose process() throws: the SDK must catch it at the
// boundary and answer RETRY with the exception's message.
#include <stdexcept>

#include <conduit/sdk.hpp>

class ThrowsFromProcess : public conduit::sdk::Processor {
 public:
  conduit::sdk::Result process(const conduit::sdk::Event&, conduit::sdk::Delivery&) override {
    throw std::runtime_error("the processor exploded");
  }
};

CONDUIT_PLUGIN(ThrowsFromProcess, "throws_from_process", "1.0.0", 0)
