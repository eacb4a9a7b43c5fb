// Helpers shared by the policy engine's tests.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "iam/policy/evaluator.h"
#include "iam/policy/policy.h"
#include "iam/policy/request_context.h"

namespace meridian::iam::policy::testing {

inline constexpr std::string_view kAccount = "111122223333";
inline constexpr std::string_view kOtherAccount = "444455556666";
inline constexpr std::string_view kKeyArn =
    "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

inline PolicyPtr MustParse(std::string_view json, PolicyKind kind = PolicyKind::kIdentity, std::string id = "") {
  ParseOptions options;
  options.kind = kind;
  options.id = std::move(id);
  auto policy = Policy::Parse(json, options);
  EXPECT_TRUE(policy.ok()) << policy.status().ToString() << "\n" << json;
  if (!policy.ok()) return nullptr;
  return *policy;
}

inline Status ParseError(std::string_view json, PolicyKind kind = PolicyKind::kIdentity) {
  ParseOptions options;
  options.kind = kind;
  auto policy = Policy::Parse(json, options);
  if (policy.ok()) return Status::Ok();
  return policy.status();
}

// IAM user "alice" in kAccount.
inline Principal Alice() { return Principal::User("aws", kAccount, "/", "alice", "AIDAALICEEXAMPLE0001"); }
// Role session "app/session1" in `account`.
inline Principal AppSession(std::string_view account = kAccount) {
  return Principal::AssumedRole("aws", account, "/", "app", "session1", "AROAAPPEXAMPLE000001");
}

// A one-statement identity policy allowing everything under `condition_json` (a JSON object).
inline std::string AllowAllWhen(std::string_view condition_json, std::string_view version = "2012-10-17") {
  return R"({"Version":")" + std::string(version) +
         R"(","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":)" + std::string(condition_json) +
         "}}";
}

// Identity-policy decision for `context`.
inline Decision DecideIdentity(const RequestContext& context, const std::vector<PolicyPtr>& identity) {
  PolicySet set;
  set.identity = identity;
  return Evaluate(context, set);
}

// True when `condition_json` holds for a request by alice carrying `keys`.
inline bool Holds(std::string_view condition_json,
                  const std::vector<std::pair<std::string, std::vector<std::string>>>& keys,
                  std::string_view version = "2012-10-17") {
  PolicyPtr p = MustParse(AllowAllWhen(condition_json, version));
  if (!p) return false;
  RequestContext context(Alice(), "kms:Decrypt", std::string(kKeyArn));
  for (const auto& [key, values] : keys) context.SetValues(key, values);
  return DecideIdentity(context, {p}).allowed();
}

}  // namespace meridian::iam::policy::testing
