#include "iam/policy/lint.h"

#include <rapidjson/document.h>

#include <algorithm>
#include <array>

#include "iam/policy/statement.h"
#include "iam/policy/text.h"

namespace meridian::iam::policy {

namespace {

constexpr std::array<std::string_view, 15> kRestrictingKeys = {
    "aws:principalarn", "aws:principalaccount", "aws:principalorgid", "aws:principalorgpaths", "aws:userid",
    "aws:username",     "aws:sourcevpce",       "aws:sourcevpc",      "aws:sourceip",          "aws:sourceaccount",
    "aws:sourcearn",    "aws:sourceorgid",      "kms:calleraccount",  "kms:viaservice",        "aws:principaltag/",
};

bool IsRestrictingKey(std::string_view key) {
  for (std::string_view k : kRestrictingKeys) {
    if (k.back() == '/' ? key.starts_with(k) : key == k) return true;
  }
  return false;
}

bool IsEverything(std::string_view value) {
  return value.find_first_not_of('*') == std::string_view::npos || value == "0.0.0.0/0" || value == "::/0";
}

// A condition that narrows who/where: positive, not IfExists, not ForAllValues, not all-wildcard.
bool Narrows(const Condition& c) {
  const ConditionOperator& op = c.op();
  if (op.negated() || op.if_exists || op.set == SetQualifier::kForAllValues || op.op == ConditionOp::kNull) return false;
  return std::none_of(c.values().begin(), c.values().end(), [](const std::string& v) { return IsEverything(v); });
}

bool HasRestrictingCondition(const Statement& s) {
  return std::any_of(s.conditions.begin(), s.conditions.end(),
                     [](const Condition& c) { return IsRestrictingKey(c.key()) && Narrows(c); });
}

// An equality pin with literal values on `key`.
bool Pins(const Statement& s, std::string_view key) {
  return std::any_of(s.conditions.begin(), s.conditions.end(), [key](const Condition& c) {
    const ConditionOperator& op = c.op();
    bool equality = op.op == ConditionOp::kStringEquals || op.op == ConditionOp::kStringEqualsIgnoreCase ||
                    op.op == ConditionOp::kStringLike;
    if (c.key() != key || !equality || op.if_exists || op.set == SetQualifier::kForAllValues) return false;
    return std::none_of(c.values().begin(), c.values().end(),
                        [](const std::string& v) { return v.empty() || v.find_first_of("*?") != std::string::npos; });
  });
}

bool WildcardAction(const Statement& s) {
  if (s.not_action) return true;
  return std::any_of(s.actions.begin(), s.actions.end(), [](const Pattern& p) {
    std::string_view a = p.source();
    return a == "*" || (a.size() > 2 && a.ends_with(":*"));
  });
}

bool TouchesKeysOrSecrets(const Statement& s) {
  if (s.not_action) return true;
  return std::any_of(s.actions.begin(), s.actions.end(), [](const Pattern& p) {
    std::string a = ToLower(p.source());
    return a.starts_with("*") || a.starts_with("kms:") || a.starts_with("secretsmanager:");
  });
}

bool AllResources(const Statement& s) {
  if (s.not_resource) return true;
  return std::any_of(s.resources.begin(), s.resources.end(), [](const ArnPattern& r) { return r.is_any(); });
}

// The resources span regions: "*" (outside key policies), NotResource, or a wildcarded/empty
// region segment.
bool SpansRegions(const Statement& s, bool key_policy) {
  if (!s.has_resource) return false;
  if (s.not_resource) return true;
  return std::any_of(s.resources.begin(), s.resources.end(), [key_policy](const ArnPattern& r) {
    if (r.is_any()) return !key_policy;
    const Pattern& region = r.part(3);
    return region.source().empty() || region.has_wildcards() || region.has_variables();
  });
}

bool IsAccountRootOnly(const Statement& s, const LintOptions& options) {
  const PrincipalSpec& p = s.principal;
  if (!s.has_principal || s.not_principal || p.any || !p.arns.empty() || !p.services.empty() || !p.providers.empty())
    return false;
  if (p.accounts.empty()) return false;
  if (options.owner_account.empty()) return true;
  return std::all_of(p.accounts.begin(), p.accounts.end(), [&](const std::string& a) { return a == options.owner_account; });
}

bool GrantsAccountRoot(const Statement& s, const LintOptions& options) {
  if (s.effect != Effect::kAllow || !s.has_principal || s.not_principal || s.not_action || s.not_resource) return false;
  const auto& accounts = s.principal.accounts;
  bool account = options.owner_account.empty()
                     ? !accounts.empty()
                     : std::find(accounts.begin(), accounts.end(), options.owner_account) != accounts.end();
  if (!account) return false;
  // The account can (through IAM policies) fix the key policy: kms:PutKeyPolicy is granted.
  return std::any_of(s.actions.begin(), s.actions.end(), [](const Pattern& p) {
    return p.Match("kms:putkeypolicy", /*ignore_case=*/false, nullptr) == MatchResult::kMatch;
  });
}

class Linter {
 public:
  Linter(const Policy& policy, const LintOptions& options) : policy_(policy), options_(options) {}

  std::vector<Finding> Run() {
    bool root_statement = false;
    for (size_t i = 0; i < policy_.statement_count(); ++i) {
      const Statement& s = policy_.statement(i);
      root_statement = root_statement || GrantsAccountRoot(s, options_);
      if (s.effect == Effect::kAllow) Check(s);
    }
    if (options_.key_policy && !root_statement) {
      findings_.push_back(Finding{"key-policy-without-account-root", Severity::kHigh, -1, "",
                                  "The key policy has no statement allowing kms:PutKeyPolicy (e.g. kms:*) to the account" +
                                      (options_.owner_account.empty() ? std::string()
                                                                      : " " + options_.owner_account) +
                                      " (arn:aws:iam::<account>:root): IAM policies cannot grant access to this key, "
                                      "and if the principals it names are deleted the key becomes unmanageable."});
    }
    return std::move(findings_);
  }

 private:
  void Add(const Statement& s, std::string rule, Severity severity, std::string message) {
    findings_.push_back(Finding{std::move(rule), severity, static_cast<int>(s.index), s.sid, std::move(message)});
  }

  void Check(const Statement& s) {
    const bool is_public = s.has_principal && !s.not_principal && s.principal.any;
    const bool restricted = HasRestrictingCondition(s);
    const bool wildcard_action = WildcardAction(s);

    if (is_public && !restricted) {
      Add(s, "public-principal", wildcard_action ? Severity::kCritical : Severity::kHigh,
          "Principal \"*\" allows anyone with any credentials (and anonymous callers) unless a condition "
          "restricts the caller, e.g. aws:PrincipalAccount, aws:PrincipalArn or aws:SourceVpce.");
    }
    if (wildcard_action && AllResources(s)) {
      Severity severity = Severity::kHigh;
      std::string message = "Allows every action of the service (\"*\" or \"service:*\") on every resource.";
      if (is_public && !restricted) {
        severity = Severity::kCritical;
        message = "Allows every action on every resource to any principal: anyone with any credentials can do "
                  "anything with this resource.";
      } else if (options_.key_policy && IsAccountRootOnly(s, options_)) {
        severity = Severity::kLow;
        message = "Account-root statement: delegates all KMS actions on this key to the account's IAM policies "
                  "(the default key policy); scope IAM policies tightly.";
      }
      Add(s, "wildcard-action-all-resources", severity, std::move(message));
    }
    if (s.not_principal) {
      Add(s, "not-principal-with-allow", Severity::kHigh,
          "NotPrincipal with Allow grants every principal except those listed, anonymous callers included.");
    }
    if (s.not_resource) {
      Add(s, "not-resource-with-allow", Severity::kHigh,
          "NotResource with Allow grants every resource except those listed, including resources created later.");
    }
    for (const Condition& c : s.conditions) {
      if (c.op().set != SetQualifier::kForAllValues) continue;
      bool null_checked = std::any_of(s.conditions.begin(), s.conditions.end(), [&](const Condition& other) {
        return other.op().op == ConditionOp::kNull && other.key() == c.key() &&
               std::all_of(other.values().begin(), other.values().end(),
                           [](const std::string& v) { return EqualsIgnoreCase(v, "false"); });
      });
      if (null_checked) continue;
      Add(s, "for-all-values-with-allow", Severity::kMedium,
          "ForAllValues on " + c.key() +
              " with Allow is true when the key is missing or empty; add \"Null\": {\"" + c.key() +
              "\": \"false\"} or use ForAnyValue.");
    }
    if (TouchesKeysOrSecrets(s) && SpansRegions(s, options_.key_policy) && !Pins(s, "aws:requestedregion") &&
        !Pins(s, "aws:sourcevpce") && !Pins(s, "aws:sourcevpc")) {
      Add(s, "unpinned-cross-region-grant", Severity::kMedium,
          "Grants KMS / Secrets Manager access in every region with no aws:RequestedRegion or aws:SourceVpce "
          "condition: a stolen credential works in every region. Pin the region or the VPC endpoint.");
    }
  }

  const Policy& policy_;
  const LintOptions& options_;
  std::vector<Finding> findings_;
};

PolicyKind GuessKind(std::string_view document) {
  rapidjson::Document d;
  d.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseNumbersAsStringsFlag>(document.data(), document.size());
  if (d.HasParseError() || !d.IsObject()) return PolicyKind::kIdentity;
  auto it = d.FindMember("Statement");
  if (it == d.MemberEnd()) return PolicyKind::kIdentity;
  bool principal = false, resource = false;
  auto look = [&](const rapidjson::Value& s) {
    if (!s.IsObject()) return;
    principal = principal || s.HasMember("Principal") || s.HasMember("NotPrincipal");
    resource = resource || s.HasMember("Resource") || s.HasMember("NotResource");
  };
  if (it->value.IsArray()) {
    for (const auto& s : it->value.GetArray()) look(s);
  } else {
    look(it->value);
  }
  if (!principal) return PolicyKind::kIdentity;
  return resource ? PolicyKind::kResource : PolicyKind::kTrust;
}

}  // namespace

std::string_view SeverityName(Severity severity) {
  switch (severity) {
    case Severity::kLow: return "LOW";
    case Severity::kMedium: return "MEDIUM";
    case Severity::kHigh: return "HIGH";
    case Severity::kCritical: return "CRITICAL";
  }
  return "LOW";
}

std::vector<Finding> Lint(const Policy& policy, const LintOptions& options) { return Linter(policy, options).Run(); }

Result<std::vector<Finding>> LintDocument(std::string_view document, const LintOptions& options) {
  ParseOptions parse;
  parse.kind = options.kind ? *options.kind : options.key_policy ? PolicyKind::kResource : GuessKind(document);
  MERIDIAN_ASSIGN_OR_RETURN(PolicyPtr policy, Policy::Parse(document, parse));
  return Lint(*policy, options);
}

std::string FormatFinding(const Finding& f) {
  std::string out = std::string(SeverityName(f.severity)) + " " + f.rule + " ";
  if (f.statement_index < 0) {
    out += "Policy";
  } else {
    out += "Statement " + std::to_string(f.statement_index + 1);
    if (!f.sid.empty()) out += " (Sid \"" + f.sid + "\")";
  }
  return out + ": " + f.message;
}

}  // namespace meridian::iam::policy
