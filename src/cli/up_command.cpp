// `meridian up`: a local deployment on the embedded default (SQLite), one region process per
// region, supervised in the foreground.
//
// Layout of DIR:  cluster.json (0600)  root-passphrase (0600)  <region>/server.json
//                 <region>/root.key  <region>/meridian.db(-wal,-shm)
// First start creates the account, each region's root key (sealed with the generated
// passphrase) and the bootstrap admin key; later starts reuse them.
// --storage postgres: DIR/postgres holds a PostgreSQL cluster of `up`'s own (run as the postgres
// user when `up` is root; password in DIR/postgres/superuser-password), one database per region
// (meridian_<region>), started before the regions and stopped after them. --storage with a
// postgres:// URI or postgres:conninfo uses that server instead (one region only).
// With PostgreSQL each region runs --frontends (default 2) `meridian server` processes sharing its
// database: all listen on the region endpoint's port with SO_REUSEPORT (the kernel spreads
// connections among the live ones; so does the peer listener), and each also on a port of its own
// (cluster.json "frontends", for tests and operators). Frontend 1 uses <region>/server.json,
// frontend k>1 <region>/server-k.json with its own audit chain (audit-frontend-k). Frontend 1 of
// every region starts first (it creates the root key and migrates), the others once it listens.
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include "cli/cluster_file.h"
#include "cli/commands.h"
#include "common/encoding.h"
#include "crypto/crypto.h"
#include "iam/credential_store.h"
#include "secrets/hook_rotator.h"
#include "server/config.h"
#include "server/edge_router.h"
#include "server/http_listener.h"
#include "server/tls/certificates.h"
#include "storage/postgres_cluster.h"
#include "storage/storage_spec.h"

namespace meridian::cli {
namespace {

struct UpOptions {
  std::string data_dir;
  std::string regions = "us-east-1";
  uint16_t port = 4566;
  std::string address = "127.0.0.1";
  std::string account_id;
  std::string admin_access_key_id;
  std::string admin_secret_access_key;
  std::string audit = "fail-closed";
  std::string storage = "sqlite";  // "sqlite", "postgres" (a cluster of up's own), or a spec
  std::vector<std::string> quotas;  // server/quota.h ApplyQuotaSetting forms; none: quotas off
  bool tls = false;  // client listeners (regions and edge) serve HTTPS (TLS 1.3) with the deployment CA
  int frontends = 0;  // processes per region; 0: 2 with PostgreSQL storage, 1 with SQLite
  std::string rotation_functions;  // a JSON file: the regions' "rotation_functions" (secrets/hook_rotator.h)
};

std::vector<std::string> SplitRegions(const std::string& list) {
  std::vector<std::string> out;
  std::stringstream ss(list);
  std::string r;
  while (std::getline(ss, r, ','))
    if (!r.empty()) out.push_back(r);
  return out;
}

Result<std::string> EnsurePassphraseFile(const std::string& path) {
  if (std::filesystem::exists(path)) return path;
  std::string passphrase = Base64Encode(crypto::RandomBytes(32));
  Status st = WriteFileAtomically(path, passphrase + "\n", 0600);
  crypto::Cleanse(passphrase);
  if (!st.ok()) return st;
  return path;
}

bool PortAccepts(const std::string& address, uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  ::inet_pton(AF_INET, address == "localhost" ? "127.0.0.1" : address.c_str(), &sa.sin_addr);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
  ::close(fd);
  return ok;
}

struct Child {
  std::string region;
  uint16_t port = 0;  // the region endpoint's
  pid_t pid = -1;
  bool alive = true;
  int frontend = 1;       // 1..--frontends
  uint16_t own_port = 0;  // the frontend's own listener (several frontends only)
  std::string config_path;
  uint16_t ready_port() const { return own_port != 0 ? own_port : port; }
  std::string name() const { return region + (own_port != 0 ? " frontend " + std::to_string(frontend) : ""); }
};

pid_t SpawnRegion(const std::string& config_path, const ClusterFile& cluster) {
  pid_t pid = ::fork();
  if (pid != 0) return pid;
  // Child: die with the supervisor, take default signal handling, exec the region server.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  sigset_t none;
  sigemptyset(&none);
  pthread_sigmask(SIG_SETMASK, &none, nullptr);
  ::setenv("MERIDIAN_ADMIN_ACCESS_KEY_ID", cluster.admin_access_key_id.c_str(), 1);
  ::setenv("MERIDIAN_ADMIN_SECRET_ACCESS_KEY", cluster.admin_secret_access_key.c_str(), 1);
  char self[4096];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) ::_exit(127);
  self[n] = '\0';
  ::execl(self, self, "server", "--config", config_path.c_str(), static_cast<char*>(nullptr));
  ::_exit(127);
}

int RunUp(const UpOptions& o) {
  auto fail = [](const std::string& m) {
    std::cerr << "meridian up: " << m << "\n";
    return 1;
  };
  const std::vector<std::string> regions = SplitRegions(o.regions);
  if (regions.empty()) return fail("--regions names no region");
  for (const auto& r : regions)
    if (!server::IsValidRegionName(r)) return fail("'" + r + "' is not a region name like us-east-1");
  if (!server::IsLoopbackAddress(o.address))
    return fail("--address must be a loopback address: `up` is a local deployment");
  if (static_cast<size_t>(o.port) + regions.size() + 1 > 65536) return fail("--port leaves no room for every region");
  // One region listens on --port itself; several listen on the ports after it, behind an edge
  // endpoint on --port that routes by the region a request is signed for.
  const bool edge = regions.size() > 1;
  auto region_port = [&](size_t i) { return static_cast<uint16_t>(o.port + i + (edge ? 1 : 0)); };
  if (o.admin_access_key_id.empty() != o.admin_secret_access_key.empty())
    return fail("give both --admin-access-key-id and --admin-secret-access-key, or neither");

  std::error_code ec;
  std::filesystem::create_directories(o.data_dir, ec);
  if (ec) return fail("cannot create " + o.data_dir + ": " + ec.message());
  ::chmod(o.data_dir.c_str(), 0700);
  const std::string dir = std::filesystem::absolute(o.data_dir).string();
  const std::string cluster_path = dir + "/cluster.json";

  ClusterFile cluster;
  if (std::filesystem::exists(cluster_path)) {
    auto loaded = ClusterFile::Load(cluster_path);
    if (!loaded.ok()) return fail(loaded.status().message());
    cluster = std::move(*loaded);
    if (!o.account_id.empty() && o.account_id != cluster.account_id)
      return fail("this data directory belongs to account " + cluster.account_id + ", not " + o.account_id);
  } else {
    cluster.account_id = o.account_id.empty() ? iam::CredentialStore::GenerateAccountId() : o.account_id;
    if (!iam::CredentialStore::IsValidAccountId(cluster.account_id)) return fail("--account-id must be 12 digits");
    cluster.admin_access_key_id = iam::CredentialStore::GenerateAccessKeyId();
    cluster.admin_secret_access_key = iam::CredentialStore::GenerateSecretAccessKey();
  }
  if (!o.admin_access_key_id.empty()) {
    cluster.admin_access_key_id = o.admin_access_key_id;
    cluster.admin_secret_access_key = o.admin_secret_access_key;
  }
  auto passphrase = EnsurePassphraseFile(dir + "/root-passphrase");
  if (!passphrase.ok()) return fail(passphrase.status().message());

  // Several regions talk over mutual TLS, and --tls serves HTTPS to clients: a deployment CA (made
  // once) and a certificate per region.
  const std::string ca_dir = dir + "/ca";
  const std::string scheme = o.tls ? "https://" : "http://";
  if (edge || o.tls) {
    if (!std::filesystem::exists(tls::CaFilesIn(ca_dir).certificate)) {
      tls::CaOptions ca;
      ca.common_name = "Meridian local deployment CA";
      if (auto made = tls::InitCaDirectory(ca_dir, ca); !made.ok()) return fail(made.status().message());
    }
  }
  auto peer_port = [&](size_t i) { return static_cast<uint16_t>(o.port + 1 + regions.size() + i); };

  // Storage: each region's "storage" setting. Declared before the region processes, so the
  // PostgreSQL cluster stops only after they have.
  std::unique_ptr<storage::LocalPostgres> postgres;
  std::vector<std::string> region_storage(regions.size(), "sqlite");
  if (o.storage == "postgres") {
    const std::string pg_dir = dir + "/postgres";
    std::filesystem::create_directories(pg_dir, ec);
    if (ec) return fail("cannot create " + pg_dir + ": " + ec.message());
    if (::geteuid() == 0) ::chmod(dir.c_str(), 0711);  // the postgres user passes through to DIR/postgres
    auto started = storage::LocalPostgres::Start({.directory = pg_dir, .port = 0, .fsync = true});
    if (!started.ok()) return fail(started.status().message());
    postgres = std::move(started).value();
    // Should `up` be killed, its PostgreSQL stops too (the regions die with `up` already).
    if (Status st = postgres->StopWhenThisProcessDies(); !st.ok()) return fail(st.message());
    for (size_t i = 0; i < regions.size(); ++i) {
      std::string db = "meridian_" + regions[i];
      std::replace(db.begin(), db.end(), '-', '_');
      if (Status st = postgres->EnsureDatabase(db); !st.ok()) return fail(st.message());
      region_storage[i] = "postgres:" + postgres->Conninfo(db);
    }
    std::cout << "meridian: PostgreSQL on 127.0.0.1:" << postgres->port() << " (" << pg_dir << ")\n";
  } else if (o.storage != "sqlite") {
    auto spec = storage::StorageSpec::Parse(o.storage, "");
    if (!spec.ok()) return fail(spec.status().message());
    if (spec->backend != storage::StorageSpec::Backend::kPostgres || regions.size() != 1)
      return fail("--storage takes sqlite, postgres, or (with one region) a postgres:// URI or postgres:conninfo");
    region_storage[0] = o.storage;
  }

  std::string rotation_functions_json;  // the same rotation hooks in every region
  if (!o.rotation_functions.empty()) {
    std::ifstream in(o.rotation_functions);
    std::stringstream text;
    text << in.rdbuf();
    rapidjson::Document d;
    d.Parse(text.str().c_str());
    if (!in || d.HasParseError()) return fail("--rotation-functions: cannot read a JSON array from " + o.rotation_functions);
    auto hooks = secrets::ParseRotationHooks(d);
    if (!hooks.ok()) return fail("--rotation-functions: " + hooks.status().message());
    rotation_functions_json = secrets::RotationHooksToJson(*hooks);
  }

  // Several frontends per region share its PostgreSQL database; SQLite belongs to one process.
  const int frontends = o.frontends > 0 ? o.frontends : (o.storage == "sqlite" ? 1 : 2);
  if (frontends > 1 && o.storage == "sqlite") return fail("--frontends above 1 needs --storage postgres");
  if (frontends > 16) return fail("--frontends takes 1 to 16");
  // Each frontend's own port comes after the region and peer ports.
  auto frontend_port = [&](size_t i, int f) {
    return static_cast<uint16_t>(o.port + 1 + 2 * regions.size() + i * frontends + (f - 1));
  };
  if (frontends > 1 && static_cast<size_t>(o.port) + 1 + (2 + frontends) * regions.size() > 65535)
    return fail("--port leaves no room for every frontend");

  std::vector<Child> children;
  cluster.region_endpoints.clear();
  cluster.frontend_endpoints.clear();
  for (size_t i = 0; i < regions.size(); ++i) {
    server::RegionConfig cfg;
    cfg.region = regions[i];
    cfg.account_id = cluster.account_id;
    cfg.data_dir = dir + "/" + regions[i];
    cfg.passphrase_file = *passphrase;
    cfg.create_root_key_if_missing = true;
    cfg.storage = region_storage[i];
    cfg.audit_enabled = o.audit != "off";
    cfg.audit_best_effort = o.audit == "best-effort";
    cfg.rotation_functions_json = rotation_functions_json;
    for (const auto& q : o.quotas)
      if (!server::ApplyQuotaSetting(q, cfg.quotas))
        return fail("--quota " + q + " is not aws, CLASS=RATE or CLASS=RATE:BURST (classes: symmetric_crypto, "
                    "kms_management, secrets_read, secrets_write, iam)");
    cfg.listeners.push_back({o.address, region_port(i), "", o.tls});
    // IAM is global (iam/global_iam.h): its home is the first region of --regions.
    cfg.iam_home_region = regions[0];
    cfg.iam_home_endpoint = scheme + o.address + ":" + std::to_string(region_port(0));
    if (edge || o.tls) {
      tls::RegionCertificateOptions cert;
      cert.region = regions[i];
      cert.dns_names = {"localhost"};
      cert.ip_addresses = {"127.0.0.1"};
      auto files = tls::IssueRegionCertificateFiles(ca_dir, cert, dir + "/" + regions[i] + "/tls");
      if (!files.ok()) return fail(files.status().message());
      cfg.tls = {tls::CaFilesIn(ca_dir).certificate, files->certificate, files->private_key};
    }
    if (edge) {
      cfg.peer_listener = server::ListenerConfig{o.address, peer_port(i), "", true};
      for (size_t j = 0; j < regions.size(); ++j)
        if (j != i)
          cfg.peers.push_back({regions[j], "https://" + o.address + ":" + std::to_string(peer_port(j))});
    }
    std::filesystem::create_directories(cfg.data_dir, ec);
    if (ec) return fail("cannot create " + cfg.data_dir + ": " + ec.message());
    ::chmod(cfg.data_dir.c_str(), 0700);
    cluster.region_endpoints[regions[i]] = scheme + o.address + ":" + std::to_string(region_port(i));
    if (frontends > 1) {
      cfg.listeners.front().reuse_port = true;
      if (cfg.peer_listener) cfg.peer_listener->reuse_port = true;
    }
    for (int f = 1; f <= frontends; ++f) {
      server::RegionConfig fcfg = cfg;
      Child child;
      child.region = regions[i];
      child.port = region_port(i);
      child.pid = -1;
      child.frontend = f;
      child.config_path = cfg.data_dir + (f == 1 ? "/server.json" : "/server-" + std::to_string(f) + ".json");
      if (frontends > 1) {
        child.own_port = frontend_port(i, f);
        fcfg.listeners.push_back({o.address, child.own_port, "", o.tls});
        cluster.frontend_endpoints[regions[i]].push_back(scheme + o.address + ":" + std::to_string(child.own_port));
      }
      if (f > 1) {
        fcfg.audit_directory = "audit-frontend-" + std::to_string(f);  // one hash chain per writer process
        fcfg.create_root_key_if_missing = false;                       // frontend 1 made it
      }
      if (Status st = WriteFileAtomically(child.config_path, fcfg.ToJson(), 0600); !st.ok()) return fail(st.message());
      children.push_back(std::move(child));
    }
  }
  if (Status st = cluster.Save(cluster_path); !st.ok()) return fail(st.message());

  // Supervise: SIGINT/SIGTERM stop every region; a region that dies is reported.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGCHLD);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  if (edge && PortAccepts(o.address, o.port))
    return fail("port " + std::to_string(o.port) + " is already in use; choose another --port");
  for (const auto& c : children) {
    for (uint16_t port : {c.port, c.own_port}) {
      if (port != 0 && PortAccepts(o.address, port))
        return fail("port " + std::to_string(port) + " is already in use; choose another --port");
    }
  }
  // Frontend 1 of each region first; the others once it listens (see the top of the file).
  auto spawn = [&](bool first_frontends) {
    for (auto& c : children) {
      if ((c.frontend == 1) != first_frontends) continue;
      c.pid = SpawnRegion(c.config_path, cluster);
      if (c.pid < 0) return false;
    }
    return true;
  };
  if (!spawn(true)) return fail("cannot start the region processes");
  auto reap = [&] {
    int status = 0;
    pid_t pid;
    while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
      for (auto& c : children)
        if (c.pid == pid && c.alive) {
          c.alive = false;
          std::cerr << "meridian up: region " << c.name() << " exited ("
                    << (WIFSIGNALED(status) ? "signal " + std::to_string(WTERMSIG(status))
                                            : "status " + std::to_string(WEXITSTATUS(status)))
                    << ")" << std::endl;
        }
    }
  };
  auto stop_all = [&](int exit_code) {
    for (auto& c : children)
      if (c.alive) ::kill(c.pid, SIGTERM);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (std::any_of(children.begin(), children.end(), [](const Child& c) { return c.alive; }) &&
           std::chrono::steady_clock::now() < deadline) {
      reap();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    for (auto& c : children)
      if (c.alive) ::kill(c.pid, SIGKILL);
    reap();
    return exit_code;
  };

  // Wait until every region accepts connections.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (bool first_frontends : {true, false}) {
    if (!first_frontends && !spawn(false)) return stop_all(fail("cannot start the region processes"));
    for (auto& c : children) {
      if ((c.frontend == 1) != first_frontends) continue;
      while (!PortAccepts(o.address, c.ready_port())) {
        reap();
        if (!c.alive) return stop_all(fail("region " + c.name() + " failed to start; see its messages above"));
        if (std::chrono::steady_clock::now() > deadline)
          return stop_all(fail("region " + c.name() + " did not start listening within 60 s"));
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
  }
  // The edge endpoint (threads start only now, after every fork).
  std::unique_ptr<server::EdgeRouter> router;
  std::unique_ptr<server::HttpListener> edge_listener;
  if (edge) {
    std::map<std::string, std::string> targets;
    for (const auto& c : children) targets[c.region] = o.address + ":" + std::to_string(c.port);  // shared by its frontends
    router = std::make_unique<server::EdgeRouter>(std::move(targets), regions.front());
    server::HttpListenerOptions lo;
    lo.address = o.address;
    lo.port = o.port;
    lo.threads = 2;
    if (o.tls) {
      // The edge answers HTTPS with the first region's certificate (the supervisor holds every
      // region's files anyway) and forwards over TLS, checking each region's certificate.
      const auto first = tls::RegionFilesIn(dir + "/" + regions.front() + "/tls", regions.front());
      lo.tls = tls::TlsServerConfig{first.certificate, first.private_key, "", false};
      if (Status st = router->UseTls(tls::TlsClientConfig{tls::CaFilesIn(ca_dir).certificate, "", ""}); !st.ok())
        return stop_all(fail("edge endpoint: " + st.message()));
    }
    edge_listener = std::make_unique<server::HttpListener>(
        lo, [r = router.get()](const server::HttpRequest& q, server::HttpResponse& a) { r->Handle(q, a); });
    if (Status st = edge_listener->Start(); !st.ok()) return stop_all(fail("edge endpoint: " + st.message()));
    std::cout << "meridian: edge " << scheme << o.address << ":" << o.port << " (routes by the signed region)\n";
  }
  std::cout << "meridian: account " << cluster.account_id << "\n";
  for (const auto& [region, endpoint] : cluster.region_endpoints) {
    std::cout << "meridian: " << region << " " << endpoint;
    if (auto f = cluster.frontend_endpoints.find(region); f != cluster.frontend_endpoints.end())
      std::cout << " (" << f->second.size() << " frontends)";
    std::cout << "\n";
  }
  std::cout << "meridian: credentials in " << cluster_path << "\n";
  if (o.tls)
    std::cout << "meridian: CA bundle " << tls::CaFilesIn(ca_dir).certificate
              << " (aws --ca-bundle, AWS_CA_BUNDLE, boto3 verify=)\n";
  std::cout << "meridian: ready" << std::endl;

  while (true) {
    int sig = 0;
    sigwait(&set, &sig);
    if (sig == SIGCHLD) {
      reap();
      if (std::none_of(children.begin(), children.end(), [](const Child& c) { return c.alive; })) {
        std::cerr << "meridian up: every region has exited" << std::endl;
        return 1;
      }
      continue;
    }
    std::cout << "meridian: stopping" << std::endl;
    if (edge_listener) edge_listener->Stop();
    return stop_all(0);
  }
}

}  // namespace

void RegisterUpCommand(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<UpOptions>();
  auto* cmd = app.add_subcommand("up", "Start a local deployment (one process per region, SQLite or PostgreSQL storage)");
  cmd->add_option("--data-dir", o->data_dir, "Directory for keys, databases and cluster.json")->required();
  cmd->add_option("--regions", o->regions, "Comma-separated regions")->capture_default_str();
  cmd->add_option("--port", o->port,
                  "Endpoint port; with several regions it is the edge endpoint and region i listens on port+1+i")
      ->capture_default_str();
  cmd->add_option("--address", o->address, "Loopback address to listen on")->capture_default_str();
  cmd->add_option("--account-id", o->account_id, "12-digit account id (first start only)");
  cmd->add_option("--admin-access-key-id", o->admin_access_key_id, "Fixed bootstrap access key id")
      ->envname("MERIDIAN_ADMIN_ACCESS_KEY_ID");
  cmd->add_option("--admin-secret-access-key", o->admin_secret_access_key, "Fixed bootstrap secret access key")
      ->envname("MERIDIAN_ADMIN_SECRET_ACCESS_KEY");
  cmd->add_option("--quota", o->quotas,
                  "Request quotas per account (token buckets; off unless given): aws (AWS's default rates), "
                  "or CLASS=RATE[:BURST], e.g. symmetric_crypto=100:200; repeatable");
  cmd->add_flag("--tls", o->tls,
                "Serve HTTPS (TLS 1.3 only) on the region and edge endpoints, with certificates from the "
                "deployment CA in DIR/ca; the CA bundle path is printed for --ca-bundle");
  cmd->add_option("--audit", o->audit,
                  "Audit trail policy: fail-closed (refuse requests that cannot be recorded), best-effort, or off")
      ->check(CLI::IsMember({"fail-closed", "best-effort", "off"}))
      ->capture_default_str();
  cmd->add_option("--storage", o->storage,
                  "sqlite (DIR/<region>/meridian.db), postgres (a PostgreSQL cluster of its own in DIR/postgres), "
                  "or, with one region, a postgres://... URI or postgres:key=value conninfo")
      ->capture_default_str();
  cmd->add_option("--frontends", o->frontends,
                  "meridian server processes per region sharing its PostgreSQL database behind the region endpoint "
                  "(SO_REUSEPORT); default 2 with --storage postgres, 1 with sqlite");
  cmd->add_option("--rotation-functions", o->rotation_functions,
                  "JSON file mapping rotation function names (RotationLambdaARN) to a command or an HTTP "
                  "endpoint, with an optional execution role_arn: [{\"name\", \"command\"|\"url\", "
                  "\"role_arn\", \"timeout_seconds\", \"environment\"}]");
  cmd->callback([o, &exit_code] { exit_code = RunUp(*o); });
}

}  // namespace meridian::cli
