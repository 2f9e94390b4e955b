// The data-parallel flags of `runner train`, `resume` and `sweep`, and joining the job with them.
#pragma once

#include "common/cli.h"
#include "runner/dist/comm.h"

namespace sharelab::runner {

struct DistFlags {
  int nproc = 1;             // taken by main() (local_launch.h); listed here for --help
  double timeout_s = 600;    // a collective's wait for a peer before the job ends naming it
  double bucket_mb = 25;     // gradient all-reduce bucket size

  double bucket_bytes() const { return bucket_mb * 1024 * 1024; }  // TrainOptions::bucket_bytes
};

void add_dist_flags(po::options_description& opts, DistFlags& f);

// dist::join with the flags' timeout (nullptr: one process). ConfigError for a bad flag.
dist::Comm* join_job(const std::string& device, const DistFlags& f);

}  // namespace sharelab::runner
