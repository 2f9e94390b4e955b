# The data pipeline (issue 3). Torch-free so it builds in seconds:
#   sharelab_spm    libsharelab_spm.so: the ONLY binary linking SentencePiece (C API, dlopen'ed)
#   sharelab_data   tokenizer (via the shim), mix TOML, readers, HDF5 shards, manifest, loader, prepare
#   runner data     prepare | inspect | tokenizer
#   bench_data      preparation MB/s and loader tokens/s (`cmake --build B --target bench_data`)
find_library(SENTENCEPIECE_LIB sentencepiece REQUIRED)

add_library(sharelab_spm SHARED runner/data/spm_shim.cpp)
target_include_directories(sharelab_spm PRIVATE ${CMAKE_SOURCE_DIR})
target_link_libraries(sharelab_spm PRIVATE ${SENTENCEPIECE_LIB})
# Bind our own references inside the shim; export nothing but the slspm_* C API.
set_target_properties(sharelab_spm PROPERTIES CXX_VISIBILITY_PRESET hidden LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR})
target_link_options(sharelab_spm PRIVATE -Wl,-Bsymbolic)

add_library(sharelab_data STATIC
  runner/data/json.cpp
  runner/data/sha256.cpp
  runner/data/manifest.cpp
  runner/data/shard_file.cpp
  runner/data/loader.cpp
  runner/data/spm_library.cpp
  runner/data/tokenizer.cpp
  runner/data/spm_train.cpp
  runner/data/mix.cpp
  runner/data/readers.cpp
  runner/data/progress.cpp
  runner/data/prepare.cpp
)
target_link_libraries(sharelab_data PUBLIC sharelab_core fmt::fmt tomlplusplus::tomlplusplus
                      ${HDF5_CXX_LIBRARIES} ${HDF5_LIBRARIES} ${CMAKE_DL_LIBS})
target_include_directories(sharelab_data PUBLIC ${HDF5_INCLUDE_DIRS})
target_compile_options(sharelab_data PRIVATE -Wall -Wextra)
# Fallback location of the shim when it is not next to the executable and $SHARELAB_SPM_LIB is unset.
target_compile_definitions(sharelab_data PRIVATE SHARELAB_SPM_LIB_PATH="$<TARGET_FILE:sharelab_spm>")
add_dependencies(sharelab_data sharelab_spm)

target_sources(runner PRIVATE runner/data/cmd_data.cpp)
target_link_libraries(runner PRIVATE sharelab_data)

add_executable(bench_data bench/bench_data.cpp)
target_link_libraries(bench_data PRIVATE sharelab_data)
target_compile_definitions(bench_data PRIVATE SHARELAB_SOURCE_DIR="${CMAKE_SOURCE_DIR}")

# Tests. test_data_tokenizer links LibTorch on purpose: SentencePiece must work in that process.
sharelab_test(test_data_format SOURCES tests/test_data_format.cpp LIBS sharelab_data)
sharelab_test(test_data_split SOURCES tests/test_data_split.cpp LIBS sharelab_data)
sharelab_test(test_data_loader SOURCES tests/test_data_loader.cpp LIBS sharelab_data)
sharelab_test(test_data_errors SOURCES tests/test_data_errors.cpp LIBS sharelab_data)
sharelab_test(test_data_tokenizer TORCH SOURCES tests/test_data_tokenizer.cpp LIBS sharelab_data)
# The runner binary itself (LibTorch + dlopen'ed SentencePiece in one process).
sharelab_test(test_data_cli SOURCES tests/test_data_cli.cpp)
add_dependencies(test_data_cli runner sharelab_spm)
