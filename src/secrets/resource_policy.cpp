#include "secrets/resource_policy.h"

#include <algorithm>
#include <array>
#include <span>

#include <rapidjson/document.h>

#include "secrets/errors.h"

namespace meridian::secrets {
namespace {

constexpr std::array<std::string_view, 3> kTopLevel = {"Version", "Id", "Statement"};
constexpr std::array<std::string_view, 9> kStatementElements = {
    "Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition"};

Status Malformed(const std::string& why) {
  return err::MalformedPolicy("This resource policy contains a syntax error: " + why);
}

bool Known(std::string_view name, std::span<const std::string_view> allowed) {
  return std::find(allowed.begin(), allowed.end(), name) != allowed.end();
}

// A string, or a non-empty list of strings.
bool IsStringOrStringList(const rapidjson::Value& v) {
  if (v.IsString()) return v.GetStringLength() > 0;
  if (!v.IsArray() || v.Empty()) return false;
  return std::all_of(v.Begin(), v.End(), [](const rapidjson::Value& e) { return e.IsString() && e.GetStringLength() > 0; });
}

bool ContainsWildcard(const rapidjson::Value& v) {
  if (v.IsString()) return std::string_view(v.GetString(), v.GetStringLength()) == "*";
  if (v.IsArray())
    return std::any_of(v.Begin(), v.End(), [](const rapidjson::Value& e) {
      return e.IsString() && std::string_view(e.GetString(), e.GetStringLength()) == "*";
    });
  return false;
}

// "*", or an object whose members (AWS, Service, Federated, CanonicalUser) are strings or lists.
Status CheckPrincipal(const rapidjson::Value& p, const std::string& where) {
  if (p.IsString()) {
    if (std::string_view(p.GetString(), p.GetStringLength()) != "*")
      return Malformed(where + ": a Principal given as a string must be \"*\".");
    return Status::Ok();
  }
  if (!p.IsObject() || p.MemberCount() == 0) return Malformed(where + ": Principal must be \"*\" or an object.");
  static constexpr std::array<std::string_view, 4> kKinds = {"AWS", "Service", "Federated", "CanonicalUser"};
  for (auto it = p.MemberBegin(); it != p.MemberEnd(); ++it) {
    if (!Known(it->name.GetString(), kKinds)) return Malformed(where + ": unknown principal type " + it->name.GetString() + ".");
    if (!IsStringOrStringList(it->value)) return Malformed(where + ": principals must be strings.");
  }
  return Status::Ok();
}

bool PrincipalIsWildcard(const rapidjson::Value& p) {
  if (p.IsString()) return true;  // validated: "*"
  auto aws = p.FindMember("AWS");
  return aws != p.MemberEnd() && ContainsWildcard(aws->value);
}

Status CheckActions(const rapidjson::Value& v, const std::string& where) {
  if (!IsStringOrStringList(v)) return Malformed(where + ": Action must be a string or a list of strings.");
  auto check = [&](std::string_view a) -> Status {
    if (a == "*") return Status::Ok();
    size_t colon = a.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == a.size())
      return Malformed(where + ": action '" + std::string(a) + "' is not of the form service:action.");
    return Status::Ok();
  };
  if (v.IsString()) return check(v.GetString());
  for (const auto& a : v.GetArray()) MERIDIAN_RETURN_IF_ERROR(check(a.GetString()));
  return Status::Ok();
}

Status CheckCondition(const rapidjson::Value& c, const std::string& where) {
  if (!c.IsObject()) return Malformed(where + ": Condition must be an object.");
  for (auto op = c.MemberBegin(); op != c.MemberEnd(); ++op) {
    if (!op->value.IsObject() || op->value.MemberCount() == 0)
      return Malformed(where + ": condition operator " + op->name.GetString() + " must map keys to values.");
    for (auto key = op->value.MemberBegin(); key != op->value.MemberEnd(); ++key) {
      const auto& v = key->value;
      bool scalar = v.IsString() || v.IsBool() || v.IsNumber();
      bool list = v.IsArray() && std::all_of(v.Begin(), v.End(), [](const rapidjson::Value& e) {
                    return e.IsString() || e.IsBool() || e.IsNumber();
                  });
      if (!scalar && !list) return Malformed(where + ": condition values must be strings, numbers or booleans.");
    }
  }
  return Status::Ok();
}

Status CheckStatement(const rapidjson::Value& s, size_t index, PolicyFindings& findings) {
  const std::string where = "statement " + std::to_string(index);
  if (!s.IsObject()) return Malformed(where + " is not an object.");
  for (auto it = s.MemberBegin(); it != s.MemberEnd(); ++it)
    if (!Known(it->name.GetString(), kStatementElements))
      return Malformed(where + " has an unknown element " + it->name.GetString() + ".");
  auto effect = s.FindMember("Effect");
  if (effect == s.MemberEnd() || !effect->value.IsString() ||
      (std::string_view(effect->value.GetString()) != "Allow" && std::string_view(effect->value.GetString()) != "Deny"))
    return Malformed(where + ": Effect must be \"Allow\" or \"Deny\".");
  const bool allow = std::string_view(effect->value.GetString()) == "Allow";
  auto one_of = [&](const char* a, const char* b) -> Result<const rapidjson::Value*> {
    bool has_a = s.HasMember(a), has_b = s.HasMember(b);
    if (has_a == has_b) return Malformed(where + " must have exactly one of " + a + " and " + b + ".");
    return &s[has_a ? a : b];
  };
  MERIDIAN_ASSIGN_OR_RETURN(auto action, one_of("Action", "NotAction"));
  MERIDIAN_RETURN_IF_ERROR(CheckActions(*action, where));
  MERIDIAN_ASSIGN_OR_RETURN(auto resource, one_of("Resource", "NotResource"));
  if (!IsStringOrStringList(*resource)) return Malformed(where + ": Resource must be a string or a list of strings.");
  MERIDIAN_ASSIGN_OR_RETURN(auto principal, one_of("Principal", "NotPrincipal"));
  MERIDIAN_RETURN_IF_ERROR(CheckPrincipal(*principal, where));
  auto sid = s.FindMember("Sid");
  if (sid != s.MemberEnd() && !sid->value.IsString()) return Malformed(where + ": Sid must be a string.");
  auto condition = s.FindMember("Condition");
  if (condition != s.MemberEnd()) MERIDIAN_RETURN_IF_ERROR(CheckCondition(condition->value, where));

  const bool conditioned = condition != s.MemberEnd() && condition->value.MemberCount() > 0;
  if (allow && !conditioned) {
    if (s.HasMember("NotPrincipal"))
      findings.public_access.push_back(where + " allows every principal except the ones it names (NotPrincipal).");
    else if (PrincipalIsWildcard(*principal))
      findings.public_access.push_back(where + " allows a wildcard principal without a condition.");
  }
  return Status::Ok();
}

}  // namespace

Result<PolicyFindings> CheckResourcePolicy(std::string_view policy) {
  rapidjson::Document d;
  d.Parse(policy.data(), policy.size());
  if (d.HasParseError() || !d.IsObject()) return Malformed("the policy is not a JSON object.");
  for (auto it = d.MemberBegin(); it != d.MemberEnd(); ++it)
    if (!Known(it->name.GetString(), kTopLevel)) return Malformed("unknown element " + std::string(it->name.GetString()) + ".");
  auto version = d.FindMember("Version");
  if (version != d.MemberEnd() &&
      !(version->value.IsString() && (std::string_view(version->value.GetString()) == "2012-10-17" ||
                                      std::string_view(version->value.GetString()) == "2008-10-17")))
    return Malformed("Version must be \"2012-10-17\" or \"2008-10-17\".");
  auto statements = d.FindMember("Statement");
  if (statements == d.MemberEnd()) return Malformed("the policy has no Statement.");
  PolicyFindings findings;
  if (statements->value.IsObject()) {
    MERIDIAN_RETURN_IF_ERROR(CheckStatement(statements->value, 0, findings));
  } else if (statements->value.IsArray() && !statements->value.Empty()) {
    size_t i = 0;
    for (const auto& s : statements->value.GetArray()) MERIDIAN_RETURN_IF_ERROR(CheckStatement(s, i++, findings));
  } else {
    return Malformed("Statement must be an object or a non-empty list.");
  }
  return findings;
}

}  // namespace meridian::secrets
