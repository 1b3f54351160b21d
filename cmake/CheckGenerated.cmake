# Fails when a committed generated file differs from what the build generates.
foreach(pair "errors.md;docs/errors.md" "errors.js;web/sdk/errors.js" "protocol.js;web/sdk/protocol.js")
  list(GET pair 0 gen)
  list(GET pair 1 committed)
  execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${GEN_DIR}/${gen} ${SRC_DIR}/${committed}
                  RESULT_VARIABLE differs)
  if(differs)
    message(FATAL_ERROR "${committed} is stale: run `cmake --build <build-dir> --target regen` and commit it")
  endif()
endforeach()
