#include "kms/grant.h"

#include <algorithm>
#include <array>
#include <cctype>

#include <rapidjson/document.h>

#include "common/encoding.h"
#include "crypto/crypto.h"
#include "kms/key_record.h"

namespace meridian::kms {
namespace {

// In the API's GrantOperation enum order; index i is bit 1 << i.
constexpr std::array<std::string_view, 17> kOpNames = {
    "Decrypt",      "Encrypt",     "GenerateDataKey",     "GenerateDataKeyWithoutPlaintext",
    "ReEncryptFrom", "ReEncryptTo", "Sign",                "Verify",
    "GetPublicKey", "CreateGrant", "RetireGrant",         "DescribeKey",
    "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext", "GenerateMac", "VerifyMac",
    "DeriveSharedSecret"};

bool KeysEqualIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// Whether `pairs` holds a pair whose key matches `key` ignoring case and whose value is `value`.
bool HasPair(const EncryptionContext& pairs, std::string_view key, std::string_view value) {
  return std::any_of(pairs.begin(), pairs.end(),
                     [&](const auto& p) { return p.second == value && KeysEqualIgnoringCase(p.first, key); });
}

// Every pair of `needed` is in `have`.
bool ContainsAll(const EncryptionContext& have, const EncryptionContext& needed) {
  return std::all_of(needed.begin(), needed.end(), [&](const auto& p) { return HasPair(have, p.first, p.second); });
}

bool SameContext(const EncryptionContext& a, const EncryptionContext& b) {
  return a.size() == b.size() && ContainsAll(a, b) && ContainsAll(b, a);
}

}  // namespace

GrantOps GrantOpFromName(std::string_view name) {
  for (size_t i = 0; i < kOpNames.size(); ++i)
    if (kOpNames[i] == name) return 1u << i;
  return 0;
}

std::vector<std::string_view> GrantOpNames(GrantOps ops) {
  std::vector<std::string_view> names;
  for (size_t i = 0; i < kOpNames.size(); ++i)
    if (ops & (1u << i)) names.push_back(kOpNames[i]);
  return names;
}

std::string_view ConstraintTypeName(ConstraintType type) {
  switch (type) {
    case ConstraintType::kEncryptionContextSubset: return "EncryptionContextSubset";
    case ConstraintType::kEncryptionContextEquals: return "EncryptionContextEquals";
    case ConstraintType::kNone: break;
  }
  return "";
}

bool GrantConstraint::AllowsContext(const EncryptionContext& request) const {
  switch (type) {
    case ConstraintType::kNone: return true;
    case ConstraintType::kEncryptionContextSubset: return ContainsAll(request, pairs);
    case ConstraintType::kEncryptionContextEquals: return SameContext(request, pairs);
  }
  return false;
}

bool GrantConstraint::PermitsChild(const GrantConstraint& child) const {
  switch (type) {
    case ConstraintType::kNone: return true;
    case ConstraintType::kEncryptionContextSubset:
      return child.type != ConstraintType::kNone && ContainsAll(child.pairs, pairs);
    case ConstraintType::kEncryptionContextEquals:
      return child.type == ConstraintType::kEncryptionContextEquals && SameContext(child.pairs, pairs);
  }
  return false;
}

bool GrantConstraint::operator==(const GrantConstraint& other) const {
  return type == other.type && SameContext(pairs, other.pairs);
}

bool Grant::SameParameters(const Grant& other) const {
  return grantee_principal == other.grantee_principal && retiring_principal == other.retiring_principal &&
         operations == other.operations && constraint == other.constraint;
}

std::string Grant::Serialize() const {
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  w.Key("key_id"); w.String(key_id);
  w.Key("key_arn"); w.String(key_arn);
  w.Key("grant_id"); w.String(grant_id);
  w.Key("name"); w.String(name);
  w.Key("creation_ms"); w.Int64(creation_ms);
  w.Key("grantee"); w.String(grantee_principal);
  w.Key("retiring"); w.String(retiring_principal);
  w.Key("issuing_account"); w.String(issuing_account);
  w.Key("operations"); w.Uint(operations);
  w.Key("constraint_type"); w.String(std::string(ConstraintTypeName(constraint.type)));
  w.Key("constraint");
  w.StartArray();
  for (const auto& [k, v] : constraint.pairs) {
    w.StartArray();
    w.String(k);
    w.String(v);
    w.EndArray();
  }
  w.EndArray();
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize());
}

Result<Grant> Grant::Parse(std::string_view json) {
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  auto corrupt = [] { return errors::Internal("a stored grant record is corrupt"); };
  if (d.HasParseError() || !d.IsObject()) return corrupt();
  Grant g;
  auto str = [&](const char* k, std::string& out) {
    if (!d.HasMember(k) || !d[k].IsString()) return false;
    out.assign(d[k].GetString(), d[k].GetStringLength());
    return true;
  };
  std::string type;
  if (!str("key_id", g.key_id) || !str("key_arn", g.key_arn) || !str("grant_id", g.grant_id) || !str("name", g.name) ||
      !str("grantee", g.grantee_principal) || !str("retiring", g.retiring_principal) ||
      !str("issuing_account", g.issuing_account) || !str("constraint_type", type) || !d.HasMember("creation_ms") ||
      !d["creation_ms"].IsInt64() || !d.HasMember("operations") || !d["operations"].IsUint() ||
      !d.HasMember("constraint") || !d["constraint"].IsArray())
    return corrupt();
  g.creation_ms = d["creation_ms"].GetInt64();
  g.operations = d["operations"].GetUint();
  if (type == ConstraintTypeName(ConstraintType::kEncryptionContextSubset))
    g.constraint.type = ConstraintType::kEncryptionContextSubset;
  else if (type == ConstraintTypeName(ConstraintType::kEncryptionContextEquals))
    g.constraint.type = ConstraintType::kEncryptionContextEquals;
  else if (!type.empty())
    return corrupt();
  for (const auto& p : d["constraint"].GetArray()) {
    if (!p.IsArray() || p.Size() != 2 || !p[0].IsString() || !p[1].IsString()) return corrupt();
    g.constraint.pairs.emplace_back(std::string(p[0].GetString(), p[0].GetStringLength()),
                                    std::string(p[1].GetString(), p[1].GetStringLength()));
  }
  return g;
}

void Grant::WriteListEntry(JsonWriter& w) const {
  w.StartObject();
  w.Key("KeyId"); w.String(key_arn);
  w.Key("GrantId"); w.String(grant_id);
  w.Key("Name"); w.String(name);
  w.Key("CreationDate"); WriteTimestamp(w, creation_ms);
  w.Key("GranteePrincipal"); w.String(grantee_principal);
  if (!retiring_principal.empty()) {
    w.Key("RetiringPrincipal"); w.String(retiring_principal);
  }
  w.Key("IssuingAccount"); w.String(issuing_account);
  w.Key("Operations");
  w.StartArray();
  for (auto op : GrantOpNames(operations)) w.String(op.data(), static_cast<rapidjson::SizeType>(op.size()));
  w.EndArray();
  if (constraint.type != ConstraintType::kNone) {
    w.Key("Constraints");
    w.StartObject();
    const auto type = ConstraintTypeName(constraint.type);
    w.Key(type.data(), static_cast<rapidjson::SizeType>(type.size()));
    w.StartObject();
    for (const auto& [k, v] : constraint.pairs) {
      w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
      w.String(v);
    }
    w.EndObject();
    w.EndObject();
  }
  w.EndObject();
}

std::string GrantRowKey(std::string_view key_id, std::string_view grant_id) {
  return std::string(key_id) + "/" + std::string(grant_id);
}

std::string GrantRowPrefix(std::string_view key_id) { return std::string(key_id) + "/"; }

std::string NewGrantId() { return HexEncode(crypto::RandomBytes(32)); }

bool LooksLikeGrantId(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

}  // namespace meridian::kms
