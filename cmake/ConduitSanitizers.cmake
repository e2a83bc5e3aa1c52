# One switch for the address + undefined-behaviour build that `make test` runs the suite in.
# Applied directory-wide (before any target is made) so that every object, test and plugin
# shares the same runtime.
if(CONDUIT_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer
    -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
