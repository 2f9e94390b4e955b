# Profiling and the cost model.
#   sharelab_cost     arch/cost_model.cpp: FLOPs, training memory, projections (torch-free)
#   sharelab_profile  Table 11 latencies of a LibTorch model (runner/profile/profiler.cpp)
#   runner profile    the command (needs the results store)
add_library(sharelab_cost STATIC arch/cost_model.cpp)
target_link_libraries(sharelab_cost PUBLIC sharelab_core)
target_compile_options(sharelab_cost PRIVATE -Wall -Wextra)

add_library(sharelab_profile STATIC runner/profile/profiler.cpp)
target_link_libraries(sharelab_profile PUBLIC sharelab_torch fmt::fmt)
target_precompile_headers(sharelab_profile REUSE_FROM sharelab_torch)

sharelab_test(test_cost SOURCES tests/test_cost.cpp LIBS sharelab_cost)
sharelab_test(test_profile TORCH SOURCES tests/test_profile.cpp LIBS sharelab_profile)

if(TARGET sharelab_store)
  target_sources(runner PRIVATE runner/profile/cmd_profile.cpp)
  target_link_libraries(runner PRIVATE sharelab_profile sharelab_store)
  # `runner profile` end to end on the debug preset, rows read back through the store.
  sharelab_test(test_profile_cmd SOURCES tests/test_profile_cmd.cpp LIBS sharelab_store)
  add_dependencies(test_profile_cmd runner)
endif()
