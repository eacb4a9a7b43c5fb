// Directory: CRUD of users, groups, roles and managed policies with IAM's errors, access key
// lifecycle against the CredentialStore, virtual MFA devices, and secrets never stored in clear.
#include "iam/directory.h"

#include <fstream>
#include <iterator>

#include "common/encoding.h"
#include "iam/iam_test_fixture.h"
#include "iam/totp.h"

namespace meridian::iam {
namespace {

using testing::kAccount;

constexpr const char* kAllowKms = R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]})";
constexpr const char* kTrustAccount =
    R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole"}]})";

class DirectoryTest : public testing::IamFixture {};

TEST_F(DirectoryTest, UsersAreCreatedListedAndUniqueWithoutRegardToCase) {
  auto bob = directory_->CreateUser(kAccount, "bob", "/eng/", {{"team", "blue"}}, "");
  ASSERT_TRUE(bob.ok()) << bob.status().ToString();
  EXPECT_EQ(bob->arn, "arn:aws:iam::111122223333:user/eng/bob");
  EXPECT_EQ(bob->id.substr(0, 4), "AIDA");
  EXPECT_EQ(bob->id.size(), 21u);
  EXPECT_EQ(bob->create_date, testing::kT0);
  auto dup = directory_->CreateUser(kAccount, "BOB", "/", {}, "");
  EXPECT_EQ(dup.status().type(), "EntityAlreadyExists");
  EXPECT_EQ(dup.status().http_status(), 409);
  ASSERT_TRUE(directory_->CreateUser(kAccount, "alice", "/", {}, "").ok());
  auto all = directory_->List(EntityKind::kUser, kAccount);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].name, "alice");
  auto eng = directory_->List(EntityKind::kUser, kAccount, "/eng/");
  ASSERT_EQ(eng->size(), 1u);
  EXPECT_EQ((*eng)[0].tags[0].value, "blue");
  // Another account does not see them.
  EXPECT_TRUE(directory_->List(EntityKind::kUser, testing::kOtherAccount)->empty());
  EXPECT_EQ(directory_->Get(EntityKind::kUser, kAccount, "carol").status().type(), "NoSuchEntity");
  EXPECT_EQ(directory_->Get(EntityKind::kUser, kAccount, "carol").status().http_status(), 404);
}

TEST_F(DirectoryTest, NamesAndPathsAreValidated) {
  EXPECT_EQ(directory_->CreateUser(kAccount, "bad name", "/", {}, "").status().type(), "ValidationError");
  EXPECT_EQ(directory_->CreateUser(kAccount, std::string(65, 'a'), "/", {}, "").status().type(), "ValidationError");
  EXPECT_EQ(directory_->CreateUser(kAccount, "ok", "no-slash", {}, "").status().type(), "ValidationError");
  EXPECT_EQ(directory_->CreateRole(kAccount, "r", "/", kTrustAccount, "", 100, {}, "").status().type(),
            "ValidationError");
  EXPECT_EQ(directory_->CreateUser(kAccount, "t", "/", {{"k", "1"}, {"K", "2"}}, "").status().type(), "InvalidInput");
}

TEST_F(DirectoryTest, MalformedPoliciesAreRejectedWithIamsCode) {
  ASSERT_TRUE(directory_->CreateUser(kAccount, "bob", "/", {}, "").ok());
  Status st = directory_->PutInlinePolicy(EntityKind::kUser, kAccount, "bob", "p",
                                          R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Resource":"*"}]})");
  EXPECT_EQ(st.type(), "MalformedPolicyDocument");
  EXPECT_EQ(st.http_status(), 400);
  EXPECT_NE(st.message().find("Action"), std::string::npos) << st.message();
  // An identity policy may not name a Principal; a trust policy must.
  EXPECT_EQ(directory_->CreatePolicy(kAccount, "p", "/",
                                     R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]})",
                                     "", {})
                .status()
                .type(),
            "MalformedPolicyDocument");
  EXPECT_EQ(directory_->CreateRole(kAccount, "r", "/", kAllowKms, "", 3600, {}, "").status().type(),
            "MalformedPolicyDocument");
  // "In IAM, the Sid value must be unique within a JSON policy" (IAM User Guide, Sid element).
  st = directory_->PutInlinePolicy(EntityKind::kUser, kAccount, "bob", "dup",
                                   R"({"Version":"2012-10-17","Statement":[{"Sid":"S1","Effect":"Allow","Action":"kms:Encrypt","Resource":"*"},)"
                                   R"({"Sid":"S1","Effect":"Allow","Action":"kms:Decrypt","Resource":"*"}]})");
  EXPECT_EQ(st.type(), "MalformedPolicyDocument");
  EXPECT_EQ(st.message().rfind("Statement IDs (SID) in a single policy must be unique.", 0), 0u) << st.message();
}

TEST_F(DirectoryTest, DeleteUserConflictsUntilKeysPoliciesAndGroupsAreGone) {
  ASSERT_TRUE(directory_->CreateUser(kAccount, "bob", "/", {}, "").ok());
  ASSERT_TRUE(directory_->CreateGroup(kAccount, "devs", "/").ok());
  auto key = directory_->CreateAccessKey(kAccount, "bob");
  ASSERT_TRUE(key.ok());
  ASSERT_TRUE(directory_->PutInlinePolicy(EntityKind::kUser, kAccount, "bob", "kms", kAllowKms).ok());
  ASSERT_TRUE(directory_->AddUserToGroup(kAccount, "devs", "bob").ok());
  auto managed = directory_->CreatePolicy(kAccount, "m", "/", kAllowKms, "", {});
  ASSERT_TRUE(directory_->AttachPolicy(EntityKind::kUser, kAccount, "bob", managed->arn).ok());

  auto expect_conflict = [&](const char* what) {
    Status st = directory_->Delete(EntityKind::kUser, kAccount, "bob");
    EXPECT_EQ(st.type(), "DeleteConflict") << what;
    EXPECT_EQ(st.http_status(), 409);
    EXPECT_NE(st.message().find(what), std::string::npos) << st.message();
  };
  expect_conflict("access keys");
  ASSERT_TRUE(directory_->DeleteAccessKey(kAccount, "bob", key->metadata.access_key_id).ok());
  expect_conflict("remove users from group");
  // The group cannot go while it has a member either.
  EXPECT_EQ(directory_->Delete(EntityKind::kGroup, kAccount, "devs").type(), "DeleteConflict");
  ASSERT_TRUE(directory_->RemoveUserFromGroup(kAccount, "devs", "bob").ok());
  expect_conflict("delete policies");
  ASSERT_TRUE(directory_->DeleteInlinePolicy(EntityKind::kUser, kAccount, "bob", "kms").ok());
  expect_conflict("detach all policies");
  // The attached policy cannot be deleted either.
  EXPECT_EQ(directory_->DeletePolicy(managed->arn).type(), "DeleteConflict");
  ASSERT_TRUE(directory_->DetachPolicy(EntityKind::kUser, kAccount, "bob", managed->arn).ok());
  EXPECT_TRUE(directory_->Delete(EntityKind::kUser, kAccount, "bob").ok());
  EXPECT_TRUE(directory_->Delete(EntityKind::kGroup, kAccount, "devs").ok());
  EXPECT_TRUE(directory_->DeletePolicy(managed->arn).ok());
  EXPECT_EQ(directory_->GetPolicy(managed->arn).status().type(), "NoSuchEntity");
}

TEST_F(DirectoryTest, ManagedPolicyVersionsFollowIamRules) {
  auto p = directory_->CreatePolicy(kAccount, "kms-use", "/team/", kAllowKms, "for apps", {});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->arn, "arn:aws:iam::111122223333:policy/team/kms-use");
  EXPECT_EQ(p->default_version_id, "v1");
  EXPECT_EQ(directory_->CreatePolicy(kAccount, "KMS-USE", "/", kAllowKms, "", {}).status().type(), "EntityAlreadyExists");
  for (int i = 2; i <= 5; ++i) {
    auto v = directory_->CreatePolicyVersion(p->arn, kAllowKms, i == 3);
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    EXPECT_EQ(v->version_id, "v" + std::to_string(i));
  }
  auto sixth = directory_->CreatePolicyVersion(p->arn, kAllowKms, false);
  EXPECT_EQ(sixth.status().type(), "LimitExceeded");
  EXPECT_EQ(directory_->GetPolicy(p->arn)->default_version_id, "v3");
  EXPECT_EQ(directory_->DeletePolicyVersion(p->arn, "v3").type(), "DeleteConflict");  // the default
  EXPECT_EQ(directory_->DeletePolicyVersion(p->arn, "v9").type(), "NoSuchEntity");
  ASSERT_TRUE(directory_->DeletePolicyVersion(p->arn, "v1").ok());
  // Version numbers are never reused.
  EXPECT_EQ(directory_->CreatePolicyVersion(p->arn, kAllowKms, false)->version_id, "v6");
  ASSERT_TRUE(directory_->SetDefaultPolicyVersion(p->arn, "v6").ok());
  EXPECT_EQ(directory_->SetDefaultPolicyVersion(p->arn, "v1").type(), "NoSuchEntity");
  // Deleting needs the non-default versions gone first.
  EXPECT_EQ(directory_->DeletePolicy(p->arn).type(), "DeleteConflict");
  for (const char* v : {"v2", "v3", "v4", "v5"}) ASSERT_TRUE(directory_->DeletePolicyVersion(p->arn, v).ok()) << v;
  EXPECT_TRUE(directory_->DeletePolicy(p->arn).ok());
  EXPECT_EQ(directory_->CreatePolicyVersion(p->arn, kAllowKms, false).status().type(), "NoSuchEntity");
}

TEST_F(DirectoryTest, AttachmentQuotasAndBoundaryUsage) {
  ASSERT_TRUE(directory_->CreateRole(kAccount, "app", "/", kTrustAccount, "", 7200, {}, "").ok());
  std::vector<std::string> arns;
  for (int i = 0; i < 11; ++i) arns.push_back(directory_->CreatePolicy(kAccount, "p" + std::to_string(i), "/", kAllowKms, "", {})->arn);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(directory_->AttachPolicy(EntityKind::kRole, kAccount, "app", arns[i]).ok());
  EXPECT_EQ(directory_->AttachPolicy(EntityKind::kRole, kAccount, "app", arns[10]).type(), "LimitExceeded");
  EXPECT_EQ(directory_->GetPolicy(arns[0])->attachment_count, 1);
  EXPECT_EQ(directory_->AttachPolicy(EntityKind::kRole, kAccount, "app", "arn:aws:iam::111122223333:policy/nope").type(),
            "NoSuchEntity");
  ASSERT_TRUE(directory_->PutPermissionsBoundary(EntityKind::kRole, kAccount, "app", arns[10]).ok());
  EXPECT_EQ(directory_->GetPolicy(arns[10])->boundary_usage_count, 1);
  EXPECT_EQ(directory_->DeletePolicy(arns[10]).type(), "DeleteConflict");
  ASSERT_TRUE(directory_->DeletePermissionsBoundary(EntityKind::kRole, kAccount, "app").ok());
  EXPECT_EQ(directory_->GetPolicy(arns[10])->boundary_usage_count, 0);
  EXPECT_EQ(directory_->PutPermissionsBoundary(EntityKind::kRole, kAccount, "app", "arn:aws:iam::111122223333:policy/nope").type(),
            "NoSuchEntity");
}

TEST_F(DirectoryTest, AccessKeyLifecycleTakesEffectAtOnce) {
  ASSERT_TRUE(directory_->CreateUser(kAccount, "bob", "/", {}, "").ok());
  auto k1 = directory_->CreateAccessKey(kAccount, "bob");
  ASSERT_TRUE(k1.ok());
  EXPECT_EQ(k1->metadata.access_key_id.substr(0, 4), "AKIA");
  EXPECT_EQ(k1->secret_access_key.size(), 40u);
  auto found = credentials_->Lookup(k1->metadata.access_key_id);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->principal_arn, "arn:aws:iam::111122223333:user/bob");
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(found->secret_access_key.data()), found->secret_access_key.size()),
            k1->secret_access_key);
  auto k2 = directory_->CreateAccessKey(kAccount, "bob");
  ASSERT_TRUE(k2.ok());
  EXPECT_EQ(directory_->CreateAccessKey(kAccount, "bob").status().type(), "LimitExceeded");  // at most two

  ASSERT_TRUE(directory_->UpdateAccessKey(kAccount, "bob", k1->metadata.access_key_id, "Inactive").ok());
  EXPECT_FALSE(credentials_->Lookup(k1->metadata.access_key_id));  // stops authenticating at once
  EXPECT_FALSE(directory_->IdentityFor(k1->metadata.access_key_id));
  auto listed = directory_->ListAccessKeys(kAccount, "bob");
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].status, "Inactive");
  ASSERT_TRUE(directory_->UpdateAccessKey(kAccount, "bob", k1->metadata.access_key_id, "Active").ok());
  EXPECT_TRUE(credentials_->Lookup(k1->metadata.access_key_id));
  EXPECT_EQ(directory_->UpdateAccessKey(kAccount, "bob", k1->metadata.access_key_id, "Paused").type(), "ValidationError");

  ASSERT_TRUE(directory_->DeleteAccessKey(kAccount, "bob", k2->metadata.access_key_id).ok());
  EXPECT_FALSE(credentials_->Lookup(k2->metadata.access_key_id));
  EXPECT_EQ(directory_->DeleteAccessKey(kAccount, "bob", k2->metadata.access_key_id).type(), "NoSuchEntity");
  // Another user's key is not bob's to change.
  ASSERT_TRUE(directory_->CreateUser(kAccount, "eve", "/", {}, "").ok());
  EXPECT_EQ(directory_->UpdateAccessKey(kAccount, "eve", k1->metadata.access_key_id, "Inactive").type(), "NoSuchEntity");
}

TEST_F(DirectoryTest, VirtualMfaDeviceNeedsTwoConsecutiveCodes) {
  ASSERT_TRUE(directory_->CreateUser(kAccount, "bob", "/", {}, "").ok());
  auto device = directory_->CreateVirtualMfaDevice(kAccount, "bob-phone", "/", {});
  ASSERT_TRUE(device.ok()) << device.status().ToString();
  EXPECT_EQ(device->device.serial_number, "arn:aws:iam::111122223333:mfa/bob-phone");
  auto seed = Base32Decode(device->base32_seed);
  ASSERT_TRUE(seed);
  EXPECT_EQ(seed->size(), 20u);
  EXPECT_EQ(directory_->CreateVirtualMfaDevice(kAccount, "BOB-PHONE", "/", {}).status().type(), "EntityAlreadyExists");

  const int64_t now = clock_.NowSeconds();
  const std::string previous = TotpCode(*seed, now - 30), current = TotpCode(*seed, now);
  // Not consecutive, or reversed: refused.
  EXPECT_EQ(directory_->EnableMfaDevice(kAccount, "bob", device->device.serial_number, current, previous).type(),
            "InvalidAuthenticationCode");
  EXPECT_EQ(directory_->EnableMfaDevice(kAccount, "bob", device->device.serial_number, "12345", current).type(),
            "ValidationError");
  ASSERT_TRUE(directory_->EnableMfaDevice(kAccount, "bob", device->device.serial_number, previous, current).ok());
  EXPECT_EQ(directory_->EnableMfaDevice(kAccount, "bob", device->device.serial_number, previous, current).type(),
            "EntityAlreadyExists");
  auto listed = directory_->ListMfaDevices(kAccount, "bob");
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].enable_date, now);

  EXPECT_TRUE(directory_->VerifyMfaCode(device->device.serial_number, "bob", TotpCode(*seed, now)).ok());
  Status wrong = directory_->VerifyMfaCode(device->device.serial_number, "bob", TotpCode(*seed, now - 300));
  EXPECT_EQ(wrong.type(), "AccessDenied");
  EXPECT_NE(wrong.message().find("invalid MFA one time pass code"), std::string::npos);
  EXPECT_EQ(directory_->VerifyMfaCode(device->device.serial_number, "alice", TotpCode(*seed, now)).type(), "AccessDenied");

  // Deleting the user waits for the device; deactivating frees both.
  EXPECT_EQ(directory_->Delete(EntityKind::kUser, kAccount, "bob").type(), "DeleteConflict");
  ASSERT_TRUE(directory_->DeactivateMfaDevice(kAccount, "bob", device->device.serial_number).ok());
  EXPECT_EQ(directory_->VerifyMfaCode(device->device.serial_number, "bob", TotpCode(*seed, now)).type(), "AccessDenied");
  EXPECT_TRUE(directory_->DeleteVirtualMfaDevice(device->device.serial_number).ok());
  EXPECT_TRUE(directory_->Delete(EntityKind::kUser, kAccount, "bob").ok());
}

TEST_F(DirectoryTest, SecretsNeverReachStorageInTheClear) {
  ASSERT_TRUE(directory_->CreateUser(kAccount, "bob", "/", {}, "").ok());
  auto key = directory_->CreateAccessKey(kAccount, "bob");
  auto device = directory_->CreateVirtualMfaDevice(kAccount, "phone", "/", {});
  ASSERT_TRUE(directory_->CreateRole(kAccount, "app", "/", kTrustAccount, "", 3600, {}, "").ok());
  auto role = directory_->Get(EntityKind::kRole, kAccount, "app");
  RoleSessionSpec spec;
  spec.session_name = "s1";
  auto session = directory_->CreateRoleSession(*role, spec);
  ASSERT_TRUE(key.ok() && device.ok() && session.ok());
  const std::string seed_raw = [&] {
    auto b = Base32Decode(device->base32_seed);
    return std::string(b->begin(), b->end());
  }();
  const std::vector<std::string> secrets = {key->secret_access_key, device->base32_seed, seed_raw,
                                            Base64Encode(AsBytes(seed_raw)), session->secret_access_key,
                                            session->session_token};
  storage_.reset();
  directory_.reset();
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (const auto& s : secrets) EXPECT_EQ(content.find(s), std::string::npos) << entry.path();
  }
}

}  // namespace
}  // namespace meridian::iam
