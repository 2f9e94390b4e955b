// Slow end-to-end smoke of `runner eval`: a debug-geometry model with the LLaMA-2 vocabulary
// (untrained weights, seeded: the scores are near chance; what is checked is the plumbing), 50
// examples of every task present in ../shared/data plus both WikiText perplexities, through the
// real SentencePiece tokenizer, with the rows read back from the results database. Without
// ../shared/data the executable exits 77 and ctest reports it skipped (shared_data_main.cpp).
#include <doctest/doctest.h>

#include <filesystem>
#include <set>

#include "arch/registry.h"
#include "arch/weights.h"
#include "runner/store/results_store.h"
#include "shared_data.h"

using namespace sharelab;
namespace fs = std::filesystem;

SHARELAB_NEEDS_SHARED_DATA("MANIFEST.md", "mobilellm/tokenizer.model");

TEST_CASE("runner eval: 50 examples of every task land in the database") {
  const std::string data = sharelab_test::shared_data_dir();
  const fs::path dir = fs::path(SHARELAB_BINARY_DIR) / "test_eval_smoke.tmp";
  fs::remove_all(dir);
  fs::create_directories(dir);
  arch::CausalLM model(arch::resolve_preset("debug", {"vocab_size=32000", "max_seq_len=256"}));
  model->reset_parameters(0);
  arch::save_weights(model, (dir / "smoke.h5").string());

  const std::string tasks =
      "arc_challenge,arc_easy,hellaswag,piqa,winogrande,siqa,boolq,openbookqa,race,truthfulqa_mc1,truthfulqa_mc2,"
      "mmlu,crows_pairs,wikitext,wikitext_token";
  const std::string cmd = std::string(SHARELAB_BINARY_DIR) + "/runner eval " + (dir / "smoke.h5").string() +
                          " --tasks " + tasks + " --limit 50 --protocol leaderboard-v1 --batch 16 --threads 1 --no-progress" +
                          " --tasks-dir " + data + " --tokenizer " + data + "/mobilellm/tokenizer.model --db " +
                          (dir / "eval.db").string() + " > " + (dir / "out.txt").string() + " 2>&1";
  REQUIRE(std::system(cmd.c_str()) == 0);

  store::ResultsStore db((dir / "eval.db").string());
  const auto rows = db.evals("file:smoke");
  std::set<std::string> tasks_seen;
  for (const auto& r : rows) {
    tasks_seen.insert(r.task);
    CHECK(r.protocol == "leaderboard-v1");
    if (r.metric == "acc" || r.metric == "acc_norm") {
      CHECK(r.value >= 0.0);
      CHECK(r.value <= 1.0);
    }
    if (r.task == "arc_challenge") {
      CHECK(r.shots == 25);
      CHECK(r.n == 50);
    }
    if (r.task == "hellaswag") CHECK(r.shots == 10);
    if (r.task == "truthfulqa_mc2") CHECK(r.shots == 0);
    if (r.metric == "word_perplexity") CHECK(r.value > 1.0);
  }
  for (const char* t : {"arc_challenge", "arc_easy", "hellaswag", "piqa", "winogrande", "siqa", "boolq", "openbookqa",
                        "race", "truthfulqa_mc1", "truthfulqa_mc2", "mmlu", "crows_pairs", "wikitext2_v1_tokenized"})
    CHECK_MESSAGE(tasks_seen.count(t) == 1, t);
}
