# Sweeps (torch-free): TOML loading, expansion, scale profiles, run identity and the plan.
#   sharelab_sweep   runner/sweep/*.cpp except the command
#   runner sweep     runner/sweep/cmd_sweep.cpp (the only caller of train::train_run)
add_library(sharelab_sweep STATIC
  runner/sweep/value.cpp
  runner/sweep/config_fields.cpp
  runner/sweep/run_config.cpp
  runner/sweep/run_row.cpp
  runner/sweep/sweep_file.cpp
  runner/sweep/expand.cpp
  runner/sweep/plan.cpp
)
target_link_libraries(sharelab_sweep PUBLIC sharelab_core sharelab_store tomlplusplus::tomlplusplus fmt::fmt)
target_compile_options(sharelab_sweep PRIVATE -Wall -Wextra)

sharelab_test(test_sweep SOURCES tests/test_sweep.cpp tests/test_sweep_profile.cpp LIBS sharelab_sweep)
sharelab_test(test_sweep_configs SOURCES tests/test_sweep_configs.cpp LIBS sharelab_sweep)


# `runner sweep` needs the trainer, which is added after this file: decide at the end of the
# directory, when every part's targets exist.
function(sharelab_sweep_command)
  if(NOT TARGET sharelab_train)
    message(STATUS "runner sweep: not built (no sharelab_train target)")
    return()
  endif()
  target_sources(runner PRIVATE ${CMAKE_SOURCE_DIR}/runner/sweep/cmd_sweep.cpp)
  target_link_libraries(runner PRIVATE sharelab_sweep sharelab_train sharelab_profile)
  # Optional parts: data preparation of a missing data.dir, evaluation after training.
  set(_defs)
  if(TARGET sharelab_data)
    list(APPEND _defs SHARELAB_SWEEP_HAVE_DATA)
    target_link_libraries(runner PRIVATE sharelab_data)
  endif()
  if(TARGET sharelab_eval_run)
    list(APPEND _defs SHARELAB_SWEEP_HAVE_EVAL)
    target_link_libraries(runner PRIVATE sharelab_eval_run)
  endif()
  set_source_files_properties(${CMAKE_SOURCE_DIR}/runner/sweep/cmd_sweep.cpp TARGET_DIRECTORY runner
                              PROPERTIES COMPILE_DEFINITIONS "${_defs}")
  # CLI: help, every shipped sweep's plan, bad files -> exit 2 + one line (fast); the smoke sweep
  # end to end, re-run, and two processes on one database (slow: trains six tiny runs).
  add_test(NAME sweep_cli COMMAND ${CMAKE_SOURCE_DIR}/tests/cli/sweep_cli.sh $<TARGET_FILE:runner>
           ${CMAKE_BINARY_DIR}/sweep_cli)
  set_tests_properties(sweep_cli PROPERTIES LABELS fast)
  add_test(NAME sweep_smoke COMMAND ${CMAKE_SOURCE_DIR}/tests/cli/sweep_smoke.sh $<TARGET_FILE:runner>
           ${CMAKE_BINARY_DIR}/sweep_smoke)
  set_tests_properties(sweep_smoke PROPERTIES LABELS slow)
endfunction()
cmake_language(DEFER CALL sharelab_sweep_command)
