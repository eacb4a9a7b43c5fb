#include "iam/aws_managed_policies.h"

#include <algorithm>
#include <string>

#include "crypto/crypto.h"
#include "iam/directory_records.h"
#include "iam/totp.h"

namespace meridian::iam {
namespace {

// One shipped policy: its default version as AWS publishes it.
//
// Sources (fetched for this table; documents copied verbatim, whitespace removed):
//  - AWS Managed Policy Reference Guide, https://docs.aws.amazon.com/aws-managed-policy/latest/reference/<Name>.html
//    ("JSON policy document", "Policy version", "Creation time", "Description").
//  - The GetPolicyVersion output mirrored by github.com/zoph-io/MAMIP (policies/<Name>): VersionId
//    and CreateDate of the default version; AdministratorAccess (v1), whose reference page was not
//    in the stored corpus, and SecretsManagerReadWrite v6 (the reference page shows v5, whose
//    first statement is identical; v6 is the current default version).
// Not shipped: ReadOnlyAccess (its document lists thousands of actions and was not transcribed),
// and every other AWS managed policy.
struct Entry {
  const char* name;
  const char* description;  // "" when the reference page was not found
  int64_t create_date;      // the policy's creation, epoch seconds
  const char* version_id;
  int64_t version_date;     // the default version's CreateDate, epoch seconds
  const char* document;
};

constexpr Entry kPolicies[] = {
    {"AdministratorAccess", "", 1423247986, "v1", 1423247986,
     R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]})"},
    {"AWSKeyManagementServicePowerUser", "Provides access to AWS Key Management Service (KMS).", 1423248000, "v2",
     1488848111,
     R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kms:CreateAlias","kms:CreateKey",)"
     R"("kms:DeleteAlias","kms:Describe*","kms:GenerateRandom","kms:Get*","kms:List*","kms:TagResource",)"
     R"("kms:UntagResource","iam:ListGroups","iam:ListRoles","iam:ListUsers"],"Resource":"*"}]})"},
    {"IAMFullAccess", "Provides full access to IAM via the AWS Management Console.", 1423248000, "v2", 1561146000,
     R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:*","organizations:DescribeAccount",)"
     R"("organizations:DescribeOrganization","organizations:DescribeOrganizationalUnit","organizations:DescribePolicy",)"
     R"("organizations:ListChildren","organizations:ListParents","organizations:ListPoliciesForTarget",)"
     R"("organizations:ListRoots","organizations:ListPolicies","organizations:ListTargetsForPolicy"],"Resource":"*"}]})"},
    {"IAMReadOnlyAccess", "Provides read only access to IAM via the AWS Management Console.", 1423248000, "v4",
     1516907487,
     R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:GenerateCredentialReport",)"
     R"("iam:GenerateServiceLastAccessedDetails","iam:Get*","iam:List*","iam:SimulateCustomPolicy",)"
     R"("iam:SimulatePrincipalPolicy"],"Resource":"*"}]})"},
    {"PowerUserAccess",
     "Provides full access to AWS services and resources, but does not allow management of Users and groups.",
     1423247940, "v12", 1770919154,
     R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":["iam:*","organizations:*","account:*"],)"
     R"("Resource":"*"},{"Effect":"Allow","Action":["account:GetAccountInformation",)"
     R"("account:GetGovCloudAccountInformation","account:GetPrimaryEmail","account:ListRegions",)"
     R"("iam:CreateServiceLinkedRole","iam:DeleteServiceLinkedRole","iam:ListRoles",)"
     R"("organizations:DescribeEffectivePolicy","organizations:DescribeOrganization"],"Resource":"*"}]})"},
    {"SecretsManagerReadWrite",
     "Provides read/write access to AWS Secrets Manager via the AWS Management Console. Note: this exludes IAM "
     "actions, so combine with IAMFullAccess if rotation configuration is required.",
     1522865100, "v6", 1787701030,
     R"({"Version":"2012-10-17","Statement":[{"Sid":"BasePermissions","Effect":"Allow","Action":["secretsmanager:*",)"
     R"("cloudformation:CreateChangeSet","cloudformation:DescribeChangeSet","cloudformation:DescribeStackResource",)"
     R"("cloudformation:DescribeStacks","cloudformation:ExecuteChangeSet","docdb-elastic:GetCluster",)"
     R"("docdb-elastic:ListClusters","ec2:DescribeSecurityGroups","ec2:DescribeSubnets","ec2:DescribeVpcs",)"
     R"("kms:DescribeKey","kms:ListAliases","kms:ListKeys","lambda:ListFunctions","rds:DescribeDBClusters",)"
     R"("rds:DescribeDBInstances","redshift:DescribeClusters","redshift-serverless:ListWorkgroups",)"
     R"("redshift-serverless:GetNamespace","tag:GetResources"],"Resource":"*"},)"
     R"({"Sid":"LambdaPermissions","Effect":"Allow","Action":["lambda:AddPermission","lambda:CreateFunction",)"
     R"("lambda:GetFunction","lambda:InvokeFunction","lambda:UpdateFunctionConfiguration"],)"
     R"("Resource":"arn:aws:lambda:*:*:function:SecretsManager*"},)"
     R"({"Sid":"SARPermissions","Effect":"Allow","Action":["serverlessrepo:CreateCloudFormationChangeSet",)"
     R"("serverlessrepo:GetApplication"],"Resource":"arn:aws:serverlessrepo:*:*:applications/SecretsManager*"},)"
     R"({"Sid":"S3Permissions","Effect":"Allow","Action":["s3:GetObject"],)"
     R"("Resource":["arn:aws:s3:::awsserverlessrepo-changesets*","arn:aws:s3:::secrets-manager-rotation-apps-*/*"]},)"
     R"({"Sid":"CloudFormationTagOnCreate","Effect":"Allow","Action":["cloudformation:TagResource",)"
     R"("cloudformation:UntagResource"],"Resource":"*","Condition":{"StringEquals":)"
     R"({"cloudformation:CreateAction":["CreateChangeSet","ExecuteChangeSet"]}}}]})"},
};

std::string StableId(std::string_view name) {
  const std::string seed = "aws-managed-policy:" + std::string(name);
  auto digest = crypto::Sha256(ByteView(reinterpret_cast<const uint8_t*>(seed.data()), seed.size()));
  return "ANPA" + Base32Encode(ByteView(digest.data(), 11)).substr(0, 17);
}

ManagedPolicy Make(const Entry& e, std::string_view partition) {
  ManagedPolicy p;
  p.account_id = "aws";
  p.name = e.name;
  p.path = "/";
  p.id = StableId(e.name);
  p.arn = "arn:" + std::string(partition) + ":iam::aws:policy/" + e.name;
  p.description = e.description;
  p.default_version_id = e.version_id;
  p.versions.push_back({e.version_id, e.document, e.version_date});
  p.create_date = e.create_date;
  p.update_date = e.version_date;
  return p;
}

}  // namespace

bool IsAwsManagedPolicyArn(std::string_view arn) {
  auto parsed = records::ParseIamArn(arn);
  return parsed && parsed->type == "policy" && parsed->account == "aws";
}

std::optional<ManagedPolicy> FindAwsManagedPolicy(std::string_view arn) {
  auto parsed = records::ParseIamArn(arn);
  if (!parsed || parsed->type != "policy" || parsed->account != "aws" || parsed->path != "/") return std::nullopt;
  for (const Entry& e : kPolicies)
    if (parsed->name == e.name) return Make(e, parsed->partition);
  return std::nullopt;
}

std::vector<ManagedPolicy> AwsManagedPolicies(std::string_view partition) {
  std::vector<ManagedPolicy> out;
  for (const Entry& e : kPolicies) out.push_back(Make(e, partition));
  std::sort(out.begin(), out.end(), [](const ManagedPolicy& a, const ManagedPolicy& b) { return a.name < b.name; });
  return out;
}

}  // namespace meridian::iam
