// Evaluation logic decision tables. Each test cites the IAM User Guide section it checks
// ("IAM UG > ...").
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "iam/policy/test_util.h"

namespace meridian::iam::policy {
namespace {

using testing::Alice;
using testing::AppSession;
using testing::kAccount;
using testing::kKeyArn;
using testing::kOtherAccount;
using testing::MustParse;

const std::string kRoleArn = "arn:aws:iam::111122223333:role/app";
const std::string kSessionArn = "arn:aws:sts::111122223333:assumed-role/app/session1";
const std::string kAliceArn = "arn:aws:iam::111122223333:user/alice";

PolicyPtr Identity(std::string_view statements, std::string id = "identity") {
  return MustParse(R"({"Version":"2012-10-17","Statement":)" + std::string(statements) + "}", PolicyKind::kIdentity,
                   std::move(id));
}
PolicyPtr Resource(std::string_view statements, std::string id = "resource") {
  return MustParse(R"({"Version":"2012-10-17","Statement":)" + std::string(statements) + "}", PolicyKind::kResource,
                   std::move(id));
}

const char* kAllowKmsAll = R"({"Effect":"Allow","Action":"kms:*","Resource":"*"})";
const char* kAllowDecrypt = R"({"Effect":"Allow","Action":"kms:Decrypt","Resource":"*"})";

std::string KeyPolicyGranting(std::string_view principal_json, std::string_view actions = R"("kms:*")") {
  return R"({"Effect":"Allow","Principal":)" + std::string(principal_json) + R"(,"Action":)" + std::string(actions) +
         R"(,"Resource":"*"})";
}
const std::string kRootStatement = KeyPolicyGranting(R"({"AWS":"arn:aws:iam::111122223333:root"})");

struct Case {
  std::vector<PolicyPtr> identity;
  PolicyPtr boundary;
  std::vector<PolicyPtr> session;
  PolicyPtr resource;
  ResourcePolicyKind kind = ResourcePolicyKind::kResourceBased;
  std::string resource_account = std::string(kAccount);

  Decision Run(const RequestContext& context) const {
    PolicySet set;
    set.identity = identity;
    set.permissions_boundary = boundary.get();
    set.session = session;
    set.resource = resource.get();
    set.resource_kind = kind;
    set.resource_account = resource_account;
    return Evaluate(context, set);
  }
};

RequestContext Request(Principal principal, std::string action = "kms:Decrypt", std::string resource = std::string(kKeyArn)) {
  return RequestContext(std::move(principal), std::move(action), std::move(resource));
}

// IAM UG > Policy evaluation logic > Determining whether a request is allowed or denied within
// an account: "By default, all requests are implicitly denied".
TEST(Evaluate, ImplicitDenyByDefault) {
  Decision d = Case{}.Run(Request(Alice()));
  EXPECT_EQ(d.decision, EvalDecision::kImplicitDeny);
  EXPECT_EQ(d.deciding_type, PolicyType::kIdentity);
  EXPECT_EQ(EvalDecisionName(d.decision), "implicitDeny");
  EXPECT_EQ(d.matched_count, 0u);
}

// IAM UG > Policy evaluation logic: "An explicit deny in any policy overrides any allows" — in
// identity-based, resource-based, boundary and session policies alike; the decision lists the
// Deny statements.
TEST(Evaluate, ExplicitDenyWinsEverywhere) {
  const char* deny = R"({"Sid":"NoDecrypt","Effect":"Deny","Action":"kms:Decrypt","Resource":"*"})";
  {
    Case s;
    s.identity = {Identity(std::string("[") + kAllowKmsAll + "," + deny + "]", "arn:aws:iam::111122223333:policy/P")};
    Decision d = s.Run(Request(Alice()));
    EXPECT_EQ(d.decision, EvalDecision::kExplicitDeny);
    EXPECT_EQ(d.deciding_type, PolicyType::kIdentity);
    ASSERT_EQ(d.matched_count, 1u);
    EXPECT_EQ(d.matched[0].sid(), "NoDecrypt");
    EXPECT_EQ(d.matched[0].statement_index, 1u);
    EXPECT_EQ(d.matched[0].policy_id(), "arn:aws:iam::111122223333:policy/P");
    EXPECT_EQ(d.matched[0].effect, Effect::kDeny);
    EXPECT_EQ(EvalDecisionName(d.decision), "explicitDeny");
  }
  {
    Case s;  // resource-based deny beats an identity allow
    s.identity = {Identity(kAllowKmsAll)};
    s.resource = Resource(R"([{"Effect":"Deny","Principal":"*","Action":"kms:Decrypt","Resource":"*"}])");
    Decision d = s.Run(Request(Alice()));
    EXPECT_EQ(d.decision, EvalDecision::kExplicitDeny);
    EXPECT_EQ(d.deciding_type, PolicyType::kResource);
  }
  {
    Case s;  // boundary deny
    s.identity = {Identity(kAllowKmsAll)};
    s.boundary = Identity(std::string("[") + kAllowKmsAll + "," + deny + "]");
    EXPECT_EQ(s.Run(Request(Alice())).deciding_type, PolicyType::kPermissionsBoundary);
    EXPECT_EQ(s.Run(Request(Alice())).decision, EvalDecision::kExplicitDeny);
  }
  {
    Case s;  // session-policy deny
    s.identity = {Identity(kAllowKmsAll)};
    s.session = {Identity(std::string("[") + kAllowKmsAll + "," + deny + "]")};
    Decision d = s.Run(Request(AppSession()));
    EXPECT_EQ(d.decision, EvalDecision::kExplicitDeny);
    EXPECT_EQ(d.deciding_type, PolicyType::kSession);
  }
}

// IAM UG > IAM JSON policy elements: Action — case-insensitive, wildcards; NotAction matches
// every other action.
TEST(Evaluate, ActionMatching) {
  Case s;
  s.identity = {Identity(R"([{"Effect":"Allow","Action":["KMS:decrypt","kms:Re*","kms:Get?eyPolicy"],"Resource":"*"}])")};
  EXPECT_TRUE(s.Run(Request(Alice(), "kms:Decrypt")).allowed());
  EXPECT_TRUE(s.Run(Request(Alice(), "kms:ReEncryptFrom")).allowed());
  EXPECT_TRUE(s.Run(Request(Alice(), "kms:GetKeyPolicy")).allowed());
  EXPECT_FALSE(s.Run(Request(Alice(), "kms:Encrypt")).allowed());
  EXPECT_FALSE(s.Run(Request(Alice(), "secretsmanager:Decrypt")).allowed());

  // IAM UG > IAM JSON policy elements: NotAction — "Allow ... NotAction" allows everything else.
  Case n;
  n.identity = {Identity(R"([{"Effect":"Allow","NotAction":"kms:Schedule*","Resource":"*"}])")};
  EXPECT_TRUE(n.Run(Request(Alice(), "kms:Decrypt")).allowed());
  EXPECT_TRUE(n.Run(Request(Alice(), "secretsmanager:GetSecretValue")).allowed());
  EXPECT_FALSE(n.Run(Request(Alice(), "kms:ScheduleKeyDeletion")).allowed());
}

// IAM UG > IAM JSON policy elements: Resource — wildcards within ARN segments; NotResource.
TEST(Evaluate, ResourceMatching) {
  Case s;
  s.identity = {Identity(R"([{"Effect":"Allow","Action":"kms:*","Resource":"arn:aws:kms:us-east-1:111122223333:key/*"}])")};
  EXPECT_TRUE(s.Run(Request(Alice())).allowed());
  EXPECT_FALSE(s.Run(Request(Alice(), "kms:Decrypt", "arn:aws:kms:us-west-2:111122223333:key/k")).allowed());
  EXPECT_FALSE(s.Run(Request(Alice(), "kms:Decrypt", "arn:aws:kms:us-east-1:111122223333:alias/k")).allowed());
  EXPECT_FALSE(s.Run(Request(Alice(), "kms:CreateKey", "*")).allowed());  // actions without a resource

  Case region;  // '*' within the region segment does not spill into other segments
  region.identity = {Identity(R"([{"Effect":"Allow","Action":"kms:*","Resource":"arn:aws:kms:*:111122223333:key/*"}])")};
  EXPECT_TRUE(region.Run(Request(Alice(), "kms:Decrypt", "arn:aws:kms:eu-west-1:111122223333:key/k")).allowed());
  EXPECT_FALSE(region.Run(Request(Alice(), "kms:Decrypt", "arn:aws:kms:eu-west-1:444455556666:key/k")).allowed());

  Case secret;  // the resource part may contain colons
  secret.identity = {Identity(R"([{"Effect":"Allow","Action":"secretsmanager:GetSecretValue",
      "Resource":"arn:aws:secretsmanager:us-east-1:111122223333:secret:app/checkout/db-password-??????"}])")};
  EXPECT_TRUE(secret.Run(Request(Alice(), "secretsmanager:GetSecretValue",
                                 "arn:aws:secretsmanager:us-east-1:111122223333:secret:app/checkout/db-password-AbCdEf"))
                  .allowed());
  EXPECT_FALSE(secret.Run(Request(Alice(), "secretsmanager:GetSecretValue",
                                  "arn:aws:secretsmanager:us-east-1:111122223333:secret:admin-credentials-AbCdEf"))
                   .allowed());

  // IAM UG > IAM JSON policy elements: NotResource.
  Case n;
  n.identity = {Identity(R"([{"Effect":"Allow","Action":"kms:*","NotResource":"arn:aws:kms:*:*:key/secret-*"}])")};
  EXPECT_TRUE(n.Run(Request(Alice())).allowed());
  EXPECT_FALSE(n.Run(Request(Alice(), "kms:Decrypt", "arn:aws:kms:us-east-1:111122223333:key/secret-1")).allowed());
}

// IAM UG > Policy evaluation logic > Evaluating identity-based policies with resource-based
// policies: same account, "If an action is allowed by an identity-based policy, a resource-based
// policy, or both, then AWS allows the action."
TEST(Evaluate, SameAccountIdentityOrResource) {
  Case identity_only;
  identity_only.identity = {Identity(kAllowDecrypt)};
  EXPECT_TRUE(identity_only.Run(Request(Alice())).allowed());

  Case resource_only;
  resource_only.resource = Resource("[" + KeyPolicyGranting(R"({"AWS":")" + kAliceArn + R"("})") + "]");
  Decision d = resource_only.Run(Request(Alice()));
  EXPECT_TRUE(d.allowed());
  ASSERT_EQ(d.matched_count, 1u);
  EXPECT_EQ(d.matched[0].type, PolicyType::kResource);

  Case other_user;
  other_user.resource = Resource("[" + KeyPolicyGranting(R"({"AWS":"arn:aws:iam::111122223333:user/bob"})") + "]");
  EXPECT_FALSE(other_user.Run(Request(Alice())).allowed());
}

// IAM UG > IAM JSON policy elements: Principal > AWS account principals: an account principal
// "delegates authority to the account" — it does not grant on its own.
TEST(Evaluate, AccountPrincipalIsADelegation) {
  Case s;
  s.resource = Resource("[" + kRootStatement + "]");
  EXPECT_FALSE(s.Run(Request(Alice())).allowed());
  s.identity = {Identity(kAllowDecrypt)};
  EXPECT_TRUE(s.Run(Request(Alice())).allowed());
}

// IAM UG > Policy evaluation logic > Resource-based policies (same account): "IAM user —
// resource-based policies that grant permissions to an IAM user ARN ... are not limited by an
// implicit deny in an identity-based policy or permissions boundary."
TEST(Evaluate, ResourceGrantToUserIgnoresBoundary) {
  Case s;
  s.boundary = Identity(R"({"Effect":"Allow","Action":"s3:*","Resource":"*"})");
  s.resource = Resource("[" + KeyPolicyGranting(R"({"AWS":")" + kAliceArn + R"("})") + "]");
  EXPECT_TRUE(s.Run(Request(Alice())).allowed());
  // Through identity policies the boundary still applies.
  Case via_identity;
  via_identity.identity = {Identity(kAllowKmsAll)};
  via_identity.boundary = s.boundary;
  Decision d = via_identity.Run(Request(Alice()));
  EXPECT_EQ(d.decision, EvalDecision::kImplicitDeny);
  EXPECT_EQ(d.deciding_type, PolicyType::kPermissionsBoundary);
}

// IAM UG > Policy evaluation logic > Resource-based policies (same account): "IAM role —
// Resource-based policies that grant permissions to an IAM role ARN are limited by an implicit
// deny in a permissions boundary or session policy"; "IAM role session — ... not limited by an
// implicit deny in an identity-based policy, a permissions boundary, or session policy."
TEST(Evaluate, ResourceGrantToRoleVersusSession) {
  PolicyPtr s3_only = Identity(R"({"Effect":"Allow","Action":"s3:*","Resource":"*"})");
  Case role;
  role.resource = Resource("[" + KeyPolicyGranting(R"({"AWS":")" + kRoleArn + R"("})") + "]");
  EXPECT_TRUE(role.Run(Request(AppSession())).allowed());  // no identity policy needed
  role.boundary = s3_only;
  Decision d = role.Run(Request(AppSession()));
  EXPECT_EQ(d.decision, EvalDecision::kImplicitDeny);
  EXPECT_EQ(d.deciding_type, PolicyType::kPermissionsBoundary);
  role.boundary = nullptr;
  role.session = {s3_only};
  d = role.Run(Request(AppSession()));
  EXPECT_EQ(d.decision, EvalDecision::kImplicitDeny);
  EXPECT_EQ(d.deciding_type, PolicyType::kSession);

  Case session;
  session.resource = Resource("[" + KeyPolicyGranting(R"({"AWS":")" + kSessionArn + R"("})") + "]");
  session.boundary = s3_only;
  session.session = {s3_only};
  EXPECT_TRUE(session.Run(Request(AppSession())).allowed());
  // Another session of the same role is not named.
  Principal other = Principal::AssumedRole("aws", kAccount, "/", "app", "session2", "AROAAPPEXAMPLE000001");
  EXPECT_FALSE(session.Run(Request(other)).allowed());
}

// IAM UG > IAM JSON policy elements: Principal > All principals: "For IAM users and role
// principals within your account, no other permissions are required"; boundaries and session
// policies "do not limit permissions granted using ... a wildcard (*) in the Principal element".
TEST(Evaluate, WildcardPrincipalSameAccount) {
  Case s;
  s.resource = Resource("[" + KeyPolicyGranting(R"("*")") + "]");
  s.boundary = Identity(R"({"Effect":"Allow","Action":"s3:*","Resource":"*"})");
  EXPECT_TRUE(s.Run(Request(Alice())).allowed());
  EXPECT_TRUE(s.Run(Request(AppSession())).allowed());
}

// IAM UG > Policy evaluation logic > Evaluating identity-based policies with permissions
// boundaries: "the resulting permissions are the intersection of the two categories".
TEST(Evaluate, PermissionsBoundaryIntersection) {
  Case s;
  s.identity = {Identity(kAllowKmsAll)};
  s.boundary = Identity(R"({"Effect":"Allow","Action":["kms:Decrypt","s3:*"],"Resource":"*"})");
  EXPECT_TRUE(s.Run(Request(Alice(), "kms:Decrypt")).allowed());
  Decision d = s.Run(Request(Alice(), "kms:Encrypt"));
  EXPECT_EQ(d.decision, EvalDecision::kImplicitDeny);
  EXPECT_EQ(d.deciding_type, PolicyType::kPermissionsBoundary);
  d = s.Run(Request(Alice(), "s3:GetObject", "arn:aws:s3:::b/o"));  // boundary alone grants nothing
  EXPECT_EQ(d.deciding_type, PolicyType::kIdentity);
}

// IAM UG > Policy evaluation logic > Session policies: "the resulting session's permissions are
// the intersection of the IAM entity's identity-based policy and the session policies"; with no
// session policy a role session keeps its role's permissions, a federated-user session has none.
TEST(Evaluate, SessionPolicies) {
  Case s;
  s.identity = {Identity(kAllowKmsAll)};
  EXPECT_TRUE(s.Run(Request(AppSession(), "kms:Encrypt")).allowed());
  s.session = {Identity(kAllowDecrypt), Identity(R"({"Effect":"Allow","Action":"kms:GenerateDataKey","Resource":"*"})")};
  EXPECT_TRUE(s.Run(Request(AppSession(), "kms:Decrypt")).allowed());
  EXPECT_TRUE(s.Run(Request(AppSession(), "kms:GenerateDataKey")).allowed());  // session policies are ORed
  Decision d = s.Run(Request(AppSession(), "kms:Encrypt"));
  EXPECT_EQ(d.decision, EvalDecision::kImplicitDeny);
  EXPECT_EQ(d.deciding_type, PolicyType::kSession);

  Principal federated;
  federated.type = PrincipalType::kFederatedUser;
  federated.account = std::string(kAccount);
  federated.arn = "arn:aws:sts::111122223333:federated-user/carol";
  federated.source_user_arn = kAliceArn;
  Case f;
  f.identity = {Identity(kAllowKmsAll)};
  d = f.Run(Request(federated));
  EXPECT_EQ(d.decision, EvalDecision::kImplicitDeny);
  EXPECT_EQ(d.deciding_type, PolicyType::kSession);
  f.session = {Identity(kAllowDecrypt)};
  EXPECT_TRUE(f.Run(Request(federated)).allowed());
}

// IAM UG > Policy evaluation logic > Resource-based policies: "IAM federated user sessions ...
// if a resource-based policy grants permission to the ARN of the IAM user who federated, then
// requests made by the federated user during the session are limited by an implicit deny in a
// permission boundary or session policy."
TEST(Evaluate, FederatedUserSessionVersusIssuer) {
  Principal federated;
  federated.type = PrincipalType::kFederatedUser;
  federated.account = std::string(kAccount);
  federated.arn = "arn:aws:sts::111122223333:federated-user/carol";
  federated.source_user_arn = kAliceArn;
  Case issuer;
  issuer.resource = Resource("[" + KeyPolicyGranting(R"({"AWS":")" + kAliceArn + R"("})") + "]");
  issuer.session = {Identity(R"({"Effect":"Allow","Action":"s3:*","Resource":"*"})")};
  EXPECT_FALSE(issuer.Run(Request(federated)).allowed());
  Case direct;
  direct.resource = Resource("[" + KeyPolicyGranting(R"({"AWS":"arn:aws:sts::111122223333:federated-user/carol"})") + "]");
  direct.session = issuer.session;
  EXPECT_TRUE(direct.Run(Request(federated)).allowed());
}

// IAM UG > Policy evaluation logic > Resource-based policies: "IAM role trust policies and KMS
// key policies are exceptions ... because they must explicitly allow access for principals".
// AWS KMS: the key policy's account statement enables IAM policies.
TEST(Evaluate, KeyPolicyIsRequired) {
  Case s;
  s.kind = ResourcePolicyKind::kKeyPolicy;
  s.identity = {Identity(kAllowKmsAll)};
  s.resource = Resource("[" + KeyPolicyGranting(R"({"AWS":"arn:aws:iam::111122223333:user/bob"})") + "]");
  Decision d = s.Run(Request(Alice()));
  EXPECT_EQ(d.decision, EvalDecision::kImplicitDeny);
  EXPECT_EQ(d.deciding_type, PolicyType::kResource);

  s.resource = Resource("[" + kRootStatement + "]");
  d = s.Run(Request(Alice()));
  EXPECT_TRUE(d.allowed());
  EXPECT_EQ(d.matched_count, 2u);  // the identity Allow and the key policy's root statement

  s.identity.clear();
  d = s.Run(Request(Alice()));
  EXPECT_EQ(d.decision, EvalDecision::kImplicitDeny);
  EXPECT_EQ(d.deciding_type, PolicyType::kIdentity);

  // The root statement delegates only the actions it lists.
  Case partial;
  partial.kind = ResourcePolicyKind::kKeyPolicy;
  partial.identity = {Identity(kAllowKmsAll)};
  partial.resource = Resource("[" + KeyPolicyGranting(R"({"AWS":"111122223333"})", R"("kms:Describe*")") + "]");
  EXPECT_TRUE(partial.Run(Request(Alice(), "kms:DescribeKey")).allowed());
  EXPECT_FALSE(partial.Run(Request(Alice(), "kms:Decrypt")).allowed());

  // A key policy naming the user directly needs no IAM policy.
  Case direct;
  direct.kind = ResourcePolicyKind::kKeyPolicy;
  direct.resource = Resource("[" + KeyPolicyGranting(R"({"AWS":")" + kAliceArn + R"("})", R"("kms:Decrypt")") + "]");
  EXPECT_TRUE(direct.Run(Request(Alice())).allowed());
}

// IAM UG > Policy evaluation logic: "all requests are implicitly denied with the exception of the
// AWS account root user, which has full access" — yet a key policy must still allow the account.
TEST(Evaluate, RootUser) {
  Principal root = Principal::Root("aws", kAccount);
  EXPECT_TRUE(Case{}.Run(Request(root, "secretsmanager:GetSecretValue", "arn:aws:secretsmanager:us-east-1:111122223333:secret:x")).allowed());
  Case key;
  key.kind = ResourcePolicyKind::kKeyPolicy;
  key.resource = Resource("[" + KeyPolicyGranting(R"({"AWS":")" + kAliceArn + R"("})") + "]");
  EXPECT_FALSE(key.Run(Request(root)).allowed());
  key.resource = Resource("[" + kRootStatement + "]");
  EXPECT_TRUE(key.Run(Request(root)).allowed());
}

// IAM UG > Cross-account policy evaluation logic: the resource policy must allow the external
// principal (or its account) and the principal's own identity-based policies must allow too.
TEST(Evaluate, CrossAccountNeedsBothSides) {
  Principal bob = Principal::User("aws", kOtherAccount, "/", "bob", "AIDABOBEXAMPLE000001");
  Case s;
  s.kind = ResourcePolicyKind::kKeyPolicy;
  s.resource = Resource("[" + kRootStatement + "," + KeyPolicyGranting(R"({"AWS":"444455556666"})", R"("kms:Decrypt")") + "]");
  Decision d = s.Run(Request(bob));
  EXPECT_EQ(d.decision, EvalDecision::kImplicitDeny);
  EXPECT_EQ(d.deciding_type, PolicyType::kIdentity);
  s.identity = {Identity(kAllowDecrypt)};
  EXPECT_TRUE(s.Run(Request(bob)).allowed());
  // The key policy must name the other account or its principal.
  Case no_grant = s;
  no_grant.resource = Resource("[" + kRootStatement + "]");
  d = no_grant.Run(Request(bob));
  EXPECT_EQ(d.decision, EvalDecision::kImplicitDeny);
  EXPECT_EQ(d.deciding_type, PolicyType::kResource);
  // Even a direct grant to the external user needs its identity side.
  Case direct;
  direct.kind = ResourcePolicyKind::kKeyPolicy;
  direct.resource = Resource("[" + KeyPolicyGranting(R"({"AWS":"arn:aws:iam::444455556666:user/bob"})") + "]");
  EXPECT_FALSE(direct.Run(Request(bob)).allowed());
  direct.identity = {Identity(kAllowDecrypt)};
  EXPECT_TRUE(direct.Run(Request(bob)).allowed());
  // And the external boundary still applies.
  direct.boundary = Identity(R"({"Effect":"Allow","Action":"s3:*","Resource":"*"})");
  d = direct.Run(Request(bob));
  EXPECT_EQ(d.deciding_type, PolicyType::kPermissionsBoundary);
  // For an optional resource policy (a secret's), cross-account access also needs it.
  Case secret;
  secret.identity = {Identity(R"({"Effect":"Allow","Action":"secretsmanager:*","Resource":"*"})")};
  d = secret.Run(Request(bob, "secretsmanager:GetSecretValue", "arn:aws:secretsmanager:us-east-1:111122223333:secret:s"));
  EXPECT_EQ(d.decision, EvalDecision::kImplicitDeny);
  EXPECT_EQ(d.deciding_type, PolicyType::kResource);
  // Principal "*" from another account still needs the identity side (IAM UG > Principal > All
  // principals: "For principals in other accounts, they must also have identity-based
  // permissions").
  Case open;
  open.resource = Resource("[" + KeyPolicyGranting(R"("*")") + "]");
  EXPECT_FALSE(open.Run(Request(bob)).allowed());
  open.identity = {Identity(kAllowDecrypt)};
  EXPECT_TRUE(open.Run(Request(bob)).allowed());
}

// IAM UG > IAM JSON policy elements: Principal > AWS service principals / All principals: a
// service or an anonymous caller is allowed only by a resource-based policy grant.
TEST(Evaluate, ServiceAndAnonymousPrincipals) {
  Case s;
  s.kind = ResourcePolicyKind::kKeyPolicy;
  s.resource = Resource("[" + KeyPolicyGranting(R"({"Service":"rds.amazonaws.com"})", R"(["kms:Decrypt","kms:GenerateDataKey*"])") + "]");
  EXPECT_TRUE(s.Run(Request(Principal::Service("rds.amazonaws.com"))).allowed());
  EXPECT_FALSE(s.Run(Request(Principal::Service("lambda.amazonaws.com"))).allowed());
  EXPECT_FALSE(s.Run(Request(Principal::Anonymous())).allowed());
  Case open;
  open.resource = Resource("[" + KeyPolicyGranting(R"("*")") + "]");
  EXPECT_TRUE(open.Run(Request(Principal::Anonymous())).allowed());
  EXPECT_TRUE(open.Run(Request(Principal::Service("lambda.amazonaws.com"))).allowed());
}

// IAM UG > AWS JSON policy elements: NotPrincipal — a Deny with NotPrincipal spares a principal
// only when its account (and role, for sessions) are listed too: "AWS might validate the account
// first, then the role, and then the assumed-role user".
TEST(Evaluate, NotPrincipalChain) {
  auto deny_except = [](std::string_view list) {
    return Resource(std::string(R"([{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"},
        {"Effect":"Deny","NotPrincipal":{"AWS":)") + std::string(list) + R"(},"Action":"kms:*","Resource":"*"}])");
  };
  Case user_and_account;
  user_and_account.resource = deny_except(R"([")" + kAliceArn + R"(","arn:aws:iam::111122223333:root"])");
  EXPECT_TRUE(user_and_account.Run(Request(Alice())).allowed());
  Principal carol = Principal::User("aws", kAccount, "/", "carol", "AIDACAROL");
  EXPECT_EQ(user_and_account.Run(Request(carol)).decision, EvalDecision::kExplicitDeny);
  EXPECT_EQ(user_and_account.Run(Request(Principal::Anonymous())).decision, EvalDecision::kExplicitDeny);

  Case user_only;
  user_only.resource = deny_except(R"([")" + kAliceArn + R"("])");
  EXPECT_EQ(user_only.Run(Request(Alice())).decision, EvalDecision::kExplicitDeny);

  Case session_role_account;
  session_role_account.resource =
      deny_except(R"([")" + kSessionArn + R"(",")" + kRoleArn + R"(","111122223333"])");
  EXPECT_TRUE(session_role_account.Run(Request(AppSession())).allowed());
  Case session_and_account;
  session_and_account.resource = deny_except(R"([")" + kSessionArn + R"(","111122223333"])");
  EXPECT_EQ(session_and_account.Run(Request(AppSession())).decision, EvalDecision::kExplicitDeny);

  // IAM UG > NotPrincipal > Key points: "The NotPrincipal element with a Deny effect will always
  // deny any IAM principal that has a permissions boundary policy attached".
  Case with_boundary = user_and_account;
  with_boundary.boundary = Identity(kAllowKmsAll);
  EXPECT_EQ(with_boundary.Run(Request(Alice())).decision, EvalDecision::kExplicitDeny);
}

// IAM UG > AWS JSON policy elements: NotPrincipal > NotPrincipal with Allow: "the permissions
// ... will be granted to all principals except for the ones specified".
TEST(Evaluate, NotPrincipalWithAllow) {
  Case s;
  s.resource = Resource(R"([{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:user/bob"},
      "Action":"kms:Decrypt","Resource":"*"}])");
  EXPECT_TRUE(s.Run(Request(Alice())).allowed());
  EXPECT_TRUE(s.Run(Request(Principal::Anonymous())).allowed());
}

// IAM UG > Policy evaluation logic > Resource-based policies: role trust policies must allow the
// principal; the account form needs the caller's identity policy to allow sts:AssumeRole.
TEST(Evaluate, RoleTrustPolicy) {
  auto trust = [](std::string_view principal) {
    return MustParse(R"({"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":)" + std::string(principal) +
                         R"(,"Action":"sts:AssumeRole"}})",
                     PolicyKind::kTrust, "trust");
  };
  std::string role = "arn:aws:iam::111122223333:role/admin";
  Case account;
  account.kind = ResourcePolicyKind::kRoleTrustPolicy;
  account.resource = trust(R"({"AWS":"111122223333"})");
  Decision d = account.Run(Request(Alice(), "sts:AssumeRole", role));
  EXPECT_EQ(d.deciding_type, PolicyType::kIdentity);
  account.identity = {Identity(R"({"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::111122223333:role/*"})")};
  EXPECT_TRUE(account.Run(Request(Alice(), "sts:AssumeRole", role)).allowed());

  Case direct;
  direct.kind = ResourcePolicyKind::kRoleTrustPolicy;
  direct.resource = trust(R"({"AWS":")" + kAliceArn + R"("})");
  EXPECT_TRUE(direct.Run(Request(Alice(), "sts:AssumeRole", role)).allowed());

  Case none;
  none.kind = ResourcePolicyKind::kRoleTrustPolicy;
  none.identity = account.identity;
  none.resource = trust(R"({"Service":"ec2.amazonaws.com"})");
  d = none.Run(Request(Alice(), "sts:AssumeRole", role));
  EXPECT_EQ(d.decision, EvalDecision::kImplicitDeny);
  EXPECT_EQ(AccessDeniedMessage(Request(Alice(), "sts:AssumeRole", role), d),
            "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: sts:AssumeRole on resource: "
            "arn:aws:iam::111122223333:role/admin because no role trust policy allows the sts:AssumeRole action");
}

// IAM UG > Troubleshooting access denied error messages: "User: <arn> is not authorized to
// perform: <action> on resource: <arn> because no <type> policy allows the <action> action" /
// "with an explicit deny in a <type> policy".
TEST(Evaluate, AccessDeniedMessages) {
  RequestContext ctx = Request(Alice());
  Case none;
  EXPECT_EQ(AccessDeniedMessage(ctx, none.Run(ctx)),
            "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: kms:Decrypt on resource: "
            "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab because no identity-based "
            "policy allows the kms:Decrypt action");
  Case deny;
  deny.resource = Resource(R"([{"Effect":"Deny","Principal":"*","Action":"kms:*","Resource":"*"}])");
  Status st = AccessDeniedStatus(ctx, deny.Run(ctx));
  EXPECT_EQ(st.type(), "AccessDeniedException");
  EXPECT_EQ(st.http_status(), 400);
  EXPECT_EQ(st.message(),
            "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: kms:Decrypt on resource: "
            "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab with an explicit deny in a "
            "resource-based policy");
  Case key;
  key.kind = ResourcePolicyKind::kKeyPolicy;
  key.identity = {Identity(kAllowKmsAll)};
  key.resource = Resource("[" + KeyPolicyGranting(R"({"AWS":"arn:aws:iam::111122223333:user/bob"})") + "]");
  EXPECT_NE(AccessDeniedMessage(ctx, key.Run(ctx)).find("because no resource-based policy allows the kms:Decrypt action"),
            std::string::npos);
  Case boundary;
  boundary.identity = {Identity(kAllowKmsAll)};
  boundary.boundary = Identity(R"({"Effect":"Deny","Action":"kms:*","Resource":"*"})");
  EXPECT_NE(AccessDeniedMessage(ctx, boundary.Run(ctx)).find("with an explicit deny in a permissions boundary"),
            std::string::npos);
  boundary.boundary = Identity(R"({"Effect":"Allow","Action":"s3:*","Resource":"*"})");
  EXPECT_NE(AccessDeniedMessage(ctx, boundary.Run(ctx)).find("because no permissions boundary allows the kms:Decrypt action"),
            std::string::npos);
  RequestContext session_ctx = Request(AppSession());
  Case session;
  session.identity = {Identity(kAllowKmsAll)};
  session.session = {Identity(R"({"Effect":"Allow","Action":"s3:*","Resource":"*"})")};
  EXPECT_EQ(AccessDeniedMessage(session_ctx, session.Run(session_ctx)),
            "User: arn:aws:sts::111122223333:assumed-role/app/session1 is not authorized to perform: kms:Decrypt on "
            "resource: arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab because no session "
            "policy allows the kms:Decrypt action");
  // No "on resource" for actions without one.
  RequestContext create(Alice(), "kms:CreateKey", "*");
  EXPECT_EQ(AccessDeniedMessage(create, none.Run(create)),
            "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: kms:CreateKey because no "
            "identity-based policy allows the kms:CreateKey action");
}

// Principal-derived keys (IAM UG > AWS global condition context keys): aws:PrincipalArn is the
// role ARN for a role session, aws:username is set for IAM users only.
TEST(Evaluate, PrincipalDerivedKeys) {
  RequestContext session = Request(AppSession());
  ASSERT_EQ(session.Find("aws:PrincipalArn").size(), 1u);
  EXPECT_EQ(session.Find("aws:PrincipalArn").front(), kRoleArn);
  EXPECT_EQ(session.Find("AWS:PRINCIPALACCOUNT").front(), "111122223333");
  EXPECT_EQ(session.Find("aws:PrincipalType").front(), "AssumedRole");
  EXPECT_EQ(session.Find("aws:userid").front(), "AROAAPPEXAMPLE000001:session1");
  EXPECT_TRUE(session.Find("aws:username").empty());
  RequestContext user = Request(Alice());
  EXPECT_EQ(user.Find("aws:username").front(), "alice");
  EXPECT_EQ(user.Find("aws:PrincipalType").front(), "User");
  RequestContext root = Request(Principal::Root("aws", kAccount));
  EXPECT_EQ(root.Find("aws:PrincipalType").front(), "Account");
  EXPECT_EQ(root.Find("aws:PrincipalArn").front(), "arn:aws:iam::111122223333:root");
}

// The decision names each allowing statement; more than kMaxMatched are counted as truncated.
TEST(Evaluate, MatchedStatementsOnAllow) {
  std::string statements = "[";
  for (int i = 0; i < 20; ++i) {
    if (i) statements += ",";
    statements += R"({"Sid":"S)" + std::to_string(i) + R"(","Effect":"Allow","Action":"kms:Decrypt","Resource":"*"})";
  }
  statements += "]";
  Case s;
  s.identity = {Identity(statements, "many")};
  Decision d = s.Run(Request(Alice()));
  EXPECT_TRUE(d.allowed());
  EXPECT_EQ(d.matched_count, Decision::kMaxMatched);
  EXPECT_TRUE(d.matched_truncated);
  EXPECT_EQ(d.matched_statements()[3].sid(), "S3");
}

// Compiled policies are immutable and shared: concurrent evaluation gives the same decisions.
TEST(Evaluate, ConcurrentEvaluation) {
  Case s;
  s.kind = ResourcePolicyKind::kKeyPolicy;
  s.identity = {Identity(kAllowDecrypt)};
  s.resource = Resource("[" + kRootStatement + R"(,{"Effect":"Deny","Principal":"*","Action":"kms:*","Resource":"*",
      "Condition":{"StringNotEquals":{"aws:RequestedRegion":"us-east-1"}}}])");
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        RequestContext ctx = Request(Alice());
        bool home = (i + t) % 2 == 0;
        ctx.Set("aws:RequestedRegion", home ? "us-east-1" : "eu-west-1");
        if (s.Run(ctx).allowed() != home) ++wrong;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
}  // namespace meridian::iam::policy
