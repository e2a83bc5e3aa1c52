#pragma once

#include <string_view>

namespace conduit::http {

// True for a client address on this machine: 127.0.0.0/8, ::1, or an IPv4-mapped 127.x.
bool isLoopbackAddress(std::string_view address);

}  // namespace conduit::http
