// This process's data-parallel job, joined once per process from the launcher's environment and
// kept until exit (the error path in main() reports through it).
#pragma once

#include <chrono>
#include <string>

#include "runner/dist/comm.h"

namespace sharelab::dist {

// Joins the job when a launcher started several processes (else nullptr: one process, as before);
// the process group runs on train.device `device` (resolved by local rank). Later calls return
// the same Comm. `timeout`: how long a collective may wait for a peer before naming it.
Comm* join(const std::string& device, std::chrono::milliseconds timeout);

// The last collective of a command: no rank leaves (rank 0 takes the store down) while another
// still needs it.
void end_job();

}  // namespace sharelab::dist
