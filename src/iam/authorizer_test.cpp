// The identity-aware PolicyAuthorizer: decision tables over real identities (users, groups,
// boundaries, role sessions, GetSessionToken sessions), each citing the AWS documentation rule
// it checks (IAM User Guide unless noted).
#include "iam/authorizer.h"

#include "iam/iam_test_fixture.h"
#include "iam/policy/policy.h"
#include "iam/totp.h"
#include "sigv4/signer.h"
#include "sigv4/verifier.h"

namespace meridian::iam {
namespace {

using testing::kAccount;
using testing::kOtherAccount;

std::string Allow(const std::string& action, const std::string& resource = "*", const std::string& condition = "") {
  return R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":")" + action + R"(","Resource":")" +
         resource + "\"" + (condition.empty() ? "" : ",\"Condition\":" + condition) + "}]}";
}
std::string Deny(const std::string& action, const std::string& resource = "*") {
  return R"({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":")" + action + R"(","Resource":")" +
         resource + R"("}]})";
}
std::string Trust(const std::string& principal, const std::string& condition = "") {
  return R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":")" + principal +
         R"("},"Action":["sts:AssumeRole","sts:TagSession"])" + (condition.empty() ? "" : ",\"Condition\":" + condition) +
         "}]}";
}

constexpr const char* kKey = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

class AuthorizerTest : public testing::IamFixture {};

// "Policy evaluation logic": "By default, all requests are implicitly denied with the exception of
// the AWS account root user, which has full access."
TEST_F(AuthorizerTest, RootHasFullAccessAndUsersStartWithNothing) {
  EXPECT_TRUE(Allowed(root_, "kms:Encrypt"));
  EXPECT_TRUE(Allowed(root_, "iam:CreateUser", "arn:aws:iam::111122223333:user/x"));
  Caller bob = MakeUser("bob");
  AuthorizationResult result;
  Status st = Authorize(bob, "kms:Encrypt", kKey, &result);
  EXPECT_EQ(st.type(), "AccessDeniedException");
  EXPECT_EQ(result.decision, "ImplicitDeny");
  EXPECT_EQ(st.message(), "User: arn:aws:iam::111122223333:user/bob is not authorized to perform: kms:Encrypt on "
                          "resource: " + std::string(kKey) + " because no identity-based policy allows the kms:Encrypt action");
}

// "Identity-based policies": the user's inline and attached managed policies and those of its
// groups all apply; an explicit deny in any of them overrides an allow.
TEST_F(AuthorizerTest, UserInlineAttachedAndGroupPoliciesAllApplyAndWritesTakeEffectAtOnce) {
  Caller bob = MakeUser("bob");
  ASSERT_TRUE(directory_->PutInlinePolicy(EntityKind::kUser, kAccount, "bob", "enc", Allow("kms:Encrypt")).ok());
  EXPECT_TRUE(Allowed(bob, "kms:Encrypt"));
  EXPECT_FALSE(Allowed(bob, "kms:Decrypt"));

  auto managed = directory_->CreatePolicy(kAccount, "dec", "/", Allow("kms:Decrypt"), "", {});
  ASSERT_TRUE(directory_->AttachPolicy(EntityKind::kUser, kAccount, "bob", managed->arn).ok());
  EXPECT_TRUE(Allowed(bob, "kms:Decrypt"));
  // A new default version replaces what the policy grants.
  ASSERT_TRUE(directory_->CreatePolicyVersion(managed->arn, Allow("kms:GenerateDataKey"), true).ok());
  EXPECT_FALSE(Allowed(bob, "kms:Decrypt"));
  EXPECT_TRUE(Allowed(bob, "kms:GenerateDataKey"));
  ASSERT_TRUE(directory_->DetachPolicy(EntityKind::kUser, kAccount, "bob", managed->arn).ok());
  EXPECT_FALSE(Allowed(bob, "kms:GenerateDataKey"));

  ASSERT_TRUE(directory_->CreateGroup(kAccount, "ops", "/").ok());
  ASSERT_TRUE(directory_->PutInlinePolicy(EntityKind::kGroup, kAccount, "ops", "sign", Allow("kms:Sign")).ok());
  EXPECT_FALSE(Allowed(bob, "kms:Sign"));
  ASSERT_TRUE(directory_->AddUserToGroup(kAccount, "ops", "bob").ok());
  EXPECT_TRUE(Allowed(bob, "kms:Sign"));
  // "Explicit deny": a Deny in a group policy beats the user's own Allow.
  ASSERT_TRUE(directory_->PutInlinePolicy(EntityKind::kGroup, kAccount, "ops", "no-enc", Deny("kms:Encrypt")).ok());
  AuthorizationResult result;
  Status st = Authorize(bob, "kms:Encrypt", kKey, &result);
  EXPECT_EQ(result.decision, "Deny");
  EXPECT_EQ(result.policy, "no-enc");
  EXPECT_NE(st.message().find("with an explicit deny in an identity-based policy"), std::string::npos);
  ASSERT_TRUE(directory_->RemoveUserFromGroup(kAccount, "ops", "bob").ok());
  EXPECT_TRUE(Allowed(bob, "kms:Encrypt"));
  EXPECT_FALSE(Allowed(bob, "kms:Sign"));
}

// "Permissions boundaries for IAM entities": "the effective permissions are the intersection of
// the identity-based policy and the permissions boundary".
TEST_F(AuthorizerTest, PermissionsBoundaryIntersectsIdentityPolicies) {
  Caller bob = MakeUser("bob");
  ASSERT_TRUE(directory_->PutInlinePolicy(EntityKind::kUser, kAccount, "bob", "all", Allow("kms:*")).ok());
  auto boundary = directory_->CreatePolicy(kAccount, "only-encrypt", "/", Allow("kms:Encrypt"), "", {});
  ASSERT_TRUE(directory_->PutPermissionsBoundary(EntityKind::kUser, kAccount, "bob", boundary->arn).ok());
  EXPECT_TRUE(Allowed(bob, "kms:Encrypt"));
  AuthorizationResult result;
  Status st = Authorize(bob, "kms:Decrypt", kKey, &result);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("because no permissions boundary allows"), std::string::npos) << st.message();
  // The boundary alone grants nothing.
  ASSERT_TRUE(directory_->DeleteInlinePolicy(EntityKind::kUser, kAccount, "bob", "all").ok());
  EXPECT_FALSE(Allowed(bob, "kms:Encrypt"));
  ASSERT_TRUE(directory_->PutInlinePolicy(EntityKind::kUser, kAccount, "bob", "all", Allow("kms:*")).ok());
  ASSERT_TRUE(directory_->DeletePermissionsBoundary(EntityKind::kUser, kAccount, "bob").ok());
  EXPECT_TRUE(Allowed(bob, "kms:Decrypt"));
}

// "Policy variables" and aws:PrincipalTag: the user's tags are its principal tags.
TEST_F(AuthorizerTest, PrincipalTagsAndVariablesComeFromTheUser) {
  ASSERT_TRUE(directory_->CreateUser(kAccount, "bob", "/", {{"team", "blue"}}, "").ok());
  auto key = directory_->CreateAccessKey(kAccount, "bob");
  Caller bob{kAccount, "arn:aws:iam::111122223333:user/bob", key->metadata.access_key_id};
  ASSERT_TRUE(directory_
                  ->PutInlinePolicy(EntityKind::kUser, kAccount, "bob", "tagged",
                                    Allow("secretsmanager:GetSecretValue",
                                          "arn:aws:secretsmanager:*:*:secret:${aws:PrincipalTag/team}/*"))
                  .ok());
  EXPECT_TRUE(Allowed(bob, "secretsmanager:GetSecretValue", "arn:aws:secretsmanager:us-east-1:111122223333:secret:blue/db-AbCdEf"));
  EXPECT_FALSE(Allowed(bob, "secretsmanager:GetSecretValue", "arn:aws:secretsmanager:us-east-1:111122223333:secret:red/db-AbCdEf"));
  ASSERT_TRUE(directory_->TagEntity(EntityKind::kUser, kAccount, "bob", {{"team", "red"}}).ok());
  EXPECT_TRUE(Allowed(bob, "secretsmanager:GetSecretValue", "arn:aws:secretsmanager:us-east-1:111122223333:secret:red/db-AbCdEf"));
}

// The hot path: once built, an identity is served from memory (the same compiled object) until a
// write that could change it.
TEST_F(AuthorizerTest, IdentitiesAreCachedUntilAWriteChangesThem) {
  Caller bob = MakeUser("bob");
  ASSERT_TRUE(directory_->PutInlinePolicy(EntityKind::kUser, kAccount, "bob", "enc", Allow("kms:Encrypt")).ok());
  IdentityPtr first = directory_->IdentityFor(bob.access_key_id);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->kind, Identity::Kind::kUser);
  ASSERT_EQ(first->policies.size(), 1u);
  EXPECT_TRUE(Allowed(bob, "kms:Encrypt"));
  EXPECT_EQ(directory_->IdentityFor(bob.access_key_id).get(), first.get());
  ASSERT_TRUE(directory_->TagEntity(EntityKind::kUser, kAccount, "bob", {{"a", "b"}}).ok());
  IdentityPtr second = directory_->IdentityFor(bob.access_key_id);
  EXPECT_NE(second.get(), first.get());
  EXPECT_EQ(second->principal->tags.size(), 1u);
  EXPECT_EQ(directory_->IdentityFor(root_.access_key_id)->kind, Identity::Kind::kRoot);
  EXPECT_FALSE(directory_->IdentityFor("AKIAUNKNOWNUNKNOWN00"));
}

// KMS Developer Guide, "Grants in AWS KMS": a grant allows what the policies do not; "Policy
// evaluation logic": an explicit deny still wins.
TEST_F(AuthorizerTest, GrantTurnsImplicitDenyIntoAllowButNotExplicitDeny) {
  Caller bob = MakeUser("bob");
  AuthorizationRequest r;
  r.principal_arn = bob.principal_arn;
  r.principal_account = kAccount;
  r.access_key_id = bob.access_key_id;
  r.action = "kms:Decrypt";
  r.resource_arn = kKey;
  r.resource_account = kAccount;
  r.resource_policy_kind = policy::ResourcePolicyKind::kKeyPolicy;
  r.resource_policy = *policy::Policy::Parse(
      R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]})",
      {policy::PolicyKind::kResource, "key-policy"});
  r.allowing_grant_id = "g-1";
  AuthorizationResult result;
  ASSERT_TRUE(authorizer_->Authorize(r, &result).ok());
  EXPECT_EQ(result.decision, "Allow");
  EXPECT_EQ(result.policy, "grant:g-1");
  ASSERT_TRUE(directory_->PutInlinePolicy(EntityKind::kUser, kAccount, "bob", "deny", Deny("kms:Decrypt")).ok());
  EXPECT_FALSE(authorizer_->Authorize(r, &result).ok());
  EXPECT_EQ(result.decision, "Deny");
}

// "Cross-account policy evaluation logic": the identity-based policy in the caller's account AND
// the resource-based policy in the owner's account must both allow.
TEST_F(AuthorizerTest, CrossAccountNeedsBothSides) {
  Caller bob = MakeUser("bob");
  const std::string other_key = "arn:aws:kms:us-east-1:444455556666:key/k";
  auto key_policy = *policy::Policy::Parse(
      R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/bob"},"Action":"kms:Decrypt","Resource":"*"}]})",
      {policy::PolicyKind::kResource, "key-policy"});
  auto decide = [&] {
    return Authorize(bob, "kms:Decrypt", other_key, nullptr, key_policy, kOtherAccount, policy::ResourcePolicyKind::kKeyPolicy);
  };
  EXPECT_FALSE(decide().ok());  // the key policy alone is not enough across accounts
  ASSERT_TRUE(directory_->PutInlinePolicy(EntityKind::kUser, kAccount, "bob", "x", Allow("kms:Decrypt")).ok());
  EXPECT_TRUE(decide().ok());
  // And the identity side alone is not enough for a resource without a grant.
  EXPECT_FALSE(Authorize(bob, "kms:Decrypt", other_key, nullptr, nullptr, kOtherAccount).ok());
}

class StsTest : public testing::IamFixture {
 protected:
  void SetUp() override {
    IamFixture::SetUp();
    bob_ = MakeUser("bob");
  }
  std::string AssumeRequest(const std::string& role, const std::string& extra = "") {
    return R"({"RoleArn":"arn:aws:iam::111122223333:role/)" + role + R"(","RoleSessionName":"s1")" + extra + "}";
  }
  Caller bob_;
};

// "How to use trust policies with IAM roles" / "Policy evaluation logic" (role trust policies are
// an exception: they must allow the principal): a direct grant to the user admits it with no
// identity policy; a grant to the account needs the user's identity policy to allow sts:AssumeRole.
TEST_F(StsTest, TrustPolicyDecidesWhoMayAssume) {
  ASSERT_TRUE(directory_->CreateRole(kAccount, "direct", "/", Trust("arn:aws:iam::111122223333:user/bob"), "", 3600, {}, "").ok());
  ASSERT_TRUE(directory_->CreateRole(kAccount, "delegated", "/", Trust("arn:aws:iam::111122223333:root"), "", 3600, {}, "").ok());
  ASSERT_TRUE(directory_->CreateRole(kAccount, "others", "/", Trust("arn:aws:iam::444455556666:root"), "", 3600, {}, "").ok());
  rapidjson::Document out;
  ASSERT_TRUE(AssumeRoleAsPipeline(bob_, AssumeRequest("direct"), &out).ok());
  EXPECT_EQ(std::string(out["AssumedRoleUser"]["Arn"].GetString()), "arn:aws:sts::111122223333:assumed-role/direct/s1");
  EXPECT_EQ(std::string(out["Credentials"]["AccessKeyId"].GetString()).substr(0, 4), "ASIA");
  EXPECT_GE(std::string(out["Credentials"]["SessionToken"].GetString()).size(), 100u);

  Status denied = AssumeRoleAsPipeline(bob_, AssumeRequest("delegated"), &out);
  EXPECT_EQ(denied.type(), "AccessDeniedException");
  ASSERT_TRUE(directory_->PutInlinePolicy(EntityKind::kUser, kAccount, "bob", "assume", Allow("sts:AssumeRole")).ok());
  EXPECT_TRUE(AssumeRoleAsPipeline(bob_, AssumeRequest("delegated"), &out).ok());
  Status other = AssumeRoleAsPipeline(bob_, AssumeRequest("others"), &out);
  EXPECT_FALSE(other.ok());
  EXPECT_NE(other.message().find("role trust policy"), std::string::npos) << other.message();
  EXPECT_FALSE(AssumeRoleAsPipeline(bob_, AssumeRequest("missing"), &out).ok());
}

// "Configuring MFA-protected API access": a trust policy with aws:MultiFactorAuthPresent admits
// only callers that present a valid TOTP code; the session then carries MFA for its own requests.
TEST_F(StsTest, MfaConditionInTrustPolicyAndSessionContext) {
  ASSERT_TRUE(directory_
                  ->CreateRole(kAccount, "admin", "/",
                               Trust("arn:aws:iam::111122223333:user/bob", R"({"Bool":{"aws:MultiFactorAuthPresent":"true"}})"),
                               "", 3600, {}, "")
                  .ok());
  ASSERT_TRUE(directory_
                  ->PutInlinePolicy(EntityKind::kRole, kAccount, "admin", "mfa-only",
                                    Allow("kms:*", "*", R"({"NumericLessThan":{"aws:MultiFactorAuthAge":"600"}})"))
                  .ok());
  auto device = directory_->CreateVirtualMfaDevice(kAccount, "bob", "/", {});
  auto seed = *Base32Decode(device->base32_seed);
  const int64_t now = clock_.NowSeconds();
  ASSERT_TRUE(directory_->EnableMfaDevice(kAccount, "bob", device->device.serial_number, TotpCode(seed, now - 30),
                                          TotpCode(seed, now)).ok());
  rapidjson::Document out;
  EXPECT_FALSE(AssumeRoleAsPipeline(bob_, AssumeRequest("admin"), &out).ok());
  const std::string serial = ",\"SerialNumber\":\"" + device->device.serial_number + "\"";
  EXPECT_FALSE(AssumeRoleAsPipeline(bob_, AssumeRequest("admin", serial + ",\"TokenCode\":\"000000\""), &out).ok());
  ASSERT_TRUE(AssumeRoleAsPipeline(bob_, AssumeRequest("admin", serial + ",\"TokenCode\":\"" + TotpCode(seed, now) + "\""), &out).ok());
  Caller session = SessionCaller(out);
  EXPECT_TRUE(Allowed(session, "kms:Encrypt"));
  // aws:MultiFactorAuthAge grows with time: 11 minutes later the condition fails.
  clock_.Advance(660 * 1000);
  EXPECT_FALSE(Allowed(session, "kms:Encrypt"));
}

// "Session policies": "the resulting session's permissions are the intersection of the role's
// identity-based policies and the session policies".
TEST_F(StsTest, SessionPoliciesNarrowTheRole) {
  ASSERT_TRUE(directory_->CreateRole(kAccount, "app", "/", Trust("arn:aws:iam::111122223333:user/bob"), "", 3600, {}, "").ok());
  ASSERT_TRUE(directory_->PutInlinePolicy(EntityKind::kRole, kAccount, "app", "all", Allow("kms:*")).ok());
  auto narrow = directory_->CreatePolicy(kAccount, "narrow", "/", Allow("kms:Decrypt"), "", {});
  rapidjson::Document out;
  ASSERT_TRUE(AssumeRoleAsPipeline(bob_, AssumeRequest("app"), &out).ok());
  Caller full = SessionCaller(out);
  EXPECT_TRUE(Allowed(full, "kms:Encrypt"));
  EXPECT_TRUE(Allowed(full, "kms:Decrypt"));
  // Policy (inline) + PolicyArns: both must allow — each session policy is evaluated, any allow
  // among them counts, and the role must allow too.
  const std::string inline_policy = Allow("kms:Encrypt");
  std::string escaped;
  for (char c : inline_policy) {
    if (c == '"') escaped += '\\';
    escaped += c;
  }
  ASSERT_TRUE(AssumeRoleAsPipeline(bob_, AssumeRequest("app", ",\"Policy\":\"" + escaped + "\""), &out).ok());
  Caller narrowed = SessionCaller(out);
  EXPECT_TRUE(Allowed(narrowed, "kms:Encrypt"));
  AuthorizationResult result;
  Status st = Authorize(narrowed, "kms:Decrypt", kKey, &result);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("because no session policy allows"), std::string::npos) << st.message();
  ASSERT_TRUE(AssumeRoleAsPipeline(bob_, AssumeRequest("app", ",\"PolicyArns\":[{\"arn\":\"" + narrow->arn + "\"}]"), &out).ok());
  Caller by_arn = SessionCaller(out);
  EXPECT_TRUE(Allowed(by_arn, "kms:Decrypt"));
  EXPECT_FALSE(Allowed(by_arn, "kms:Encrypt"));
  // The session policy cannot grant beyond the role.
  ASSERT_TRUE(directory_->DeleteInlinePolicy(EntityKind::kRole, kAccount, "app", "all").ok());
  EXPECT_FALSE(Allowed(by_arn, "kms:Decrypt"));
}

// "Passing session tags in AWS STS": session tags are principal tags of the session; they
// override role tags with the same key; transitive tags pass through role chaining.
TEST_F(StsTest, SessionTagsBecomePrincipalTagsAndTransitiveTagsChain) {
  ASSERT_TRUE(directory_->CreateRole(kAccount, "app", "/", Trust("arn:aws:iam::111122223333:user/bob"), "", 3600,
                                     {{"team", "red"}, {"env", "prod"}}, "").ok());
  ASSERT_TRUE(directory_->CreateRole(kAccount, "next", "/", Trust("arn:aws:iam::111122223333:role/app"), "", 3600, {}, "").ok());
  const std::string condition = R"({"StringEquals":{"aws:PrincipalTag/team":"blue","aws:PrincipalTag/env":"prod"}})";
  ASSERT_TRUE(directory_->PutInlinePolicy(EntityKind::kRole, kAccount, "app", "tagged", Allow("kms:Encrypt", "*", condition)).ok());
  ASSERT_TRUE(directory_->PutInlinePolicy(EntityKind::kRole, kAccount, "next", "tagged",
                                          Allow("kms:Encrypt", "*", R"({"StringEquals":{"aws:PrincipalTag/team":"blue"}})")).ok());
  rapidjson::Document out;
  ASSERT_TRUE(AssumeRoleAsPipeline(bob_, AssumeRequest("app"), &out).ok());
  EXPECT_FALSE(Allowed(SessionCaller(out), "kms:Encrypt"));  // role tag team=red
  ASSERT_TRUE(AssumeRoleAsPipeline(bob_, AssumeRequest("app", R"(,"Tags":[{"Key":"team","Value":"blue"}],"TransitiveTagKeys":["team"])"), &out).ok());
  Caller tagged = SessionCaller(out);
  EXPECT_TRUE(Allowed(tagged, "kms:Encrypt"));
  // Role chaining: the transitive tag reaches the next session; it cannot be overridden, and the
  // chained session is limited to one hour.
  ASSERT_TRUE(AssumeRoleAsPipeline(tagged, AssumeRequest("next"), &out).ok());
  EXPECT_TRUE(Allowed(SessionCaller(out), "kms:Encrypt"));
  EXPECT_EQ(AssumeRoleAsPipeline(tagged, AssumeRequest("next", R"(,"Tags":[{"Key":"team","Value":"red"}])"), &out).type(),
            "InvalidInput");
  EXPECT_EQ(AssumeRoleAsPipeline(tagged, AssumeRequest("next", R"(,"DurationSeconds":"7200")"), &out).type(),
            "ValidationError");
  // Trust-policy conditions see the requested tags (aws:RequestTag/*).
  ASSERT_TRUE(directory_->UpdateAssumeRolePolicy(kAccount, "app",
      Trust("arn:aws:iam::111122223333:user/bob", R"({"StringEquals":{"aws:RequestTag/team":"blue"}})")).ok());
  EXPECT_FALSE(AssumeRoleAsPipeline(bob_, AssumeRequest("app"), &out).ok());
  EXPECT_TRUE(AssumeRoleAsPipeline(bob_, AssumeRequest("app", R"(,"Tags":[{"Key":"team","Value":"blue"}])"), &out).ok());
}

// "Permissions required to add session tags": passing session tags needs sts:TagSession in the
// role's trust policy besides sts:AssumeRole (AccessDenied otherwise); aws:RequestTag/* and
// aws:TagKeys conditions on the TagSession statement decide which tags may be passed.
TEST_F(StsTest, SessionTagsNeedStsTagSessionInTheTrustPolicy) {
  const std::string assume_only =
      R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/bob"},"Action":"sts:AssumeRole"}]})";
  ASSERT_TRUE(directory_->CreateRole(kAccount, "app", "/", assume_only, "", 3600, {}, "").ok());
  rapidjson::Document out;
  EXPECT_TRUE(AssumeRoleAsPipeline(bob_, AssumeRequest("app"), &out).ok());
  Status st = AssumeRoleAsPipeline(bob_, AssumeRequest("app", R"(,"Tags":[{"Key":"team","Value":"blue"}])"), &out);
  EXPECT_EQ(st.type(), "AccessDeniedException");
  EXPECT_NE(st.message().find("sts:TagSession"), std::string::npos) << st.message();
  EXPECT_EQ(AssumeRoleAsPipeline(bob_, AssumeRequest("app", R"(,"TransitiveTagKeys":["team"])"), &out).type(),
            "AccessDeniedException");
  // An empty tag list passes no tags: no TagSession needed.
  EXPECT_TRUE(AssumeRoleAsPipeline(bob_, AssumeRequest("app", R"(,"Tags":[])"), &out).ok());
  EXPECT_TRUE(AssumeRoleAsPipeline(bob_, AssumeRequest("app", R"(,"Tags":"","TransitiveTagKeys":"")"), &out).ok());

  // TagSession allowed only for the tag key "team" (ForAllValues over aws:TagKeys) with value blue.
  const std::string with_tag_session =
      R"({"Version":"2012-10-17","Statement":[)"
      R"({"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/bob"},"Action":"sts:AssumeRole"},)"
      R"({"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/bob"},"Action":"sts:TagSession",)"
      R"("Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["team"]},"StringEquals":{"aws:RequestTag/team":"blue"}}}]})";
  ASSERT_TRUE(directory_->UpdateAssumeRolePolicy(kAccount, "app", with_tag_session).ok());
  ASSERT_TRUE(AssumeRoleAsPipeline(bob_, AssumeRequest("app", R"(,"Tags":[{"Key":"team","Value":"blue"}])"), &out).ok());
  EXPECT_EQ(directory_->IdentityFor(SessionCaller(out).access_key_id)->principal->tags.size(), 1u);
  EXPECT_FALSE(AssumeRoleAsPipeline(bob_, AssumeRequest("app", R"(,"Tags":[{"Key":"team","Value":"red"}])"), &out).ok());
  EXPECT_FALSE(AssumeRoleAsPipeline(
      bob_, AssumeRequest("app", R"(,"Tags":[{"Key":"team","Value":"blue"},{"Key":"cost","Value":"x"}])"), &out).ok());
  // An explicit Deny of sts:TagSession wins even though AssumeRole alone is allowed.
  const std::string deny_tags =
      R"({"Version":"2012-10-17","Statement":[)"
      R"({"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/bob"},"Action":["sts:AssumeRole","sts:TagSession"]},)"
      R"({"Effect":"Deny","Principal":{"AWS":"*"},"Action":"sts:TagSession"}]})";
  ASSERT_TRUE(directory_->UpdateAssumeRolePolicy(kAccount, "app", deny_tags).ok());
  EXPECT_TRUE(AssumeRoleAsPipeline(bob_, AssumeRequest("app"), &out).ok());
  EXPECT_FALSE(AssumeRoleAsPipeline(bob_, AssumeRequest("app", R"(,"Tags":[{"Key":"team","Value":"blue"}])"), &out).ok());
}

// CloudTrail userIdentity element: principalId is the user's unique id for IAM users (and their
// GetSessionToken sessions), "<role id>:<session name>" for assumed roles, the account id for root.
TEST_F(StsTest, CredentialsCarryCloudTrailPrincipalIds) {
  auto bob = directory_->Get(EntityKind::kUser, kAccount, "bob");
  ASSERT_TRUE(bob.ok());
  EXPECT_EQ(directory_->credentials().Lookup(bob_.access_key_id)->principal_id, bob->id);
  EXPECT_EQ(bob->id.substr(0, 4), "AIDA");
  EXPECT_EQ(directory_->credentials().Lookup(root_.access_key_id)->principal_id, kAccount);
  ASSERT_TRUE(directory_->CreateRole(kAccount, "app", "/", Trust("arn:aws:iam::111122223333:user/bob"), "", 3600, {}, "").ok());
  auto role = directory_->Get(EntityKind::kRole, kAccount, "app");
  rapidjson::Document out;
  ASSERT_TRUE(AssumeRoleAsPipeline(bob_, AssumeRequest("app"), &out).ok());
  const std::string session_key = out["Credentials"]["AccessKeyId"].GetString();
  const std::string expected = role->id + ":" + std::string(out["AssumedRoleUser"]["Arn"].GetString()).substr(
                                                   std::string("arn:aws:sts::111122223333:assumed-role/app/").size());
  EXPECT_EQ(directory_->credentials().Lookup(session_key)->principal_id, expected);
  EXPECT_EQ(std::string(out["AssumedRoleUser"]["AssumedRoleId"].GetString()), expected);
  ASSERT_TRUE(Sts("GetSessionToken", "{}", &out, &bob_).ok());
  EXPECT_EQ(directory_->credentials().Lookup(out["Credentials"]["AccessKeyId"].GetString())->principal_id, bob->id);
}

// STS API Reference, AssumeRole: DurationSeconds 900 .. the role's MaxSessionDuration (default
// 3600); credentials are rejected after expiry with ExpiredTokenException, and the SigV4
// verifier requires the session token.
TEST_F(StsTest, SessionCredentialsExpire) {
  ASSERT_TRUE(directory_->CreateRole(kAccount, "app", "/", Trust("arn:aws:iam::111122223333:user/bob"), "", 7200, {}, "").ok());
  rapidjson::Document out;
  EXPECT_EQ(Sts("AssumeRole", AssumeRequest("app", R"(,"DurationSeconds":"899")"), &out, &bob_).type(), "ValidationError");
  EXPECT_EQ(Sts("AssumeRole", AssumeRequest("app", R"(,"DurationSeconds":7201)"), &out, &bob_).type(), "ValidationError");
  ASSERT_TRUE(Sts("AssumeRole", AssumeRequest("app", R"(,"DurationSeconds":"900")"), &out, &bob_).ok());
  EXPECT_EQ(std::string(out["Credentials"]["Expiration"].GetString()), FormatIso8601(testing::kT0 + 900));
  const std::string id = out["Credentials"]["AccessKeyId"].GetString();
  const std::string secret = out["Credentials"]["SecretAccessKey"].GetString();
  const std::string token = out["Credentials"]["SessionToken"].GetString();

  // A fresh CredentialStore over the same storage resolves the session too (it is durable).
  CredentialStore reopened(*storage_, root_key_);
  auto record = reopened.Lookup(id);
  ASSERT_TRUE(record);
  EXPECT_EQ(record->principal_arn, "arn:aws:sts::111122223333:assumed-role/app/s1");
  EXPECT_EQ(*record->expires_at, testing::kT0 + 900);

  sigv4::VerifierOptions options;
  options.region = "us-east-1";
  options.services = {"kms"};
  sigv4::Verifier verifier(options, [this](std::string_view k) { return credentials_->Lookup(std::string(k)); }, clock_);
  auto verify = [&](const std::string& signed_token, bool send_token) {
    std::vector<std::pair<std::string, std::string>> headers = {{"Host", "kms.us-east-1.amazonaws.com"},
                                                                {"X-Amz-Target", "TrentService.ListKeys"}};
    const std::string body = "{}";
    std::vector<sigv4::Header> views;
    for (const auto& [n, v] : headers) views.push_back({n, v});
    sigv4::Signer signer(sigv4::Credentials::Make(id, secret, signed_token), "us-east-1", "kms");
    auto s = signer.Sign(sigv4::RequestView{"POST", "/", "", views, body, {}}, clock_.NowSeconds());
    EXPECT_TRUE(s.ok());
    for (auto& [n, v] : s->headers_to_add)
      if (send_token || n != "X-Amz-Security-Token") headers.emplace_back(n, v);
    views.clear();
    for (const auto& [n, v] : headers) views.push_back({n, v});
    return verifier.Verify(sigv4::RequestView{"POST", "/", "", views, body, {}});
  };
  EXPECT_TRUE(verify(token, true).ok());
  EXPECT_FALSE(verify("", false).ok());  // no token
  EXPECT_FALSE(verify(token.substr(1) + "A", true).ok());  // wrong token
  clock_.Advance(900 * 1000);
  auto expired = verify(token, true);
  ASSERT_FALSE(expired.ok());
  EXPECT_EQ(expired.status().type(), "ExpiredTokenException");
  EXPECT_EQ(expired.status().message(), "The security token included in the request is expired");
}

// STS API Reference, GetSessionToken: for IAM users (and root); the credentials carry the user's
// permissions; without MFA they cannot call IAM, and of STS only AssumeRole / GetCallerIdentity.
TEST_F(StsTest, GetSessionTokenCarriesTheUsersPermissionsAndMfa) {
  ASSERT_TRUE(directory_->PutInlinePolicy(EntityKind::kUser, kAccount, "bob", "p",
      R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kms:Encrypt","iam:ListUsers","sts:GetSessionToken"],"Resource":"*"}]})").ok());
  rapidjson::Document out;
  ASSERT_TRUE(Sts("GetSessionToken", R"({"DurationSeconds":"3600"})", &out, &bob_).ok());
  Caller session{kAccount, bob_.principal_arn, out["Credentials"]["AccessKeyId"].GetString()};
  EXPECT_TRUE(Allowed(session, "kms:Encrypt"));
  EXPECT_FALSE(Allowed(session, "kms:Decrypt"));
  EXPECT_FALSE(Allowed(session, "iam:ListUsers", ""));   // no MFA
  EXPECT_FALSE(Allowed(session, "sts:GetSessionToken", ""));
  EXPECT_TRUE(Allowed(session, "sts:GetCallerIdentity", ""));
  // Session credentials cannot call GetSessionToken again.
  EXPECT_EQ(Sts("GetSessionToken", "{}", &out, &session).type(), "AccessDenied");

  auto device = directory_->CreateVirtualMfaDevice(kAccount, "bob", "/", {});
  auto seed = *Base32Decode(device->base32_seed);
  const int64_t now = clock_.NowSeconds();
  ASSERT_TRUE(directory_->EnableMfaDevice(kAccount, "bob", device->device.serial_number, TotpCode(seed, now - 30), TotpCode(seed, now)).ok());
  ASSERT_TRUE(Sts("GetSessionToken", R"({"SerialNumber":")" + device->device.serial_number + R"(","TokenCode":")" +
                  TotpCode(seed, now) + "\"}", &out, &bob_).ok());
  Caller mfa{kAccount, bob_.principal_arn, out["Credentials"]["AccessKeyId"].GetString()};
  EXPECT_TRUE(Allowed(mfa, "iam:ListUsers", ""));
  rapidjson::Document who;
  ASSERT_TRUE(Sts("GetCallerIdentity", "{}", &who, &mfa).ok());
  EXPECT_EQ(std::string(who["Arn"].GetString()), bob_.principal_arn);
  EXPECT_EQ(std::string(who["UserId"].GetString()).substr(0, 4), "AIDA");
  EXPECT_EQ(std::string(who["Account"].GetString()), kAccount);
}

// A role deleted while sessions exist leaves those sessions without permissions.
TEST_F(StsTest, DeletedRoleSessionsLoseTheirPermissions) {
  ASSERT_TRUE(directory_->CreateRole(kAccount, "app", "/", Trust("arn:aws:iam::111122223333:user/bob"), "", 3600, {}, "").ok());
  ASSERT_TRUE(directory_->PutInlinePolicy(EntityKind::kRole, kAccount, "app", "all", Allow("kms:*")).ok());
  rapidjson::Document out;
  ASSERT_TRUE(AssumeRoleAsPipeline(bob_, AssumeRequest("app"), &out).ok());
  Caller session = SessionCaller(out);
  EXPECT_TRUE(Allowed(session, "kms:Encrypt"));
  ASSERT_TRUE(directory_->DeleteInlinePolicy(EntityKind::kRole, kAccount, "app", "all").ok());
  ASSERT_TRUE(directory_->Delete(EntityKind::kRole, kAccount, "app").ok());
  ASSERT_TRUE(directory_->CreateRole(kAccount, "app", "/", Trust("arn:aws:iam::111122223333:user/bob"), "", 3600, {}, "").ok());
  ASSERT_TRUE(directory_->PutInlinePolicy(EntityKind::kRole, kAccount, "app", "all", Allow("kms:*")).ok());
  EXPECT_FALSE(Allowed(session, "kms:Encrypt"));  // a new role with the same name is another role
}

}  // namespace
}  // namespace meridian::iam
