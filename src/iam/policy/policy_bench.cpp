// Decisions per second for a 10-statement KMS key policy with conditions (brief target: at least
// 1,000,000 per core). Run through bench/policy/run.sh.
//
//   BM_KeyPolicyDecision          Evaluate() on a prepared request context (the evaluator alone).
//   BM_KeyPolicyDecisionWithContext  builds the RequestContext per decision too, as the request
//                                 pipeline does.
//   BM_DeniedDecision             a request the region pin denies (explicit deny path + message).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <iostream>

#include "iam/policy/evaluator.h"

namespace meridian::iam::policy {
namespace {

constexpr const char* kKeyPolicy = R"({
  "Version": "2012-10-17",
  "Id": "bench-key-policy",
  "Statement": [
    {"Sid": "KeyAdministration", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
     "Action": ["kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*",
                "kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:ScheduleKeyDeletion",
                "kms:CancelKeyDeletion"], "Resource": "*"},
    {"Sid": "AllowUseByApplicationRoles", "Effect": "Allow",
     "Principal": {"AWS": ["arn:aws:iam::111122223333:role/app", "arn:aws:iam::111122223333:role/worker"]},
     "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
     "Resource": "*",
     "Condition": {"StringEquals": {"aws:RequestedRegion": "us-east-1"}, "Bool": {"aws:SecureTransport": "true"}}},
    {"Sid": "AllowGrantsForAwsResources", "Effect": "Allow",
     "Principal": {"AWS": "arn:aws:iam::111122223333:role/app"},
     "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"], "Resource": "*",
     "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}},
    {"Sid": "AllowRdsInRegion", "Effect": "Allow", "Principal": {"Service": "rds.amazonaws.com"},
     "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*",
     "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:rds:us-east-1:111122223333:*"}}},
    {"Sid": "AllowBackupWithContext", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/backup"},
     "Action": ["kms:Decrypt", "kms:Encrypt"], "Resource": "*",
     "Condition": {"StringEquals": {"kms:EncryptionContext:purpose": "backup"}}},
    {"Sid": "AllowAuditFromOffice", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/audit"},
     "Action": ["kms:DescribeKey", "kms:GetKeyPolicy"], "Resource": "*",
     "Condition": {"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:db8::/32"]}}},
    {"Sid": "AllowDrDrillWindow", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/dr"},
     "Action": "kms:Decrypt", "Resource": "*",
     "Condition": {"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}},
    {"Sid": "DenyOutsideHomeRegion", "Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*",
     "Condition": {"StringNotEquals": {"aws:RequestedRegion": "us-east-1"}}},
    {"Sid": "DenyOutsideEndpoint", "Effect": "Deny", "Principal": "*",
     "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*"], "Resource": "*",
     "Condition": {"StringNotEqualsIfExists": {"aws:SourceVpce": ["vpce-0a1b2c3d4e5f60001", "vpce-0a1b2c3d4e5f60002"]},
                   "Null": {"aws:SourceVpce": "false"}}},
    {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*",
     "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
  ]
})";

constexpr const char* kRolePolicy = R"({"Version":"2012-10-17","Statement":[
  {"Effect":"Allow","Action":["kms:Decrypt","kms:Encrypt","kms:GenerateDataKey*"],
   "Resource":"arn:aws:kms:us-east-1:111122223333:key/*"}]})";

const std::string kKey = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

struct Fixture {
  PolicyPtr key_policy;
  std::vector<PolicyPtr> identity;
  PolicySet set;

  Fixture() {
    auto key = Policy::Parse(kKeyPolicy, {.kind = PolicyKind::kResource, .id = "key-policy"});
    auto role = Policy::Parse(kRolePolicy, {.kind = PolicyKind::kIdentity, .id = "role-policy"});
    if (!key.ok() || !role.ok()) {
      std::cerr << key.status().ToString() << " " << role.status().ToString() << "\n";
      std::abort();
    }
    key_policy = *key;
    identity = {*role};
    set.identity = identity;
    set.resource = key_policy.get();
    set.resource_kind = ResourcePolicyKind::kKeyPolicy;
    set.resource_account = "111122223333";
  }
};

const Fixture& GetFixture() {
  static const Fixture fixture;
  return fixture;
}

// The request pipeline keeps one immutable Principal per credential and shares it.
std::shared_ptr<const Principal> App() {
  return std::make_shared<const Principal>(
      Principal::AssumedRole("aws", "111122223333", "/", "app", "pod-1", "AROAAPPEXAMPLE"));
}

RequestContext MakeContext(std::shared_ptr<const Principal> principal, const char* region) {
  RequestContext ctx(principal, "kms:Decrypt", kKey);
  ctx.Set("aws:RequestedRegion", region);
  ctx.Set("aws:SourceVpce", "vpce-0a1b2c3d4e5f60001");
  ctx.Set("aws:SecureTransport", "true");
  ctx.Set("aws:CurrentTime", "2025-06-01T12:00:00Z");
  ctx.Set("aws:EpochTime", "1748779200");
  ctx.Set("kms:CallerAccount", "111122223333");
  ctx.Set("kms:EncryptionContext:purpose", "orders");
  return ctx;
}

void BM_KeyPolicyDecision(benchmark::State& state) {
  const Fixture& f = GetFixture();
  RequestContext ctx = MakeContext(App(), "us-east-1");
  if (!Evaluate(ctx, f.set).allowed()) state.SkipWithError("expected an allowed decision");
  for (auto _ : state) {
    Decision d = Evaluate(ctx, f.set);
    benchmark::DoNotOptimize(d.decision);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_KeyPolicyDecision);

void BM_KeyPolicyDecisionWithContext(benchmark::State& state) {
  const Fixture& f = GetFixture();
  std::shared_ptr<const Principal> app = App();
  for (auto _ : state) {
    RequestContext ctx = MakeContext(app, "us-east-1");
    Decision d = Evaluate(ctx, f.set);
    benchmark::DoNotOptimize(d.decision);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_KeyPolicyDecisionWithContext);

void BM_DeniedDecision(benchmark::State& state) {
  const Fixture& f = GetFixture();
  RequestContext ctx = MakeContext(App(), "eu-west-1");
  if (Evaluate(ctx, f.set).decision != EvalDecision::kExplicitDeny) state.SkipWithError("expected an explicit deny");
  for (auto _ : state) {
    Decision d = Evaluate(ctx, f.set);
    benchmark::DoNotOptimize(d.decision);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DeniedDecision);

}  // namespace
}  // namespace meridian::iam::policy

BENCHMARK_MAIN();
