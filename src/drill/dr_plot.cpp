#include "drill/dr_plot.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

extern char** environ;

namespace meridian::drill {
namespace {

Status PlotError(std::string message) { return Status("PlotError", "dr-drill --plot: " + std::move(message), 500); }

Status WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  return out ? Status::Ok() : PlotError("cannot write " + path);
}

// Runs `gnuplot script_path` with its output in log_path; returns its exit status.
Status RunGnuplot(const std::string& script_path, const std::string& log_path) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::string program = "gnuplot";
  std::string script = script_path;
  char* argv[] = {program.data(), script.data(), nullptr};
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, "gnuplot", &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    return PlotError(std::string("cannot run gnuplot (") + std::strerror(rc) +
                     "); install the Debian package gnuplot-nox (scripts/install-deps.sh does)");
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return PlotError("waitpid: " + std::string(std::strerror(errno)));
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
    return PlotError("gnuplot is not installed; install the Debian package gnuplot-nox");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::ifstream in(log_path);
    std::stringstream says;
    says << in.rdbuf();
    return PlotError("gnuplot failed (status " + std::to_string(status) + "): " + says.str());
  }
  return Status::Ok();
}

bool IsPng(const std::string& path) {
  static const unsigned char kSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  std::ifstream in(path, std::ios::binary);
  char head[8] = {};
  return in.read(head, sizeof head) && std::memcmp(head, kSignature, sizeof head) == 0;
}

}  // namespace

std::string GnuplotData(const DrillReport& report) {
  std::ostringstream out;
  for (size_t i = 0; i < report.strategies.size(); ++i) {
    const auto& s = report.strategies[i];
    out << "# strategy " << s.strategy << ": " << s.name << "\n";
    out << "# t_seconds succeeded writes_ok reads_ok failed\n";
    if (s.timeline.empty()) out << "0 0 0 0 0\n";  // keeps gnuplot's `index` numbering aligned
    for (const auto& b : s.timeline) {
      char t[32];
      std::snprintf(t, sizeof t, "%.3f", static_cast<double>(b.start_ms) / 1000.0);
      out << t << " " << b.succeeded() << " " << b.writes_ok << " " << b.reads_ok << " " << b.failed << "\n";
    }
    out << "\n\n";  // two blank lines end a gnuplot data block
  }
  return out.str();
}

std::string GnuplotScript(const DrillReport& report, const std::string& data_path, const std::string& png_path) {
  static const char* kColors[] = {"#1b7837", "#2166ac", "#b2182b", "#762a83", "#e08214"};
  std::ostringstream gp;
  const std::string a = report.regions.empty() ? "A" : report.regions[0];
  const std::string b = report.regions.size() > 1 ? report.regions[1] : "B";
  gp << "set terminal pngcairo size 1200,560 font 'sans,10'\n"
     << "set output '" << png_path << "'\n"
     << "set title 'meridian dr-drill: successful requests per " << report.bucket_ms << " ms (writes + reads); region "
     << a << " killed at t = 0, " << b << " takes over'\n"
     << "set xlabel 'seconds since region " << a << " was killed'\n"
     << "set ylabel 'successful requests per " << report.bucket_ms << " ms'\n"
     << "set grid ytics\n"
     << "set key outside right top\n"
     << "set yrange [0:*]\n"
     << "set arrow 1 from 0, graph 0 to 0, graph 1 nohead lw 2 dt 2 lc rgb 'black'\n"
     << "set label 1 'kill' at 0, graph 1.02 center\n";
  int arrow = 2;
  for (size_t i = 0; i < report.strategies.size(); ++i) {
    const auto& s = report.strategies[i];
    const char* color = kColors[i % (sizeof kColors / sizeof kColors[0])];
    if (s.rto_ms >= 0) {
      gp << "set arrow " << arrow++ << " from " << static_cast<double>(s.rto_ms) / 1000.0 << ", graph 0 to "
         << static_cast<double>(s.rto_ms) / 1000.0 << ", graph 1 nohead lw 1 dt 3 lc rgb '" << color << "'\n";
    }
    if (s.region_a_restored_at_ms >= 0) {
      const int id = arrow++;
      gp << "set arrow " << id << " from " << static_cast<double>(s.region_a_restored_at_ms) / 1000.0
         << ", graph 0 to " << static_cast<double>(s.region_a_restored_at_ms) / 1000.0
         << ", graph 0.9 nohead lw 1 dt 4 lc rgb '" << color << "'\n"
         << "set label " << id << " '" << a << " restarted' at "
         << static_cast<double>(s.region_a_restored_at_ms) / 1000.0 << ", graph 0.92 center textcolor rgb '" << color
         << "'\n";
    }
  }
  gp << "plot ";
  for (size_t i = 0; i < report.strategies.size(); ++i) {
    const auto& s = report.strategies[i];
    const char* color = kColors[i % (sizeof kColors / sizeof kColors[0])];
    std::string title = "strategy " + std::to_string(s.strategy) + ": " + s.name;
    if (s.rto_ms >= 0) title += " (RTO " + std::to_string(s.rto_ms) + " ms)";
    std::string safe;
    for (char c : title)
      if (c != '\'' && c != '\\') safe += c;
    if (i) gp << ", \\\n     ";
    gp << "'" << data_path << "' index " << i << " using 1:2 with steps lw 2 lc rgb '" << color << "' title '"
       << safe << "'";
  }
  gp << "\n";
  return gp.str();
}

Status PlotTimeline(const DrillReport& report, const std::string& png_path) {
  if (report.strategies.empty()) return PlotError("nothing to plot");
  if (png_path.find_first_of("'\\\n") != std::string::npos)
    return PlotError("the PNG path must not contain quotes, backslashes or newlines");
  const std::string data_path = png_path + ".dat", script_path = png_path + ".gp";
  MERIDIAN_RETURN_IF_ERROR(WriteText(data_path, GnuplotData(report)));
  MERIDIAN_RETURN_IF_ERROR(WriteText(script_path, GnuplotScript(report, data_path, png_path)));
  std::remove(png_path.c_str());
  MERIDIAN_RETURN_IF_ERROR(RunGnuplot(script_path, png_path + ".log"));
  if (!IsPng(png_path)) return PlotError("gnuplot ran but " + png_path + " is not a PNG");
  std::remove((png_path + ".log").c_str());
  return Status::Ok();
}

}  // namespace meridian::drill
