#include "kernels/cpu_runtime.h"

#include <ATen/Context.h>

#include "kernels/cpu_allocator.h"

namespace sharelab::kernels {

void configure_cpu_runtime() {
  install_caching_cpu_allocator();
  at::globalContext().setFlushDenormal(true);
}

}  // namespace sharelab::kernels
