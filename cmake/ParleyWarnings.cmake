# Warning flags shared by every Parley target: parley_set_warnings(<target>)
function(parley_set_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align
    -Wunused -Woverloaded-virtual -Wconversion -Wsign-conversion
    # -Wnull-dereference is left out: GCC 12 at -O2 reports false positives inside libstdc++.
    -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough)
  if(PARLEY_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
