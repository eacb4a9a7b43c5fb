// Alias operations: CreateAlias, UpdateAlias, DeleteAlias, ListAliases.
#include <cctype>

#include <rapidjson/document.h>

#include "kms/service_impl.h"
#include "storage/schema.h"

namespace meridian::kms {

// Alias names: "alias/" + [a-zA-Z0-9/_-]+; "alias/aws/" is reserved for AWS managed keys.
Status KmsService::Impl::ValidateAliasName(const std::string& name) {
  if (name.rfind("alias/", 0) != 0 || name.size() == 6)
    return ValidationError("aliasName", "Member must satisfy regular expression pattern: ^alias/[a-zA-Z0-9/_-]+$");
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '_' || c == '-'))
      return errors::Validation(name + " contains invalid characters for an alias; use letters, digits, '/', '_' "
                                       "and '-'");
  if (name.rfind("alias/aws/", 0) == 0)
    return Status("NotAuthorizedException",
                  "Alias names beginning with alias/aws/ are reserved for AWS managed keys; choose another name.",
                  400);
  return Status::Ok();
}

std::string KmsService::Impl::AliasValue(const std::string& target, int64_t created_ms, int64_t updated_ms) {
  return "{\"target\":\"" + target + "\",\"created_ms\":" + std::to_string(created_ms) +
         ",\"updated_ms\":" + std::to_string(updated_ms) + "}";
}

void KmsService::Impl::InvalidateAliases() {
  std::unique_lock lock(alias_mu_);
  ++alias_generation_;
  alias_cache_.clear();
}

Status KmsService::Impl::CreateAlias(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
  MERIDIAN_ASSIGN_OR_RETURN(auto name, req.RequiredString("AliasName", 1, 256));
  MERIDIAN_RETURN_IF_ERROR(ValidateAliasName(name));
  MERIDIAN_ASSIGN_OR_RETURN(auto key, LoadKey(req, "TargetKeyId", false, caller));
  MERIDIAN_RETURN_IF_ERROR(RequireNotPendingDeletion(key->record));
  MERIDIAN_ASSIGN_OR_RETURN(auto txn, storage_.BeginWrite());
  const int64_t now = clock_.NowMillis();
  Status st = txn->Insert(storage::tables::kAliases, AliasRowKey(caller.account_id, name),
                          AliasValue(key->record.key_id, now, now));
  if (st.type() == "ConflictException")
    return err::AlreadyExists("An alias with the name " + AliasArn(caller.account_id, name) + " already exists");
  MERIDIAN_RETURN_IF_ERROR(st);
  MERIDIAN_RETURN_IF_ERROR(txn->Commit());
  InvalidateAliases();
  w.StartObject();
  w.EndObject();
  return Status::Ok();
}

Status KmsService::Impl::UpdateAlias(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
  MERIDIAN_ASSIGN_OR_RETURN(auto name, req.RequiredString("AliasName", 1, 256));
  MERIDIAN_RETURN_IF_ERROR(ValidateAliasName(name));
  MERIDIAN_ASSIGN_OR_RETURN(auto key, LoadKey(req, "TargetKeyId", false, caller));
  MERIDIAN_RETURN_IF_ERROR(RequireNotPendingDeletion(key->record));
  MERIDIAN_ASSIGN_OR_RETURN(auto txn, storage_.BeginWrite());
  const std::string row = AliasRowKey(caller.account_id, name);
  MERIDIAN_ASSIGN_OR_RETURN(auto existing, txn->Get(storage::tables::kAliases, row));
  if (!existing) return err::NotFound("Alias " + AliasArn(caller.account_id, name) + " is not found.");
  rapidjson::Document d;
  d.Parse(existing->data(), existing->size());
  int64_t created = d.IsObject() && d.HasMember("created_ms") && d["created_ms"].IsInt64() ? d["created_ms"].GetInt64() : 0;
  MERIDIAN_RETURN_IF_ERROR(txn->Put(storage::tables::kAliases, row, AliasValue(key->record.key_id, created, clock_.NowMillis())));
  MERIDIAN_RETURN_IF_ERROR(txn->Commit());
  InvalidateAliases();
  w.StartObject();
  w.EndObject();
  return Status::Ok();
}

Status KmsService::Impl::DeleteAlias(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
  MERIDIAN_ASSIGN_OR_RETURN(auto name, req.RequiredString("AliasName", 1, 256));
  MERIDIAN_RETURN_IF_ERROR(ValidateAliasName(name));
  MERIDIAN_ASSIGN_OR_RETURN(auto txn, storage_.BeginWrite());
  bool existed = false;
  MERIDIAN_RETURN_IF_ERROR(txn->Delete(storage::tables::kAliases, AliasRowKey(caller.account_id, name), &existed));
  if (!existed) return err::NotFound("Alias " + AliasArn(caller.account_id, name) + " is not found.");
  MERIDIAN_RETURN_IF_ERROR(txn->Commit());
  InvalidateAliases();
  w.StartObject();
  w.EndObject();
  return Status::Ok();
}

Status KmsService::Impl::ListAliases(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
  std::optional<std::string> key_filter;
  if (req.Has("KeyId")) {
    MERIDIAN_ASSIGN_OR_RETURN(auto key, LoadKey(req, "KeyId", false, caller));
    key_filter = key->record.key_id;
  }
  MERIDIAN_ASSIGN_OR_RETURN(auto txn, storage_.BeginRead());
  MERIDIAN_ASSIGN_OR_RETURN(auto rows, txn->Scan(storage::tables::kAliases, caller.account_id + "/"));
  struct Alias {
    std::string name, target;
    int64_t created, updated;
  };
  std::vector<Alias> aliases;
  for (const auto& row : rows) {
    rapidjson::Document d;
    d.Parse(row.value.data(), row.value.size());
    if (d.HasParseError() || !d.IsObject() || !d.HasMember("target")) return errors::Internal("a stored alias is corrupt");
    Alias a{row.key.substr(caller.account_id.size() + 1), d["target"].GetString(), d["created_ms"].GetInt64(),
            d["updated_ms"].GetInt64()};
    if (key_filter && a.target != *key_filter) continue;
    aliases.push_back(std::move(a));
  }
  MERIDIAN_ASSIGN_OR_RETURN(auto page, Paginate(req, aliases.size(), 100, 50));
  w.StartObject();
  w.Key("Aliases");
  w.StartArray();
  for (size_t i = page.begin; i < page.end; ++i) {
    const auto& a = aliases[i];
    w.StartObject();
    w.Key("AliasName"); w.String(a.name);
    w.Key("AliasArn"); w.String(AliasArn(caller.account_id, a.name));
    w.Key("TargetKeyId"); w.String(a.target);
    w.Key("CreationDate"); WriteTimestamp(w, a.created);
    w.Key("LastUpdatedDate"); WriteTimestamp(w, a.updated);
    w.EndObject();
  }
  w.EndArray();
  WritePageEnd(w, page);
  w.EndObject();
  return Status::Ok();
}

}  // namespace meridian::kms
