#include "plugin/plugin_library.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <boost/dll/shared_library.hpp>

#include "plugin/descriptor_check.hpp"

namespace conduit::plugin {
namespace {

bool isPluginName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
  }
  return true;
}

// Boost.DLL wraps dlerror()'s message as "... (dlerror system message: MESSAGE): Bad file
// descriptor"; the last part is noise from errno. Keep the loader's own words.
std::string dynamicLoaderMessage(std::string_view what) {
  constexpr std::string_view kStart = "dlerror system message: ";
  const size_t start = what.find(kStart);
  const size_t end = what.rfind("): ");
  if (start == std::string_view::npos || end == std::string_view::npos || end < start) {
    return std::string(what);
  }
  return std::string(what.substr(start + kStart.size(), end - start - kStart.size()));
}

}  // namespace

struct PluginLibrary::Handle {
  boost::dll::shared_library library;
};

PluginLibrary::PluginLibrary(std::unique_ptr<Handle> handle,
                             const conduit_plugin_descriptor* descriptor, std::string path)
    : handle_(std::move(handle)), path_(std::move(path)) {
  // As OBS does with a module's info: later 1.x fields of an older plugin stay zero.
  std::memcpy(&descriptor_, descriptor,
              std::min<size_t>(descriptor->struct_size, sizeof descriptor_));
}

PluginLibrary::PluginLibrary(PluginLibrary&&) noexcept = default;
PluginLibrary& PluginLibrary::operator=(PluginLibrary&&) noexcept = default;
PluginLibrary::~PluginLibrary() = default;

PluginLibrary PluginLibrary::load(const std::string& plugin_dir, std::string_view name) {
  if (!isPluginName(name)) {
    throw PluginLoadError(fmt::format(
        "plugin `{}`: a plugin name is 1 to 64 of a-z, 0-9, `_` and `-` (it names a file)", name));
  }
  const std::string path = fmt::format("{}/{}.so", plugin_dir, name);
  auto refuse = [&](const std::string& why) {
    return PluginLoadError(fmt::format("plugin {}: {}", path, why));
  };

  // Whoever may write the folder could swap the file between these checks and the load: the
  // folder must be as closed as the file. stat() follows symbolic links, as the loader does.
  struct stat folder {};
  if (::stat(plugin_dir.c_str(), &folder) == 0 && S_ISDIR(folder.st_mode) &&
      (folder.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    throw refuse(
        fmt::format("its folder {} may be written by its group or others (mode {:o}); "
                    "chmod go-w it",
                    plugin_dir, folder.st_mode & 07777));
  }
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    throw refuse(errno == ENOENT
                     ? std::string("no such file (plugin_dir is searched, nothing else)")
                     : fmt::format("cannot stat: {}", std::strerror(errno)));
  }
  if (!S_ISREG(info.st_mode)) throw refuse("not a regular file");
  if ((info.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    throw refuse(
        fmt::format("its group or others may write it (mode {:o}): anyone who can "
                    "change it could run code as conduit; chmod go-w it",
                    info.st_mode & 07777));
  }

  auto handle = std::make_unique<Handle>();
  try {
    // The throwing form: its message is the dynamic loader's own (dlerror).
    handle->library.load(path, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
  } catch (const std::exception& e) {
    throw refuse(fmt::format("the dynamic loader refused it: {}", dynamicLoaderMessage(e.what())));
  }
  if (!handle->library.has(CONDUIT_PLUGIN_ENTRY_SYMBOL)) {
    throw refuse(
        fmt::format("it does not export {} (is it a conduit plugin, built against the "
                    "SDK of ABI major {}?)",
                    CONDUIT_PLUGIN_ENTRY_SYMBOL, CONDUIT_ABI_MAJOR));
  }
  auto entry = handle->library.get<const conduit_plugin_descriptor*()>(CONDUIT_PLUGIN_ENTRY_SYMBOL);
  const conduit_plugin_descriptor* descriptor = entry();
  if (auto why = checkDescriptor(descriptor, name)) throw refuse(*why);
  return PluginLibrary(std::move(handle), descriptor, path);
}

}  // namespace conduit::plugin
