#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include <conduit/plugin.h>

namespace conduit::plugin {

// A plugin that cannot be loaded. The message names the path and the failed check; start-up
// stops with exit status 2.
class PluginLoadError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A loaded plugin library: `<plugin_dir>/<name>.so`, opened with Boost.DLL and its descriptor
// checked. The library stays loaded as long as this object lives; destroy every instance the
// plugin made before it.
class PluginLibrary {
 public:
  // Refuses, with a PluginLoadError: a name that is not [a-z0-9_-]; a path that, symbolic links
  // followed, is missing or not a regular file; a file its group or others may write; what the
  // dynamic loader refuses (with its own message); a library without the entry point; and a
  // descriptor checkDescriptor() refuses. Nothing is searched for: only that one path.
  static PluginLibrary load(const std::string& plugin_dir, std::string_view name);

  PluginLibrary(PluginLibrary&&) noexcept;
  PluginLibrary& operator=(PluginLibrary&&) noexcept;
  ~PluginLibrary();

  // The host's copy of the plugin's descriptor: zeroed, then as much of the plugin's copied in as
  // its struct_size says (and the host knows of), so that a field added after the plugin's minor
  // reads as zero or NULL without a check at each read. struct_size stays the plugin's.
  const conduit_plugin_descriptor& descriptor() const { return descriptor_; }
  const std::string& path() const { return path_; }

 private:
  struct Handle;
  PluginLibrary(std::unique_ptr<Handle> handle, const conduit_plugin_descriptor* descriptor,
                std::string path);

  std::unique_ptr<Handle> handle_;
  conduit_plugin_descriptor descriptor_{};
  std::string path_;
};

}  // namespace conduit::plugin
