#include "iam/policy/policy.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <algorithm>
#include <array>
#include <initializer_list>
#include <set>
#include <utility>

#include "iam/policy/statement.h"
#include "iam/policy/text.h"

namespace meridian::iam::policy {

namespace {

using Value = rapidjson::Value;

Status Malformed(std::string message) { return Status(std::string(kMalformedPolicyDocument), std::move(message), 400); }

std::string Quote(std::string_view s) {
  constexpr size_t kMax = 200;  // keep messages readable when the input is huge
  std::string out = "\"";
  out.append(s.substr(0, kMax));
  if (s.size() > kMax) out.append("...");
  out.push_back('"');
  return out;
}

std::string_view Str(const Value& v) { return std::string_view(v.GetString(), v.GetStringLength()); }

// Rejects members named twice and members outside `allowed`.
Status CheckMembers(const Value& object, std::initializer_list<std::string_view> allowed, const std::string& where) {
  std::set<std::string_view> seen;
  for (auto it = object.MemberBegin(); it != object.MemberEnd(); ++it) {
    std::string_view name = Str(it->name);
    if (!seen.insert(name).second) return Malformed(where + ": duplicate element " + Quote(name));
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      std::string list;
      for (std::string_view a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      return Malformed(where + ": unknown element " + Quote(name) + " (expected one of " + list + ")");
    }
  }
  return Status::Ok();
}

const Value* Member(const Value& object, std::string_view name) {
  auto it = object.FindMember(Value(name.data(), static_cast<rapidjson::SizeType>(name.size())));
  return it == object.MemberEnd() ? nullptr : &it->value;
}

// A scalar as text: strings and numbers (kept as text by the parser) as written, booleans as
// "true"/"false".
bool ScalarText(const Value& v, std::string& out) {
  if (v.IsString()) {
    out.assign(v.GetString(), v.GetStringLength());
  } else if (v.IsBool()) {
    out = v.GetBool() ? "true" : "false";
  } else {
    return false;
  }
  return true;
}

// A string or a non-empty array of strings (booleans allowed when `scalars`; JSON numbers arrive
// as text and are accepted wherever text is).
Status StringList(const Value& v, bool scalars, const std::string& where, std::vector<std::string>& out) {
  out.clear();
  std::string text;
  auto one = [&](const Value& item) -> Status {
    if ((item.IsString() || scalars) && ScalarText(item, text)) {
      out.push_back(text);
      return Status::Ok();
    }
    return Malformed(where + " must be a string or an array of strings");
  };
  if (v.IsArray()) {
    if (v.Empty()) return Malformed(where + " must not be an empty array");
    for (const Value& item : v.GetArray()) MERIDIAN_RETURN_IF_ERROR(one(item));
    return Status::Ok();
  }
  return one(v);
}

bool IsAccountId(std::string_view s) {
  return s.size() == 12 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// "arn:<partition>:iam::<account>:root" -> account id.
bool RootArnAccount(std::string_view arn, std::string& account) {
  std::array<std::string_view, 6> parts;
  if (!SplitArn(arn, parts)) return false;
  if (parts[0] != "arn" || parts[1].empty() || parts[2] != "iam" || !parts[3].empty() || !IsAccountId(parts[4]) ||
      parts[5] != "root")
    return false;
  account = std::string(parts[4]);
  return true;
}

// An IAM or STS principal ARN without wildcards.
bool IsPrincipalArn(std::string_view arn) {
  std::array<std::string_view, 6> parts;
  if (!SplitArn(arn, parts)) return false;
  if (parts[0] != "arn" || parts[1].empty() || (parts[2] != "iam" && parts[2] != "sts") || !parts[3].empty() ||
      !IsAccountId(parts[4]) || parts[5].empty())
    return false;
  return arn.find_first_of("*?") == std::string_view::npos;
}

bool IsValidAction(std::string_view action) {
  if (action == "*") return true;
  size_t colon = action.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == action.size()) return false;
  std::string_view vendor = action.substr(0, colon);
  return std::all_of(vendor.begin(), vendor.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
  });
}

}  // namespace

class PolicyParser {
 public:
  explicit PolicyParser(const ParseOptions& options) : options_(options) {}

  Result<PolicyPtr> Parse(std::string_view document) {
    if (document.size() > options_.max_document_bytes)
      return Malformed("Policy document is " + std::to_string(document.size()) + " bytes; the limit is " +
                       std::to_string(options_.max_document_bytes));
    rapidjson::Document d;
    // Iterative parsing: no recursion, so deeply nested input cannot exhaust the stack. Numbers
    // stay text: condition values keep their exact spelling, and RapidJSON's own number
    // conversion is never run on untrusted input (its full-precision strtod crashes on some
    // long numbers — found by policy_fuzz).
    constexpr unsigned kFlags =
        rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag | rapidjson::kParseNumbersAsStringsFlag;
    d.Parse<kFlags>(document.data(), document.size());
    if (d.HasParseError())
      return Malformed(std::string("Policy document is not valid JSON: ") + rapidjson::GetParseError_En(d.GetParseError()) +
                       " (at byte " + std::to_string(d.GetErrorOffset()) + ")");
    if (!d.IsObject()) return Malformed("Policy document must be a JSON object");
    MERIDIAN_RETURN_IF_ERROR(CheckMembers(d, {"Version", "Id", "Statement"}, "Policy document"));

    std::shared_ptr<Policy> policy(new Policy());
    policy->kind_ = options_.kind;
    if (const Value* v = Member(d, "Version")) {
      if (!v->IsString()) return Malformed("Version must be a string");
      if (Str(*v) == "2012-10-17") {
        policy->version_ = PolicyVersion::k2012_10_17;
      } else if (Str(*v) != "2008-10-17") {
        return Malformed("Version " + Quote(Str(*v)) + " is not supported; use \"2012-10-17\" (or \"2008-10-17\")");
      }
    }
    variables_ = policy->version_ == PolicyVersion::k2012_10_17;
    if (const Value* v = Member(d, "Id")) {
      if (!v->IsString()) return Malformed("Id must be a string");
      policy->document_id_ = std::string(Str(*v));
    }
    policy->id_ = options_.id.empty() ? policy->document_id_ : options_.id;

    const Value* statements = Member(d, "Statement");
    if (!statements) return Malformed("Policy document has no Statement element");
    if (statements->IsObject()) {
      policy->statements_.emplace_back();
      MERIDIAN_RETURN_IF_ERROR(ParseStatement(*statements, 0, policy->statements_.back()));
    } else if (statements->IsArray()) {
      if (statements->Empty()) return Malformed("Statement must not be an empty array");
      uint32_t index = 0;
      for (const Value& s : statements->GetArray()) {
        policy->statements_.emplace_back();
        MERIDIAN_RETURN_IF_ERROR(ParseStatement(s, index++, policy->statements_.back()));
      }
    } else {
      return Malformed("Statement must be an object or an array of objects");
    }
    return PolicyPtr(std::move(policy));
  }

 private:
  Status ParseStatement(const Value& v, uint32_t index, Statement& s) {
    std::string where = "Statement " + std::to_string(index + 1);
    if (!v.IsObject()) return Malformed(where + " must be a JSON object");
    s.index = index;
    if (const Value* sid = Member(v, "Sid")) {
      if (!sid->IsString()) return Malformed(where + ": Sid must be a string");
      s.sid = std::string(Str(*sid));
      where += " (Sid " + Quote(s.sid) + ")";
      // "In IAM, the Sid value must be unique within a JSON policy" (IAM User Guide, "IAM JSON
      // policy elements: Sid"; IAM answers MalformedPolicyDocument "Statement IDs (SID) in a
      // single policy must be unique."). The rule is IAM's: resource policies (KMS key policies,
      // secret policies) may repeat a Sid — AWS's own aws/secretsmanager key policy does.
      if (!s.sid.empty() && !sids_.insert(s.sid).second && options_.kind != PolicyKind::kResource)
        return Malformed("Statement IDs (SID) in a single policy must be unique. " + where + " repeats Sid " +
                         Quote(s.sid) + ".");
    }
    MERIDIAN_RETURN_IF_ERROR(CheckMembers(v,
                                          {"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction",
                                           "Resource", "NotResource", "Condition"},
                                          where));

    const Value* effect = Member(v, "Effect");
    if (!effect) return Malformed(where + ": missing Effect");
    if (!effect->IsString() || (Str(*effect) != "Allow" && Str(*effect) != "Deny"))
      return Malformed(where + ": Effect must be \"Allow\" or \"Deny\"");
    s.effect = Str(*effect) == "Allow" ? Effect::kAllow : Effect::kDeny;

    MERIDIAN_RETURN_IF_ERROR(ParsePrincipal(v, where, s));
    MERIDIAN_RETURN_IF_ERROR(ParseActions(v, where, s));
    MERIDIAN_RETURN_IF_ERROR(ParseResources(v, where, s));
    if (const Value* c = Member(v, "Condition")) MERIDIAN_RETURN_IF_ERROR(ParseCondition(*c, where, s));
    return Status::Ok();
  }

  Status ParsePrincipal(const Value& v, const std::string& where, Statement& s) {
    const Value* principal = Member(v, "Principal");
    const Value* not_principal = Member(v, "NotPrincipal");
    if (principal && not_principal) return Malformed(where + ": Principal and NotPrincipal cannot both be present");
    const Value* p = principal ? principal : not_principal;
    std::string name = principal ? "Principal" : "NotPrincipal";
    if (options_.kind == PolicyKind::kIdentity) {
      if (p) return Malformed(where + ": an identity-based policy must not specify a " + name);
      return Status::Ok();
    }
    if (!p) return Malformed(where + ": a resource-based policy statement must specify a Principal or NotPrincipal");
    s.has_principal = true;
    s.not_principal = not_principal != nullptr;
    std::string at = where + ": " + name;
    if (p->IsString()) {
      if (Str(*p) != "*") return Malformed(at + " must be \"*\" or an object such as {\"AWS\": ...}");
      s.principal.any = true;
      return Status::Ok();
    }
    if (!p->IsObject() || p->MemberCount() == 0)
      return Malformed(at + " must be \"*\" or an object such as {\"AWS\": ...}");
    MERIDIAN_RETURN_IF_ERROR(CheckMembers(*p, {"AWS", "Service", "Federated"}, at));
    std::vector<std::string> values;
    if (const Value* aws = Member(*p, "AWS")) {
      MERIDIAN_RETURN_IF_ERROR(StringList(*aws, false, at + ".AWS", values));
      for (const std::string& value : values) {
        std::string account;
        if (value == "*") {
          s.principal.any = true;
        } else if (IsAccountId(value)) {
          s.principal.accounts.push_back(value);
        } else if (RootArnAccount(value, account)) {
          s.principal.accounts.push_back(account);
        } else if (IsPrincipalArn(value)) {
          s.principal.arns.push_back(value);
        } else {
          return Malformed(at + ": invalid principal " + Quote(value) +
                           " (expected \"*\", a 12-digit account id or an IAM/STS principal ARN without wildcards)");
        }
      }
    }
    if (const Value* service = Member(*p, "Service")) {
      MERIDIAN_RETURN_IF_ERROR(StringList(*service, false, at + ".Service", values));
      for (const std::string& value : values) {
        if (value.empty() || value.find_first_of("*?") != std::string::npos)
          return Malformed(at + ": invalid service principal " + Quote(value));
        s.principal.services.push_back(value);
      }
    }
    if (const Value* federated = Member(*p, "Federated")) {
      MERIDIAN_RETURN_IF_ERROR(StringList(*federated, false, at + ".Federated", values));
      for (const std::string& value : values) {
        if (value.empty() || value.find_first_of("*?") != std::string::npos)
          return Malformed(at + ": invalid federated principal " + Quote(value));
        s.principal.providers.push_back(value);
      }
    }
    return Status::Ok();
  }

  Status ParseActions(const Value& v, const std::string& where, Statement& s) {
    const Value* action = Member(v, "Action");
    const Value* not_action = Member(v, "NotAction");
    if (action && not_action) return Malformed(where + ": Action and NotAction cannot both be present");
    if (!action && !not_action) return Malformed(where + ": missing Action or NotAction");
    s.not_action = not_action != nullptr;
    std::string name = action ? "Action" : "NotAction";
    std::vector<std::string> values;
    MERIDIAN_RETURN_IF_ERROR(StringList(action ? *action : *not_action, false, where + ": " + name, values));
    for (const std::string& value : values) {
      if (!IsValidAction(value))
        return Malformed(where + ": " + name + " " + Quote(value) +
                         " must be \"*\" or \"service:action\" (wildcards only in the action part)");
      s.actions.push_back(Pattern::Compile(value, {.wildcards = true, .variables = false, .lower = true}));
    }
    return Status::Ok();
  }

  Status ParseResources(const Value& v, const std::string& where, Statement& s) {
    const Value* resource = Member(v, "Resource");
    const Value* not_resource = Member(v, "NotResource");
    if (resource && not_resource) return Malformed(where + ": Resource and NotResource cannot both be present");
    if (!resource && !not_resource) {
      if (options_.kind == PolicyKind::kTrust) return Status::Ok();  // trust policies name no resource
      return Malformed(where + ": missing Resource or NotResource");
    }
    s.has_resource = true;
    s.not_resource = not_resource != nullptr;
    std::string name = resource ? "Resource" : "NotResource";
    std::vector<std::string> values;
    MERIDIAN_RETURN_IF_ERROR(StringList(resource ? *resource : *not_resource, false, where + ": " + name, values));
    auto scope = variables_ ? ArnPattern::VariableScope::kResourcePart : ArnPattern::VariableScope::kNone;
    for (const std::string& value : values) {
      ArnPattern pattern;
      if (!ArnPattern::Compile(value, scope, pattern))
        return Malformed(where + ": " + name + " " + Quote(value) +
                         " must be \"*\" or an ARN (arn:partition:service:region:account:resource)");
      s.resource_variables = s.resource_variables || pattern.has_variables();
      s.resources.push_back(std::move(pattern));
    }
    return Status::Ok();
  }

  Status ParseCondition(const Value& v, const std::string& where, Statement& s) {
    std::string at = where + ": Condition";
    if (!v.IsObject()) return Malformed(at + " must be an object of {operator: {key: values}}");
    std::set<std::string_view> operators;
    for (auto op_it = v.MemberBegin(); op_it != v.MemberEnd(); ++op_it) {
      std::string_view op_name = Str(op_it->name);
      if (!operators.insert(op_name).second) return Malformed(at + ": duplicate operator " + Quote(op_name));
      auto op = ConditionOperator::Parse(op_name);
      if (!op) return Malformed(at + ": unknown condition operator " + Quote(op_name));
      std::string op_at = at + " " + std::string(op_name);
      const Value& block = op_it->value;
      if (!block.IsObject() || block.MemberCount() == 0)
        return Malformed(op_at + " must be a non-empty object of {key: values}");
      std::set<std::string> keys;
      for (auto key_it = block.MemberBegin(); key_it != block.MemberEnd(); ++key_it) {
        std::string_view key = Str(key_it->name);
        size_t colon = key.find(':');
        if (colon == std::string_view::npos || colon == 0 || colon + 1 == key.size())
          return Malformed(op_at + ": condition key " + Quote(key) + " must be \"service:name\" (e.g. aws:SourceIp)");
        if (!keys.insert(ToLower(key)).second) return Malformed(op_at + ": duplicate condition key " + Quote(key));
        std::vector<std::string> values;
        MERIDIAN_RETURN_IF_ERROR(StringList(key_it->value, true, op_at + ": " + std::string(key), values));
        auto condition = Condition::Compile(*op, key, values, variables_);
        if (!condition.ok()) return Malformed(op_at + ": " + condition.status().message());
        s.conditions.push_back(std::move(condition).value());
      }
    }
    return Status::Ok();
  }

  const ParseOptions& options_;
  bool variables_ = false;
  std::set<std::string> sids_;
};

Policy::Policy() = default;
Policy::~Policy() = default;

size_t Policy::statement_count() const { return statements_.size(); }
const Statement& Policy::statement(size_t index) const { return statements_[index]; }

Result<PolicyPtr> Policy::Parse(std::string_view document, const ParseOptions& options) {
  return PolicyParser(options).Parse(document);
}

}  // namespace meridian::iam::policy
