# Warnings for every target of ours; errors only when CONDUIT_DEVELOPER_MODE is on, so
# distribution builders with newer compilers are not broken by a new warning.
function(conduit_target_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion
    -Wno-sign-conversion -Wnon-virtual-dtor -Wold-style-cast -Woverloaded-virtual)
  if(CONDUIT_DEVELOPER_MODE)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
