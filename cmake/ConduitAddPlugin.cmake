# conduit_add_plugin(<target> SOURCES <files>... [NAME <name>] [COMPONENT <component>]
#                    [NO_INSTALL])
#
# Builds a Conduit processor plugin: a MODULE library named <name>.so (default: the target's
# name), C++17, with hidden symbols so that conduit_plugin_entry_v1 is its only export, linked
# against the SDK, and installed where conduit looks for plugins: <prefix>/lib/conduit/plugins.
# Installed with the SDK, so that a third party's CMakeLists.txt needs only
#   find_package(ConduitSDK REQUIRED)
#   conduit_add_plugin(hello SOURCES hello.cpp)
function(conduit_add_plugin target)
  cmake_parse_arguments(PLUGIN "NO_INSTALL" "NAME;COMPONENT" "SOURCES" ${ARGN})
  if(NOT PLUGIN_SOURCES)
    message(FATAL_ERROR "conduit_add_plugin(${target}): SOURCES is required")
  endif()
  if(NOT PLUGIN_NAME)
    set(PLUGIN_NAME ${target})
  endif()
  if(NOT PLUGIN_NAME MATCHES "^[a-z0-9_-]+$")
    message(FATAL_ERROR "conduit_add_plugin(${target}): the plugin name `${PLUGIN_NAME}` must be "
                        "a-z, 0-9, `_` and `-`: conduit loads it as <name>.so")
  endif()
  include(GNUInstallDirs)
  add_library(${target} MODULE ${PLUGIN_SOURCES})
  target_link_libraries(${target} PRIVATE conduit::sdk)
  target_compile_features(${target} PRIVATE cxx_std_17)
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    OUTPUT_NAME ${PLUGIN_NAME}
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  # Hidden visibility leaves the C++ library's template instances exported; a version script
  # makes the entry point the only symbol, whatever the code includes.
  set(version_script ${CMAKE_CURRENT_BINARY_DIR}/${target}.exports)
  file(WRITE ${version_script} "{ global: conduit_plugin_entry_v1; local: *; };\n")
  target_link_options(${target} PRIVATE "LINKER:--version-script=${version_script}")
  set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS ${version_script})
  # lib/conduit/plugins under any prefix (not the multiarch libdir): /usr/lib/conduit/plugins
  # for a package, where conduit looks by default.
  if(NOT PLUGIN_NO_INSTALL)
    if(NOT PLUGIN_COMPONENT)
      set(PLUGIN_COMPONENT ${PLUGIN_NAME})
    endif()
    install(TARGETS ${target} LIBRARY DESTINATION lib/conduit/plugins COMPONENT ${PLUGIN_COMPONENT})
  endif()
endfunction()
