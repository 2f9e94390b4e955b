# The evaluation harness (issue 5).
#   sharelab_evaltext  torch-free: task readers + lm-eval preprocessing, few-shot contexts,
#                      request encoding, rolling windows, metrics, WikiText pages/detokenizer
#   sharelab_eval      LibTorch: batched log-likelihood scorer, perplexities, HF safetensors
#                      checkpoints, evaluate_run() writing EvalRows to the results store
#   runner eval        the command (needs the data part's Tokenizer and the results store)
add_library(sharelab_evaltext STATIC
  runner/eval/text_util.cpp
  runner/eval/read_util.cpp
  runner/eval/readers_json.cpp
  runner/eval/readers_csv.cpp
  runner/eval/task_registry.cpp
  runner/eval/fewshot.cpp
  runner/eval/request.cpp
  runner/eval/metrics.cpp
  runner/eval/wikitext.cpp
)
target_link_libraries(sharelab_evaltext PUBLIC sharelab_core)
target_compile_options(sharelab_evaltext PRIVATE -Wall -Wextra)

sharelab_test(test_eval_text SOURCES tests/test_eval_text.cpp LIBS sharelab_evaltext)
sharelab_test(test_eval_tasks SOURCES tests/test_eval_tasks.cpp LIBS sharelab_evaltext)

add_library(sharelab_eval STATIC
  runner/eval/scorer.cpp
  runner/eval/perplexity.cpp
  runner/eval/hf_checkpoint.cpp
  runner/eval/model_source.cpp
  runner/eval/progress_bar.cpp
  runner/eval/evaluate.cpp
)
target_link_libraries(sharelab_eval PUBLIC sharelab_evaltext sharelab_torch fmt::fmt)
target_precompile_headers(sharelab_eval REUSE_FROM sharelab_torch)

sharelab_test(test_eval_score TORCH SOURCES tests/test_eval_score.cpp LIBS sharelab_eval)
sharelab_test(test_eval_hf TORCH SOURCES tests/test_eval_hf.cpp LIBS sharelab_eval)

# CPU scoring throughput (continuation tokens/s): `cmake --build B --target bench_eval && B/bench_eval`.
add_executable(bench_eval bench/bench_eval.cpp)
target_link_libraries(bench_eval PRIVATE sharelab_eval)
target_precompile_headers(bench_eval REUSE_FROM sharelab_torch)

# `runner eval` and evaluate_run() need the SentencePiece tokenizer (data part) and the store.
if(TARGET sharelab_data AND TARGET sharelab_store)
  add_library(sharelab_eval_run STATIC runner/eval/evaluate_run.cpp)
  target_link_libraries(sharelab_eval_run PUBLIC sharelab_eval sharelab_data sharelab_store)
  target_precompile_headers(sharelab_eval_run REUSE_FROM sharelab_torch)
  target_sources(runner PRIVATE runner/eval/cmd_eval.cpp)
  target_link_libraries(runner PRIVATE sharelab_eval_run)
  # Slow smoke: a debug-geometry model with the LLaMA vocabulary, 50 examples of every present
  # task through `runner eval`, rows read back from the database.
  sharelab_test(test_eval_smoke TORCH LABEL slow SOURCES tests/test_eval_smoke.cpp LIBS sharelab_store)
  add_dependencies(test_eval_smoke runner)
endif()
