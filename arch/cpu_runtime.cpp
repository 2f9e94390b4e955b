#include "arch/cpu_runtime.h"

#include <ATen/Context.h>

#include "arch/cpu_allocator.h"

namespace sharelab::arch {

void configure_cpu_runtime() {
  install_caching_cpu_allocator();
  at::globalContext().setFlushDenormal(true);
}

}  // namespace sharelab::arch
