#include "app/version.hpp"

namespace conduit::app {

std::string_view version() {
  return CONDUIT_VERSION;
}

}  // namespace conduit::app
