// `meridian dr-drill`: kills region A of a local deployment for real and measures, per key
// strategy, RPO, RTO and decrypt success in region B (drill/dr_drill.h). The regions are a
// `meridian up` deployment started as a child process; region A's `meridian server` child is
// killed with SIGKILL and later started again by the drill itself.
#pragma once

#include <CLI/CLI.hpp>

namespace meridian::cli {

void RegisterDrDrillCommand(CLI::App& app, int& exit_code);

}  // namespace meridian::cli
