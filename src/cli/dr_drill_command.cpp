#include "cli/dr_drill_command.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <thread>

#include "cli/cluster_file.h"
#include "drill/dr_drill.h"
#include "drill/dr_plot.h"
#include "drill/dr_report.h"

namespace meridian::cli {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

Status DeploymentError(std::string message) { return Status("DrillException", "dr-drill: " + std::move(message), 500); }

std::string SelfExecutable() {
  char self[4096];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return "";
  self[n] = '\0';
  return self;
}

bool PortAccepts(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
  ::close(fd);
  return ok;
}

// "http://127.0.0.1:4567" -> 4567 (0 if there is no port).
uint16_t PortOf(const std::string& endpoint) {
  auto colon = endpoint.rfind(':');
  if (colon == std::string::npos) return 0;
  return static_cast<uint16_t>(std::atoi(endpoint.c_str() + colon + 1));
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string Tail(const std::string& text, size_t lines = 8) {
  size_t pos = text.size();
  for (size_t n = 0; n <= lines && pos > 0; ++n) {
    pos = text.rfind('\n', pos - 1);
    if (pos == std::string::npos) return text;
  }
  return text.substr(pos + 1);
}

// A child process of this one: `argv` with `env` added to the environment, output appended to
// `log_path`, killed with `death_signal` should this process die. Everything the child needs is
// prepared before fork (the drill forks while its workload threads run).
Result<pid_t> Spawn(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
                    const std::string& log_path, int death_signal) {
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry = *e;
    if (!env.count(entry.substr(0, entry.find('=')))) env_strings.push_back(std::move(entry));
  }
  for (const auto& [name, value] : env) env_strings.push_back(name + "=" + value);
  std::vector<char*> envp, args;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_copy = argv;
  for (auto& a : argv_copy) args.push_back(a.data());
  args.push_back(nullptr);
  int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log < 0) return DeploymentError("cannot open " + log_path + ": " + std::strerror(errno));
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(log);
    return DeploymentError("fork failed: " + std::string(std::strerror(errno)));
  }
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, death_signal);
    if (::getppid() != parent) ::_exit(126);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    int null = ::open("/dev/null", O_RDONLY);
    if (null < 0 || ::dup2(null, 0) < 0 || ::dup2(log, 1) < 0 || ::dup2(log, 2) < 0) ::_exit(126);
    ::execve(args[0], args.data(), envp.data());
    ::_exit(127);
  }
  ::close(log);
  return pid;
}

// Waits for `pid` (a child of this process) up to `timeout`; true if it has exited.
bool WaitChild(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD)) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void StopChild(pid_t pid, std::chrono::milliseconds grace) {
  if (pid <= 0) return;
  ::kill(pid, SIGTERM);
  if (!WaitChild(pid, grace)) {
    ::kill(pid, SIGKILL);
    WaitChild(pid, std::chrono::seconds(5));
  }
}

// A `meridian up` deployment run as a child process, plus any region process the drill started
// again itself after killing it.
class UpDeployment : public drill::RegionProcesses {
 public:
  static Result<std::unique_ptr<drill::RegionProcesses>> Start(const std::string& directory,
                                                               const std::vector<std::string>& regions) {
    const std::string self = SelfExecutable();
    if (self.empty()) return DeploymentError("cannot find this program (/proc/self/exe)");
    std::string region_list;
    for (const auto& r : regions) region_list += (region_list.empty() ? "" : ",") + r;
    std::mt19937 random(std::random_device{}());
    std::string last_error;
    // `up` needs 2n+1 consecutive ports (edge, regions, peer links); try a few random ranges,
    // below the kernel's ephemeral range (32768+) so outgoing connections cannot take them.
    for (int attempt = 0; attempt < 5; ++attempt) {
      const uint16_t port = static_cast<uint16_t>(20000 + random() % 12000);
      std::unique_ptr<UpDeployment> d(new UpDeployment(directory, regions));
      d->up_log_ = directory + ".up.log";
      MERIDIAN_ASSIGN_OR_RETURN(d->up_pid_, Spawn({self, "up", "--data-dir", directory, "--regions", region_list,
                                                   "--port", std::to_string(port)},
                                                  {}, d->up_log_, SIGTERM));
      Status ready = d->WaitReady(std::chrono::seconds(60));
      if (ready.ok()) return std::unique_ptr<drill::RegionProcesses>(std::move(d));
      last_error = ready.message();
      // The port conflict is reported by the region process, possibly above the log's tail.
      if (ReadFile(d->up_log_).find("already in use") == std::string::npos) return ready;
    }
    return DeploymentError("no free port range for `meridian up`: " + last_error);
  }

  ~UpDeployment() override {
    for (auto& [region, pid] : restarted_) StopChild(pid, std::chrono::seconds(10));
    StopChild(up_pid_, std::chrono::seconds(20));
  }

  std::string account_id() const override { return cluster_.account_id; }
  std::string Endpoint(const std::string& region) const override {
    auto it = cluster_.region_endpoints.find(region);
    return it == cluster_.region_endpoints.end() ? "" : it->second;
  }
  sigv4::Credentials AdminCredentials() const override {
    return sigv4::Credentials::Make(cluster_.admin_access_key_id, cluster_.admin_secret_access_key);
  }

  Status Kill(const std::string& region) override {
    if (auto it = restarted_.find(region); it != restarted_.end()) {
      ::kill(it->second, SIGKILL);
      WaitChild(it->second, std::chrono::seconds(5));
      restarted_.erase(it);
      return Status::Ok();
    }
    const pid_t pid = RegionPid(region);
    if (pid <= 0) return DeploymentError("no running process for region " + region + " under `meridian up`");
    if (::kill(pid, SIGKILL) != 0) return DeploymentError("kill " + std::to_string(pid) + ": " + std::strerror(errno));
    // It is `up`'s child: gone once it is a zombie or reaped.
    const auto deadline = Clock::now() + std::chrono::seconds(5);
    while (IsRunning(pid)) {
      if (Clock::now() >= deadline) return DeploymentError("region " + region + " survived SIGKILL for 5 s");
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return Status::Ok();
  }

  Status Restart(const std::string& region) override {
    if (restarted_.count(region)) return DeploymentError("region " + region + " was restarted already");
    const uint16_t port = PortOf(Endpoint(region));
    if (port == 0) return DeploymentError("no endpoint for region " + region);
    MERIDIAN_ASSIGN_OR_RETURN(
        pid_t pid, Spawn({SelfExecutable(), "server", "--config", directory_ + "/" + region + "/server.json"},
                         {{"MERIDIAN_ADMIN_ACCESS_KEY_ID", cluster_.admin_access_key_id},
                          {"MERIDIAN_ADMIN_SECRET_ACCESS_KEY", cluster_.admin_secret_access_key}},
                         directory_ + "." + region + ".log", SIGKILL));
    restarted_[region] = pid;
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    while (!PortAccepts(port)) {
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        restarted_.erase(region);
        return DeploymentError("region " + region + " exited on restart: " +
                               Tail(ReadFile(directory_ + "." + region + ".log")));
      }
      if (Clock::now() >= deadline) return DeploymentError("region " + region + " did not listen within 60 s");
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return Status::Ok();
  }

 private:
  UpDeployment(std::string directory, std::vector<std::string> regions)
      : directory_(std::move(directory)), regions_(std::move(regions)) {}

  Status WaitReady(std::chrono::seconds timeout) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
      const std::string log = ReadFile(up_log_);
      if (log.find("meridian: ready\n") != std::string::npos) break;
      int status = 0;
      if (::waitpid(up_pid_, &status, WNOHANG) == up_pid_) {
        up_pid_ = -1;
        return DeploymentError("`meridian up` exited before it was ready: " + Tail(log));
      }
      if (Clock::now() >= deadline) return DeploymentError("`meridian up` was not ready within 60 s: " + Tail(log));
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    MERIDIAN_ASSIGN_OR_RETURN(cluster_, ClusterFile::Load(directory_ + "/cluster.json"));
    for (const auto& r : regions_)
      if (RegionPid(r) <= 0) return DeploymentError("no process found for region " + r);
    return Status::Ok();
  }

  static bool IsRunning(pid_t pid) {
    const std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
    if (stat.empty()) return false;
    auto close = stat.rfind(')');
    return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] != 'Z' && stat[close + 2] != 'X';
  }

  // The `meridian server --config DIR/<region>/server.json` child of `up`, from /proc.
  pid_t RegionPid(const std::string& region) const {
    const std::string config = directory_ + "/" + region + "/server.json";
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/proc", ec)) {
      const std::string name = entry.path().filename().string();
      if (name.find_first_not_of("0123456789") != std::string::npos) continue;
      const std::string stat = ReadFile(entry.path().string() + "/stat");
      auto close = stat.rfind(')');
      if (close == std::string::npos) continue;
      std::istringstream fields(stat.substr(close + 2));
      std::string state;
      pid_t ppid = 0;
      fields >> state >> ppid;
      if (ppid != up_pid_ || state == "Z") continue;
      std::string cmdline = ReadFile(entry.path().string() + "/cmdline");
      std::vector<std::string> argv;
      for (size_t start = 0; start < cmdline.size();) {
        size_t end = cmdline.find('\0', start);
        if (end == std::string::npos) end = cmdline.size();
        argv.push_back(cmdline.substr(start, end - start));
        start = end + 1;
      }
      if (argv.size() >= 4 && argv[1] == "server" && argv[2] == "--config" && argv[3] == config)
        return static_cast<pid_t>(std::stol(name));
    }
    return -1;
  }

  std::string directory_;
  std::vector<std::string> regions_;
  std::string up_log_;
  pid_t up_pid_ = -1;
  ClusterFile cluster_;
  std::map<std::string, pid_t> restarted_;  // region -> its `meridian server` child of ours
};

struct DrDrillOptions {
  std::string strategies = "1,2,3";
  std::string regions = "us-east-1,us-west-2";
  double duration_s = 4;
  double observe_s = 1.5;
  double region_a_down_s = 2.5;
  double rate = 40;
  std::string data_dir;
  bool keep = false;
  bool quiet = false;
  bool no_secret_rotation = false;
  std::string json_path;
  std::string plot_path;
};

std::vector<std::string> SplitList(const std::string& list) {
  std::vector<std::string> out;
  std::stringstream ss(list);
  for (std::string item; std::getline(ss, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

std::chrono::milliseconds Millis(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000.0));
}

int RunDrDrill(const DrDrillOptions& o) {
  auto fail = [](const std::string& m) {
    std::cerr << "meridian dr-drill: " << m << "\n";
    return 1;
  };
  drill::DrillOptions options;
  options.strategies.clear();
  for (const auto& s : SplitList(o.strategies)) {
    auto parsed = drill::ParseKeyStrategy(s);
    if (!parsed.ok()) return fail(parsed.status().message());
    options.strategies.push_back(*parsed);
  }
  options.regions = SplitList(o.regions);
  if (options.regions.size() < 2) return fail("--regions needs at least two regions (A fails, B takes over)");
  if (o.duration_s <= 0 || o.observe_s < 0 || o.region_a_down_s < 0 || o.rate <= 0)
    return fail("--duration and --rate must be positive, --observe and --region-a-down not negative");
  options.duration = Millis(o.duration_s);
  options.observe = Millis(o.observe_s);
  options.region_a_down = Millis(o.region_a_down_s);
  options.rate = o.rate;
  options.keep = o.keep;
  options.secret_rotation = !o.no_secret_rotation;
  options.progress = o.quiet ? nullptr : &std::cerr;

  // The scratch directory: the one given, or a fresh one under the temporary directory (removed
  // afterwards unless --keep).
  std::string scratch = o.data_dir;
  bool remove_scratch = false;
  if (scratch.empty()) {
    std::string tmpl = (fs::temp_directory_path() / "meridian-dr-drill-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) return fail("cannot create a scratch directory: " + std::string(std::strerror(errno)));
    scratch = tmpl;
    remove_scratch = !o.keep;
  }
  options.data_dir = fs::absolute(scratch).string();

  auto report = drill::RunDrill(options, UpDeployment::Start);
  if (remove_scratch) {
    std::error_code ec;
    fs::remove_all(scratch, ec);
  } else if (o.keep) {
    std::cerr << "meridian dr-drill: kept " << options.data_dir << "\n";
  }
  if (!report.ok()) return fail(report.status().message());
  std::cout << drill::RenderTable(*report) << std::flush;
  int code = 0;
  if (!o.json_path.empty()) {
    std::ofstream out(o.json_path, std::ios::binary | std::ios::trunc);
    out << drill::RenderJson(*report);
    out.close();
    if (!out) code = fail("cannot write " + o.json_path);
  }
  if (!o.plot_path.empty()) {
    Status plotted = drill::PlotTimeline(*report, o.plot_path);
    if (!plotted.ok())
      code = fail(plotted.message());
    else
      std::cerr << "meridian dr-drill: timeline drawn in " << o.plot_path << "\n";
  }
  for (const auto& s : report->strategies)
    if (!s.completed) code = 1;
  return code;
}

}  // namespace

void RegisterDrDrillCommand(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<DrDrillOptions>();
  auto* cmd = app.add_subcommand(
      "dr-drill",
      "Kill region A for real (its Meridian process and its PostgreSQL primary), fail over to region B, and "
      "report RPO, RTO and decrypt success per key strategy");
  cmd->add_option("--strategies", o->strategies,
                  "Comma-separated key strategies: 1|mrk (one MRK replicated), 2|multi-keyring (per-region keys), "
                  "3|reencrypt (key in A only, recovered by ReEncrypt through A)")
      ->capture_default_str();
  cmd->add_option("--regions", o->regions, "Comma-separated regions; the first (A) fails, the second (B) takes over")
      ->capture_default_str();
  cmd->add_option("--duration", o->duration_s, "Seconds of workload before the failure")->capture_default_str();
  cmd->add_option("--observe", o->observe_s, "Seconds of workload after recovery (for the timeline)")
      ->capture_default_str();
  cmd->add_option("--region-a-down", o->region_a_down_s,
                  "Strategy 3: seconds region A stays down before its Meridian process is started again")
      ->capture_default_str();
  cmd->add_option("--rate", o->rate, "Writes per second in A (and as many reads per second in B)")
      ->capture_default_str();
  cmd->add_option("--data-dir", o->data_dir,
                  "Scratch directory (each strategy runs in DIR/strategy-N); default: a fresh temporary one");
  cmd->add_flag("--keep", o->keep, "Keep the scratch directory (databases, logs) afterwards");
  cmd->add_flag("--quiet", o->quiet, "No progress lines on stderr");
  cmd->add_flag("--no-secret-rotation", o->no_secret_rotation,
                "Skip the check of a database-password rotation in progress at failure time");
  cmd->add_option("--json", o->json_path, "Also write the report as JSON to this file");
  cmd->add_option("--plot", o->plot_path,
                  "Draw the timeline (successful requests per 100 ms through the failure) into this PNG (gnuplot)");
  cmd->callback([o, &exit_code] { exit_code = RunDrDrill(*o); });
}

}  // namespace meridian::cli
