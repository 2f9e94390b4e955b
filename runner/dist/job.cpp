#include "runner/dist/job.h"

#include "kernels/torch_compat.h"

namespace sharelab::dist {

Comm* join(const std::string& device, std::chrono::milliseconds timeout) {
  if (Comm* c = job()) return c;
  const LaunchEnv env = read_launch_env();
  if (!env.distributed()) return nullptr;
  const torch::Device dev = kernels::compat::resolve_device(device, "train.device");
  if (dev.is_cuda()) kernels::compat::set_current_device(dev);
  // Never destroyed: the process group's threads outlive main's stack, and exit ends them.
  set_job(new Comm(env, dev, timeout));
  return job();
}

void end_job() {
  if (Comm* c = job()) c->barrier("end of job");
}

}  // namespace sharelab::dist
