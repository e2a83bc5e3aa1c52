// `conduit plugins`: what a plugin folder holds, as an operator sees it.
#include <filesystem>
#include <fstream>

#include <doctest/doctest.h>

#include "process.hpp"

using conduit::testing::runToEnd;

namespace {

const std::string kConduit = CONDUIT_BINARY;
const std::string kPlugins = CONDUIT_TEST_PLUGIN_DIR;

// The line of `out` that starts with `name` (after the indent), or "".
std::string lineOf(const std::string& out, const std::string& name) {
  const std::string start = "\n  " + name + " ";
  const size_t at = out.find(start);
  if (at == std::string::npos) return "";
  return out.substr(at + 3, out.find('\n', at + 1) - at - 3);
}

}  // namespace

TEST_CASE("cli: `conduit plugins` lists name - version and ABI - or why a plugin cannot load") {
  std::string out, err;
  CHECK(runToEnd({kConduit, "plugins", "--plugin-dir", kPlugins}, &out, &err) == 0);
  CHECK(out.rfind("plugins in " + kPlugins + ":\n", 0) == 0);
  CHECK(lineOf(out, "sdk_echo").find("2.1.0") != std::string::npos);
  CHECK(lineOf(out, "sdk_echo").find("ABI 1.4  thread-safe") != std::string::npos);
  CHECK(lineOf(out, "scripted").find("1.0.0") != std::string::npos);
  CHECK(lineOf(out, "no_entry")
            .find("cannot load: plugin " + kPlugins +
                  "/no_entry.so: it does not export conduit_plugin_entry_v1") != std::string::npos);
  CHECK(lineOf(out, "abi_major_mismatch").find("cannot load:") != std::string::npos);
  CHECK(lineOf(out, "wrong_name").find("cannot load:") != std::string::npos);
}

TEST_CASE("cli: `conduit plugins` reads plugin_dir from the config - and CONDUIT_PLUGIN_DIR") {
  const std::string dir = std::filesystem::temp_directory_path() / "conduit-plugins-test";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/app.env") << "plugin_dir=" << kPlugins << "\n";
  std::string out;
  CHECK(runToEnd({kConduit, "plugins", "--config", dir + "/app.env"}, &out) == 0);
  CHECK(lineOf(out, "scripted").find("1.0.0") != std::string::npos);
  CHECK(runToEnd({kConduit, "plugins", "--config", dir + "/app.env"}, &out, nullptr,
                 {{"CONDUIT_PLUGIN_DIR", dir}}) == 0);
  CHECK(out == "plugins in " + dir + ":\n  (none)\n");
  std::filesystem::remove_all(dir);
}

TEST_CASE("cli: `conduit plugins` on a folder it cannot read exits 1 - naming it") {
  std::string out, err;
  CHECK(runToEnd({kConduit, "plugins", "--plugin-dir", "/nonexistent/plugins"}, &out, &err) == 1);
  CHECK(err.find("cannot read the plugin folder /nonexistent/plugins") != std::string::npos);
}
