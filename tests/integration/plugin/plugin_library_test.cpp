#include "plugin/plugin_library.hpp"

#include <dlfcn.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include <doctest/doctest.h>

using conduit::plugin::PluginLibrary;
using conduit::plugin::PluginLoadError;

namespace fs = std::filesystem;

namespace {

const std::string kPlugins = CONDUIT_TEST_PLUGIN_DIR;

// The message of the PluginLoadError that loading `name` from `dir` throws, or "" if it loads.
std::string refusal(const std::string& dir, const std::string& name) {
  try {
    PluginLibrary::load(dir, name);
  } catch (const PluginLoadError& e) {
    return e.what();
  }
  return "";
}

// A scratch plugin_dir holding copies and links of the test plugins.
struct PluginDir {
  PluginDir() {
    path = fs::temp_directory_path() /
           ("conduit-plugins-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::create_directories(path);
    fs::permissions(path, fs::perms(0755));  // whatever the umask: the loader checks it
  }
  ~PluginDir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
  std::string str() const { return path.string(); }
  fs::path path;
  static inline int counter = 0;
};

}  // namespace

TEST_CASE("plugin library: a valid plugin loads and shows its descriptor") {
  auto plugin = PluginLibrary::load(kPlugins, "good");
  CHECK(std::string(plugin.descriptor().name) == "good");
  CHECK(std::string(plugin.descriptor().version) == "1.0.0");
  CHECK(plugin.path() == kPlugins + "/good.so");
}

TEST_CASE("plugin library: the descriptor is the host's zeroed copy of as much as the plugin has") {
  auto plugin = PluginLibrary::load(kPlugins, "good");
  // The plugin's own descriptor, as its entry point returns it (the library is loaded already).
  void* handle = ::dlopen(plugin.path().c_str(), RTLD_NOW | RTLD_NOLOAD);
  REQUIRE(handle != nullptr);
  auto entry =
      reinterpret_cast<conduit_plugin_entry_fn>(::dlsym(handle, "conduit_plugin_entry_v1"));
  REQUIRE(static_cast<bool>(entry));
  const conduit_plugin_descriptor* own = entry();
  ::dlclose(handle);

  // good.c's struct_size is 1.0's: its last field is destroy.
  const size_t size_1_0 =
      offsetof(conduit_plugin_descriptor, destroy) + sizeof(conduit_plugin_descriptor::destroy);
  CHECK(own->struct_size == size_1_0);
  CHECK(&plugin.descriptor() != own);  // the host reads its copy, never the plugin's memory
  CHECK(plugin.descriptor().struct_size == own->struct_size);
  CHECK(std::memcmp(&plugin.descriptor(), own, own->struct_size) == 0);
  // Whatever 1.x appends after destroy reads as zero from a plugin of 1.0's size: here nothing
  // yet, as 1.4's descriptor is still 1.0's.
  CHECK(sizeof(conduit_plugin_descriptor) == size_1_0);
  CHECK(CONDUIT_STRUCT_HAS(&plugin.descriptor(), conduit_plugin_descriptor, destroy));
}

TEST_CASE("plugin library: a plugin built for an older minor (1.1, before reports) loads") {
  auto plugin = PluginLibrary::load(kPlugins, "abi_1_1");
  CHECK(plugin.descriptor().abi_minor == 1);
  CHECK(CONDUIT_ABI_MINOR >= 2);
}

TEST_CASE("plugin library: each refusal names the path and the failed check") {
  CHECK(refusal(kPlugins, "abi_major_mismatch") ==
        "plugin " + kPlugins +
            "/abi_major_mismatch.so: the plugin was built for ABI major 2; "
            "this conduit speaks ABI 1.4");
  CHECK(refusal(kPlugins, "struct_too_large")
            .find("struct_too_large.so: the descriptor's "
                  "struct_size") != std::string::npos);
  CHECK(refusal(kPlugins, "missing_process") ==
        "plugin " + kPlugins + "/missing_process.so: the required function `process` is missing");
  CHECK(refusal(kPlugins, "wrong_name") ==
        "plugin " + kPlugins +
            "/wrong_name.so: the plugin is named `someone_else`, not "
            "`wrong_name` as its file name says");
  CHECK(refusal(kPlugins, "no_entry") ==
        "plugin " + kPlugins +
            "/no_entry.so: it does not export conduit_plugin_entry_v1 (is it a "
            "conduit plugin, built against the SDK of ABI major 1?)");
}

TEST_CASE("plugin library: a missing plugin names the exact path tried - nothing is searched") {
  CHECK(refusal(kPlugins, "absent") ==
        "plugin " + kPlugins + "/absent.so: no such file (plugin_dir is searched, nothing else)");
  CHECK(refusal(kPlugins, "../lib/good").find("a plugin name is 1 to 64 of a-z") !=
        std::string::npos);
}

TEST_CASE("plugin library: a file others may write - or not a regular file - is refused") {
  PluginDir dir;
  fs::copy_file(kPlugins + "/good.so", dir.path / "good.so");
  ::chmod((dir.path / "good.so").c_str(), 0757);
  CHECK(refusal(dir.str(), "good").find("good.so: its group or others may write it (mode 757)") !=
        std::string::npos);
  ::chmod((dir.path / "good.so").c_str(), 0775);
  CHECK(refusal(dir.str(), "good").find("may write it (mode 775)") != std::string::npos);
  ::chmod((dir.path / "good.so").c_str(), 0755);
  CHECK(refusal(dir.str(), "good").empty());

  fs::create_directory(dir.path / "folder.so");
  CHECK(refusal(dir.str(), "folder") == "plugin " + dir.str() + "/folder.so: not a regular file");
}

TEST_CASE("plugin library: symbolic links are followed - and the target is what is checked") {
  PluginDir dir;
  fs::create_directory(dir.path / "store");
  fs::copy_file(kPlugins + "/good.so", dir.path / "store" / "good.so");
  ::chmod((dir.path / "store" / "good.so").c_str(), 0755);
  fs::create_symlink(dir.path / "store" / "good.so", dir.path / "good.so");
  CHECK(refusal(dir.str(), "good").empty());
  ::chmod((dir.path / "store" / "good.so").c_str(), 0775);  // the target, not the link
  CHECK(refusal(dir.str(), "good").find("may write it (mode 775)") != std::string::npos);

  fs::create_directory(dir.path / "real");
  fs::create_directory_symlink(dir.path / "real", dir.path / "linked.so");
  CHECK(refusal(dir.str(), "linked").find("not a regular file") != std::string::npos);
}

TEST_CASE("plugin library: a folder others may write is refused - the file could be swapped") {
  PluginDir dir;
  fs::copy_file(kPlugins + "/good.so", dir.path / "good.so");
  ::chmod((dir.path / "good.so").c_str(), 0755);
  ::chmod(dir.path.c_str(), 0777);
  CHECK(refusal(dir.str(), "good") ==
        "plugin " + dir.str() + "/good.so: its folder " + dir.str() +
            " may be written by its group or others (mode 777); chmod go-w it");
  ::chmod(dir.path.c_str(), 0755);
  CHECK(refusal(dir.str(), "good").empty());
}

TEST_CASE("plugin library: what the dynamic loader refuses comes with its own message") {
  PluginDir dir;
  std::ofstream(dir.path / "garbage.so") << "not an ELF file";
  ::chmod((dir.path / "garbage.so").c_str(), 0644);
  CHECK(refusal(dir.str(), "garbage") ==
        "plugin " + dir.str() + "/garbage.so: the dynamic loader refused it: " + dir.str() +
            "/garbage.so: file too short");
}
