// The policies the seed documents describe (shared/seeds/000: multi-region security lesson),
// written out as JSON and checked with the evaluator and the linter. Each test quotes the seed
// and cites the IAM User Guide rules involved.
#include <gtest/gtest.h>

#include "iam/policy/lint.h"
#include "iam/policy/test_util.h"

namespace meridian::iam::policy {
namespace {

using testing::MustParse;

const std::string kAccountId = "111122223333";
const std::string kAuroraKey = "arn:aws:kms:us-east-1:111122223333:key/aurora-0001";
const std::string kRdsRole = "arn:aws:iam::111122223333:role/rds-service-role";
const std::string kDrRole = "arn:aws:iam::111122223333:role/disaster-recovery";
const std::string kBackupRole = "arn:aws:iam::111122223333:role/backup";

// Seed 000, "Example key policy for an Aurora encryption key in US-EAST-1": allow the RDS service
// (only for RDS resources in us-east-1), allow only the RDS service role, the disaster-recovery
// role and the backup role, deny all other principals explicitly; and "This prevents an attacker
// from using a stolen key to decrypt data in EU-WEST-1" (aws:RequestedRegion pin). The
// account-root statement keeps the key administrable (kms:PutKeyPolicy) without granting use.
const char* kAuroraKeyPolicy = R"({
  "Version": "2012-10-17",
  "Id": "aurora-key-us-east-1",
  "Statement": [
    {"Sid": "KeyAdministrationThroughIAM", "Effect": "Allow",
     "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
     "Action": ["kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*",
                "kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource",
                "kms:UntagResource", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion"],
     "Resource": "*"},
    {"Sid": "AllowRdsServiceInUsEast1", "Effect": "Allow",
     "Principal": {"Service": "rds.amazonaws.com"},
     "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
     "Resource": "*",
     "Condition": {"StringEquals": {"aws:RequestedRegion": "us-east-1"},
                   "ArnLike": {"aws:SourceArn": "arn:aws:rds:us-east-1:111122223333:*"}}},
    {"Sid": "AllowNamedRoles", "Effect": "Allow",
     "Principal": {"AWS": ["arn:aws:iam::111122223333:role/rds-service-role",
                           "arn:aws:iam::111122223333:role/disaster-recovery",
                           "arn:aws:iam::111122223333:role/backup"]},
     "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
     "Resource": "*",
     "Condition": {"StringEquals": {"aws:RequestedRegion": "us-east-1"}}},
    {"Sid": "DenyOutsideUsEast1", "Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*",
     "Condition": {"StringNotEquals": {"aws:RequestedRegion": "us-east-1"}}},
    {"Sid": "DenyAllOtherPrincipals", "Effect": "Deny", "Principal": "*",
     "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*"], "Resource": "*",
     "Condition": {"ArnNotEquals": {"aws:PrincipalArn": ["arn:aws:iam::111122223333:role/rds-service-role",
                                                         "arn:aws:iam::111122223333:role/disaster-recovery",
                                                         "arn:aws:iam::111122223333:role/backup"]},
                   "StringNotEqualsIfExists": {"aws:PrincipalServiceName": "rds.amazonaws.com"}}}
  ]
})";

Principal Session(std::string_view role_name, std::string_view session) {
  return Principal::AssumedRole("aws", kAccountId, "/", role_name, session, "AROAEXAMPLE");
}

Decision DecideKey(const RequestContext& ctx, const std::vector<PolicyPtr>& identity, const PolicyPtr& key_policy) {
  PolicySet set;
  set.identity = identity;
  set.resource = key_policy.get();
  set.resource_kind = ResourcePolicyKind::kKeyPolicy;
  set.resource_account = kAccountId;
  return Evaluate(ctx, set);
}

RequestContext KeyRequest(Principal p, std::string_view region, std::string action = "kms:Decrypt") {
  RequestContext ctx(std::move(p), std::move(action), kAuroraKey);
  ctx.Set("aws:RequestedRegion", std::string(region));
  return ctx;
}

// IAM UG > Policy evaluation logic (key policies must allow the principal; an explicit deny
// wins) and > Condition operators (StringNotEquals true for other regions).
TEST(SeedAuroraKeyPolicy, RegionPinnedRolesOnly) {
  PolicyPtr key = MustParse(kAuroraKeyPolicy, PolicyKind::kResource, "aurora-key-policy");
  ASSERT_TRUE(key);

  // The DR role in us-east-1: allowed by AllowNamedRoles (a grant to the role ARN).
  RequestContext dr_home = KeyRequest(Session("disaster-recovery", "drill"), "us-east-1");
  Decision d = DecideKey(dr_home, {}, key);
  EXPECT_TRUE(d.allowed());
  ASSERT_EQ(d.matched_count, 1u);
  EXPECT_EQ(d.matched[0].sid(), "AllowNamedRoles");

  // The same credentials used against eu-west-1: explicitly denied by the region pin.
  RequestContext dr_stolen = KeyRequest(Session("disaster-recovery", "drill"), "eu-west-1");
  d = DecideKey(dr_stolen, {}, key);
  EXPECT_EQ(d.decision, EvalDecision::kExplicitDeny);
  EXPECT_EQ(d.matched[0].sid(), "DenyOutsideUsEast1");
  EXPECT_EQ(AccessDeniedMessage(dr_stolen, d),
            "User: arn:aws:sts::111122223333:assumed-role/disaster-recovery/drill is not authorized to perform: "
            "kms:Decrypt on resource: arn:aws:kms:us-east-1:111122223333:key/aurora-0001 with an explicit deny in a "
            "resource-based policy");

  // An administrator with AdministratorAccess still cannot decrypt: "Deny all other principals".
  PolicyPtr admin_access = MustParse(R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}})");
  Principal admin = Principal::User("aws", kAccountId, "/", "admin", "AIDAADMIN");
  d = DecideKey(KeyRequest(admin, "us-east-1"), {admin_access}, key);
  EXPECT_EQ(d.decision, EvalDecision::kExplicitDeny);
  EXPECT_EQ(d.matched[0].sid(), "DenyAllOtherPrincipals");
  // ... but can still administer the key through IAM (the account statement).
  EXPECT_TRUE(DecideKey(KeyRequest(admin, "us-east-1", "kms:PutKeyPolicy"), {admin_access}, key).allowed());
  // Without an IAM policy, administration is not granted (the account statement delegates).
  EXPECT_FALSE(DecideKey(KeyRequest(admin, "us-east-1", "kms:PutKeyPolicy"), {}, key).allowed());

  // Any other role of the account is explicitly denied the cryptographic operations.
  d = DecideKey(KeyRequest(Session("web-frontend", "s"), "us-east-1"), {admin_access}, key);
  EXPECT_EQ(d.decision, EvalDecision::kExplicitDeny);
}

// Seed: "Allow the RDS service to use the key ... Only for RDS resources in the US-EAST-1
// region." IAM UG > Condition operators > ARN condition operators (aws:SourceArn).
TEST(SeedAuroraKeyPolicy, RdsServiceOnlyForUsEast1Resources) {
  PolicyPtr key = MustParse(kAuroraKeyPolicy, PolicyKind::kResource);
  ASSERT_TRUE(key);
  RequestContext rds = KeyRequest(Principal::Service("rds.amazonaws.com"), "us-east-1", "kms:GenerateDataKey");
  rds.Set("aws:SourceArn", "arn:aws:rds:us-east-1:111122223333:cluster:orders");
  EXPECT_TRUE(DecideKey(rds, {}, key).allowed());
  RequestContext foreign = KeyRequest(Principal::Service("rds.amazonaws.com"), "us-east-1", "kms:GenerateDataKey");
  foreign.Set("aws:SourceArn", "arn:aws:rds:eu-west-1:111122223333:cluster:orders");
  Decision d = DecideKey(foreign, {}, key);
  EXPECT_EQ(d.decision, EvalDecision::kImplicitDeny);
  EXPECT_EQ(d.deciding_type, PolicyType::kResource);
  RequestContext other_service = KeyRequest(Principal::Service("lambda.amazonaws.com"), "us-east-1");
  EXPECT_EQ(DecideKey(other_service, {}, key).decision, EvalDecision::kExplicitDeny);
}

// The least-privilege key policy lints without medium-or-worse findings.
TEST(SeedAuroraKeyPolicy, LintsClean) {
  auto findings = LintDocument(kAuroraKeyPolicy, {.key_policy = true, .owner_account = kAccountId});
  ASSERT_TRUE(findings.ok()) << findings.status().ToString();
  for (const Finding& f : *findings) EXPECT_LT(f.severity, Severity::kMedium) << FormatFinding(f);
}

// Seed 000, "Example IAM policy for least-privilege secret access: Allow
// secretsmanager:GetSecretValue on resource arn:aws:secretsmanager:us-east-1:account:secret:
// app/checkout/db-password. Deny all other secrets. Condition: Only from specific VPC
// endpoints". (Secret ARNs end in a 6-character suffix, hence "-??????".)
const char* kCheckoutSecretPolicy = R"({
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "ReadCheckoutDbPasswordThroughVpce", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
     "Resource": "arn:aws:secretsmanager:us-east-1:111122223333:secret:app/checkout/db-password-??????",
     "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-0a1b2c3d4e5f60001"}}},
    {"Sid": "DenyAllOtherSecrets", "Effect": "Deny", "Action": "secretsmanager:GetSecretValue",
     "NotResource": "arn:aws:secretsmanager:us-east-1:111122223333:secret:app/checkout/db-password-??????"}
  ]
})";

// IAM UG > Condition operators (aws:SourceVpce missing -> StringEquals false), > Resource
// (wildcards within the ARN's resource part), > NotResource with Deny.
TEST(SeedCheckoutSecretPolicy, ScopedToSecretAndEndpoint) {
  PolicyPtr identity = MustParse(kCheckoutSecretPolicy, PolicyKind::kIdentity, "checkout-secret-read");
  ASSERT_TRUE(identity);
  const std::string password = "arn:aws:secretsmanager:us-east-1:111122223333:secret:app/checkout/db-password-Xy12Ab";
  const std::string admin = "arn:aws:secretsmanager:us-east-1:111122223333:secret:admin-credentials-Qw34Er";
  Principal pod = Session("checkout", "pod-7f9c");
  auto request = [&](const std::string& secret, const char* vpce, const char* source_ip) {
    RequestContext ctx(pod, "secretsmanager:GetSecretValue", secret);
    ctx.Set("aws:RequestedRegion", "us-east-1");
    if (vpce) ctx.Set("aws:SourceVpce", vpce);
    if (source_ip) ctx.Set("aws:SourceIp", source_ip);  // requests through an endpoint carry none
    return ctx;
  };
  EXPECT_TRUE(testing::DecideIdentity(request(password, "vpce-0a1b2c3d4e5f60001", nullptr), {identity}).allowed());
  // From the internet (exfiltration attempt with stolen credentials): no endpoint, so no Allow.
  Decision d = testing::DecideIdentity(request(password, nullptr, "198.51.100.23"), {identity});
  EXPECT_EQ(d.decision, EvalDecision::kImplicitDeny);
  EXPECT_EQ(d.deciding_type, PolicyType::kIdentity);
  // Through another endpoint.
  EXPECT_FALSE(testing::DecideIdentity(request(password, "vpce-0ffffffffffffffff", nullptr), {identity}).allowed());
  // Any other secret: explicitly denied, even through the endpoint.
  d = testing::DecideIdentity(request(admin, "vpce-0a1b2c3d4e5f60001", nullptr), {identity});
  EXPECT_EQ(d.decision, EvalDecision::kExplicitDeny);
  EXPECT_EQ(d.matched[0].sid(), "DenyAllOtherSecrets");

  auto findings = LintDocument(kCheckoutSecretPolicy);
  ASSERT_TRUE(findings.ok());
  EXPECT_TRUE(findings->empty()) << FormatFinding(findings->front());
}

// Seed 000, "Example bad key policy seen in production: Allow principal * to perform kms:* on
// resource *. Translation: Anyone with any AWS credentials can do anything with this key."
const char* kAnyoneKeyPolicy = R"({"Version":"2012-10-17","Statement":[
  {"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"}]})";

// IAM UG > Principal > All principals ("grants access to all users, including anonymous") and
// > Cross-account policy evaluation logic (the other account's own policy suffices).
TEST(SeedAnyoneKeyPolicy, AnyoneWithAnyCredentials) {
  PolicyPtr key = MustParse(kAnyoneKeyPolicy, PolicyKind::kResource);
  ASSERT_TRUE(key);
  // A developer of the account with no IAM permission at all.
  Principal dev = Principal::User("aws", kAccountId, "/", "dev", "AIDADEV");
  EXPECT_TRUE(DecideKey(KeyRequest(dev, "us-east-1", "kms:ScheduleKeyDeletion"), {}, key).allowed());
  // An attacker's own account: their identity policy is all it takes.
  Principal attacker = Principal::User("aws", "999999999999", "/", "mallory", "AIDAMALLORY");
  PolicyPtr attacker_admin = MustParse(R"({"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}})");
  EXPECT_TRUE(DecideKey(KeyRequest(attacker, "us-east-1"), {attacker_admin}, key).allowed());
  // Even unauthenticated callers.
  EXPECT_TRUE(DecideKey(KeyRequest(Principal::Anonymous(), "us-east-1"), {}, key).allowed());

  // Flagged by the linter (brief scenario S3).
  auto findings = LintDocument(kAnyoneKeyPolicy, {.key_policy = true, .owner_account = kAccountId});
  ASSERT_TRUE(findings.ok());
  std::vector<std::string> rules;
  for (const Finding& f : *findings) rules.push_back(f.rule + ":" + std::string(SeverityName(f.severity)));
  EXPECT_EQ(rules, (std::vector<std::string>{"public-principal:CRITICAL", "wildcard-action-all-resources:CRITICAL",
                                             "key-policy-without-account-root:HIGH"}));
}

// Seed 000, "Real breach scenario: ... all application pods had an IAM role with
// secretsmanager:* on *" and "Fix: Least-privilege IAM with secret-specific permissions";
// IAM UG > Condition operators (aws:RequestedRegion) for the region scope. The blast radius of a
// stolen pod credential, region by region.
TEST(SeedOverBroadPodRole, BlastRadiusAcrossRegions) {
  const char* broad = R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"secretsmanager:*","Resource":"*"}})";
  const char* fixed = R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"secretsmanager:GetSecretValue",
      "Resource":"arn:aws:secretsmanager:*:111122223333:secret:app/checkout/db-password-??????",
      "Condition":{"StringEquals":{"aws:RequestedRegion":"us-east-1"}}}})";
  Principal pod = Session("app-pods", "pod-1");
  const std::vector<std::string> regions = {"us-east-1", "us-west-2", "eu-west-1"};
  const std::vector<std::string> secrets = {"app/checkout/db-password-Xy12Ab", "admin-credentials-Qw34Er"};
  auto reachable = [&](const char* policy_json) {
    PolicyPtr policy = MustParse(policy_json);
    int count = 0;
    for (const std::string& region : regions) {
      for (const std::string& secret : secrets) {
        RequestContext ctx(pod, "secretsmanager:GetSecretValue",
                           "arn:aws:secretsmanager:" + region + ":111122223333:secret:" + secret);
        ctx.Set("aws:RequestedRegion", region);
        count += testing::DecideIdentity(ctx, {policy}).allowed() ? 1 : 0;
      }
    }
    return count;
  };
  EXPECT_EQ(reachable(broad), 6);  // every secret in every region
  EXPECT_EQ(reachable(fixed), 1);  // one secret, one region

  auto broad_findings = LintDocument(broad);
  ASSERT_TRUE(broad_findings.ok());
  std::vector<std::string> rules;
  for (const Finding& f : *broad_findings) rules.push_back(f.rule);
  EXPECT_EQ(rules, (std::vector<std::string>{"wildcard-action-all-resources", "unpinned-cross-region-grant"}));
  auto fixed_findings = LintDocument(fixed);
  ASSERT_TRUE(fixed_findings.ok());
  EXPECT_TRUE(fixed_findings->empty());
}

// Seed 000, "Correct approach: ... Grant s3:GetObject on arn:aws:s3:::my-app-data-us-west-2/
// with the condition aws:RequestedRegion equals us-west-2."
TEST(SeedCrossRegionS3, RegionConditionLimitsBlastRadius) {
  PolicyPtr p = MustParse(R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject",
      "Resource":"arn:aws:s3:::my-app-data-us-west-2/*",
      "Condition":{"StringEquals":{"aws:RequestedRegion":"us-west-2"}}}})");
  ASSERT_TRUE(p);
  Principal app = Session("app", "east-1");
  RequestContext west(app, "s3:GetObject", "arn:aws:s3:::my-app-data-us-west-2/orders/1.json");
  west.Set("aws:RequestedRegion", "us-west-2");
  EXPECT_TRUE(testing::DecideIdentity(west, {p}).allowed());
  RequestContext east(app, "s3:GetObject", "arn:aws:s3:::my-app-data-us-west-2/orders/1.json");
  east.Set("aws:RequestedRegion", "us-east-1");
  EXPECT_FALSE(testing::DecideIdentity(east, {p}).allowed());
  RequestContext other_bucket(app, "s3:GetObject", "arn:aws:s3:::payroll/x");
  other_bucket.Set("aws:RequestedRegion", "us-west-2");
  EXPECT_FALSE(testing::DecideIdentity(other_bucket, {p}).allowed());
}

}  // namespace
}  // namespace meridian::iam::policy
