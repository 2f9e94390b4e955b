// Run rows and their provenance (see run_row.h).
#include "runner/config/run_row.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <memory>
#include <thread>


namespace sharelab::config {

std::string now_iso() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

std::string host_name() {
  char buf[256] = {0};
  ::gethostname(buf, sizeof buf - 1);
  return buf;
}

// HEAD of the checkout the runner is started in, "+dirty" when it has local changes.
std::string git_commit() {
  auto first_line = [](const char* cmd) {
    std::unique_ptr<FILE, int (*)(FILE*)> p(::popen(cmd, "r"), ::pclose);
    char buf[128] = {0};
    std::string out = p && std::fgets(buf, sizeof buf, p.get()) ? buf : "";
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    return out;
  };
  std::string head = first_line("git rev-parse HEAD 2>/dev/null");
  if (!head.empty() && !first_line("git status --porcelain --untracked-files=no 2>/dev/null").empty()) head += "+dirty";
  return head;
}

store::RunRow make_run_row(const RunConfig& rc, int world_size) {
  store::RunRow r;
  r.run_id = rc.run_id();
  r.sweep = rc.sweep;
  r.name = rc.name;
  r.preset = rc.preset;
  r.scheme = rc.model.scheme;
  r.scale = rc.scale;
  r.config_json = rc.canonical_json();
  r.config_hash = r.run_id;  // the run id is the hash of the canonical config
  r.geometry = rc.geometry_key();
  r.git_commit = git_commit();
  r.host = host_name();
  r.device = rc.train.device;
  r.threads = rc.train.threads_or_cores();
  r.world_size = world_size;
  r.status = "running";
  r.started_at = now_iso();
  return r;
}

}  // namespace sharelab::config
