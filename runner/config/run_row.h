// The database row that records a run's start: config, provenance (git commit, host, device,
// threads) and time. One builder for `runner sweep` and `runner train` alike.
#pragma once

#include <string>

#include "runner/store/results_store.h"
#include "runner/config/run_config.h"

namespace sharelab::config {

std::string now_iso();     // "2026-11-23T05:00:00Z"
std::string host_name();
std::string git_commit();  // HEAD of the working directory's checkout, "+dirty" with local changes; "" outside git

// Status "running", started now; threads = train.threads or all cores when 0; world_size: the
// data-parallel ranks training it.
store::RunRow make_run_row(const RunConfig& rc, int world_size = 1);

}  // namespace sharelab::config
