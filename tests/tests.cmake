# Test executables, one per concern. Label "fast" runs in `make test`; "slow" only in `make smoke`.
include(doctest)

add_library(sharelab_test_main OBJECT tests/doctest_main.cpp)
target_link_libraries(sharelab_test_main PUBLIC doctest::doctest)

# sharelab_test(NAME [TORCH] [LABEL fast|slow] SOURCES ... [LIBS ...])
function(sharelab_test name)
  cmake_parse_arguments(T "TORCH" "LABEL" "SOURCES;LIBS" ${ARGN})
  if(NOT T_LABEL)
    set(T_LABEL fast)
  endif()
  add_executable(${name} ${T_SOURCES} $<TARGET_OBJECTS:sharelab_test_main>)
  target_link_libraries(${name} PRIVATE doctest::doctest ${T_LIBS})
  if(T_TORCH)
    target_link_libraries(${name} PRIVATE sharelab_torch)
    target_precompile_headers(${name} REUSE_FROM sharelab_torch)
  else()
    target_link_libraries(${name} PRIVATE sharelab_core)
  endif()
  target_compile_definitions(${name} PRIVATE SHARELAB_SOURCE_DIR="${CMAKE_SOURCE_DIR}"
                             SHARELAB_BINARY_DIR="${CMAKE_BINARY_DIR}")
  doctest_discover_tests(${name} PROPERTIES LABELS ${T_LABEL})
endfunction()

sharelab_test(test_schedule SOURCES tests/test_schedule.cpp)
sharelab_test(test_spec SOURCES tests/test_spec.cpp)
sharelab_test(test_accounting SOURCES tests/test_accounting.cpp)
sharelab_test(test_model TORCH SOURCES tests/test_model.cpp)
sharelab_test(test_fused_ops TORCH SOURCES tests/test_fused_ops.cpp)
sharelab_test(test_registry TORCH SOURCES tests/test_registry.cpp)

# Logits against ../shared/bench/ref_llama.py (HF semantics). Exit 77 = skipped (no Python torch).
add_test(NAME ref_llama_logits COMMAND ${CMAKE_SOURCE_DIR}/tests/cli/ref_logits.sh $<TARGET_FILE:runner>)
set_tests_properties(ref_llama_logits PROPERTIES LABELS fast SKIP_RETURN_CODE 77)
# CLI errors: messages and exit codes.
add_test(NAME cli_errors COMMAND ${CMAKE_SOURCE_DIR}/tests/cli/errors.sh $<TARGET_FILE:runner>)
set_tests_properties(cli_errors PROPERTIES LABELS fast)
add_test(NAME test_names_have_no_semicolon COMMAND ${CMAKE_SOURCE_DIR}/tests/cli/test_names.sh)
set_tests_properties(test_names_have_no_semicolon PROPERTIES LABELS fast)
