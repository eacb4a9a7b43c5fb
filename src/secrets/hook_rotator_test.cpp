// Rotation hooks (hook_rotator.h): configuration, command hooks (event on stdin, environment,
// credentials, failures, timeouts) and an HTTP hook completing a rotation through the API, the
// way an AWS rotation Lambda does.
#include "secrets/hook_rotator.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "secrets/test_fixture.h"

namespace meridian::secrets {
namespace {

using testing::Quote;
using testing::Token;

Result<std::vector<RotationHook>> Parse(const std::string& json) {
  rapidjson::Document d;
  d.Parse(json.c_str());
  return ParseRotationHooks(d);
}

TEST(RotationHookConfig, ParsesValidatesAndRoundTrips) {
  auto hooks = Parse(R"([{"name":"a","command":["python3","run.py"],"role_arn":"arn:aws:iam::111122223333:role/x",
                          "timeout_seconds":5,"environment":{"K":"V"}},
                         {"name":"b","url":"http://127.0.0.1:9/rotate"}])");
  ASSERT_TRUE(hooks.ok()) << hooks.status().ToString();
  ASSERT_EQ(hooks->size(), 2u);
  EXPECT_EQ((*hooks)[0].command.size(), 2u);
  EXPECT_EQ((*hooks)[0].timeout_seconds, 5);
  EXPECT_EQ((*hooks)[1].url, "http://127.0.0.1:9/rotate");
  auto again = Parse(RotationHooksToJson(*hooks));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(RotationHooksToJson(*again), RotationHooksToJson(*hooks));

  EXPECT_FALSE(Parse(R"([{"name":"a"}])").ok());                                        // neither
  EXPECT_FALSE(Parse(R"([{"name":"a","command":["x"],"url":"http://h/"}])").ok());     // both
  EXPECT_FALSE(Parse(R"([{"name":"a","command":["x"]},{"name":"a","command":["y"]}])").ok());
  EXPECT_FALSE(Parse(R"([{"name":"a","command":["x"],"timeout_seconds":901}])").ok());
  EXPECT_FALSE(Parse(R"([{"name":"a","command":["x"],"role_arn":"arn:aws:iam::111122223333:user/u"}])").ok());
  EXPECT_FALSE(Parse(R"([{"name":"a","url":"ftp://h/"}])").ok());
  EXPECT_FALSE(Parse(R"({"name":"a"})").ok());
}

TEST(RotationHookConfig, FunctionNameFromLambdaArn) {
  EXPECT_EQ(RotationFunctionName("my-fn"), "my-fn");
  EXPECT_EQ(RotationFunctionName("arn:aws:lambda:us-east-1:111122223333:function:my-fn"), "my-fn");
  EXPECT_EQ(RotationFunctionName("arn:aws:lambda:us-east-1:111122223333:function:my-fn:PROD"), "my-fn");
}

// Collects rotation events; Wait blocks until one named `name` arrives.
class EventLog {
 public:
  void Add(const RotationEvent& e) {
    std::lock_guard<std::mutex> lock(mu_);
    events_.push_back(e);
    cv_.notify_all();
  }
  std::optional<RotationEvent> Wait(const std::string& name, std::chrono::seconds timeout = std::chrono::seconds(20)) {
    std::unique_lock<std::mutex> lock(mu_);
    std::optional<RotationEvent> found;
    cv_.wait_for(lock, timeout, [&] {
      for (const auto& e : events_)
        if (e.name == name) found = e;
      return found.has_value();
    });
    return found;
  }
  std::vector<std::string> Names() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> out;
    for (const auto& e : events_) out.push_back(e.name);
    return out;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<RotationEvent> events_;
};

class HookRotationTest : public testing::SecretsFixture {
 protected:
  void SetUp() override {
    rotation_events_ = [this](const RotationEvent& e) { events_.Add(e); };
    testing::SecretsFixture::SetUp();
    script_dir_ = dir_;
  }

  // Installs the hooks and reopens the service with them.
  void UseHooks(std::vector<RotationHook> hooks, HookEnvironment env) {
    rotators_ = HookRotators(std::move(hooks), std::move(env));
    Reopen();
  }

  std::string WriteScript(const std::string& name, const std::string& body) {
    const auto path = script_dir_ / name;
    std::ofstream(path) << "#!/bin/sh\n" << body;
    std::filesystem::permissions(path, std::filesystem::perms::owner_all);
    return path.string();
  }

  Status Rotate(const std::string& arn, const std::string& function, const std::string& token) {
    return Call("RotateSecret", "{\"SecretId\":" + Quote(arn) + ",\"ClientRequestToken\":" + Quote(token) +
                                    ",\"RotationLambdaARN\":" + Quote(function) +
                                    ",\"RotationRules\":{\"AutomaticallyAfterDays\":30}}");
  }

  std::filesystem::path script_dir_;
  EventLog events_;
};

TEST_F(HookRotationTest, CommandHookGetsTheEventOnStdinAndAScopedEnvironment) {
  ::setenv("MERIDIAN_ADMIN_SECRET_ACCESS_KEY", "admin-secret-must-not-leak", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "server-secret-must-not-leak", 1);
  const std::string log = (dir_ / "calls.log").string();
  // Records each event and its environment, then fails setSecret the way a Lambda error would.
  const std::string script = WriteScript("hook.sh",
      "cat >> " + log + "\necho >> " + log + "\nenv | sort >> " + log + "\necho ---- >> " + log +
      "\nif grep -q setSecret " + log + "; then echo 'Traceback...' ; echo 'ValueError: cannot set password' >&2; "
      "exit 3; fi\n");
  std::vector<std::pair<std::string, std::string>> issued;
  HookEnvironment env;
  env.region = testing::kRegion;
  env.endpoint = [] { return std::string("http://127.0.0.1:4567"); };
  env.issue_credentials = [&](const std::string& account, const std::string& role, const std::string& session) {
    issued.emplace_back(account + "|" + role, session);
    return Result<HookCredentials>(HookCredentials{"ASIAHOOKSESSION00001", "session-secret", "session-token"});
  };
  RotationHook hook;
  hook.name = "generic-rotator";
  hook.command = {"/bin/sh", script};
  hook.role_arn = std::string("arn:aws:iam::") + testing::kAccount + ":role/rotation-exec";
  hook.environment = {{"EXCLUDE_CHARACTERS", "/@"}};
  UseHooks({hook}, env);

  const std::string arn = Create("app/db", "v1");
  const std::string token = Token(1);
  ASSERT_TRUE(Rotate(arn, "arn:aws:lambda:us-east-1:111122223333:function:generic-rotator", token).ok());
  auto failed = events_.Wait("RotationFailed");
  ASSERT_TRUE(failed.has_value());
  EXPECT_EQ(failed->failed_step, "setSecret");
  EXPECT_NE(failed->error.find("ValueError: cannot set password"), std::string::npos) << failed->error;
  EXPECT_NE(failed->error.find("exit status 3"), std::string::npos) << failed->error;
  EXPECT_EQ(failed->secret_arn, arn);
  EXPECT_EQ(events_.Names().front(), "RotationStarted");

  const std::string calls = testing::ReadFile(log);
  EXPECT_NE(calls.find("{\"SecretId\":\"" + arn + "\",\"ClientRequestToken\":\"" + token + "\",\"Step\":\"createSecret\"}"),
            std::string::npos) << calls;
  EXPECT_LT(calls.find("createSecret"), calls.find("setSecret"));
  EXPECT_EQ(calls.find("testSecret"), std::string::npos);  // stopped at the failed step
  EXPECT_NE(calls.find("SECRETS_MANAGER_ENDPOINT=http://127.0.0.1:4567"), std::string::npos);
  EXPECT_NE(calls.find("AWS_ENDPOINT_URL_SECRETS_MANAGER=http://127.0.0.1:4567"), std::string::npos);
  EXPECT_NE(calls.find("AWS_REGION=us-east-1"), std::string::npos);
  EXPECT_NE(calls.find("AWS_ACCESS_KEY_ID=ASIAHOOKSESSION00001"), std::string::npos);
  EXPECT_NE(calls.find("AWS_SESSION_TOKEN=session-token"), std::string::npos);
  EXPECT_NE(calls.find("AWS_LAMBDA_FUNCTION_NAME=generic-rotator"), std::string::npos);
  EXPECT_NE(calls.find("EXCLUDE_CHARACTERS=/@"), std::string::npos);
  EXPECT_EQ(calls.find("admin-secret-must-not-leak"), std::string::npos);
  EXPECT_EQ(calls.find("server-secret-must-not-leak"), std::string::npos);
  ASSERT_EQ(issued.size(), 2u);  // a session per invocation
  EXPECT_EQ(issued[0].first, std::string(testing::kAccount) + "|" + hook.role_arn);
  EXPECT_EQ(issued[0].second, "generic-rotator");

  // As AWS leaves a failed rotation: AWSCURRENT unchanged, the token's version AWSPENDING, no
  // LastRotatedDate, and a new rotation is refused until this one is reattempted.
  EXPECT_EQ(Value(arn), "v1");
  EXPECT_EQ(Stages(arn, token), std::vector<std::string>{"AWSPENDING"});
  rapidjson::Document d = Describe(arn);
  EXPECT_FALSE(d.HasMember("LastRotatedDate"));
  EXPECT_TRUE(d["RotationEnabled"].GetBool());
  EXPECT_EQ(Rotate(arn, "generic-rotator", Token(2)).type(), "InvalidRequestException");
  ::unsetenv("MERIDIAN_ADMIN_SECRET_ACCESS_KEY");
  ::unsetenv("AWS_SECRET_ACCESS_KEY");
}

TEST_F(HookRotationTest, HookThatDoesNotFinishOrTimesOutFailsTheRotation) {
  HookEnvironment env;
  env.region = testing::kRegion;
  RotationHook lazy;  // succeeds at every step but never moves AWSCURRENT
  lazy.name = "lazy";
  lazy.command = {"/bin/true"};
  RotationHook slow;
  slow.name = "slow";
  slow.command = {"/bin/sh", "-c", "sleep 30"};
  slow.timeout_seconds = 1;
  RotationHook missing;
  missing.name = "missing";
  missing.command = {"/nonexistent/rotator"};
  UseHooks({lazy, slow, missing}, env);

  const std::string a = Create("a", "v1");
  ASSERT_TRUE(Rotate(a, "lazy", Token(1)).ok());
  auto failed = events_.Wait("RotationFailed");
  ASSERT_TRUE(failed.has_value());
  EXPECT_EQ(failed->failed_step, "finishSecret");

  const std::string b = Create("b", "v1");
  const auto started = std::chrono::steady_clock::now();
  ASSERT_TRUE(Rotate(b, "slow", Token(2)).ok());
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(1));  // asynchronous
  for (int i = 0; i < 100 && events_.Names().size() < 4; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto names = events_.Names();
  ASSERT_EQ(names.size(), 4u);
  EXPECT_EQ(names[3], "RotationFailed");
  EXPECT_EQ(Value(b), "v1");

  const std::string c = Create("c", "v1");
  ASSERT_TRUE(Rotate(c, "missing", Token(3)).ok());
  for (int i = 0; i < 100 && events_.Names().size() < 6; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(events_.Names().size(), 6u);
  EXPECT_EQ(Value(c), "v1");
}

// A one-connection-at-a-time HTTP server on loopback that hands each request body to `handle`
// and answers its status.
class TinyHttpServer {
 public:
  explicit TinyHttpServer(std::function<int(const std::string&)> handle) : handle_(std::move(handle)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(fd_, 8);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Loop(); });
  }
  ~TinyHttpServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  int port() const { return port_; }

 private:
  void Loop() {
    while (!stop_) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string in;
      char buf[4096];
      size_t body_at = std::string::npos, length = 0;
      while (true) {
        ssize_t n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        in.append(buf, static_cast<size_t>(n));
        if (body_at == std::string::npos && (body_at = in.find("\r\n\r\n")) != std::string::npos) {
          body_at += 4;
          std::string lower = in.substr(0, body_at);
          for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
          size_t cl = lower.find("content-length:");
          if (cl != std::string::npos) length = std::stoul(lower.substr(cl + 15));
        }
        if (body_at != std::string::npos && in.size() >= body_at + length) break;
      }
      const int status = handle_(body_at == std::string::npos ? "" : in.substr(body_at));
      const std::string body = status == 200 ? "" : "Error: step refused\n";
      const std::string out = "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Length: " +
                              std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
      (void)::send(c, out.data(), out.size(), MSG_NOSIGNAL);
      ::close(c);
    }
  }
  std::function<int(const std::string&)> handle_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

TEST_F(HookRotationTest, HttpHookCompletesTheRotationThroughTheApiLikeALambda) {
  std::vector<std::string> steps;
  std::mutex mu;
  // The AWS four-step template, against the service's API.
  TinyHttpServer server([&](const std::string& body) {
    rapidjson::Document e;
    e.Parse(body.c_str());
    if (!e.IsObject() || !e.HasMember("Step")) return 400;
    const std::string arn = e["SecretId"].GetString(), token = e["ClientRequestToken"].GetString(),
                      step = e["Step"].GetString();
    {
      std::lock_guard<std::mutex> lock(mu);
      steps.push_back(step);
    }
    if (step == "createSecret") {
      Status got = Call("GetSecretValue", "{\"SecretId\":" + Quote(arn) + ",\"VersionId\":" + Quote(token) +
                                              ",\"VersionStage\":\"AWSPENDING\"}");
      if (got.ok()) return 200;
      return Put(arn, "rotated-by-hook", token, "\"VersionStages\":[\"AWSPENDING\"]").ok() ? 200 : 500;
    }
    if (step == "finishSecret") {
      rapidjson::Document d = Describe(arn);
      std::string current;
      for (const auto& m : d["VersionIdsToStages"].GetObject())
        for (const auto& s : m.value.GetArray())
          if (std::string(s.GetString()) == "AWSCURRENT") current = m.name.GetString();
      if (current == token) return 200;
      return Call("UpdateSecretVersionStage", "{\"SecretId\":" + Quote(arn) +
                                                  ",\"VersionStage\":\"AWSCURRENT\",\"MoveToVersionId\":" +
                                                  Quote(token) + ",\"RemoveFromVersionId\":" + Quote(current) + "}")
                     .ok()
                 ? 200
                 : 500;
    }
    return 200;
  });
  HookEnvironment env;
  env.region = testing::kRegion;
  RotationHook hook;
  hook.name = "http-rotator";
  hook.url = "http://127.0.0.1:" + std::to_string(server.port()) + "/rotate";
  UseHooks({hook}, env);

  const std::string arn = Create("svc/api-key", "v1");
  clock_.Advance(1000);
  ASSERT_TRUE(Rotate(arn, "http-rotator", Token(7)).ok());
  auto ok = events_.Wait("RotationSucceeded");
  ASSERT_TRUE(ok.has_value()) << ::testing::PrintToString(events_.Names());
  EXPECT_EQ(steps, (std::vector<std::string>{"createSecret", "setSecret", "testSecret", "finishSecret"}));
  EXPECT_EQ(Value(arn), "rotated-by-hook");
  rapidjson::Document d = Describe(arn);
  EXPECT_TRUE(d.HasMember("LastRotatedDate"));
  auto stages = Stages(arn, Token(7));
  std::sort(stages.begin(), stages.end());
  EXPECT_EQ(stages, (std::vector<std::string>{"AWSCURRENT", "AWSPENDING"}));
}

}  // namespace
}  // namespace meridian::secrets
