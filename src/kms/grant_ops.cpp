// Grant operations: CreateGrant, ListGrants, ListRetirableGrants, RetireGrant, RevokeGrant (AWS
// KMS API reference; Developer Guide "Grants in AWS KMS" and "Managing grants").
//
// Who may call them is the authorizer's decision (see authorization.cpp): CreateGrant, ListGrants
// and RevokeGrant by the key policy (and, for CreateGrant, a grant that allows CreateGrant);
// RetireGrant by the grant itself (its retiring principal, its grantee if it allows RetireGrant)
// or the account. The handlers here validate, apply key state rules and change storage.
#include <algorithm>
#include <cctype>

#include "kms/grant_set.h"
#include "kms/grant_token.h"
#include "kms/service_impl.h"
#include "storage/schema.h"

namespace meridian::kms {
namespace {

constexpr size_t kMaxConstraintPairs = 8;
constexpr size_t kMaxConstraintValue = 384;
constexpr int64_t kMaxListLimit = 100;
constexpr int64_t kDefaultListLimit = 50;

bool IsPrincipalChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || std::string_view("+=,.@:/-").find(c) != std::string_view::npos;
}

bool IsAccountId(std::string_view s) {
  return s.size() == 12 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// arn:<partition>:iam::<account>:{root|user/..|role/..|federated-user/..}, or
// arn:<partition>:sts::<account>:{assumed-role/<role>/<session>|federated-user/..}, or a service
// principal (<service>.amazonaws.com).
bool IsPrincipalArnOrService(std::string_view p) {
  if (p.substr(0, 4) != "arn:") {
    constexpr std::string_view kSuffix = ".amazonaws.com";
    return p.size() > kSuffix.size() && p.substr(p.size() - kSuffix.size()) == kSuffix;
  }
  std::string_view parts[5];
  size_t start = 4;
  for (int i = 0; i < 4; ++i) {
    const size_t colon = p.find(':', start);
    if (colon == std::string_view::npos) return false;
    parts[i] = p.substr(start, colon - start);
    start = colon + 1;
  }
  const std::string_view partition = parts[0], service = parts[1], region = parts[2], account = parts[3];
  const std::string_view resource = p.substr(start);
  if (partition.empty() || !region.empty() || !IsAccountId(account)) return false;
  auto named = [&](std::string_view prefix) {
    return resource.size() > prefix.size() && resource.substr(0, prefix.size()) == prefix;
  };
  if (service == "iam") return resource == "root" || named("user/") || named("role/") || named("federated-user/");
  if (service == "sts") {
    if (named("federated-user/")) return true;
    if (!named("assumed-role/")) return false;
    const std::string_view rest = resource.substr(13);
    const size_t slash = rest.find('/');
    return slash != std::string_view::npos && slash > 0 && slash + 1 < rest.size();
  }
  return false;
}

// The account of an IAM/STS principal ARN; "" for other principals.
std::string_view PrincipalAccount(std::string_view p) {
  if (p.substr(0, 4) != "arn:") return {};
  size_t start = 4;
  for (int i = 0; i < 3; ++i) {
    start = p.find(':', start);
    if (start == std::string_view::npos) return {};
    ++start;
  }
  const size_t end = p.find(':', start);
  return end == std::string_view::npos ? std::string_view() : p.substr(start, end - start);
}

Status CheckListMarker(const std::optional<std::string>& marker) {
  if (marker && !LooksLikeGrantId(*marker)) return err::InvalidMarker();
  return Status::Ok();
}

void WriteGrantList(JsonWriter& w, const std::vector<const Grant*>& page, bool truncated) {
  w.StartObject();
  w.Key("Grants");
  w.StartArray();
  for (const Grant* g : page) g->WriteListEntry(w);
  w.EndArray();
  w.Key("Truncated");
  w.Bool(truncated);
  if (truncated) {
    w.Key("NextMarker");
    w.String(page.back()->grant_id);
  }
  w.EndObject();
}

}  // namespace

Result<GrantOps> KmsService::Impl::ReadGrantOperations(const JsonRequest& req) {
  const rapidjson::Value* v = req.Get("Operations");
  if (!v || v->IsNull()) return MissingMemberError("operations");
  if (!v->IsArray()) return SerializationError("Member Operations must be a list of grant operations");
  if (v->Empty()) return errors::Validation("The Operations list of a grant must name at least one operation.");
  GrantOps ops = 0;
  for (const auto& item : v->GetArray()) {
    if (!item.IsString()) return SerializationError("Member Operations must be a list of grant operations");
    const GrantOps op = GrantOpFromName(std::string_view(item.GetString(), item.GetStringLength()));
    if (op == 0) {
      std::string allowed;
      for (auto name : GrantOpNames(~0u)) allowed += (allowed.empty() ? "" : ", ") + std::string(name);
      return ValidationError("operations", "Member must satisfy constraint: [Member must satisfy enum value set: [" +
                                               allowed + "]]");
    }
    ops |= op;
  }
  return ops;
}

Result<GrantConstraint> KmsService::Impl::ReadGrantConstraints(const JsonRequest& req) {
  GrantConstraint c;
  const rapidjson::Value* v = req.Get("Constraints");
  if (!v || v->IsNull()) return c;
  if (!v->IsObject()) return SerializationError("Member Constraints must be a structure");
  JsonRequest constraints(*v);
  MERIDIAN_ASSIGN_OR_RETURN(auto subset, constraints.OptStringMap("EncryptionContextSubset"));
  MERIDIAN_ASSIGN_OR_RETURN(auto equals, constraints.OptStringMap("EncryptionContextEquals"));
  if (subset && equals)
    return errors::Validation("A grant constraint is either EncryptionContextSubset or EncryptionContextEquals, "
                              "not both.");
  if (!subset && !equals) return c;
  c.type = subset ? ConstraintType::kEncryptionContextSubset : ConstraintType::kEncryptionContextEquals;
  c.pairs = std::move(subset ? *subset : *equals);
  const std::string member = "constraints." + CamelCase(ConstraintTypeName(c.type));
  if (c.pairs.size() > kMaxConstraintPairs)
    return ValidationError(member, "Member must have at most " + std::to_string(kMaxConstraintPairs) +
                                       " encryption context pairs");
  for (const auto& [k, value] : c.pairs) {
    if (k.empty()) return ValidationError(member, "Encryption context keys must not be empty");
    if (value.size() > kMaxConstraintValue)
      return ValidationError(member, "Encryption context values must have length less than or equal to " +
                                         std::to_string(kMaxConstraintValue));
  }
  return c;
}

Status KmsService::Impl::CheckPrincipal(const std::string& principal, std::string_view member) {
  if (principal.empty() || principal.size() > 256 || !std::all_of(principal.begin(), principal.end(), IsPrincipalChar))
    return ValidationError(member, "Member must satisfy regular expression pattern: ^[\\w+=,.@:/-]+$");
  if (!IsPrincipalArnOrService(principal))
    return err::InvalidArn(std::string(member == "granteePrincipal" ? "GranteePrincipal" : "RetiringPrincipal") +
                           " " + principal + " is not a valid principal: use the ARN of an account (root), IAM user, "
                           "IAM role, federated user or assumed-role session, or a service principal.");
  return Status::Ok();
}

Status KmsService::Impl::CreateGrant(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
  MERIDIAN_ASSIGN_OR_RETURN(auto grantee, req.RequiredString("GranteePrincipal", 1, 256));
  MERIDIAN_RETURN_IF_ERROR(CheckPrincipal(grantee, "granteePrincipal"));
  MERIDIAN_ASSIGN_OR_RETURN(auto retiring, req.OptString("RetiringPrincipal", 1, 256));
  if (retiring) MERIDIAN_RETURN_IF_ERROR(CheckPrincipal(*retiring, "retiringPrincipal"));
  MERIDIAN_ASSIGN_OR_RETURN(auto ops, ReadGrantOperations(req));
  MERIDIAN_ASSIGN_OR_RETURN(auto constraint, ReadGrantConstraints(req));
  MERIDIAN_ASSIGN_OR_RETURN(auto name, req.OptString("Name", 1, 256));
  if (name && !std::all_of(name->begin(), name->end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == ':' || c == '/' || c == '_' || c == '-';
      }))
    return ValidationError("name", "Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$");
  MERIDIAN_RETURN_IF_ERROR(CheckGrantTokens(req));
  MERIDIAN_ASSIGN_OR_RETURN(auto dry_run, req.OptBool("DryRun"));
  MERIDIAN_ASSIGN_OR_RETURN(auto key, LoadKey(req, "KeyId", false, caller));
  if (const GrantOps invalid = ops & ~grant_op::kSymmetricEncryption) {
    std::string names;
    for (auto n : GrantOpNames(invalid)) names += (names.empty() ? "" : ", ") + std::string(n);
    return errors::Validation("Grant operations " + names + " are not valid for " + key->record.arn +
                              ": a symmetric encryption KMS key supports Decrypt, Encrypt, GenerateDataKey, "
                              "GenerateDataKeyWithoutPlaintext, GenerateDataKeyPair, "
                              "GenerateDataKeyPairWithoutPlaintext, ReEncryptFrom, ReEncryptTo, CreateGrant, "
                              "RetireGrant and DescribeKey.");
  }
  MERIDIAN_RETURN_IF_ERROR(RequireUsable(key->record));
  if (dry_run.value_or(false)) return err::DryRun();

  Grant g;
  g.key_id = key->record.key_id;
  g.key_arn = key->record.arn;
  g.name = name.value_or("");
  g.creation_ms = clock_.NowMillis();
  g.grantee_principal = grantee;
  g.retiring_principal = retiring.value_or("");
  g.issuing_account = "arn:" + opts_.partition + ":iam::" + key->record.account_id + ":root";
  g.operations = ops;
  g.constraint = std::move(constraint);

  MERIDIAN_ASSIGN_OR_RETURN(auto txn, storage_.BeginWrite());
  MERIDIAN_ASSIGN_OR_RETURN(auto record, KeyStore::ReadRecord(*txn, g.key_id));
  if (!record) return err::NotFound("Key '" + g.key_arn + "' does not exist");
  MERIDIAN_RETURN_IF_ERROR(RequireUsable(*record));
  MERIDIAN_ASSIGN_OR_RETURN(auto rows, txn->Scan(storage::tables::kKmsGrants, GrantRowPrefix(g.key_id)));
  size_t for_grantee = 0;
  std::string existing_id;
  for (const auto& row : rows) {
    MERIDIAN_ASSIGN_OR_RETURN(auto other, Grant::Parse(row.value));
    if (other.grantee_principal == g.grantee_principal) ++for_grantee;
    // Name makes a retry idempotent: the same name and parameters return the original grant.
    if (name && other.name == *name && other.SameParameters(g)) existing_id = other.grant_id;
  }
  if (existing_id.empty()) {
    if (rows.size() >= kMaxGrantsPerKey)
      return err::LimitExceeded("The key " + g.key_arn + " has " + std::to_string(rows.size()) +
                                " grants, the most a key can have here (" + std::to_string(kMaxGrantsPerKey) + ").");
    if (for_grantee >= kMaxGrantsPerGranteePerKey)
      return err::LimitExceeded("The key " + g.key_arn + " has " + std::to_string(kMaxGrantsPerGranteePerKey) +
                                " grants for " + g.grantee_principal + ", the most a principal can have on a key.");
    g.grant_id = NewGrantId();
    MERIDIAN_RETURN_IF_ERROR(txn->Insert(storage::tables::kKmsGrants, GrantRowKey(g.key_id, g.grant_id), g.Serialize()));
    MERIDIAN_RETURN_IF_ERROR(txn->Commit());
    keys_.Invalidate(g.key_id);
  } else {
    g.grant_id = existing_id;
  }
  w.StartObject();
  w.Key("GrantToken"); w.String(NewGrantToken(g.key_id, g.grant_id));
  w.Key("GrantId"); w.String(g.grant_id);
  w.EndObject();
  return Status::Ok();
}

Status KmsService::Impl::ListGrants(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
  MERIDIAN_ASSIGN_OR_RETURN(auto limit, req.OptInt("Limit", 1, kMaxListLimit));
  MERIDIAN_ASSIGN_OR_RETURN(auto marker, req.OptString("Marker", 1, 1024));
  MERIDIAN_RETURN_IF_ERROR(CheckListMarker(marker));
  MERIDIAN_ASSIGN_OR_RETURN(auto grant_id, req.OptString("GrantId", 1, 128));
  if (grant_id && !LooksLikeGrantId(*grant_id)) return err::InvalidGrantId("Invalid grant ID " + *grant_id);
  MERIDIAN_ASSIGN_OR_RETURN(auto grantee, req.OptString("GranteePrincipal", 1, 256));
  MERIDIAN_ASSIGN_OR_RETURN(auto key, LoadKey(req, "KeyId", false, caller));
  const size_t n = static_cast<size_t>(limit.value_or(kDefaultListLimit));
  std::vector<const Grant*> page;
  bool truncated = false;
  for (const Grant& g : key->grants.all()) {  // sorted by grant id, the marker's order
    if (marker && g.grant_id <= *marker) continue;
    if (grant_id && g.grant_id != *grant_id) continue;
    if (grantee && g.grantee_principal != *grantee) continue;
    if (page.size() == n) {
      truncated = true;
      break;
    }
    page.push_back(&g);
  }
  WriteGrantList(w, page, truncated);
  return Status::Ok();
}

Status KmsService::Impl::ListRetirableGrants(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
  MERIDIAN_ASSIGN_OR_RETURN(auto limit, req.OptInt("Limit", 1, kMaxListLimit));
  MERIDIAN_ASSIGN_OR_RETURN(auto marker, req.OptString("Marker", 1, 1024));
  MERIDIAN_ASSIGN_OR_RETURN(auto retiring, req.RequiredString("RetiringPrincipal", 1, 256));
  MERIDIAN_RETURN_IF_ERROR(CheckPrincipal(retiring, "retiringPrincipal"));
  // "You must specify a principal in your AWS account" (ListRetirableGrants, cross-account use).
  if (auto account = PrincipalAccount(retiring); !account.empty() && account != caller.account_id)
    return errors::AccessDenied("ListRetirableGrants lists the grants of a retiring principal in your own account; " +
                                retiring + " is not in account " + caller.account_id + ".");
  // The marker is the storage key of the last grant returned: "<key id>/<grant id>".
  if (marker) {
    const size_t slash = marker->find('/');
    if (slash == std::string::npos || !LooksLikeKeyId(marker->substr(0, slash)) ||
        !LooksLikeGrantId(marker->substr(slash + 1)))
      return err::InvalidMarker();
  }
  const size_t n = static_cast<size_t>(limit.value_or(kDefaultListLimit));
  MERIDIAN_ASSIGN_OR_RETURN(auto txn, storage_.BeginRead());
  std::vector<Grant> page;
  std::string after = marker.value_or("");
  bool truncated = false;
  while (!truncated) {
    MERIDIAN_ASSIGN_OR_RETURN(auto rows, txn->Scan(storage::tables::kKmsGrants, "", after, 512));
    for (const auto& row : rows) {
      MERIDIAN_ASSIGN_OR_RETURN(auto g, Grant::Parse(row.value));
      if (g.retiring_principal != retiring) {
        after = row.key;
        continue;
      }
      if (page.size() == n) {
        truncated = true;
        break;
      }
      after = row.key;
      page.push_back(std::move(g));
    }
    if (rows.size() < 512) break;
  }
  w.StartObject();
  w.Key("Grants");
  w.StartArray();
  for (const Grant& g : page) g.WriteListEntry(w);
  w.EndArray();
  w.Key("Truncated");
  w.Bool(truncated);
  if (truncated) {
    w.Key("NextMarker");
    w.String(GrantRowKey(page.back().key_id, page.back().grant_id));
  }
  w.EndObject();
  return Status::Ok();
}

Status KmsService::Impl::DeleteGrant(const LoadedKey& key, const std::string& grant_id, bool dry_run) {
  if (!key.grants.Find(grant_id)) return err::NotFound("Grant ID " + grant_id + " not found for key " + key.record.arn);
  if (dry_run) return err::DryRun();
  MERIDIAN_ASSIGN_OR_RETURN(auto txn, storage_.BeginWrite());
  bool existed = false;
  MERIDIAN_RETURN_IF_ERROR(
      txn->Delete(storage::tables::kKmsGrants, GrantRowKey(key.record.key_id, grant_id), &existed));
  if (!existed) return err::NotFound("Grant ID " + grant_id + " not found for key " + key.record.arn);
  MERIDIAN_RETURN_IF_ERROR(txn->Commit());
  keys_.Invalidate(key.record.key_id);
  return Status::Ok();
}

Status KmsService::Impl::RetireGrant(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
  MERIDIAN_ASSIGN_OR_RETURN(auto token, req.OptString("GrantToken", 1, 8192));
  MERIDIAN_ASSIGN_OR_RETURN(auto key_input, req.OptString("KeyId", 1, kMaxKeyIdInput));
  MERIDIAN_ASSIGN_OR_RETURN(auto grant_id, req.OptString("GrantId", 1, 128));
  MERIDIAN_ASSIGN_OR_RETURN(auto dry_run, req.OptBool("DryRun"));
  if (grant_id && !LooksLikeGrantId(*grant_id)) return err::InvalidGrantId("Invalid grant ID " + *grant_id);
  std::string key_id;
  if (token) {
    auto named = ParseGrantToken(*token);
    if (!named) return err::InvalidGrantToken();
    if (grant_id && *grant_id != named->grant_id)
      return err::InvalidGrantId("Grant ID " + *grant_id + " is not the grant the grant token names.");
    if (key_input) {
      MERIDIAN_ASSIGN_OR_RETURN(auto id, ResolveKeyId(*key_input, false, caller));
      if (id != named->key_id) return err::InvalidGrantToken();
    }
    key_id = named->key_id;
    grant_id = named->grant_id;
  } else {
    if (!key_input || !grant_id)
      return errors::Validation("RetireGrant needs a GrantToken, or both a KeyId and a GrantId.");
    MERIDIAN_ASSIGN_OR_RETURN(key_id, ResolveKeyId(*key_input, false, caller));
  }
  MERIDIAN_ASSIGN_OR_RETURN(auto key, keys_.Get(key_id));
  if (!key || key->record.account_id != caller.account_id)
    return err::NotFound("Key '" + KeyArn(caller.account_id, key_id) + "' does not exist");
  MERIDIAN_RETURN_IF_ERROR(DeleteGrant(*key, *grant_id, dry_run.value_or(false)));
  w.StartObject();
  w.EndObject();
  return Status::Ok();
}

Status KmsService::Impl::RevokeGrant(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
  MERIDIAN_ASSIGN_OR_RETURN(auto grant_id, req.RequiredString("GrantId", 1, 128));
  MERIDIAN_ASSIGN_OR_RETURN(auto dry_run, req.OptBool("DryRun"));
  if (!LooksLikeGrantId(grant_id)) return err::InvalidGrantId("Invalid grant ID " + grant_id);
  MERIDIAN_ASSIGN_OR_RETURN(auto key, LoadKey(req, "KeyId", false, caller));
  MERIDIAN_RETURN_IF_ERROR(DeleteGrant(*key, grant_id, dry_run.value_or(false)));
  w.StartObject();
  w.EndObject();
  return Status::Ok();
}

}  // namespace meridian::kms
