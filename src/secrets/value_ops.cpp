// Value and version operations: GetSecretValue, BatchGetSecretValue, PutSecretValue,
// UpdateSecretVersionStage, ListSecretVersionIds, GetRandomPassword.
#include <algorithm>
#include <cctype>

#include "secrets/list_filters.h"
#include "secrets/random_password.h"
#include "secrets/service_impl.h"
#include "storage/schema.h"

namespace meridian::secrets {

namespace tables = storage::tables;

namespace {
constexpr size_t kMaxVersionId = 64;
constexpr size_t kMinVersionId = 32;
constexpr size_t kMaxStageLength = 256;
constexpr size_t kMaxBatch = 20;

Result<std::vector<std::string>> ReadStages(const JsonRequest& req) {
  MERIDIAN_ASSIGN_OR_RETURN(auto stages, req.OptStringList("VersionStages", kMaxStagesPerVersion, kMaxStageLength));
  if (!stages) return std::vector<std::string>();
  if (stages->empty()) return ValidationError("versionStages", "Member must have length greater than or equal to 1");
  std::vector<std::string> unique;
  for (auto& s : *stages)
    if (std::find(unique.begin(), unique.end(), s) == unique.end()) unique.push_back(std::move(s));
  return unique;
}
}  // namespace

Status SecretsService::Impl::GetSecretValue(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
  MERIDIAN_ASSIGN_OR_RETURN(auto secret_id, RequiredSecretId(req));
  MERIDIAN_ASSIGN_OR_RETURN(auto version_id, req.OptString("VersionId", kMinVersionId, kMaxVersionId));
  MERIDIAN_ASSIGN_OR_RETURN(auto version_stage, req.OptString("VersionStage", 1, kMaxStageLength));
  MERIDIAN_ASSIGN_OR_RETURN(auto read, ReadSecretValue(secret_id, version_id.value_or(""), version_stage.value_or(""), caller));
  w.StartObject();
  WriteSecretValue(w, read.secret, read.version_id, read.value);
  w.EndObject();
  return Status::Ok();
}

Status SecretsService::Impl::BatchGetSecretValue(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
  MERIDIAN_ASSIGN_OR_RETURN(auto ids, req.OptStringList("SecretIdList", kMaxBatch, kMaxSecretIdLength));
  MERIDIAN_ASSIGN_OR_RETURN(auto filters, ParseFilters(req));
  MERIDIAN_ASSIGN_OR_RETURN(auto max_results, req.OptInt("MaxResults", 1, kMaxBatch));
  const bool has_filters = req.Has("Filters");
  if (ids.has_value() == has_filters)
    return err::InvalidParameter("Either 'SecretIdList' or 'Filters' must be provided, but not both.");
  if (max_results && !has_filters)
    return err::InvalidParameter("'Filters' not specified. 'Filters' must also be specified when 'MaxResults' is provided.");
  if (ids && ids->empty()) return ValidationError("secretIdList", "Member must have length greater than or equal to 1");

  std::vector<std::string> targets;
  Page page;
  if (ids) {
    targets = std::move(*ids);
  } else {
    std::vector<SecretRecord> matches;
    {
      MERIDIAN_ASSIGN_OR_RETURN(auto txn, storage_.BeginRead());
      MERIDIAN_ASSIGN_OR_RETURN(auto rows, txn->Scan(tables::kSecrets, caller.account_id + "/"));
      for (const auto& row : rows) {
        MERIDIAN_ASSIGN_OR_RETURN(auto r, SecretRecord::Parse(row.value));
        if (!r.pending_deletion() && MatchesFilters(r, filters)) matches.push_back(std::move(r));
      }
    }
    MERIDIAN_ASSIGN_OR_RETURN(page, Paginate(req, matches.size(), static_cast<size_t>(max_results.value_or(kMaxBatch))));
    for (size_t i = page.begin; i < page.end; ++i) targets.push_back(matches[i].arn);
  }

  struct Failure {
    std::string secret_id;
    Status status;
  };
  std::vector<Failure> failures;
  w.StartObject();
  w.Key("SecretValues");
  w.StartArray();
  for (const auto& id : targets) {
    auto read = ReadSecretValue(id, "", "", caller);
    if (!read.ok()) {
      if (read.status().http_status() >= 500) return read.status();
      failures.push_back({id, read.status()});
      continue;
    }
    w.StartObject();
    WriteSecretValue(w, read->secret, read->version_id, read->value);
    w.EndObject();
  }
  w.EndArray();
  w.Key("Errors");
  w.StartArray();
  for (const auto& f : failures) {
    w.StartObject();
    w.Key("SecretId"); w.String(f.secret_id);
    w.Key("ErrorCode"); w.String(f.status.type());
    w.Key("Message"); w.String(f.status.message());
    w.EndObject();
  }
  w.EndArray();
  WriteNextToken(w, page);
  w.EndObject();
  return Status::Ok();
}

Status SecretsService::Impl::PutSecretValue(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
  MERIDIAN_ASSIGN_OR_RETURN(auto secret_id, RequiredSecretId(req));
  MERIDIAN_ASSIGN_OR_RETURN(auto token, ReadToken(req));
  MERIDIAN_ASSIGN_OR_RETURN(auto stages, ReadStages(req));
  MERIDIAN_ASSIGN_OR_RETURN(auto rotation_token, req.OptString("RotationToken", 36, 256));
  if (rotation_token && !std::all_of(rotation_token->begin(), rotation_token->end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-';
      }))
    return ValidationError("rotationToken", "Member must satisfy regular expression pattern: ^[a-zA-Z0-9\\-]+$");
  MERIDIAN_ASSIGN_OR_RETURN(auto value, ReadValue(req));
  if (!value) return err::InvalidRequest("You must provide either SecretString or SecretBinary.");
  VersionChange change;
  change.token = token;
  if (!stages.empty()) change.stages = std::move(stages);
  MERIDIAN_ASSIGN_OR_RETURN(auto outcome, AddVersion(secret_id, *value, change, caller));
  w.StartObject();
  WriteArnAndName(w, outcome.secret);
  w.Key("VersionId"); w.String(token);
  if (const SecretVersion* v = outcome.secret.FindVersion(token); v && !v->stages.empty()) {
    w.Key("VersionStages");
    w.StartArray();
    for (const auto& s : v->stages) w.String(s);
    w.EndArray();
  }
  w.EndObject();
  return Status::Ok();
}

Status SecretsService::Impl::UpdateSecretVersionStage(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
  MERIDIAN_ASSIGN_OR_RETURN(auto secret_id, RequiredSecretId(req));
  MERIDIAN_ASSIGN_OR_RETURN(auto label, req.RequiredString("VersionStage", 1, kMaxStageLength));
  MERIDIAN_ASSIGN_OR_RETURN(auto remove_from, req.OptString("RemoveFromVersionId", kMinVersionId, kMaxVersionId));
  MERIDIAN_ASSIGN_OR_RETURN(auto move_to, req.OptString("MoveToVersionId", kMinVersionId, kMaxVersionId));
  if (!remove_from && !move_to)
    return err::InvalidParameter("You must specify MoveToVersionId, RemoveFromVersionId, or both.");
  const int64_t now = clock_.NowMillis();
  MERIDIAN_ASSIGN_OR_RETURN(auto r, Modify(secret_id, caller, [&](SecretRecord& s, storage::Transaction&) -> Status {
    if (s.pending_deletion()) return err::MarkedForDeletion();
    auto no_version = [&](const std::string& id) {
      return err::InvalidParameter("The secret " + s.arn + " has no version " + id + ".");
    };
    const SecretVersion* holder = s.VersionWithStage(label);
    if (remove_from) {
      const SecretVersion* from = s.FindVersion(*remove_from);
      if (from == nullptr) return no_version(*remove_from);
      if (!from->HasStage(label))
        return err::InvalidParameter("The staging label " + label + " isn't attached to version " + *remove_from +
                                     (holder ? "; it is attached to version " + holder->id + "." : "."));
    }
    if (!move_to) {
      if (label == stage::kCurrent)
        return err::InvalidParameter(
            "You can only move staging label AWSCURRENT to a different secret version. It can't be completely removed.");
      DetachStage(s, label);
    } else {
      SecretVersion* target = s.FindVersion(*move_to);
      if (target == nullptr) return no_version(*move_to);
      if (holder != nullptr && holder != target && !remove_from)
        return err::InvalidParameter("The parameter RemoveFromVersionId can't be empty. Staging label " + label +
                                     " is currently attached to version " + holder->id +
                                     ", so you must explicitly reference that version in RemoveFromVersionId.");
      if (label == stage::kCurrent && !target->has_value)
        return err::InvalidRequest("Version " + *move_to +
                                   " has no secret value yet, so it can't be labeled AWSCURRENT.");
      const bool completes_rotation = label == stage::kCurrent && holder != target && target->HasStage(stage::kPending);
      AttachStage(s, *move_to, label);
      if (completes_rotation) {
        s.rotation.last_rotated_ms = now;
        if (s.rotation.enabled) s.rotation.next_rotation_ms = NextRotationWindow(s.rotation.rules, now).value_or(0);
      }
    }
    MERIDIAN_RETURN_IF_ERROR(CheckStageQuotas(s));
    s.last_changed_ms = now;
    return Status::Ok();
  }));
  w.StartObject();
  WriteArnAndName(w, r);
  w.EndObject();
  return Status::Ok();
}

Status SecretsService::Impl::ListSecretVersionIds(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
  MERIDIAN_ASSIGN_OR_RETURN(auto secret_id, RequiredSecretId(req));
  MERIDIAN_ASSIGN_OR_RETURN(auto max_results, req.OptInt("MaxResults", 1, 100));
  MERIDIAN_ASSIGN_OR_RETURN(auto include_deprecated, req.OptBool("IncludeDeprecated"));
  MERIDIAN_ASSIGN_OR_RETURN(auto r, FindNow(secret_id, caller));
  std::vector<const SecretVersion*> versions;
  for (auto it = r.versions.rbegin(); it != r.versions.rend(); ++it)  // newest first
    if (!it->stages.empty() || include_deprecated.value_or(false)) versions.push_back(&*it);
  MERIDIAN_ASSIGN_OR_RETURN(auto page, Paginate(req, versions.size(), static_cast<size_t>(max_results.value_or(100))));
  w.StartObject();
  w.Key("Versions");
  w.StartArray();
  for (size_t i = page.begin; i < page.end; ++i) {
    const SecretVersion& v = *versions[i];
    w.StartObject();
    w.Key("VersionId"); w.String(v.id);
    if (!v.stages.empty()) {
      w.Key("VersionStages");
      w.StartArray();
      for (const auto& s : v.stages) w.String(s);
      w.EndArray();
    }
    if (v.last_accessed_ms) { w.Key("LastAccessedDate"); WriteTimestamp(w, v.last_accessed_ms); }
    w.Key("CreatedDate"); WriteTimestamp(w, v.created_ms);
    if (v.has_value) {
      w.Key("KmsKeyIds");
      w.StartArray();
      w.String(v.default_key ? "DefaultEncryptionKey" : v.kms_key_arn);
      w.EndArray();
    }
    w.EndObject();
  }
  w.EndArray();
  WriteNextToken(w, page);
  WriteArnAndName(w, r);
  w.EndObject();
  return Status::Ok();
}

Status SecretsService::Impl::GetRandomPassword(const JsonRequest& req, const Caller&, JsonWriter& w) {
  PasswordOptions o;
  MERIDIAN_ASSIGN_OR_RETURN(auto length, req.OptInt("PasswordLength", 1, kMaxPasswordLength));
  MERIDIAN_ASSIGN_OR_RETURN(auto exclude, req.OptString("ExcludeCharacters", 0, 4096));
  MERIDIAN_ASSIGN_OR_RETURN(auto no_numbers, req.OptBool("ExcludeNumbers"));
  MERIDIAN_ASSIGN_OR_RETURN(auto no_punctuation, req.OptBool("ExcludePunctuation"));
  MERIDIAN_ASSIGN_OR_RETURN(auto no_upper, req.OptBool("ExcludeUppercase"));
  MERIDIAN_ASSIGN_OR_RETURN(auto no_lower, req.OptBool("ExcludeLowercase"));
  MERIDIAN_ASSIGN_OR_RETURN(auto space, req.OptBool("IncludeSpace"));
  MERIDIAN_ASSIGN_OR_RETURN(auto each_type, req.OptBool("RequireEachIncludedType"));
  o.length = length.value_or(o.length);
  o.exclude_characters = exclude.value_or("");
  o.exclude_numbers = no_numbers.value_or(false);
  o.exclude_punctuation = no_punctuation.value_or(false);
  o.exclude_uppercase = no_upper.value_or(false);
  o.exclude_lowercase = no_lower.value_or(false);
  o.include_space = space.value_or(false);
  o.require_each_included_type = each_type.value_or(true);
  MERIDIAN_ASSIGN_OR_RETURN(auto password, GenerateRandomPassword(o));
  w.StartObject();
  w.Key("RandomPassword");
  w.String(reinterpret_cast<const char*>(password.data()), static_cast<rapidjson::SizeType>(password.size()));
  w.EndObject();
  return Status::Ok();
}

}  // namespace meridian::secrets
