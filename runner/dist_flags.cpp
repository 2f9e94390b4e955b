#include "runner/dist_flags.h"

#include <fmt/format.h>

#include "common/errors.h"
#include "runner/dist/job.h"

namespace sharelab::runner {

void add_dist_flags(po::options_description& opts, DistFlags& f) {
  opts.add_options()("nproc", po::value(&f.nproc)->default_value(1),
                     "data parallel on this machine: start N local ranks (torchrun's variables, loopback)")(
      "dist-timeout", po::value(&f.timeout_s)->default_value(600),
      "seconds a data-parallel rank waits for the others before the job ends naming the missing rank")(
      "bucket-mb", po::value(&f.bucket_mb)->default_value(25), "gradient all-reduce bucket size, MB");
}

dist::Comm* join_job(const std::string& device, const DistFlags& f) {
  if (!(f.timeout_s > 0)) throw ConfigError(fmt::format("--dist-timeout {}: expected seconds > 0", f.timeout_s));
  if (!(f.bucket_mb > 0)) throw ConfigError(fmt::format("--bucket-mb {}: expected MB > 0", f.bucket_mb));
  return dist::join(device, std::chrono::milliseconds(int64_t(f.timeout_s * 1000)));
}

}  // namespace sharelab::runner
