# The results store (sqlite3 + fmt, no LibTorch): `analysis` links it without torch.
#   sharelab_store   runner/store/*.cpp
add_library(sharelab_store STATIC
  runner/store/sqlite_util.cpp
  runner/store/schema.cpp
  runner/store/results_store.cpp
)
target_include_directories(sharelab_store PUBLIC ${CMAKE_SOURCE_DIR})
target_link_libraries(sharelab_store PUBLIC SQLite::SQLite3)
target_compile_options(sharelab_store PRIVATE -Wall -Wextra)

sharelab_test(test_store SOURCES tests/test_store.cpp LIBS sharelab_store)
