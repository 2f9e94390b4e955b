# The `analysis` executable and its library: paper tables (Markdown, LaTeX, CSV) and gnuplot loss
# curves from the results database. No LibTorch: sharelab_core + sharelab_cost + sharelab_store.
if(TARGET sharelab_store AND TARGET sharelab_cost)
  add_library(sharelab_analysis STATIC
    analysis/table.cpp
    analysis/table_spec.cpp
    analysis/db_view.cpp
    analysis/table_builder.cpp
    analysis/report.cpp
    analysis/plots.cpp
  )
  target_link_libraries(sharelab_analysis PUBLIC sharelab_core sharelab_cost sharelab_store fmt::fmt
                        tomlplusplus::tomlplusplus)
  target_compile_options(sharelab_analysis PRIVATE -Wall -Wextra)

  add_executable(analysis analysis/main.cpp)
  target_link_libraries(analysis PRIVATE sharelab_analysis Boost::program_options)

  sharelab_test(test_analysis SOURCES tests/test_analysis.cpp LIBS sharelab_analysis)
endif()
