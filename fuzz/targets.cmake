# The fuzz targets (fuzz/fuzz_<name>.cpp) and the parser sources they reach, shared by
# fuzz/CMakeLists.txt (the libFuzzer build) and tests/CMakeLists.txt (test_fuzz_regressions, which
# replays fuzz/regressions/ and fuzz/corpus/ through the same entry points in the normal build).
get_filename_component(SHARELAB_FUZZ_ROOT "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)

set(SHARELAB_FUZZ_TARGETS
  sweep_toml scale_toml mix_toml amber_jsonl text_readers manifest_json hf_config safetensors_header
  eval_json eval_csv hellaswag_txt)

# The entry points and their helpers (fuzz_target.h).
set(SHARELAB_FUZZ_TARGET_SOURCES ${SHARELAB_FUZZ_ROOT}/fuzz/fuzz_util.cpp)
foreach(t ${SHARELAB_FUZZ_TARGETS})
  list(APPEND SHARELAB_FUZZ_TARGET_SOURCES ${SHARELAB_FUZZ_ROOT}/fuzz/fuzz_${t}.cpp)
endforeach()

# Parser sources outside the LibTorch-free libraries: the normal build has them only in
# sharelab_interop (LibTorch), so the regression test compiles them itself.
set(SHARELAB_FUZZ_INTEROP_SOURCES
  ${SHARELAB_FUZZ_ROOT}/runner/interop/hf_config.cpp
  ${SHARELAB_FUZZ_ROOT}/runner/interop/safetensors_header.cpp)
