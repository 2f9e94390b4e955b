// The shared-prefix scorer (each context computed once, every continuation from its cached K/V)
// against the plain one (lm-eval's: the whole input per request) on the real task files in
// ../shared/data: every task reader, 0-shot and few-shot, a random-init `debug` model, fp32, for
// three sharing schemes. Per request the log-likelihoods agree to 1e-5 (relative) and is_greedy is
// equal; per document every metric is equal. Without the folder the executable exits 77.
#include <doctest/doctest.h>

#include <torch/torch.h>

#include "arch/registry.h"
#include "runner/eval/path_check.h"
#include "runner/eval/task_readers.h"
#include "eval_test_util.h"
#include "shared_data.h"

using namespace sharelab;
using namespace sharelab::eval;

SHARELAB_NEEDS_SHARED_DATA("MANIFEST.md");

using test::ByteEncoder;

TEST_CASE("shared-prefix scoring equals the plain path on every task file") {
  const std::string dir = sharelab_test::shared_data_dir();
  ByteEncoder enc;
  std::vector<TaskData> tasks;
  for (const auto& name : known_tasks()) tasks.push_back(read_task(name, dir));
  for (const std::vector<std::string>& scheme :
       {std::vector<std::string>{}, {"scheme=immediate", "repeats=2"}, {"scheme=shared-ffn"}}) {
    std::vector<std::string> o = scheme;
    o.push_back("max_seq_len=1024");  // byte tokens: RACE articles and few-shot contexts get left-truncated
    arch::CausalLM m(arch::resolve_preset("debug", o));
    m->reset_parameters(5);
    m->eval();
    for (const TaskData& task : tasks) {
      for (const int64_t shots : {int64_t(0), int64_t(2)}) {
        if (shots > 0 && !task.fewshot_allowed) continue;
        CAPTURE(scheme.empty() ? "none" : scheme[0]);
        CAPTURE(task.name);
        CAPTURE(shots);
        const DocRequests d = doc_requests(task, enc, 4, shots);
        Scorer plain(m, {/*batch=*/4, 0, false, /*share_prefix=*/false});
        Scorer shared(m, {4, 0, false, true});
        const auto a = plain.score(d.requests);
        const auto b = shared.score(d.requests);
        const PathAgreement p = compare_paths(task, d, a, b);
        CHECK(p.max_rel <= 1e-5);
        CHECK(p.greedy_differs == 0);
        CHECK(p.docs_differ == 0);
        // Choices share their context unless left truncation cut it (RACE, BoolQ few-shot) or the
        // context is only the prefix token (CrowS-Pairs).
        bool truncated = false;
        for (const auto& r : d.requests)
          truncated = truncated || int64_t(r.context.size() + r.continuation.size()) > 1024 + 1;
        if (task.scoring != Scoring::kPairBias && !truncated) CHECK(shared.last_stats().shared_requests > 0);
      }
    }
  }
}
