// IamService / StsService over Query-shaped JSON: botocore's output shapes, scalars given as
// strings, AWS's error codes, the simulation API and ResourceFor.
#include "iam/iam_service.h"

#include "common/encoding.h"
#include "iam/iam_test_fixture.h"
#include "iam/simulate.h"

namespace meridian::iam {
namespace {

using testing::kAccount;

class IamServiceTest : public testing::IamFixture {};

std::string S(const rapidjson::Value& v) { return v.IsString() ? v.GetString() : "<not a string>"; }

TEST_F(IamServiceTest, CreateUserAnswersBotocoresUserShape) {
  rapidjson::Document out;
  ASSERT_TRUE(Iam("CreateUser", R"({"UserName":"bob","Path":"/eng/","Tags":[{"Key":"team","Value":"blue"}]})", &out).ok());
  const auto& u = out["User"];
  EXPECT_EQ(S(u["Path"]), "/eng/");
  EXPECT_EQ(S(u["UserName"]), "bob");
  EXPECT_EQ(S(u["UserId"]).substr(0, 4), "AIDA");
  EXPECT_EQ(S(u["Arn"]), "arn:aws:iam::111122223333:user/eng/bob");
  EXPECT_EQ(S(u["CreateDate"]), "2027-01-15T08:00:00Z");
  EXPECT_EQ(S(u["Tags"][0]["Key"]), "team");
  Status dup = Iam("CreateUser", R"({"UserName":"BOB"})");
  EXPECT_EQ(dup.type(), "EntityAlreadyExists");
  EXPECT_EQ(dup.http_status(), 409);
  Status missing = Iam("CreateUser", "{}");
  EXPECT_EQ(missing.type(), "ValidationError");
  EXPECT_NE(missing.message().find("'userName'"), std::string::npos) << missing.message();
  EXPECT_EQ(Iam("GetUser", R"({"UserName":"nobody"})").type(), "NoSuchEntity");
  EXPECT_FALSE(IamService::Knows("CreateKey"));
  EXPECT_TRUE(IamService::Knows("SimulatePrincipalPolicy"));
}

TEST_F(IamServiceTest, ListsPaginateWithMaxItemsAndMarker) {
  for (const char* n : {"a", "b", "c"}) ASSERT_TRUE(Iam("CreateUser", std::string(R"({"UserName":")") + n + "\"}").ok());
  rapidjson::Document out;
  ASSERT_TRUE(Iam("ListUsers", R"({"MaxItems":"2"})", &out).ok());
  ASSERT_EQ(out["Users"].Size(), 2u);
  EXPECT_TRUE(out["IsTruncated"].GetBool());
  const std::string marker = S(out["Marker"]);
  ASSERT_TRUE(Iam("ListUsers", R"({"MaxItems":2,"Marker":")" + marker + "\"}", &out).ok());
  ASSERT_EQ(out["Users"].Size(), 1u);
  EXPECT_EQ(S(out["Users"][0]["UserName"]), "c");
  EXPECT_FALSE(out["IsTruncated"].GetBool());
  EXPECT_FALSE(out.HasMember("Marker"));
  EXPECT_EQ(Iam("ListUsers", R"({"MaxItems":"0"})").type(), "ValidationError");
}

TEST_F(IamServiceTest, PolicyDocumentsComeBackUrlEncoded) {
  const std::string doc = R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Encrypt","Resource":"*"}]})";
  std::string escaped;
  for (char c : doc) {
    if (c == '"') escaped += '\\';
    escaped += c;
  }
  ASSERT_TRUE(Iam("CreateUser", R"({"UserName":"bob"})").ok());
  ASSERT_TRUE(Iam("PutUserPolicy", R"({"UserName":"bob","PolicyName":"enc","PolicyDocument":")" + escaped + "\"}").ok());
  rapidjson::Document out;
  ASSERT_TRUE(Iam("GetUserPolicy", R"({"UserName":"bob","PolicyName":"enc"})", &out).ok());
  EXPECT_EQ(S(out["UserName"]), "bob");
  EXPECT_EQ(S(out["PolicyName"]), "enc");
  EXPECT_EQ(UriDecode(S(out["PolicyDocument"])).value_or(""), doc);
  EXPECT_EQ(S(out["PolicyDocument"]).find('{'), std::string::npos);
  ASSERT_TRUE(Iam("ListUserPolicies", R"({"UserName":"bob"})", &out).ok());
  EXPECT_EQ(S(out["PolicyNames"][0]), "enc");

  // Managed policy: versions with "SetAsDefault" given as the Query string "true".
  ASSERT_TRUE(Iam("CreatePolicy", R"({"PolicyName":"p","PolicyDocument":")" + escaped + "\"}", &out).ok());
  const std::string arn = S(out["Policy"]["Arn"]);
  EXPECT_EQ(S(out["Policy"]["DefaultVersionId"]), "v1");
  EXPECT_EQ(out["Policy"]["AttachmentCount"].GetInt64(), 0);
  EXPECT_TRUE(out["Policy"]["IsAttachable"].GetBool());
  ASSERT_TRUE(Iam("CreatePolicyVersion", R"({"PolicyArn":")" + arn + R"(","PolicyDocument":")" + escaped +
                  R"(","SetAsDefault":"true"})", &out).ok());
  EXPECT_EQ(S(out["PolicyVersion"]["VersionId"]), "v2");
  EXPECT_TRUE(out["PolicyVersion"]["IsDefaultVersion"].GetBool());
  EXPECT_FALSE(out["PolicyVersion"].HasMember("Document"));
  ASSERT_TRUE(Iam("GetPolicyVersion", R"({"PolicyArn":")" + arn + R"(","VersionId":"v1"})", &out).ok());
  EXPECT_FALSE(out["PolicyVersion"]["IsDefaultVersion"].GetBool());
  EXPECT_EQ(UriDecode(S(out["PolicyVersion"]["Document"])).value_or(""), doc);
  ASSERT_TRUE(Iam("ListPolicyVersions", R"({"PolicyArn":")" + arn + "\"}", &out).ok());
  ASSERT_EQ(out["Versions"].Size(), 2u);
  EXPECT_EQ(S(out["Versions"][0]["VersionId"]), "v2");
  EXPECT_EQ(Iam("SetDefaultPolicyVersion", R"({"PolicyArn":")" + arn + R"(","VersionId":"v7"})").type(), "NoSuchEntity");
  EXPECT_EQ(Iam("CreatePolicy", R"({"PolicyName":"bad","PolicyDocument":"{\"Statement\":[]}"})").type(),
            "MalformedPolicyDocument");
  ASSERT_TRUE(Iam("AttachUserPolicy", R"({"UserName":"bob","PolicyArn":")" + arn + "\"}").ok());
  ASSERT_TRUE(Iam("ListAttachedUserPolicies", R"({"UserName":"bob"})", &out).ok());
  EXPECT_EQ(S(out["AttachedPolicies"][0]["PolicyName"]), "p");
  EXPECT_EQ(S(out["AttachedPolicies"][0]["PolicyArn"]), arn);
  EXPECT_EQ(Iam("DeleteUser", R"({"UserName":"bob"})").type(), "DeleteConflict");
}

TEST_F(IamServiceTest, RolesAccessKeysAndMfaShapes) {
  rapidjson::Document out;
  const std::string trust =
      R"({\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"ec2.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"}]})";
  ASSERT_TRUE(Iam("CreateRole", R"({"RoleName":"app","AssumeRolePolicyDocument":")" + trust +
                  R"(","MaxSessionDuration":"7200","Description":"d"})", &out).ok());
  EXPECT_EQ(S(out["Role"]["RoleId"]).substr(0, 4), "AROA");
  EXPECT_EQ(out["Role"]["MaxSessionDuration"].GetInt64(), 7200);
  EXPECT_NE(S(out["Role"]["AssumeRolePolicyDocument"]).find("%22"), std::string::npos);
  ASSERT_TRUE(Iam("TagRole", R"({"RoleName":"app","Tags":[{"Key":"k","Value":"v"}]})").ok());
  ASSERT_TRUE(Iam("ListRoleTags", R"({"RoleName":"app"})", &out).ok());
  EXPECT_EQ(S(out["Tags"][0]["Value"]), "v");
  ASSERT_TRUE(Iam("UntagRole", R"({"RoleName":"app","TagKeys":["k"]})").ok());
  ASSERT_TRUE(Iam("ListRoleTags", R"({"RoleName":"app"})", &out).ok());
  EXPECT_EQ(out["Tags"].Size(), 0u);

  ASSERT_TRUE(Iam("CreateUser", R"({"UserName":"bob"})").ok());
  ASSERT_TRUE(Iam("CreateAccessKey", R"({"UserName":"bob"})", &out).ok());
  const std::string id = S(out["AccessKey"]["AccessKeyId"]);
  EXPECT_EQ(S(out["AccessKey"]["Status"]), "Active");
  EXPECT_EQ(S(out["AccessKey"]["SecretAccessKey"]).size(), 40u);
  // The user's own key, with UserName omitted, acts on the user.
  Caller bob{kAccount, "arn:aws:iam::111122223333:user/bob", id};
  ASSERT_TRUE(Iam("ListAccessKeys", "{}", &out, &bob).ok());
  EXPECT_EQ(S(out["AccessKeyMetadata"][0]["AccessKeyId"]), id);
  ASSERT_TRUE(Iam("GetUser", "{}", &out, &bob).ok());
  EXPECT_EQ(S(out["User"]["UserName"]), "bob");
  ASSERT_TRUE(Iam("GetUser", "{}", &out).ok());  // root
  EXPECT_EQ(S(out["User"]["Arn"]), "arn:aws:iam::111122223333:root");
  ASSERT_TRUE(Iam("UpdateAccessKey", R"({"AccessKeyId":")" + id + R"(","Status":"Inactive"})", &out, &bob).ok());
  EXPECT_FALSE(credentials_->Lookup(id));

  ASSERT_TRUE(Iam("CreateVirtualMFADevice", R"({"VirtualMFADeviceName":"phone"})", &out).ok());
  EXPECT_EQ(S(out["VirtualMFADevice"]["SerialNumber"]), "arn:aws:iam::111122223333:mfa/phone");
  auto seed_text = Base64Decode(S(out["VirtualMFADevice"]["Base32StringSeed"]));
  ASSERT_TRUE(seed_text);
  EXPECT_EQ(seed_text->size(), 32u);  // 20 bytes in Base32
  ASSERT_TRUE(Iam("ListVirtualMFADevices", R"({"AssignmentStatus":"Unassigned"})", &out).ok());
  EXPECT_EQ(out["VirtualMFADevices"].Size(), 1u);
  EXPECT_EQ(Iam("EnableMFADevice", R"({"UserName":"bob","SerialNumber":"arn:aws:iam::111122223333:mfa/phone","AuthenticationCode1":"111111","AuthenticationCode2":"222222"})").type(),
            "InvalidAuthenticationCode");
}

TEST_F(IamServiceTest, GroupsAndMembership) {
  rapidjson::Document out;
  ASSERT_TRUE(Iam("CreateGroup", R"({"GroupName":"ops"})", &out).ok());
  EXPECT_EQ(S(out["Group"]["GroupId"]).substr(0, 4), "AGPA");
  ASSERT_TRUE(Iam("CreateUser", R"({"UserName":"bob"})").ok());
  ASSERT_TRUE(Iam("AddUserToGroup", R"({"GroupName":"ops","UserName":"bob"})").ok());
  ASSERT_TRUE(Iam("GetGroup", R"({"GroupName":"ops"})", &out).ok());
  ASSERT_EQ(out["Users"].Size(), 1u);
  EXPECT_EQ(S(out["Users"][0]["UserName"]), "bob");
  ASSERT_TRUE(Iam("ListGroupsForUser", R"({"UserName":"bob"})", &out).ok());
  EXPECT_EQ(S(out["Groups"][0]["GroupName"]), "ops");
  EXPECT_EQ(Iam("DeleteGroup", R"({"GroupName":"ops"})").type(), "DeleteConflict");
  ASSERT_TRUE(Iam("RemoveUserFromGroup", R"({"GroupName":"ops","UserName":"bob"})").ok());
  EXPECT_TRUE(Iam("DeleteGroup", R"({"GroupName":"ops"})").ok());
}

// IAM API Reference, SimulateCustomPolicy: EvaluationResults with EvalDecision, MatchedStatements
// (positions in the input document), MissingContextValues, the boundary detail; decided by the
// same evaluator as real requests.
TEST_F(IamServiceTest, SimulateCustomPolicyResultShape) {
  const std::string policy =
      R"({\"Version\":\"2012-10-17\",\"Statement\":[\n{\"Sid\":\"Enc\",\"Effect\":\"Allow\",\"Action\":\"kms:Encrypt\",\"Resource\":\"*\"},\n{\"Effect\":\"Deny\",\"Action\":\"kms:Decrypt\",\"Resource\":\"*\",\"Condition\":{\"Bool\":{\"aws:SecureTransport\":\"false\"}}}]})";
  const std::string boundary =
      R"({\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"kms:*\",\"Resource\":\"*\"}})";
  rapidjson::Document out;
  ASSERT_TRUE(Iam("SimulateCustomPolicy", R"({"PolicyInputList":[")" + policy + R"("],"PermissionsBoundaryPolicyInputList":[")" +
                  boundary + R"("],"ActionNames":["kms:Encrypt","kms:Decrypt","kms:Sign"],
                  "ContextEntries":[{"ContextKeyName":"aws:SecureTransport","ContextKeyValues":["false"],"ContextKeyType":"boolean"}]})",
                  &out).ok());
  const auto& results = out["EvaluationResults"];
  ASSERT_EQ(results.Size(), 3u);
  EXPECT_FALSE(out["IsTruncated"].GetBool());
  EXPECT_EQ(S(results[0]["EvalActionName"]), "kms:Encrypt");
  EXPECT_EQ(S(results[0]["EvalResourceName"]), "*");
  EXPECT_EQ(S(results[0]["EvalDecision"]), "allowed");
  // The identity policy's statement and the boundary's, each named by its input list position.
  ASSERT_EQ(results[0]["MatchedStatements"].Size(), 2u);
  const auto& m = results[0]["MatchedStatements"][0];
  EXPECT_EQ(S(results[0]["MatchedStatements"][1]["SourcePolicyId"]), "PermissionsBoundaryPolicyInputList.1");
  EXPECT_EQ(S(m["SourcePolicyId"]), "PolicyInputList.1");
  EXPECT_EQ(m["StartPosition"]["Line"].GetInt(), 2);
  EXPECT_EQ(m["StartPosition"]["Column"].GetInt(), 1);
  EXPECT_EQ(m["EndPosition"]["Line"].GetInt(), 2);
  EXPECT_TRUE(results[0]["PermissionsBoundaryDecisionDetail"]["AllowedByPermissionsBoundary"].GetBool());
  EXPECT_EQ(S(results[1]["EvalDecision"]), "explicitDeny");
  EXPECT_EQ(results[1]["MatchedStatements"][0]["StartPosition"]["Line"].GetInt(), 3);
  EXPECT_EQ(S(results[2]["EvalDecision"]), "implicitDeny");
  EXPECT_EQ(results[2]["MatchedStatements"].Size(), 0u);

  // Without the context entry the Deny's key is missing: the statement does not apply.
  ASSERT_TRUE(Iam("SimulateCustomPolicy", R"({"PolicyInputList":[")" + policy + R"("],"ActionNames":["kms:Decrypt"]})", &out).ok());
  EXPECT_EQ(S(out["EvaluationResults"][0]["EvalDecision"]), "implicitDeny");
  EXPECT_EQ(S(out["EvaluationResults"][0]["MissingContextValues"][0]), "aws:securetransport");
  EXPECT_EQ(Iam("SimulateCustomPolicy", R"({"ActionNames":["kms:Encrypt"]})").type(), "ValidationError");
  EXPECT_EQ(Iam("SimulateCustomPolicy", R"({"PolicyInputList":["{}"],"ActionNames":["kms:Encrypt"]})").type(),
            "MalformedPolicyDocument");
}

// Cross-account simulation: both sides must allow; EvalDecisionDetails (a map) says how each voted.
TEST_F(IamServiceTest, SimulateCrossAccountWithResourcePolicy) {
  const std::string identity =
      R"({\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"kms:Decrypt\",\"Resource\":\"*\"}})";
  const std::string resource =
      R"({\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::111122223333:user/bob\"},\"Action\":\"kms:Decrypt\",\"Resource\":\"*\"}})";
  rapidjson::Document out;
  ASSERT_TRUE(Iam("SimulateCustomPolicy", R"({"PolicyInputList":[")" + identity + R"("],"ResourcePolicy":")" + resource +
                  R"(","ResourceOwner":"arn:aws:iam::444455556666:root","CallerArn":"arn:aws:iam::111122223333:user/bob",
                  "ActionNames":["kms:Decrypt","kms:Encrypt"],"ResourceArns":["arn:aws:kms:us-east-1:444455556666:key/k"]})",
                  &out).ok());
  const auto& r = out["EvaluationResults"];
  EXPECT_EQ(S(r[0]["EvalDecision"]), "allowed");
  EXPECT_EQ(S(r[0]["EvalDecisionDetails"]["IAM Policy"]), "allowed");
  EXPECT_EQ(S(r[0]["EvalDecisionDetails"]["Resource Policy"]), "allowed");
  EXPECT_EQ(r[0]["MatchedStatements"].Size(), 2u);
  EXPECT_EQ(S(r[1]["EvalDecision"]), "implicitDeny");
}

TEST_F(IamServiceTest, SimulatePrincipalPolicyUsesTheUsersPolicies) {
  ASSERT_TRUE(Iam("CreateUser", R"({"UserName":"bob"})").ok());
  ASSERT_TRUE(Iam("CreateGroup", R"({"GroupName":"ops"})").ok());
  ASSERT_TRUE(Iam("AddUserToGroup", R"({"GroupName":"ops","UserName":"bob"})").ok());
  ASSERT_TRUE(Iam("PutGroupPolicy", R"({"GroupName":"ops","PolicyName":"g","PolicyDocument":"{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"kms:Sign\",\"Resource\":\"*\"}}"})").ok());
  rapidjson::Document out;
  ASSERT_TRUE(Iam("SimulatePrincipalPolicy", R"({"PolicySourceArn":"arn:aws:iam::111122223333:user/bob","ActionNames":["kms:Sign","kms:Verify"]})", &out).ok());
  EXPECT_EQ(S(out["EvaluationResults"][0]["EvalDecision"]), "allowed");
  EXPECT_EQ(S(out["EvaluationResults"][0]["MatchedStatements"][0]["SourcePolicyId"]), "g");
  EXPECT_EQ(S(out["EvaluationResults"][0]["MatchedStatements"][0]["SourcePolicyType"]), "group");
  EXPECT_EQ(S(out["EvaluationResults"][1]["EvalDecision"]), "implicitDeny");
  EXPECT_EQ(Iam("SimulatePrincipalPolicy", R"({"PolicySourceArn":"arn:aws:iam::111122223333:user/nobody","ActionNames":["kms:Sign"]})").type(),
            "NoSuchEntity");
}

// IAM User Guide, "AWS managed policies": attachable to users, groups and roles, listed with
// Scope=AWS, and "You cannot change the permissions defined in AWS managed policies" (IAM answers
// AccessDenied "Cannot ... policies outside your own account.").
TEST_F(IamServiceTest, AwsManagedPoliciesAreAttachableListedAndReadOnly) {
  const std::string kms_power = "arn:aws:iam::aws:policy/AWSKeyManagementServicePowerUser";
  rapidjson::Document out;
  ASSERT_TRUE(Iam("GetPolicy", R"({"PolicyArn":")" + kms_power + "\"}", &out).ok());
  EXPECT_EQ(S(out["Policy"]["PolicyName"]), "AWSKeyManagementServicePowerUser");
  EXPECT_EQ(S(out["Policy"]["DefaultVersionId"]), "v2");
  EXPECT_EQ(S(out["Policy"]["PolicyId"]).substr(0, 4), "ANPA");
  EXPECT_EQ(out["Policy"]["AttachmentCount"].GetInt64(), 0);
  ASSERT_TRUE(Iam("GetPolicyVersion", R"({"PolicyArn":")" + kms_power + R"(","VersionId":"v2"})", &out).ok());
  auto document = UriDecode(S(out["PolicyVersion"]["Document"]));
  ASSERT_TRUE(document.has_value());
  EXPECT_NE(document->find("\"kms:CreateKey\""), std::string::npos);
  EXPECT_TRUE(out["PolicyVersion"]["IsDefaultVersion"].GetBool());
  EXPECT_EQ(Iam("GetPolicy", R"({"PolicyArn":"arn:aws:iam::aws:policy/NoSuchManagedPolicy"})").type(), "NoSuchEntity");

  // Attach to a user, a group and a role; the count is the account's.
  ASSERT_TRUE(Iam("CreateUser", R"({"UserName":"bob"})").ok());
  ASSERT_TRUE(Iam("CreateGroup", R"({"GroupName":"ops"})").ok());
  ASSERT_TRUE(Iam("AttachUserPolicy", R"({"UserName":"bob","PolicyArn":")" + kms_power + "\"}").ok());
  ASSERT_TRUE(Iam("AttachGroupPolicy", R"({"GroupName":"ops","PolicyArn":")" + kms_power + "\"}").ok());
  ASSERT_TRUE(Iam("GetPolicy", R"({"PolicyArn":")" + kms_power + "\"}", &out).ok());
  EXPECT_EQ(out["Policy"]["AttachmentCount"].GetInt64(), 2);
  ASSERT_TRUE(Iam("ListAttachedUserPolicies", R"({"UserName":"bob"})", &out).ok());
  EXPECT_EQ(S(out["AttachedPolicies"][0]["PolicyArn"]), kms_power);

  // ListPolicies: Scope AWS / Local / All and OnlyAttached.
  ASSERT_TRUE(Iam("CreatePolicy", R"({"PolicyName":"mine","PolicyDocument":"{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"kms:Sign\",\"Resource\":\"*\"}}"})").ok());
  auto names = [&](const std::string& request) {
    rapidjson::Document list;
    EXPECT_TRUE(Iam("ListPolicies", request, &list).ok());
    std::vector<std::string> n;
    for (const auto& p : list["Policies"].GetArray()) n.push_back(p["PolicyName"].GetString());
    return n;
  };
  auto aws = names(R"({"Scope":"AWS"})");
  EXPECT_NE(std::find(aws.begin(), aws.end(), "AdministratorAccess"), aws.end());
  EXPECT_EQ(std::find(aws.begin(), aws.end(), "mine"), aws.end());
  EXPECT_EQ(names(R"({"Scope":"Local"})"), std::vector<std::string>{"mine"});
  EXPECT_EQ(names(R"({"Scope":"All"})").size(), aws.size() + 1);
  EXPECT_EQ(names(R"({"Scope":"AWS","OnlyAttached":"true"})"), std::vector<std::string>{"AWSKeyManagementServicePowerUser"});
  EXPECT_EQ(names(R"({"OnlyAttached":true})"), std::vector<std::string>{"AWSKeyManagementServicePowerUser"});

  // Read-only.
  Status st = Iam("DeletePolicy", R"({"PolicyArn":")" + kms_power + "\"}");
  EXPECT_EQ(st.type(), "AccessDenied");
  EXPECT_EQ(st.http_status(), 403);
  EXPECT_EQ(st.message(), "Cannot delete policies outside your own account.");
  EXPECT_EQ(Iam("CreatePolicyVersion", R"({"PolicyArn":")" + kms_power + R"(","PolicyDocument":"{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}}"})").message(),
            "Cannot create versions for policies outside your own account.");
  EXPECT_EQ(Iam("SetDefaultPolicyVersion", R"({"PolicyArn":")" + kms_power + R"(","VersionId":"v2"})").type(), "AccessDenied");
  EXPECT_EQ(Iam("DeletePolicyVersion", R"({"PolicyArn":")" + kms_power + R"(","VersionId":"v1"})").type(), "AccessDenied");
  ASSERT_TRUE(Iam("DetachUserPolicy", R"({"UserName":"bob","PolicyArn":")" + kms_power + "\"}").ok());
  ASSERT_TRUE(Iam("GetPolicy", R"({"PolicyArn":")" + kms_power + "\"}", &out).ok());
  EXPECT_EQ(out["Policy"]["AttachmentCount"].GetInt64(), 1);
}

// The attached AWS managed policy grants what its document says, through the real authorizer,
// and works as a permissions boundary.
TEST_F(IamServiceTest, AwsManagedPoliciesDecideRequests) {
  Caller bob = MakeUser("bob");
  EXPECT_FALSE(Allowed(bob, "kms:CreateKey"));
  ASSERT_TRUE(directory_->AttachPolicy(EntityKind::kUser, kAccount, "bob",
                                       "arn:aws:iam::aws:policy/AWSKeyManagementServicePowerUser").ok());
  EXPECT_TRUE(Allowed(bob, "kms:CreateKey"));
  EXPECT_TRUE(Allowed(bob, "kms:DescribeKey"));
  EXPECT_FALSE(Allowed(bob, "kms:Decrypt"));  // not in the policy
  ASSERT_TRUE(directory_->AttachPolicy(EntityKind::kUser, kAccount, "bob", "arn:aws:iam::aws:policy/PowerUserAccess").ok());
  EXPECT_TRUE(Allowed(bob, "kms:Decrypt"));       // NotAction iam:*, organizations:*, account:*
  EXPECT_FALSE(Allowed(bob, "iam:CreateUser"));   // excluded by NotAction
  EXPECT_TRUE(Allowed(bob, "iam:ListRoles"));     // the second statement
  ASSERT_TRUE(directory_->PutPermissionsBoundary(EntityKind::kUser, kAccount, "bob",
                                                 "arn:aws:iam::aws:policy/IAMReadOnlyAccess").ok());
  EXPECT_FALSE(Allowed(bob, "kms:Decrypt"));  // outside the boundary
  EXPECT_TRUE(Allowed(bob, "iam:ListRoles"));
  rapidjson::Document out;
  ASSERT_TRUE(Iam("GetPolicy", R"({"PolicyArn":"arn:aws:iam::aws:policy/IAMReadOnlyAccess"})", &out).ok());
  EXPECT_EQ(out["Policy"]["PermissionsBoundaryUsageCount"].GetInt64(), 1);
}

TEST_F(IamServiceTest, ResourceForNamesTheEntityItsPathAndOwner) {
  ASSERT_TRUE(Iam("CreateUser", R"({"UserName":"bob","Path":"/eng/"})").ok());
  auto resource_of = [&](std::string_view op, const char* json) {
    rapidjson::Document doc;
    doc.Parse(json);
    return iam_->ResourceFor(op, doc, root_);
  };
  auto r = resource_of("AttachUserPolicy", R"({"UserName":"bob","PolicyArn":"arn:aws:iam::111122223333:policy/p"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->arn, "arn:aws:iam::111122223333:user/eng/bob");
  EXPECT_EQ(r->account_id, kAccount);
  EXPECT_FALSE(r->policy);
  EXPECT_EQ(resource_of("CreateRole", R"({"RoleName":"r","Path":"/svc/"})")->arn, "arn:aws:iam::111122223333:role/svc/r");
  EXPECT_EQ(resource_of("AddUserToGroup", R"({"GroupName":"g","UserName":"bob"})")->arn, "arn:aws:iam::111122223333:group/g");
  EXPECT_EQ(resource_of("GetPolicy", R"({"PolicyArn":"arn:aws:iam::444455556666:policy/x"})")->account_id,
            testing::kOtherAccount);
  EXPECT_FALSE(resource_of("ListUsers", "{}"));

  // AssumeRole: the role with its compiled trust policy as a kRoleTrustPolicy resource policy.
  ASSERT_TRUE(directory_->CreateRole(kAccount, "app", "/",
      R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole"}]})",
      "", 3600, {}, "").ok());
  rapidjson::Document doc;
  doc.Parse(R"({"RoleArn":"arn:aws:iam::111122223333:role/app","RoleSessionName":"s","Tags":[{"Key":"a","Value":"b"}]})");
  auto assume = sts_->ResourceFor("AssumeRole", doc, root_);
  ASSERT_TRUE(assume);
  EXPECT_EQ(assume->policy_kind, policy::ResourcePolicyKind::kRoleTrustPolicy);
  ASSERT_TRUE(assume->policy);
  EXPECT_EQ(assume->policy->kind(), policy::PolicyKind::kTrust);
  EXPECT_NE(std::find(assume->context.begin(), assume->context.end(), std::make_pair(std::string("aws:RequestTag/a"), std::string("b"))),
            assume->context.end());
  EXPECT_FALSE(sts_->ResourceFor("GetCallerIdentity", doc, root_));
}

TEST(StatementSpans, FindsEachStatementObject) {
  auto spans = StatementSpans("{\"Statement\":[{\"a\":\"}\"},\n  {\"b\":{\"c\":1}}]}");
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans[0].start.line, 1);
  EXPECT_EQ(spans[0].start.column, 15);
  EXPECT_EQ(spans[0].end.column, 24);
  EXPECT_EQ(spans[1].start.line, 2);
  EXPECT_EQ(spans[1].start.column, 3);
  EXPECT_EQ(StatementSpans("{\"Statement\":{\"x\":1}}").size(), 1u);
  EXPECT_TRUE(StatementSpans("not json").empty());
}

}  // namespace
}  // namespace meridian::iam
