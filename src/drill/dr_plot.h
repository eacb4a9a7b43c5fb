// The DR drill's timeline as a picture: successful requests per bucket (100 ms) through the
// failure, one line per key strategy, drawn by gnuplot (Debian package gnuplot-nox) run as a
// child process on a data file and a script written next to the PNG.
#pragma once

#include <string>

#include "common/status.h"
#include "drill/dr_report.h"

namespace meridian::drill {

// The gnuplot data: one block per strategy (gnuplot `index` i = report.strategies[i]), rows
// "t_seconds succeeded writes_ok reads_ok failed", t relative to the kill of region A.
std::string GnuplotData(const DrillReport& report);
// A gnuplot script that reads `data_path` and writes `png_path`. Paths with a quote or a
// backslash are refused by PlotTimeline, so they need no escaping here.
std::string GnuplotScript(const DrillReport& report, const std::string& data_path, const std::string& png_path);

// Writes png_path + ".dat" and png_path + ".gp", runs `gnuplot` on them and checks that it
// produced a PNG. Fails with a message naming gnuplot-nox when gnuplot is not installed.
Status PlotTimeline(const DrillReport& report, const std::string& png_path);

}  // namespace meridian::drill
