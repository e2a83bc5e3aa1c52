# Every dependency is a Debian 12 package, found here once and used as imported targets.
# Pistache and hiredis come through pkg-config: Pistache installs no CMake package, and
# hiredis 0.14's CMake package needs an exact version. cpp-httplib also comes through
# pkg-config, whose flags switch on its OpenSSL support.
find_package(PkgConfig REQUIRED)
pkg_check_modules(Pistache REQUIRED IMPORTED_TARGET libpistache)
pkg_check_modules(Hiredis REQUIRED IMPORTED_TARGET hiredis)
pkg_check_modules(HttpLib REQUIRED IMPORTED_TARGET cpp-httplib)
# sd_notify: readiness, reloads, stops and the watchdog under systemd (Type=notify).
pkg_check_modules(Systemd REQUIRED IMPORTED_TARGET libsystemd)

find_package(Threads REQUIRED)
find_package(OpenSSL 3 REQUIRED)
find_package(RapidJSON REQUIRED)
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(Boost 1.74 REQUIRED COMPONENTS filesystem)
find_package(doctest REQUIRED)

# RapidJSON's config only sets variables; give it a target like the others.
if(NOT TARGET RapidJSON::RapidJSON)
  add_library(RapidJSON::RapidJSON INTERFACE IMPORTED)
  target_include_directories(RapidJSON::RapidJSON INTERFACE ${RAPIDJSON_INCLUDE_DIRS})
endif()
