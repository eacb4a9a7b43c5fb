// Rotation: RotateSecret, CancelRotateSecret, and running a Rotator's four steps (rotator.h).
#include <algorithm>

#include "secrets/service_impl.h"
#include "storage/schema.h"

namespace meridian::secrets {

namespace tables = storage::tables;

namespace {

Status RotationInProgress() {
  return err::InvalidRequest("A previous rotation isn't complete. That rotation will be reattempted.");
}

// The version labelled AWSPENDING when a rotation is in progress (the label is not also on the
// current version); null otherwise.
const SecretVersion* RotationPending(const SecretRecord& s) {
  const SecretVersion* pending = s.VersionWithStage(stage::kPending);
  return pending != nullptr && !pending->HasStage(stage::kCurrent) ? pending : nullptr;
}

Result<TagList> ParseExternalMetadata(const JsonRequest& req) {
  TagList out;
  const rapidjson::Value* list = req.Get("ExternalSecretRotationMetadata");
  if (list == nullptr) return out;
  if (!list->IsArray()) return SerializationError("Member ExternalSecretRotationMetadata must be a list of {Key, Value}");
  for (const auto& item : list->GetArray()) {
    if (!item.IsObject()) return SerializationError("Member ExternalSecretRotationMetadata must be a list of {Key, Value}");
    JsonRequest kv(item);
    MERIDIAN_ASSIGN_OR_RETURN(auto key, kv.RequiredString("Key", 1, 256));
    MERIDIAN_ASSIGN_OR_RETURN(auto value, kv.RequiredString("Value", 1, 2048));
    out.emplace_back(std::move(key), std::move(value));
  }
  return out;
}

}  // namespace

// The RotationContext of one rotation, acting for `caller` on the secret `arn`.
class SecretsService::Impl::RotationSession final : public RotationContext {
 public:
  RotationSession(Impl& impl, Caller caller, std::string arn, std::string token)
      : impl_(impl), caller_(std::move(caller)), arn_(std::move(arn)), token_(std::move(token)) {}

  const std::string& SecretArn() const override { return arn_; }
  const std::string& Token() const override { return token_; }

  Result<SecretValue> GetValue(std::string_view stage_label) override {
    MERIDIAN_ASSIGN_OR_RETURN(auto read, impl_.ReadSecretValue(arn_, "", std::string(stage_label), caller_));
    return std::move(read.value);
  }

  Status PutPendingValue(const SecretValue& value) override {
    VersionChange change;
    change.token = token_;
    change.stages = std::vector<std::string>{std::string(stage::kPending)};
    return impl_.AddVersion(arn_, value, change, caller_).status();
  }

  Status FinishRotation() override {
    const int64_t now = impl_.clock_.NowMillis();
    return impl_.Modify(arn_, caller_, [&](SecretRecord& s, storage::Transaction&) -> Status {
      if (s.pending_deletion()) return err::MarkedForDeletion();
      SecretVersion* v = s.FindVersion(token_);
      if (v == nullptr || !v->has_value)
        return err::InvalidRequest("The pending version " + token_ + " has no secret value, so it can't become AWSCURRENT.");
      AttachStage(s, token_, stage::kCurrent);
      std::erase(s.FindVersion(token_)->stages, stage::kPending);
      s.rotation.last_rotated_ms = now;
      s.rotation.next_rotation_ms = s.rotation.enabled ? NextRotationWindow(s.rotation.rules, now).value_or(0) : 0;
      s.last_changed_ms = now;
      return Status::Ok();
    }).status();
  }

 private:
  Impl& impl_;
  Caller caller_;
  std::string arn_;
  std::string token_;
};

std::shared_ptr<Rotator> SecretsService::Impl::ResolveRotator(const std::string& function_id) const {
  if (!opts_.rotators || function_id.empty()) return nullptr;
  return opts_.rotators(function_id);
}

Status SecretsService::Impl::AddPendingVersion(SecretRecord& s, storage::Transaction& txn, const std::string& token,
                                               int64_t now) {
  if (s.FindVersion(token) != nullptr)
    return err::ResourceExists("You can't use ClientRequestToken " + token +
                               " because that value is already in use for a version of secret " + s.arn + ".");
  DetachStage(s, stage::kPending);
  MERIDIAN_ASSIGN_OR_RETURN(auto removed, MakeRoomForVersion(s, now));
  for (const auto& id : removed)
    MERIDIAN_RETURN_IF_ERROR(txn.Delete(tables::kSecretVersions, VersionRowKey(s.account_id, s.name, id)));
  SecretVersion pending;
  pending.id = token;
  pending.created_ms = now;
  pending.stages = {std::string(stage::kPending)};
  s.versions.push_back(std::move(pending));
  return CheckStageQuotas(s);
}

SecretsService::Impl::~Impl() {
  {
    std::lock_guard<std::mutex> lock(rotation_mu_);
    rotation_stopping_ = true;
    rotation_queue_.clear();
  }
  rotation_cv_.notify_all();
  if (rotation_thread_.joinable()) rotation_thread_.join();
}

void SecretsService::Impl::RunRotationLater(const Caller& caller, const std::string& arn, const std::string& token,
                                            std::shared_ptr<Rotator> rotator) {
  std::lock_guard<std::mutex> lock(rotation_mu_);
  if (rotation_stopping_) return;
  rotation_queue_.push_back([this, caller, arn, token, rotator = std::move(rotator)] {
    (void)RunRotation(caller, arn, token, *rotator);
  });
  if (!rotation_thread_.joinable()) {
    rotation_thread_ = std::thread([this] {
      std::unique_lock<std::mutex> lock(rotation_mu_);
      for (;;) {
        rotation_cv_.wait(lock, [this] { return rotation_stopping_ || !rotation_queue_.empty(); });
        if (rotation_stopping_) return;
        auto task = std::move(rotation_queue_.front());
        rotation_queue_.pop_front();
        lock.unlock();
        task();
        lock.lock();
      }
    });
  }
  rotation_cv_.notify_one();
}

void SecretsService::Impl::EmitRotationEvent(RotationEvent event) const {
  if (opts_.rotation_events) opts_.rotation_events(event);
}

Status SecretsService::Impl::RunRotation(const Caller& caller, const std::string& arn, const std::string& token,
                                         Rotator& rotator) {
  RotationSession ctx(*this, caller, arn, token);
  std::string function_id;
  if (auto s = FindNow(arn, caller); s.ok()) function_id = s->rotation.function_id;
  const RotationEvent base{"", caller.account_id, arn, token, function_id, "", ""};
  {
    RotationEvent started = base;
    started.name = "RotationStarted";
    EmitRotationEvent(std::move(started));
  }
  struct Step {
    const char* name;
    Status (Rotator::*run)(RotationContext&);
  };
  static constexpr Step kSteps[] = {{"createSecret", &Rotator::CreateSecret},
                                    {"setSecret", &Rotator::SetSecret},
                                    {"testSecret", &Rotator::TestSecret},
                                    {"finishSecret", &Rotator::FinishSecret}};
  Status failed;
  const char* failed_step = nullptr;
  for (const Step& step : kSteps) {
    failed = (rotator.*step.run)(ctx);
    if (!failed.ok()) {
      failed_step = step.name;
      break;
    }
  }
  if (failed.ok()) {
    MERIDIAN_ASSIGN_OR_RETURN(auto after, FindNow(arn, caller));
    const SecretVersion* v = after.FindVersion(token);
    if (v != nullptr && v->HasStage(stage::kCurrent)) {
      RotationEvent succeeded = base;
      succeeded.name = "RotationSucceeded";
      EmitRotationEvent(std::move(succeeded));
      return Status::Ok();
    }
    failed = err::InvalidRequest("the rotator's finishSecret step did not make the pending version AWSCURRENT");
    failed_step = "finishSecret";
  }
  // AWSCURRENT is untouched; schedule the reattempt.
  const int64_t retry_at = clock_.NowMillis() + kRotationRetryMs;
  (void)Modify(arn, caller, [&](SecretRecord& s, storage::Transaction&) {
    s.rotation.next_rotation_ms = retry_at;
    return Status::Ok();
  });
  RotationEvent event = base;
  event.name = "RotationFailed";
  event.failed_step = failed_step;
  event.error = failed.ToString();
  EmitRotationEvent(std::move(event));
  return err::InvalidRequest("Rotation of " + arn + " failed at step " + failed_step + ": " + failed.ToString() +
                             ". AWSCURRENT is unchanged; the rotation will be reattempted.");
}

Status SecretsService::Impl::TestRotation(const Caller& caller, const std::string& arn, const std::string& token,
                                          Rotator& rotator) {
  MERIDIAN_ASSIGN_OR_RETURN(auto current, ReadSecretValue(arn, "", std::string(stage::kCurrent), caller));
  VersionChange change;
  change.token = token;
  change.stages = std::vector<std::string>{std::string(stage::kPending)};
  MERIDIAN_RETURN_IF_ERROR(AddVersion(arn, current.value, change, caller).status());
  RotationSession ctx(*this, caller, arn, token);
  Status tested = rotator.TestSecret(ctx);
  // The test version is dropped from rotation whatever the outcome: it becomes deprecated.
  MERIDIAN_RETURN_IF_ERROR(Modify(arn, caller, [&](SecretRecord& s, storage::Transaction&) {
    if (SecretVersion* v = s.FindVersion(token)) std::erase(v->stages, stage::kPending);
    return Status::Ok();
  }).status());
  if (!tested.ok())
    return err::InvalidRequest("The rotation configuration test (testSecret) failed for " + arn + ": " + tested.ToString());
  return Status::Ok();
}

Status SecretsService::Impl::RotateSecret(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
  MERIDIAN_ASSIGN_OR_RETURN(auto secret_id, RequiredSecretId(req));
  MERIDIAN_ASSIGN_OR_RETURN(auto token, ReadToken(req));
  MERIDIAN_ASSIGN_OR_RETURN(auto function, req.OptString("RotationLambdaARN", 0, 2048));
  MERIDIAN_ASSIGN_OR_RETURN(auto immediately, req.OptBool("RotateImmediately"));
  MERIDIAN_ASSIGN_OR_RETURN(auto external_metadata, ParseExternalMetadata(req));
  MERIDIAN_ASSIGN_OR_RETURN(auto external_role, req.OptString("ExternalSecretRotationRoleArn", 20, 2048));
  std::optional<RotationRules> rules;
  if (const rapidjson::Value* v = req.Get("RotationRules")) {
    MERIDIAN_ASSIGN_OR_RETURN(rules, ParseRotationRules(*v));
  }
  const bool rotate_now = immediately.value_or(true);

  MERIDIAN_ASSIGN_OR_RETURN(auto before, FindNow(secret_id, caller));
  if (before.pending_deletion()) return err::MarkedForDeletion();
  const std::string function_id = function && !function->empty() ? *function : before.rotation.function_id;
  if (function_id.empty() && !external_role && before.external_rotation_role_arn.empty())
    return err::InvalidRequest(
        "You tried to enable rotation on a secret that doesn't already have a Lambda function ARN configured and you "
        "didn't include such an ARN as a parameter in this call.");
  auto check_pending = [&](const SecretRecord& s, bool& reattempt) -> Status {
    const SecretVersion* pending = RotationPending(s);
    reattempt = pending != nullptr && pending->id == token && rotate_now;
    if (pending != nullptr && !reattempt) return RotationInProgress();
    return Status::Ok();
  };
  bool reattempt = false;
  MERIDIAN_RETURN_IF_ERROR(check_pending(before, reattempt));
  const bool starts_version = rotate_now && !reattempt;

  const int64_t now = clock_.NowMillis();
  MERIDIAN_ASSIGN_OR_RETURN(auto r, Modify(before.arn, caller, [&](SecretRecord& s, storage::Transaction& txn) -> Status {
    if (s.pending_deletion()) return err::MarkedForDeletion();
    bool again = false;
    MERIDIAN_RETURN_IF_ERROR(check_pending(s, again));
    if (again != reattempt) return RotationInProgress();  // changed meanwhile
    s.rotation.configured = true;
    s.rotation.function_id = function_id;
    if (rules) s.rotation.rules = *rules;
    if (req.Has("ExternalSecretRotationMetadata")) s.external_rotation_metadata = external_metadata;
    if (external_role) s.external_rotation_role_arn = *external_role;
    s.rotation.enabled = !s.rotation.rules.empty();
    s.rotation.next_rotation_ms = s.rotation.enabled ? NextRotationWindow(s.rotation.rules, now).value_or(0) : 0;
    if (starts_version) MERIDIAN_RETURN_IF_ERROR(AddPendingVersion(s, txn, token, now));
    s.last_changed_ms = now;
    return Status::Ok();
  }));

  std::shared_ptr<Rotator> rotator = ResolveRotator(function_id);
  bool version_made = rotate_now;
  if (rotator && rotate_now && rotator->Asynchronous()) {
    RunRotationLater(caller, r.arn, token, rotator);  // reported through rotation events, as AWS does
  } else if (rotator && rotate_now) {
    MERIDIAN_RETURN_IF_ERROR(RunRotation(caller, r.arn, token, *rotator));
  } else if (rotator) {
    MERIDIAN_RETURN_IF_ERROR(TestRotation(caller, r.arn, token, *rotator));
    version_made = true;
  }
  w.StartObject();
  WriteArnAndName(w, r);
  if (version_made) { w.Key("VersionId"); w.String(token); }
  w.EndObject();
  return Status::Ok();
}

Status SecretsService::Impl::CancelRotateSecret(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
  MERIDIAN_ASSIGN_OR_RETURN(auto secret_id, RequiredSecretId(req));
  const int64_t now = clock_.NowMillis();
  MERIDIAN_ASSIGN_OR_RETURN(auto r, Modify(secret_id, caller, [&](SecretRecord& s, storage::Transaction&) -> Status {
    if (s.pending_deletion()) return err::MarkedForDeletion();
    if (!s.rotation.configured)
      return err::InvalidRequest(
          "You tried to cancel rotation on a secret that doesn't have rotation configured: there is no rotation "
          "function ARN for it.");
    s.rotation.enabled = false;
    s.rotation.next_rotation_ms = 0;
    s.last_changed_ms = now;
    return Status::Ok();
  }));
  w.StartObject();
  WriteArnAndName(w, r);
  // The version a cancelled, unfinished rotation leaves behind (it keeps its AWSPENDING label).
  if (const SecretVersion* pending = RotationPending(r)) { w.Key("VersionId"); w.String(pending->id); }
  w.EndObject();
  return Status::Ok();
}

Result<bool> SecretsService::Impl::RotateIfDue(const SecretRecord& secret, int64_t now) {
  if (!secret.rotation.configured || secret.pending_deletion()) return false;
  std::shared_ptr<Rotator> rotator = ResolveRotator(secret.rotation.function_id);
  if (!rotator) return false;  // an external rotator completes what it starts
  const Caller service{secret.account_id, "secretsmanager.amazonaws.com", ""};
  std::string token;
  if (const SecretVersion* pending = RotationPending(secret)) {
    if (secret.rotation.next_rotation_ms > now) return false;  // reattempt not due yet
    token = pending->id;
  } else {
    if (!secret.rotation.enabled || secret.rotation.next_rotation_ms == 0 || secret.rotation.next_rotation_ms > now)
      return false;
    token = NewVersionId();
    MERIDIAN_RETURN_IF_ERROR(Modify(secret.arn, service, [&](SecretRecord& s, storage::Transaction& txn) -> Status {
      if (RotationPending(s) != nullptr) return RotationInProgress();
      return AddPendingVersion(s, txn, token, now);
    }).status());
  }
  // A failed rotation is recorded (and reattempted later); it does not fail maintenance.
  (void)RunRotation(service, secret.arn, token, *rotator);
  return true;
}

}  // namespace meridian::secrets
