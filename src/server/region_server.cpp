#include "server/region_server.h"

#include <condition_variable>
#include <future>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "audit/audit_log.h"
#include "audit/record.h"
#include "common/log.h"
#include "crypto/root_key.h"
#include "iam/authorizer.h"
#include "iam/credential_store.h"
#include "iam/directory.h"
#include "iam/iam_service.h"
#include "kms/kms.h"
#include "secrets/builtin_rotators.h"
#include "secrets/hook_rotator.h"
#include "secrets/secrets.h"
#include "server/admin_service.h"
#include "server/http_listener.h"
#include "server/peer_transport.h"
#include "server/replication_endpoint.h"
#include "server/request_pipeline.h"
#include "storage/storage.h"
#include "storage/storage_spec.h"

namespace meridian::server {
namespace {

Status StartupError(std::string m) { return Status("StartupError", std::move(m), 500); }

Result<std::string> ReadPassphrase(const RegionConfig& config) {
  std::string passphrase;
  if (!config.passphrase_file.empty()) {
    std::ifstream in(config.passphrase_file);
    if (!in) return StartupError("cannot read the root key passphrase file " + config.passphrase_file);
    std::getline(in, passphrase);
  } else if (const char* env = std::getenv(config.passphrase_env.c_str())) {
    passphrase = env;
  } else {
    return StartupError("no root key passphrase: set " + config.passphrase_env +
                        " or root_key.passphrase_file in the configuration");
  }
  while (!passphrase.empty() && (passphrase.back() == '\n' || passphrase.back() == '\r')) passphrase.pop_back();
  if (passphrase.empty()) return StartupError("the root key passphrase is empty");
  return passphrase;
}

Result<crypto::RootKey> OpenRootKey(const RegionConfig& config) {
  MERIDIAN_ASSIGN_OR_RETURN(std::string passphrase, ReadPassphrase(config));
  const std::string path = config.DataPath(config.root_key_file);
  Result<crypto::RootKey> key = std::filesystem::exists(path) ? crypto::RootKey::OpenSealedFile(path, passphrase)
                                : config.create_root_key_if_missing
                                    ? crypto::RootKey::CreateSealedFile(path, passphrase)
                                    : Result<crypto::RootKey>(StartupError(
                                          "root key file " + path + " does not exist (set root_key.create_if_missing "
                                          "to create one)"));
  crypto::Cleanse(passphrase);
  return key;
}

// "https://host:port" -> host, port.
bool SplitEndpoint(const std::string& endpoint, std::string& host, uint16_t& port) {
  std::string rest = endpoint.substr(endpoint.find("://") + 3);
  rest = rest.substr(0, rest.find('/'));
  const size_t colon = rest.rfind(':');
  if (colon == std::string::npos) return false;
  host = rest.substr(0, colon);
  try {
    const int p = std::stoi(rest.substr(colon + 1));
    if (p <= 0 || p > 65535) return false;
    port = static_cast<uint16_t>(p);
  } catch (...) {
    return false;
  }
  return true;
}

}  // namespace

class RegionServer::Impl {
 public:
  explicit Impl(RegionConfig config, std::unique_ptr<storage::Storage> storage, crypto::RootKey root_key,
                std::unique_ptr<audit::AuditLog> audit)
      : config_(std::move(config)),
        storage_(std::move(storage)),
        root_key_(std::move(root_key)),
        audit_(std::move(audit)),
        credentials_(*storage_, root_key_),
        directory_(*storage_, root_key_, credentials_),
        authorizer_(&directory_),
        outbox_(*storage_),
        inbox_(*storage_),
        kms_(KmsOptionsFor(), *storage_, root_key_),
        kms_api_(kms_, "TrentService.", "kms", "kms"),
        secrets_(SecretsOptionsFor(), *storage_, kms_),
        secrets_api_(secrets_, "secretsmanager.", "secretsmanager", "secretsmanager"),
        admin_(AdminOptionsFor()),
        admin_api_(admin_, "MeridianAdmin.", "meridian", "meridian"),
        iam_(directory_),
        iam_api_(iam_, "", "iam", "iam", &query::kIamDialect),
        sts_(directory_),
        sts_api_(sts_, "", "sts", "sts", &query::kStsDialect),
        pipeline_(PipelineOptions{config_.region, "aws", config_.quotas, config_.AllRegions()}, credentials_, authorizer_,
                  {&kms_api_, &secrets_api_, &admin_api_, &iam_api_, &sts_api_}, audit_.get()) {}

  kms::KmsOptions KmsOptionsFor() {
    kms::KmsOptions o = kms::KmsOptions::SingleRegion(config_.region, config_.account_id);
    o.authorizer = &authorizer_;  // Secrets Manager's in-process KMS calls are authorized (kms:ViaService)
    if (!config_.peers.empty()) {
      o.regions = config_.AllRegions();
      o.outbox = &outbox_;
      o.replication_enqueued = [this] {
        for (auto& link : links_) link->Wake();
      };
    }
    return o;
  }

  secrets::SecretsOptions SecretsOptionsFor() {
    secrets::SecretsOptions o;
    o.region = config_.region;
    o.rotators = secrets::BuiltInRotators();  // e.g. the PostgreSQL password rotator
    if (!config_.rotation_functions_json.empty()) {  // rotation hooks (secrets/hook_rotator.h)
      rapidjson::Document d;
      d.Parse(config_.rotation_functions_json.c_str());
      if (auto hooks = secrets::ParseRotationHooks(d); hooks.ok())
        o.rotators = secrets::HookRotators(std::move(*hooks), HookEnvironmentFor(), std::move(o.rotators));
    }
    o.rotation_events = [this](const secrets::RotationEvent& e) { AuditRotation(e); };
    if (!config_.peers.empty()) {  // secrets replicate over the same outbox and peer links as KMS
      o.regions = config_.AllRegions();
      o.outbox = &outbox_;
      o.replication_enqueued = [this] {
        for (auto& link : links_) link->Wake();
      };
    }
    return o;
  }

  // What a rotation hook gets from this region: the first client listener as its Secrets Manager
  // endpoint, and a 15-minute session of its execution role (never the administrator's keys).
  secrets::HookEnvironment HookEnvironmentFor() {
    secrets::HookEnvironment e;
    e.region = config_.region;
    const bool tls = !config_.listeners.empty() && config_.listeners[0].tls;
    if (tls) e.ca_bundle = config_.DataPath(config_.tls.ca_file);
    e.endpoint = [this, tls]() -> std::string {
      if (config_.listeners.empty()) return "";
      std::string address = config_.listeners[0].address;
      if (address == "0.0.0.0") address = "127.0.0.1";
      if (address == "::") address = "::1";
      if (address.find(':') != std::string::npos) address = "[" + address + "]";
      const uint16_t port = listeners_.empty() ? config_.listeners[0].port : listeners_[0]->port();
      return std::string(tls ? "https://" : "http://") + address + ":" + std::to_string(port);
    };
    e.issue_credentials = [this](const std::string& account, const std::string& role_arn,
                                 const std::string& session) -> Result<secrets::HookCredentials> {
      auto role = directory_.RoleByArn(role_arn);
      if (!role || role->account_id != account)
        return Status("NoSuchEntity", "the execution role " + role_arn + " does not exist in account " + account, 404);
      iam::RoleSessionSpec spec;
      spec.session_name = session;
      spec.duration_seconds = 900;
      MERIDIAN_ASSIGN_OR_RETURN(auto t, directory_.CreateRoleSession(*role, spec));
      return secrets::HookCredentials{t.access_key_id, t.secret_access_key, t.session_token};
    };
    return e;
  }

  // Rotation events as CloudTrail records Secrets Manager's (AwsServiceEvent, made by the service).
  void AuditRotation(const secrets::RotationEvent& e) {
    if (!audit_) return;
    audit::AuditRecord r;
    r.event_type = "AwsServiceEvent";
    r.event_source = std::string(audit::kSecretsManagerEventSource);
    r.event_name = e.name;
    r.aws_region = config_.region;
    r.source_ip_address = "secretsmanager.amazonaws.com";
    r.user_agent = "secretsmanager.amazonaws.com";
    r.user_identity.type = "AWSService";
    r.user_identity.principal_id = "secretsmanager.amazonaws.com";
    r.user_identity.account_id = e.account_id;
    r.recipient_account_id = e.account_id;
    r.request_id = NewRequestId();
    r.resources.push_back({e.secret_arn, std::string(audit::kSecretResourceType), e.account_id});
    r.additional_event_data = {{"SecretId", e.secret_arn}, {"ClientRequestToken", e.token}};
    if (!e.function_id.empty()) r.additional_event_data.emplace_back("RotationLambdaARN", e.function_id);
    if (!e.failed_step.empty()) {
      r.additional_event_data.emplace_back("Step", e.failed_step);
      r.error_code = "RotationFailed";
      r.error_message = e.error;
    }
    r.authorization.decision = "NotEvaluated";
    audit_->AppendAsync(std::move(r), [](const Status&, uint64_t) {});
  }

  iam::GlobalIamOptions IamGlobalOptionsFor() {
    iam::GlobalIamOptions o;
    o.region = config_.region;
    o.home_region = config_.IamHomeRegion();
    o.home_endpoint = config_.iam_home_endpoint;
    o.outbox = &outbox_;
    for (const auto& p : config_.peers) o.peers.push_back(p.region);
    o.replication_enqueued = [this] {
      for (auto& link : links_) link->Wake();
    };
    return o;
  }

  AdminServiceOptions AdminOptionsFor() {
    AdminServiceOptions o;
    o.region = config_.region;
    o.account_id = config_.account_id;
    for (const auto& p : config_.peers) o.peers.emplace_back(p.region, p.endpoint);
    o.peer_states = [this] {
      std::vector<replication::PeerLinkState> states;
      for (const auto& link : links_) states.push_back(link->State());
      return states;
    };
    o.audit = audit_.get();
    // Members declared before admin_, so already constructed.
    o.blast_radius.region = config_.region;
    o.blast_radius.authorizer = &authorizer_;
    o.blast_radius.directory = &directory_;
    o.blast_radius.kms = &kms_;
    o.blast_radius.secrets = &secrets_;
    return o;
  }

  Status Bootstrap() {
    MERIDIAN_RETURN_IF_ERROR(credentials_.EnsureAccount(config_.account_id));
    const char* id = std::getenv("MERIDIAN_ADMIN_ACCESS_KEY_ID");
    const char* secret = std::getenv("MERIDIAN_ADMIN_SECRET_ACCESS_KEY");
    if (id && secret && *id && *secret) {
      auto key = credentials_.CreateAccessKey(config_.account_id, "arn:aws:iam::" + config_.account_id + ":root",
                                              std::string(id), std::string(secret));
      if (!key.ok()) return StartupError("bootstrap admin credential: " + key.status().message());
    }
    return Status::Ok();
  }

  Status Start() {
    // Peer links first: request handlers (metrics, DescribeRegions) read links_ without a lock,
    // so it is complete before the first client listener accepts.
    MERIDIAN_RETURN_IF_ERROR(StartReplication());
    SubscribeToChanges();  // after StartReplication: the handlers read links_
    for (const auto& lc : config_.listeners) {
      HttpListenerOptions options;
      options.address = lc.address;
      options.port = lc.port;
      options.endpoint_id = lc.endpoint_id;
      options.reuse_port = lc.reuse_port;
      options.threads = config_.threads;
      if (lc.tls)
        options.tls = tls::TlsServerConfig{config_.DataPath(config_.tls.cert_file), config_.DataPath(config_.tls.key_file),
                                           "", false};
      auto listener = std::make_unique<HttpListener>(
          options, [this](const HttpRequest& request, HttpResponder responder) { Serve(request, std::move(responder)); });
      MERIDIAN_RETURN_IF_ERROR(listener->Start());
      log::Info("listening", {{"region", config_.region}, {"address", lc.address},
                              {"port", std::to_string(listener->port())}, {"tls", lc.tls ? "1.3" : "off"}});
      listeners_.push_back(std::move(listener));
    }
    maintenance_ = std::thread([this] { MaintenanceLoop(); });
    return Status::Ok();
  }

  // Peer links (mutual TLS, region certificates from the deployment CA) to every peer region,
  // and the peer listener that receives theirs.
  Status StartReplication() {
    if (config_.peers.empty()) return Status::Ok();
    directory_.MakeGlobal(IamGlobalOptionsFor());  // IAM is global: changes at the home region, propagated
    // A region new to the deployment gets the whole IAM state from the home (iam/global_iam.h).
    if (auto sent = iam::SendSnapshotToNewPeers(*storage_, IamGlobalOptionsFor()); !sent.ok())
      return sent.status();
    else if (*sent > 0)
      log::Info("iam_snapshot_queued", {{"region", config_.region}, {"messages", std::to_string(*sent)}});
    directory_.RegisterReplicationHandlers(inbox_);
    kms_.RegisterReplicationHandlers(inbox_);
    secrets_.RegisterReplicationHandlers(inbox_);
    std::vector<std::string> peer_regions;
    for (const auto& p : config_.peers) peer_regions.push_back(p.region);
    endpoint_ = std::make_unique<ReplicationEndpoint>(
        config_.region, inbox_, peer_regions, [this](const ReplicationEndpoint::Received& r) {
          AuditReplication("ReplicationBatchReceived", r.source, r.first_sequence, r.last_sequence,
                           r.applied_through, r.kinds, r.error);
        });
    if (config_.peer_listener) {
      HttpListenerOptions options;
      options.address = config_.peer_listener->address;
      options.port = config_.peer_listener->port;
      options.reuse_port = config_.peer_listener->reuse_port;
      options.threads = 1;
      options.max_body_bytes = 64 * 1024 * 1024;
      options.tls = tls::TlsServerConfig{config_.DataPath(config_.tls.cert_file), config_.DataPath(config_.tls.key_file),
                                         config_.DataPath(config_.tls.ca_file), true};
      peer_listener_ = std::make_unique<HttpListener>(options, [this](const HttpRequest& q, HttpResponse& a) {
        ReplicationReply reply = endpoint_->Handle(q.method, q.path, q.body, q.peer_certificate_region);
        a.status = reply.status;
        a.content_type = "application/json";
        a.body = std::move(reply.body);
      });
      MERIDIAN_RETURN_IF_ERROR(peer_listener_->Start());
      log::Info("peer_listening", {{"region", config_.region}, {"port", std::to_string(peer_listener_->port())}});
    }
    for (const auto& peer : config_.peers) {
      MutualTlsTransportOptions t;
      if (!SplitEndpoint(peer.endpoint, t.host, t.port))
        return StartupError("peer " + peer.region + " has a malformed endpoint " + peer.endpoint);
      t.peer_region = peer.region;
      t.tls = tls::TlsClientConfig{config_.DataPath(config_.tls.ca_file), config_.DataPath(config_.tls.cert_file),
                                   config_.DataPath(config_.tls.key_file)};
      MERIDIAN_ASSIGN_OR_RETURN(auto transport, MutualTlsTransport::Create(std::move(t)));
      std::map<std::string, replication::Expander, std::less<>> expanders;
      expanders["kms."] = kms_.ReplicationExpander();
      expanders["secrets."] = secrets_.ReplicationExpander();
      expanders[std::string(iam::kReplicationPrefix)] = directory_.ReplicationExpander();
      links_.push_back(std::make_unique<replication::PeerLink>(config_.region, peer.region, outbox_,
                                                               std::move(transport), std::move(expanders)));
      // One frontend of the region (the leader, storage/leadership.h) delivers the outbox.
      links_.back()->SetDeliveryGate([this] { return storage::IsLeader(*storage_); });
      links_.back()->SetObserver([this](const replication::DeliveryReport& r) {
        AuditReplication("ReplicationBatchSent", r.peer, r.first_sequence, r.last_sequence, r.applied_through,
                         r.kinds, r.status.ok() ? "" : r.status.ToString());
      });
    }
    for (auto& link : links_) link->Start();
    return Status::Ok();
  }

  void Stop() {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& l : listeners_) l->Stop();
    if (peer_listener_) peer_listener_->Stop();
    for (auto& link : links_) link->Stop();
    if (maintenance_.joinable()) maintenance_.join();
    if (audit_) {
      if (Status st = audit_->Close(); !st.ok())
        log::Error("audit_close_failed", {{"region", config_.region}, {"error", st.ToString()}});
    }
    log::Info("stopped", {{"region", config_.region}});
  }

  const RegionConfig& config() const { return config_; }
  uint16_t first_port() const { return listeners_.empty() ? 0 : listeners_.front()->port(); }

 private:
  // Prometheus text format: per-peer replication state and lag, and the audit trail's counters.
  // Names and counts only: nothing secret.
  std::string Metrics() const {
    std::string out;
    auto gauge = [&out](const char* name, const char* help, const std::string& labels, double value) {
      out += "# HELP " + std::string(name) + " " + help + "\n# TYPE " + std::string(name) + " gauge\n";
      out += std::string(name) + labels + " " + std::to_string(value) + "\n";
    };
    const std::string region = "region=\"" + config_.region + "\"";
    gauge("meridian_up", "1 while the region process serves requests.", "{" + region + "}", 1);
    gauge("meridian_storage_leader", "1 while this frontend runs the region's background duties.", "{" + region + "}",
          storage::IsLeader(*storage_) ? 1 : 0);
    for (const auto& link : links_) {
      const replication::PeerLinkState st = link->State();
      const std::string labels = "{" + region + ",peer=\"" + st.peer + "\"}";
      gauge("meridian_replication_peer_connected", "1 if the last delivery to the peer succeeded.", labels,
            st.connected ? 1 : 0);
      gauge("meridian_replication_pending_entries", "Replication entries not yet applied by the peer.", labels,
            static_cast<double>(st.pending));
      gauge("meridian_replication_lag_seconds", "Age of the oldest entry the peer has not applied.", labels,
            static_cast<double>(st.lag_ms) / 1000.0);
      gauge("meridian_replication_acknowledged_sequence", "Highest sequence number the peer applied.", labels,
            static_cast<double>(st.acknowledged));
      gauge("meridian_replication_delivery_failures", "Failed delivery attempts since start.", labels,
            static_cast<double>(st.failures));
    }
    if (audit_) {
      const audit::AuditLogStats a = audit_->stats();
      const std::string labels = "{" + region + "}";
      gauge("meridian_audit_records_written", "Durable audit records since start.", labels,
            static_cast<double>(a.records_written));
      gauge("meridian_audit_batches", "Audit group-commit batches since start.", labels, static_cast<double>(a.batches));
      gauge("meridian_audit_records_failed", "Audit records that could not be written (requests refused).", labels,
            static_cast<double>(a.records_failed));
      gauge("meridian_audit_chain_head_sequence", "Sequence number of the audit chain's head.", labels,
            static_cast<double>(a.last_sequence));
    }
    return out;
  }

  // Replication traffic is audited on both sides: one record per batch sent or received, naming
  // the peer region, the sequence range and the message kinds (never their payloads).
  void AuditReplication(const char* event, const std::string& peer, uint64_t first, uint64_t last, uint64_t applied,
                        const std::vector<std::string>& kinds, const std::string& error) {
    if (!audit_) return;
    audit::AuditRecord r;
    r.event_type = "AwsServiceEvent";
    r.event_source = !kinds.empty() && kinds.front().rfind("kms.", 0) == 0 ? std::string(audit::kKmsEventSource)
                                                                          : std::string("meridian.replication");
    r.event_name = event;
    r.aws_region = config_.region;
    r.user_identity.type = "AWSService";
    r.user_identity.principal_id = "meridian:region:" + peer;
    r.user_identity.arn = "meridian:region:" + peer;
    r.recipient_account_id = config_.account_id;
    r.request_id = NewRequestId();
    std::string kind_list;
    for (const auto& k : kinds) kind_list += (kind_list.empty() ? "" : ",") + k;
    r.additional_event_data = {{"peerRegion", peer},
                               {"firstSequence", std::to_string(first)},
                               {"lastSequence", std::to_string(last)},
                               {"appliedThrough", std::to_string(applied)},
                               {"kinds", kind_list}};
    if (!error.empty()) {
      r.error_code = "ReplicationError";
      r.error_message = error;
    }
    r.authorization.decision = error.empty() ? "Allow" : "NotEvaluated";
    r.authorization.policy = "mutual-tls-region-certificate";
    audit_->AppendAsync(std::move(r), [](const Status&, uint64_t) {});
  }

  // The response is sent when the pipeline calls back: at once, or from the audit log's writer
  // thread once the request's record is durable. The I/O thread never waits.
  void Serve(const HttpRequest& request, HttpResponder responder) {
    if (request.method == "GET" && request.path == "/metrics") {
      HttpResponse metrics;
      metrics.content_type = "text/plain; version=0.0.4";
      metrics.body = Metrics();
      responder.Send(std::move(metrics));
      return;
    }
    ApiRequest api{request.method, request.target, request.headers, request.body, request.peer_ip,
                   request.endpoint_id, request.tls};
    pipeline_.Handle(api, [this, responder = std::move(responder)](ApiResponse r) mutable {
      Reply(responder, std::move(r));
    });
  }

  void Reply(HttpResponder& responder, ApiResponse r) {
    HttpResponse response;
    if (r.status >= 500) log::Error("request_failed", {{"region", config_.region}, {"status", std::to_string(r.status)}});
    response.status = r.status;
    response.content_type = std::move(r.content_type);
    response.headers = std::move(r.headers);
    response.body = std::move(r.body);
    responder.Send(std::move(response));
  }

  // Caches follow the changes the region's other frontends commit (storage/change_feed.h; on
  // SQLite the feed carries this process's own commits, which have already invalidated).
  void SubscribeToChanges() {
    storage::ChangeFeed* feed = storage_->change_feed();
    if (feed == nullptr) return;
    namespace t = storage::tables;
    for (std::string_view table : {t::kKeys, t::kKeyMaterial, t::kKmsGrants, t::kAliases}) {
      change_subscriptions_.push_back(
          feed->Subscribe(table, [this, table](const std::optional<std::string>& key) { kms_.DropCached(table, key); }));
    }
    for (std::string_view table : {t::kAccessKeys, t::kStsSessions}) {  // rows keyed by access key id
      change_subscriptions_.push_back(feed->Subscribe(table, [this](const std::optional<std::string>& key) {
        if (key) {
          credentials_.Invalidate(*key);
        } else {
          credentials_.InvalidateAll();
        }
        directory_.DropCaches();
      }));
    }
    for (std::string_view table : {t::kIamPrincipals, t::kIamPolicies, t::kIamMfaDevices}) {
      change_subscriptions_.push_back(
          feed->Subscribe(table, [this](const std::optional<std::string>&) { directory_.DropCaches(); }));
    }
    // Entries another frontend enqueued: the leader's links deliver them now, not at their next poll.
    change_subscriptions_.push_back(feed->Subscribe(t::kReplicationOutbox, [this](const std::optional<std::string>&) {
      for (auto& link : links_) link->Wake();
    }));
  }

  // Background duties run on the region's leader only (storage/leadership.h; always this process
  // on SQLite). A frontend that becomes leader runs them at once, then every interval.
  void MaintenanceLoop() {
    std::unique_lock lock(mu_);
    bool was_leader = false;
    auto next_round = std::chrono::steady_clock::now();
    while (!stopping_) {
      const bool leader = storage::IsLeader(*storage_);
      if (!leader || (was_leader && std::chrono::steady_clock::now() < next_round)) {
        was_leader = leader;
        cv_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_; });
        continue;
      }
      was_leader = true;
      next_round = std::chrono::steady_clock::now() + std::chrono::seconds(config_.maintenance_interval_seconds);
      lock.unlock();
      auto changed = kms_.RunDueMaintenance();
      if (!changed.ok())
        log::Error("maintenance_failed", {{"region", config_.region}, {"error", changed.status().ToString()}});
      else if (*changed > 0)
        log::Info("maintenance", {{"region", config_.region}, {"keys_changed", std::to_string(*changed)}});
      auto secrets_changed = secrets_.RunDueMaintenance();
      if (!secrets_changed.ok())
        log::Error("maintenance_failed",
                   {{"region", config_.region}, {"error", secrets_changed.status().ToString()}});
      else if (*secrets_changed > 0)
        log::Info("maintenance", {{"region", config_.region}, {"secrets_changed", std::to_string(*secrets_changed)}});
      lock.lock();
    }
  }

  RegionConfig config_;
  std::unique_ptr<storage::Storage> storage_;
  crypto::RootKey root_key_;
  std::unique_ptr<audit::AuditLog> audit_;  // null when auditing is off
  iam::CredentialStore credentials_;
  iam::Directory directory_;          // users, groups, roles, policies, MFA devices, STS sessions
  iam::PolicyAuthorizer authorizer_;  // identity-aware: resolves callers through directory_
  replication::Outbox outbox_;
  replication::Inbox inbox_;
  kms::KmsService kms_;
  ApiServiceAdapter<kms::KmsService> kms_api_;
  secrets::SecretsService secrets_;
  ApiServiceAdapter<secrets::SecretsService> secrets_api_;
  AdminService admin_;
  ApiServiceAdapter<AdminService> admin_api_;
  iam::IamService iam_;  // AWS Query protocol (server/query_protocol.h)
  ApiServiceAdapter<iam::IamService> iam_api_;
  iam::StsService sts_;
  ApiServiceAdapter<iam::StsService> sts_api_;
  RequestPipeline pipeline_;
  std::vector<std::unique_ptr<HttpListener>> listeners_;
  std::unique_ptr<ReplicationEndpoint> endpoint_;
  std::unique_ptr<HttpListener> peer_listener_;
  std::vector<std::unique_ptr<replication::PeerLink>> links_;
  std::thread maintenance_;
  // Declared after every cache owner, so destroyed (unsubscribed) before them.
  std::vector<storage::ChangeSubscription> change_subscriptions_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
};

Result<std::unique_ptr<RegionServer>> RegionServer::Open(RegionConfig config) {
  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  if (ec) return StartupError("cannot create data directory " + config.data_dir + ": " + ec.message());
  MERIDIAN_ASSIGN_OR_RETURN(auto root_key, OpenRootKey(config));
  MERIDIAN_ASSIGN_OR_RETURN(auto storage_spec, storage::StorageSpec::Parse(config.storage, config.DataPath("meridian.db")));
  MERIDIAN_ASSIGN_OR_RETURN(auto storage, storage::OpenStorage(storage_spec));
  std::unique_ptr<audit::AuditLog> audit;
  if (config.audit_enabled) {
    audit::AuditLogOptions options;
    options.directory = config.DataPath(config.audit_directory);
    options.region = config.region;
    options.failure_policy =
        config.audit_best_effort ? audit::FailurePolicy::kBestEffort : audit::FailurePolicy::kFailClosed;
    options.digest_interval_ms = int64_t{config.audit_digest_interval_seconds} * 1000;
    options.durability = config.audit_synced ? audit::Durability::kSynced : audit::Durability::kWritten;
    MERIDIAN_ASSIGN_OR_RETURN(audit, audit::AuditLog::Open(options, root_key));
  }
  auto impl = std::make_unique<Impl>(std::move(config), std::move(storage), std::move(root_key), std::move(audit));
  MERIDIAN_RETURN_IF_ERROR(impl->Bootstrap());
  return std::unique_ptr<RegionServer>(new RegionServer(std::move(impl)));
}

RegionServer::RegionServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RegionServer::~RegionServer() { Stop(); }
Status RegionServer::Start() { return impl_->Start(); }
void RegionServer::Stop() { impl_->Stop(); }
const std::string& RegionServer::region() const { return impl_->config().region; }
std::string RegionServer::EndpointUrl() const {
  const auto& l = impl_->config().listeners.front();
  return std::string(l.tls ? "https://" : "http://") + l.address + ":" + std::to_string(impl_->first_port());
}

}  // namespace meridian::server
