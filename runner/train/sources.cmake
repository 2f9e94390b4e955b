# The training loop, checkpoints and resume; `runner train` and `runner resume`; bench_train.
#   sharelab_train  runner/train/*.cpp (LibTorch): train_run, train_on, AdamW, checkpoints, fields
# Links the data loader (sharelab_data), RunConfig's canonical JSON and field assignment
# (sharelab_sweep) and the results store (sharelab_store).
find_package(nlohmann_json REQUIRED)

add_library(sharelab_train STATIC
  runner/train/validate_train.cpp
  runner/train/lr_schedule.cpp
  runner/train/adamw.cpp
  runner/train/checkpoint.cpp
  runner/train/progress.cpp
  runner/train/peak_flops.cpp
  runner/train/train_step.cpp
  runner/train/train_loop.cpp
  runner/train/trainer.cpp
  runner/train/run_json.cpp
)
target_link_libraries(sharelab_train PUBLIC sharelab_torch sharelab_data sharelab_sweep sharelab_store fmt::fmt
                      nlohmann_json::nlohmann_json)
target_compile_options(sharelab_train PRIVATE -Wall)
# AdamW's fused pass is a loop written for the vectoriser, which -O2 leaves scalar; without
# -fno-math-errno a sqrt call keeps it scalar too.
set_source_files_properties(runner/train/adamw.cpp PROPERTIES COMPILE_OPTIONS "-O3;-fno-math-errno"
                            SKIP_PRECOMPILE_HEADERS ON)  # the PCH was built without these flags
target_precompile_headers(sharelab_train REUSE_FROM sharelab_torch)

target_sources(runner PRIVATE runner/train/cmd_train.cpp)
target_link_libraries(runner PRIVATE sharelab_train)

# --- tests ---------------------------------------------------------------------------------------
sharelab_test(test_train_unit TORCH SOURCES tests/test_train_unit.cpp LIBS sharelab_train)
sharelab_test(test_train_loop TORCH SOURCES tests/test_train_loop.cpp LIBS sharelab_train)
sharelab_test(test_train_shards TORCH SOURCES tests/test_train_shards.cpp LIBS sharelab_train)
# SIGKILL after the first checkpoint, `runner resume`, final loss equal to an uninterrupted run.
add_test(NAME train_kill_resume COMMAND ${CMAKE_SOURCE_DIR}/tests/cli/train_kill_resume.sh $<TARGET_FILE:runner>
         ${CMAKE_BINARY_DIR}/train_kill_resume)
set_tests_properties(train_kill_resume PROPERTIES LABELS fast)

# --- benchmark (not a test): tokens/s and MFU beside ../shared/bench/ref_llama.py ----------------
add_executable(bench_train bench/bench_train.cpp)
target_link_libraries(bench_train PRIVATE sharelab_train)
target_precompile_headers(bench_train REUSE_FROM sharelab_torch)
target_compile_definitions(bench_train PRIVATE SHARELAB_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
