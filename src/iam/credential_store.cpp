#include "iam/credential_store.h"

#include <algorithm>

#include <rapidjson/document.h>

#include "common/aws_json.h"
#include "common/encoding.h"
#include "iam/directory_records.h"
#include "iam/sealed_fields.h"
#include "storage/schema.h"

namespace meridian::iam {
namespace {

std::string_view MemberText(const rapidjson::Value& v, const char* name) {
  auto it = v.FindMember(name);
  if (it == v.MemberEnd() || !it->value.IsString()) return {};
  return {it->value.GetString(), it->value.GetStringLength()};
}

// The IAM user's unique id ("AIDA..."), "" when the user is gone.
std::string UserIdOf(storage::Transaction& txn, const std::string& account, std::string_view user_name) {
  if (user_name.empty()) return {};
  auto value = txn.Get(storage::tables::kIamPrincipals, records::EntityKey(EntityKind::kUser, account, user_name));
  if (!value.ok() || !*value) return {};
  auto user = records::DecodeEntity(**value);
  return user.ok() ? user->id : std::string();
}

// CloudTrail's principalId for a credential (sigv4::CredentialRecord::principal_id): the account
// id for root, the user id for IAM users and their GetSessionToken sessions, "<role id>:<session
// name>" for assumed roles. `session` is the Directory's session object (null for long-term keys).
std::string PrincipalIdOf(storage::Transaction& txn, const std::string& account, const std::string& principal_arn,
                          std::string_view user_name, const rapidjson::Value* session) {
  if (session) {
    const std::string_view type = MemberText(*session, "type");
    if (type == "root") return account;
    if (type == "user") return UserIdOf(txn, account, MemberText(*session, "name"));
    const std::string_view role_id = MemberText(*session, "role_id");
    if (role_id.empty()) return {};
    return std::string(role_id) + ":" + std::string(MemberText(*session, "session_name"));
  }
  const std::string root_suffix = ":iam::" + account + ":root";
  if (principal_arn.size() > root_suffix.size() &&
      principal_arn.compare(principal_arn.size() - root_suffix.size(), root_suffix.size(), root_suffix) == 0)
    return account;
  auto arn = records::ParseIamArn(principal_arn);
  if (!arn || arn->type != "user") return {};
  return UserIdOf(txn, account, user_name.empty() ? std::string_view(arn->name) : user_name);
}

using sealed::SessionSecretContext;
using sealed::SessionTokenContext;
std::string WrapContext(const std::string& access_key_id) { return sealed::AccessKeySecretContext(access_key_id); }

constexpr std::string_view kBase32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
constexpr std::string_view kSecretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

bool IsSessionKeyId(const std::string& id) { return id.size() == 20 && id.compare(0, 4, "ASIA") == 0; }

std::string_view StringMember(const rapidjson::Value& v, const char* name) {
  auto it = v.FindMember(name);
  if (it == v.MemberEnd() || !it->value.IsString()) return {};
  return {it->value.GetString(), it->value.GetStringLength()};
}

std::string RandomFromAlphabet(std::string_view alphabet, size_t n) {
  std::string out;
  out.reserve(n);
  // Rejection sampling keeps the choice uniform.
  const size_t limit = 256 - (256 % alphabet.size());
  while (out.size() < n) {
    Bytes r = crypto::RandomBytes(n);
    for (uint8_t b : r) {
      if (b < limit && out.size() < n) out.push_back(alphabet[b % alphabet.size()]);
    }
  }
  return out;
}

// Operators may choose their own ids (CI suites written for moto or LocalStack sign as "test"):
// 1 to 128 letters, digits or underscores.
bool IsValidAccessKeyId(const std::string& id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  return true;
}

}  // namespace

CredentialStore::CredentialStore(storage::Storage& storage, const crypto::RootKey& root_key)
    : storage_(storage), root_key_(root_key) {}

bool CredentialStore::IsValidAccountId(const std::string& id) {
  return id.size() == 12 && std::all_of(id.begin(), id.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string CredentialStore::GenerateAccountId() {
  std::string id = RandomFromAlphabet("0123456789", 12);
  if (id[0] == '0') id[0] = '1';
  return id;
}

std::string CredentialStore::GenerateAccessKeyId() { return "AKIA" + RandomFromAlphabet(kBase32, 16); }

std::string CredentialStore::GenerateSecretAccessKey() { return RandomFromAlphabet(kSecretAlphabet, 40); }

std::string CredentialStore::GenerateSessionAccessKeyId() { return "ASIA" + RandomFromAlphabet(kBase32, 16); }

std::string CredentialStore::GenerateSessionToken() { return RandomFromAlphabet(kSecretAlphabet, 200); }

Status CredentialStore::EnsureAccount(const std::string& account_id) {
  if (!IsValidAccountId(account_id))
    return errors::Validation("account id must be 12 digits, got '" + account_id + "'");
  MERIDIAN_ASSIGN_OR_RETURN(auto txn, storage_.BeginWrite());
  MERIDIAN_ASSIGN_OR_RETURN(auto existing, txn->Get(storage::tables::kAccounts, account_id));
  if (existing) return Status::Ok();
  MERIDIAN_RETURN_IF_ERROR(txn->Put(storage::tables::kAccounts, account_id, "{\"account_id\":\"" + account_id + "\"}"));
  return txn->Commit();
}

bool CredentialStore::AccountExists(const std::string& account_id) {
  auto txn = storage_.BeginRead();
  if (!txn.ok()) return false;
  auto v = (*txn)->Get(storage::tables::kAccounts, account_id);
  return v.ok() && v->has_value();
}

Result<std::shared_ptr<const AccessKey>> CredentialStore::CreateAccessKey(
    const std::string& account_id, const std::string& principal_arn, std::optional<std::string> access_key_id,
    std::optional<std::string> secret) {
  if (!AccountExists(account_id)) return errors::NotFound("account " + account_id + " does not exist");
  auto key = std::make_shared<AccessKey>();
  key->access_key_id = access_key_id ? *access_key_id : GenerateAccessKeyId();
  {
    std::string s = secret ? *secret : GenerateSecretAccessKey();
    key->secret_access_key = crypto::SecureBytes(AsBytes(s));
    crypto::Cleanse(s);
  }
  key->account_id = account_id;
  key->principal_arn = principal_arn;
  if (auto read = storage_.BeginRead(); read.ok())
    key->principal_id = PrincipalIdOf(**read, account_id, principal_arn, {}, nullptr);
  if (!IsValidAccessKeyId(key->access_key_id))
    return errors::Validation("an access key id must be 1 to 128 letters, digits or underscores");
  if (key->secret_access_key.empty() || key->secret_access_key.size() > 1024)
    return errors::Validation("a secret access key must be 1 to 1024 characters");

  MERIDIAN_ASSIGN_OR_RETURN(auto existing, Load(key->access_key_id));
  if (existing) {
    if (existing->account_id == key->account_id &&
        crypto::ConstantTimeEquals(existing->secret_access_key.view(), key->secret_access_key.view()))
      return existing;
    return Status("EntityAlreadyExists", "access key " + key->access_key_id + " already exists with another secret", 409);
  }

  Bytes wrapped = root_key_.Wrap(key->secret_access_key.view(), WrapContext(key->access_key_id));
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  w.Key("account_id");
  w.String(account_id);
  w.Key("principal_arn");
  w.String(principal_arn);
  w.Key("status");
  w.String("Active");
  w.Key("wrapped_secret");
  w.String(Base64Encode(wrapped));
  w.EndObject();

  MERIDIAN_ASSIGN_OR_RETURN(auto txn, storage_.BeginWrite());
  MERIDIAN_RETURN_IF_ERROR(txn->Insert(storage::tables::kAccessKeys, key->access_key_id,
                                       std::string_view(sb.GetString(), sb.GetSize())));
  MERIDIAN_RETURN_IF_ERROR(txn->Commit());
  std::shared_ptr<const AccessKey> result = key;
  std::unique_lock lock(mu_);
  cache_[key->access_key_id] = result;
  return result;
}

Result<std::shared_ptr<const AccessKey>> CredentialStore::Load(const std::string& access_key_id) {
  MERIDIAN_ASSIGN_OR_RETURN(auto txn, storage_.BeginRead());
  if (IsSessionKeyId(access_key_id)) return LoadSession(*txn, access_key_id);
  MERIDIAN_ASSIGN_OR_RETURN(auto value, txn->Get(storage::tables::kAccessKeys, access_key_id));
  if (!value) return std::shared_ptr<const AccessKey>();
  rapidjson::Document doc;
  doc.Parse(value->data(), value->size());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("wrapped_secret") ||
      !doc["wrapped_secret"].IsString() || !doc.HasMember("account_id") || !doc.HasMember("principal_arn"))
    return errors::Internal("stored access key " + access_key_id + " is corrupt");
  auto wrapped = Base64Decode(doc["wrapped_secret"].GetString());
  if (!wrapped) return errors::Internal("stored access key " + access_key_id + " is corrupt");
  MERIDIAN_ASSIGN_OR_RETURN(auto secret, root_key_.Unwrap(*wrapped, WrapContext(access_key_id)));
  auto key = std::make_shared<AccessKey>();
  key->access_key_id = access_key_id;
  key->secret_access_key = std::move(secret);
  key->account_id = doc["account_id"].GetString();
  key->principal_arn = doc["principal_arn"].GetString();
  key->principal_id = PrincipalIdOf(*txn, key->account_id, key->principal_arn, MemberText(doc, "user_name"), nullptr);
  const bool active = doc.HasMember("status") && doc["status"].IsString() &&
                      std::string_view(doc["status"].GetString()) == "Active";
  if (!active) return std::shared_ptr<const AccessKey>();
  return std::shared_ptr<const AccessKey>(std::move(key));
}

Result<std::shared_ptr<const AccessKey>> CredentialStore::LoadSession(storage::Transaction& txn,
                                                                     const std::string& access_key_id) {
  MERIDIAN_ASSIGN_OR_RETURN(auto value, txn.Get(storage::tables::kStsSessions, access_key_id));
  if (!value) return std::shared_ptr<const AccessKey>();
  rapidjson::Document doc;
  doc.Parse(value->data(), value->size());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("expires_at") || !doc["expires_at"].IsInt64())
    return errors::Internal("stored session " + access_key_id + " is corrupt");
  auto wrapped_secret = Base64Decode(StringMember(doc, "wrapped_secret"));
  auto wrapped_token = Base64Decode(StringMember(doc, "wrapped_token"));
  if (!wrapped_secret || !wrapped_token) return errors::Internal("stored session " + access_key_id + " is corrupt");
  MERIDIAN_ASSIGN_OR_RETURN(auto secret, root_key_.Unwrap(*wrapped_secret, SessionSecretContext(access_key_id)));
  MERIDIAN_ASSIGN_OR_RETURN(auto token, root_key_.Unwrap(*wrapped_token, SessionTokenContext(access_key_id)));
  auto key = std::make_shared<AccessKey>();
  key->access_key_id = access_key_id;
  key->secret_access_key = std::move(secret);
  key->session_token = std::string(reinterpret_cast<const char*>(token.data()), token.size());
  key->account_id = std::string(StringMember(doc, "account_id"));
  key->principal_arn = std::string(StringMember(doc, "principal_arn"));
  key->expires_at = doc["expires_at"].GetInt64();
  auto session = doc.FindMember("session");
  key->principal_id = PrincipalIdOf(txn, key->account_id, key->principal_arn, {},
                                    session != doc.MemberEnd() && session->value.IsObject() ? &session->value : nullptr);
  return std::shared_ptr<const AccessKey>(std::move(key));
}

void CredentialStore::Invalidate(const std::string& access_key_id) {
  std::unique_lock lock(mu_);
  ++generation_;
  cache_.erase(access_key_id);
}

void CredentialStore::InvalidateAll() {
  std::unique_lock lock(mu_);
  ++generation_;
  cache_.clear();
}

Result<std::optional<CredentialStore::KeyMetadata>> CredentialStore::ReadKeyMetadata(storage::Transaction& txn,
                                                                                     const std::string& access_key_id) {
  MERIDIAN_ASSIGN_OR_RETURN(auto value, txn.Get(storage::tables::kAccessKeys, access_key_id));
  if (!value) return std::optional<KeyMetadata>();
  rapidjson::Document doc;
  doc.Parse(value->data(), value->size());
  if (doc.HasParseError() || !doc.IsObject()) return errors::Internal("stored access key " + access_key_id + " is corrupt");
  KeyMetadata m;
  m.account_id = std::string(StringMember(doc, "account_id"));
  m.principal_arn = std::string(StringMember(doc, "principal_arn"));
  m.user_name = std::string(StringMember(doc, "user_name"));
  m.status = std::string(StringMember(doc, "status"));
  if (doc.HasMember("create_date") && doc["create_date"].IsInt64()) m.create_date = doc["create_date"].GetInt64();
  return std::optional<KeyMetadata>(std::move(m));
}

Result<std::pair<std::string, std::string>> CredentialStore::StageUserAccessKey(storage::Transaction& txn,
                                                                               const std::string& account_id,
                                                                               const std::string& principal_arn,
                                                                               const std::string& user_name,
                                                                               int64_t create_date) {
  std::string id = GenerateAccessKeyId();
  std::string secret = GenerateSecretAccessKey();
  Bytes wrapped = root_key_.Wrap(AsBytes(secret), WrapContext(id));
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  w.Key("account_id");
  w.String(account_id);
  w.Key("principal_arn");
  w.String(principal_arn);
  w.Key("user_name");
  w.String(user_name);
  w.Key("status");
  w.String("Active");
  w.Key("create_date");
  w.Int64(create_date);
  w.Key("wrapped_secret");
  w.String(Base64Encode(wrapped));
  w.EndObject();
  Status st = txn.Insert(storage::tables::kAccessKeys, id, std::string_view(sb.GetString(), sb.GetSize()));
  if (!st.ok()) {
    crypto::Cleanse(secret);
    return st;
  }
  return std::make_pair(std::move(id), std::move(secret));
}

Status CredentialStore::StageKeyStatus(storage::Transaction& txn, const std::string& access_key_id,
                                       const std::string& status) {
  MERIDIAN_ASSIGN_OR_RETURN(auto value, txn.Get(storage::tables::kAccessKeys, access_key_id));
  if (!value) return errors::NotFound("access key " + access_key_id + " does not exist");
  rapidjson::Document doc;
  doc.Parse(value->data(), value->size());
  if (doc.HasParseError() || !doc.IsObject()) return errors::Internal("stored access key " + access_key_id + " is corrupt");
  if (doc.HasMember("status"))
    doc["status"].SetString(status.c_str(), static_cast<rapidjson::SizeType>(status.size()), doc.GetAllocator());
  else
    doc.AddMember("status", rapidjson::Value(status.c_str(), doc.GetAllocator()), doc.GetAllocator());
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  doc.Accept(w);
  return txn.Put(storage::tables::kAccessKeys, access_key_id, std::string_view(sb.GetString(), sb.GetSize()));
}

Result<CredentialStore::SessionCredential> CredentialStore::StageSession(storage::Transaction& txn,
                                                                         const std::string& account_id,
                                                                         const std::string& principal_arn,
                                                                         int64_t expires_at,
                                                                         std::string_view session_json) {
  SessionCredential cred;
  cred.access_key_id = GenerateSessionAccessKeyId();
  cred.secret_access_key = GenerateSecretAccessKey();
  cred.session_token = GenerateSessionToken();
  cred.expires_at = expires_at;
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  w.Key("account_id");
  w.String(account_id);
  w.Key("principal_arn");
  w.String(principal_arn);
  w.Key("expires_at");
  w.Int64(expires_at);
  w.Key("wrapped_secret");
  w.String(Base64Encode(root_key_.Wrap(AsBytes(cred.secret_access_key), SessionSecretContext(cred.access_key_id))));
  w.Key("wrapped_token");
  w.String(Base64Encode(root_key_.Wrap(AsBytes(cred.session_token), SessionTokenContext(cred.access_key_id))));
  w.Key("session");
  w.RawValue(session_json.data(), session_json.size(), rapidjson::kObjectType);
  w.EndObject();
  MERIDIAN_RETURN_IF_ERROR(
      txn.Insert(storage::tables::kStsSessions, cred.access_key_id, std::string_view(sb.GetString(), sb.GetSize())));
  return cred;
}

Result<std::optional<std::string>> CredentialStore::ReadSessionData(storage::Transaction& txn,
                                                                     const std::string& access_key_id) {
  MERIDIAN_ASSIGN_OR_RETURN(auto value, txn.Get(storage::tables::kStsSessions, access_key_id));
  if (!value) return std::optional<std::string>();
  rapidjson::Document doc;
  doc.Parse(value->data(), value->size());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("session") || !doc["session"].IsObject())
    return errors::Internal("stored session " + access_key_id + " is corrupt");
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  doc["session"].Accept(w);
  return std::optional<std::string>(std::string(sb.GetString(), sb.GetSize()));
}

std::shared_ptr<const AccessKey> CredentialStore::Lookup(const std::string& access_key_id) {
  uint64_t generation;
  {
    std::shared_lock lock(mu_);
    auto it = cache_.find(access_key_id);
    if (it != cache_.end()) return it->second;
    generation = generation_;
  }
  auto loaded = Load(access_key_id);
  if (!loaded.ok()) return nullptr;
  std::unique_lock lock(mu_);
  // Unknown ids are cached as null too, bounded so a flood of random ids cannot grow memory.
  if (generation_ == generation && (*loaded || cache_.size() < 100000)) cache_[access_key_id] = *loaded;
  return *loaded;
}

}  // namespace meridian::iam
