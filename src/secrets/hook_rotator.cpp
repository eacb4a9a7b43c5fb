#include "secrets/hook_rotator.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "common/aws_json.h"
#include "sdk/http_client.h"

extern char** environ;

namespace meridian::secrets {

namespace {

Status HookConfigError(const std::string& message) {
  return Status("InvalidConfiguration", "rotation_functions: " + message, 400);
}

Status HookFailed(const std::string& message) { return Status("RotationFunctionError", message, 400); }

// The last non-empty line of `output`, at most 512 characters: what a failed hook reports.
std::string LastLine(const std::string& output) {
  size_t end = output.find_last_not_of("\r\n \t");
  if (end == std::string::npos) return "";
  size_t begin = output.find_last_of('\n', end);
  begin = begin == std::string::npos ? 0 : begin + 1;
  std::string line = output.substr(begin, end - begin + 1);
  if (line.size() > 512) line = line.substr(0, 512) + "...";
  return line;
}

std::string FirstLine(const std::string& body) {
  std::string line = body.substr(0, body.find('\n'));
  if (line.size() > 512) line = line.substr(0, 512) + "...";
  return line;
}

std::string EventJson(const std::string& secret_arn, const std::string& token, const char* step) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  w.Key("SecretId"); w.String(secret_arn);
  w.Key("ClientRequestToken"); w.String(token);
  w.Key("Step"); w.String(step);
  w.EndObject();
  return sb.GetString();
}

// The account field of an ARN (arn:partition:service:region:account:...), "" if none.
std::string ArnAccount(const std::string& arn) {
  size_t pos = 0;
  for (int i = 0; i < 4; ++i) {
    pos = arn.find(':', pos);
    if (pos == std::string::npos) return "";
    ++pos;
  }
  return arn.substr(pos, arn.find(':', pos) - pos);
}

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { Close(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

struct ProcessResult {
  bool timed_out = false;
  int exit_status = -1;  // WEXITSTATUS, or -1 when killed by a signal
  std::string output;    // stdout and stderr interleaved, the last 16 KiB
};

// Runs argv with `env`, `input` on stdin, stdout+stderr captured; kills it after `timeout`.
Result<ProcessResult> RunProcess(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                                 const std::string& input, std::chrono::milliseconds timeout) {
  int in_pipe[2], out_pipe[2];
  if (::pipe2(in_pipe, O_CLOEXEC) != 0) return HookFailed("cannot create a pipe");
  Fd in_read(in_pipe[0]), in_write(in_pipe[1]);
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) return HookFailed("cannot create a pipe");
  Fd out_read(out_pipe[0]), out_write(out_pipe[1]);
  // The event is written before the child exists (it fits the pipe buffer), so no write can
  // meet a closed pipe.
  if (input.size() > 60000) return HookFailed("event too large");
  if (::write(in_write.get(), input.data(), input.size()) != static_cast<ssize_t>(input.size()))
    return HookFailed("cannot write the event");
  in_write.Close();

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_read.get(), 0);
  posix_spawn_file_actions_adddup2(&actions, out_write.get(), 1);
  posix_spawn_file_actions_adddup2(&actions, out_write.get(), 2);
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);  // no server descriptor leaks into the hook
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);  // its own process group: a timeout kills its children too

  std::vector<char*> args, envp;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  pid_t pid = -1;
  const int spawned = ::posix_spawnp(&pid, argv[0].c_str(), &actions, &attr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  in_read.Close();
  out_write.Close();
  if (spawned != 0) return HookFailed("cannot start " + argv[0] + ": " + std::string(std::strerror(spawned)));

  ProcessResult result;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      result.timed_out = true;
      ::kill(-pid, SIGKILL);
      break;
    }
    pollfd p{out_read.get(), POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 1000)));
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) continue;
    const ssize_t n = ::read(out_read.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EOF: the process (and its children) closed the output
    result.output.append(buf, static_cast<size_t>(n));
    if (result.output.size() > 16384) result.output.erase(0, result.output.size() - 16384);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

// One hook, invoked once per step.
class HookRotator final : public Rotator {
 public:
  HookRotator(RotationHook hook, std::shared_ptr<const HookEnvironment> env)
      : hook_(std::move(hook)), env_(std::move(env)) {}

  bool Asynchronous() const override { return true; }
  Status CreateSecret(RotationContext& ctx) override { return Invoke(ctx, "createSecret"); }
  Status SetSecret(RotationContext& ctx) override { return Invoke(ctx, "setSecret"); }
  Status TestSecret(RotationContext& ctx) override { return Invoke(ctx, "testSecret"); }
  Status FinishSecret(RotationContext& ctx) override { return Invoke(ctx, "finishSecret"); }

 private:
  Status Invoke(RotationContext& ctx, const char* step) {
    const std::string event = EventJson(ctx.SecretArn(), ctx.Token(), step);
    return hook_.url.empty() ? InvokeCommand(ctx, event) : InvokeUrl(event);
  }

  Status InvokeUrl(const std::string& event) {
    MERIDIAN_ASSIGN_OR_RETURN(auto endpoint, sdk::HttpEndpoint::Parse(hook_.url));
    sdk::HttpOptions options;
    options.timeout = std::chrono::seconds(hook_.timeout_seconds);
    auto response = sdk::HttpPost(endpoint, endpoint.base_path.empty() ? "/" : endpoint.base_path,
                                  {{"Content-Type", "application/json"},
                                   {"X-Amz-Invocation-Type", "RequestResponse"},
                                   {"X-Meridian-Function-Name", hook_.name}},
                                  event, options);
    if (!response.ok()) return HookFailed(hook_.name + " could not be invoked: " + response.status().message());
    if (response->status < 200 || response->status > 299)
      return HookFailed(hook_.name + " failed (HTTP " + std::to_string(response->status) +
                        "): " + FirstLine(response->body));
    return Status::Ok();
  }

  Status InvokeCommand(RotationContext& ctx, const std::string& event) {
    std::map<std::string, std::string> env;
    for (const char* inherited : {"PATH", "HOME", "LANG", "LC_ALL", "PYTHONPATH", "TZ"})
      if (const char* v = std::getenv(inherited)) env[inherited] = v;
    if (!env.count("PATH")) env["PATH"] = "/usr/local/bin:/usr/bin:/bin";
    const std::string endpoint = env_->endpoint ? env_->endpoint() : "";
    env["AWS_REGION"] = env_->region;
    env["AWS_DEFAULT_REGION"] = env_->region;
    env["AWS_LAMBDA_FUNCTION_NAME"] = hook_.name;
    env["AWS_LAMBDA_FUNCTION_TIMEOUT"] = std::to_string(hook_.timeout_seconds);
    if (!endpoint.empty()) {
      env["SECRETS_MANAGER_ENDPOINT"] = endpoint;
      env["AWS_ENDPOINT_URL_SECRETS_MANAGER"] = endpoint;
      env["AWS_ENDPOINT_URL"] = endpoint;
    }
    if (!env_->ca_bundle.empty()) env["AWS_CA_BUNDLE"] = env_->ca_bundle;
    for (const auto& [k, v] : hook_.environment) env[k] = v;
    if (!hook_.role_arn.empty()) {
      if (!env_->issue_credentials) return HookFailed("no credentials can be issued for " + hook_.role_arn);
      auto creds = env_->issue_credentials(ArnAccount(ctx.SecretArn()), hook_.role_arn, hook_.name);
      if (!creds.ok())
        return HookFailed("cannot assume the execution role " + hook_.role_arn + " of " + hook_.name + ": " +
                          creds.status().message());
      env["AWS_ACCESS_KEY_ID"] = creds->access_key_id;
      env["AWS_SECRET_ACCESS_KEY"] = creds->secret_access_key;
      env["AWS_SESSION_TOKEN"] = creds->session_token;
    }
    std::vector<std::string> envp;
    for (const auto& [k, v] : env) envp.push_back(k + "=" + v);
    auto run = RunProcess(hook_.command, envp, event, std::chrono::seconds(hook_.timeout_seconds));
    if (!run.ok()) return run.status();
    if (run->timed_out)
      return HookFailed(hook_.name + " timed out after " + std::to_string(hook_.timeout_seconds) + " seconds");
    if (run->exit_status != 0) {
      std::string why = LastLine(run->output);
      return HookFailed(hook_.name + " failed (exit status " + std::to_string(run->exit_status) + ")" +
                        (why.empty() ? "" : ": " + why));
    }
    return Status::Ok();
  }

  RotationHook hook_;
  std::shared_ptr<const HookEnvironment> env_;
};

}  // namespace

Result<std::vector<RotationHook>> ParseRotationHooks(const rapidjson::Value& array) {
  if (!array.IsArray()) return HookConfigError("must be an array of objects");
  std::vector<RotationHook> hooks;
  std::set<std::string> names;
  for (const auto& item : array.GetArray()) {
    if (!item.IsObject()) return HookConfigError("must be an array of objects");
    JsonRequest r(item);
    RotationHook h;
    auto name = r.RequiredString("name", 1, 64);
    if (!name.ok()) return HookConfigError("each entry needs a \"name\" (1-64 characters)");
    h.name = *name;
    if (!names.insert(h.name).second) return HookConfigError("\"" + h.name + "\" is named twice");
    auto command = r.OptStringList("command", 256, 4096);
    auto url = r.OptString("url", 1, 2048);
    auto role = r.OptString("role_arn", 20, 2048);
    auto timeout = r.OptInt("timeout_seconds", 1, 900);
    auto environment = r.OptStringMap("environment");
    if (!command.ok() || !url.ok() || !role.ok() || !timeout.ok() || !environment.ok())
      return HookConfigError(h.name + ": command (list of strings), url, role_arn (an IAM role ARN), "
                             "timeout_seconds (1-900), environment (string map)");
    if (*command) h.command = **command;
    if (*url) h.url = **url;
    if (h.command.empty() == h.url.empty()) return HookConfigError(h.name + ": give exactly one of command and url");
    if (!h.url.empty() && !sdk::HttpEndpoint::Parse(h.url).ok())
      return HookConfigError(h.name + ": url must be http://host[:port][/path] or https://...");
    if (*role) {
      if (h.url.size()) return HookConfigError(h.name + ": role_arn applies to command hooks only");
      if ((*role)->rfind("arn:", 0) != 0 || (*role)->find(":role/") == std::string::npos)
        return HookConfigError(h.name + ": role_arn must be an IAM role ARN");
      h.role_arn = **role;
    }
    if (*timeout) h.timeout_seconds = static_cast<int>(**timeout);
    if (*environment) h.environment = **environment;
    hooks.push_back(std::move(h));
  }
  return hooks;
}

std::string RotationHooksToJson(const std::vector<RotationHook>& hooks) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartArray();
  for (const auto& h : hooks) {
    w.StartObject();
    w.Key("name"); w.String(h.name);
    if (!h.command.empty()) {
      w.Key("command");
      w.StartArray();
      for (const auto& a : h.command) w.String(a);
      w.EndArray();
    }
    if (!h.url.empty()) { w.Key("url"); w.String(h.url); }
    if (!h.role_arn.empty()) { w.Key("role_arn"); w.String(h.role_arn); }
    w.Key("timeout_seconds"); w.Int(h.timeout_seconds);
    if (!h.environment.empty()) {
      w.Key("environment");
      w.StartObject();
      for (const auto& [k, v] : h.environment) { w.Key(k.c_str()); w.String(v); }
      w.EndObject();
    }
    w.EndObject();
  }
  w.EndArray();
  return sb.GetString();
}

std::string RotationFunctionName(const std::string& id) {
  // arn:<partition>:lambda:<region>:<account>:function:<name>[:<qualifier>]
  if (id.rfind("arn:", 0) != 0) return id;
  const size_t marker = id.find(":function:");
  if (marker == std::string::npos) return id;
  std::string rest = id.substr(marker + 10);
  return rest.substr(0, rest.find(':'));
}

RotatorResolver HookRotators(std::vector<RotationHook> hooks, HookEnvironment environment, RotatorResolver fallback) {
  auto env = std::make_shared<const HookEnvironment>(std::move(environment));
  auto by_name = std::make_shared<std::map<std::string, std::shared_ptr<Rotator>>>();
  for (auto& h : hooks) {
    std::string name = h.name;
    (*by_name)[name] = std::make_shared<HookRotator>(std::move(h), env);
  }
  return [by_name, fallback = std::move(fallback)](const std::string& id) -> std::shared_ptr<Rotator> {
    auto it = by_name->find(RotationFunctionName(id));
    if (it != by_name->end()) return it->second;
    return fallback ? fallback(id) : nullptr;
  };
}

}  // namespace meridian::secrets
