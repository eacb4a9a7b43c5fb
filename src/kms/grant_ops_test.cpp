// The grant operations through KmsService (CreateGrant, ListGrants, ListRetirableGrants,
// RetireGrant, RevokeGrant): validation and errors with AWS's names, Name idempotence, paging,
// who may retire (KmsService::ResourceFor), the grant cache and its invalidation, key
// destruction. Authorization decisions with the real authorizer are in grant_authorization_test.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "kms/grant_test_fixture.h"
#include "storage/schema.h"

namespace meridian::kms {
namespace {

constexpr int64_t kDay = 86400LL * 1000;

class GrantOpsTest : public testing::GrantFixture {};

TEST_F(GrantOpsTest, CreateListRetireRevoke) {
  const std::string key = CreateKey();
  auto [id, token] = CreateGrant(key, alice_, "[\"Decrypt\",\"Encrypt\"]",
                                 ",\"RetiringPrincipal\":\"" + bob_ +
                                     "\",\"Constraints\":{\"EncryptionContextSubset\":{\"tenant\":\"acme\"}}");
  EXPECT_EQ(id.size(), 64u);
  EXPECT_FALSE(token.empty());
  rapidjson::Document r;
  ASSERT_TRUE(Call("ListGrants", "{\"KeyId\":\"" + key + "\"}", &r).ok());
  ASSERT_EQ(r["Grants"].Size(), 1u);
  const auto& g = r["Grants"][0];
  EXPECT_STREQ(g["GrantId"].GetString(), id.c_str());
  EXPECT_STREQ(g["GranteePrincipal"].GetString(), alice_.c_str());
  EXPECT_STREQ(g["RetiringPrincipal"].GetString(), bob_.c_str());
  EXPECT_STREQ(g["IssuingAccount"].GetString(), "arn:aws:iam::111122223333:root");
  EXPECT_STREQ(g["KeyId"].GetString(), ("arn:aws:kms:us-east-1:111122223333:key/" + key).c_str());
  EXPECT_STREQ(g["Name"].GetString(), "");
  ASSERT_EQ(g["Operations"].Size(), 2u);
  EXPECT_STREQ(g["Operations"][0].GetString(), "Decrypt");
  EXPECT_STREQ(g["Operations"][1].GetString(), "Encrypt");
  EXPECT_STREQ(g["Constraints"]["EncryptionContextSubset"]["tenant"].GetString(), "acme");
  EXPECT_DOUBLE_EQ(g["CreationDate"].GetDouble(), 1'700'000'000.0);
  EXPECT_FALSE(r["Truncated"].GetBool());

  ASSERT_TRUE(Call("ListRetirableGrants", "{\"RetiringPrincipal\":\"" + bob_ + "\"}", &r).ok());
  ASSERT_EQ(r["Grants"].Size(), 1u);
  ASSERT_TRUE(Call("ListRetirableGrants", "{\"RetiringPrincipal\":\"" + alice_ + "\"}", &r).ok());
  EXPECT_EQ(r["Grants"].Size(), 0u);

  // Retire by token; then the grant is gone for every way of naming it.
  ASSERT_TRUE(Call("RetireGrant", "{\"GrantToken\":\"" + token + "\"}").ok());
  EXPECT_EQ(Call("RetireGrant", "{\"GrantToken\":\"" + token + "\"}").type(), "NotFoundException");
  EXPECT_EQ(Call("RevokeGrant", "{\"KeyId\":\"" + key + "\",\"GrantId\":\"" + id + "\"}").type(), "NotFoundException");
  ASSERT_TRUE(Call("ListGrants", "{\"KeyId\":\"" + key + "\"}", &r).ok());
  EXPECT_EQ(r["Grants"].Size(), 0u);

  // Revoke by key and grant id; retire by key and grant id.
  auto [id2, token2] = CreateGrant(key, alice_, "[\"DescribeKey\"]");
  ASSERT_TRUE(Call("RevokeGrant", "{\"KeyId\":\"" + key + "\",\"GrantId\":\"" + id2 + "\"}").ok());
  auto [id3, token3] = CreateGrant(key, alice_, "[\"DescribeKey\"]");
  ASSERT_TRUE(Call("RetireGrant", "{\"KeyId\":\"" + key + "\",\"GrantId\":\"" + id3 + "\"}").ok());
  ASSERT_TRUE(Call("ListGrants", "{\"KeyId\":\"" + key + "\"}", &r).ok());
  EXPECT_EQ(r["Grants"].Size(), 0u);
}

// CreateGrant, Name: "When this value is present, you can retry a CreateGrant request with
// identical parameters; if the grant already exists, the original GrantId is returned without
// creating a new grant. Note that the returned grant token is unique with every CreateGrant
// request ... All grant tokens for the same grant ID can be used interchangeably."
TEST_F(GrantOpsTest, NameMakesRetriesIdempotent) {
  const std::string key = CreateKey();
  const std::string named = ",\"Name\":\"nightly-job\"";
  auto [id1, token1] = CreateGrant(key, alice_, "[\"Decrypt\",\"Encrypt\"]", named);
  auto [id2, token2] = CreateGrant(key, alice_, "[\"Encrypt\",\"Decrypt\"]", named);  // same set
  EXPECT_EQ(id1, id2);
  EXPECT_NE(token1, token2);
  // Different parameters, or no name: a new grant.
  auto [id3, token3] = CreateGrant(key, alice_, "[\"Decrypt\"]", named);
  auto [id4, token4] = CreateGrant(key, alice_, "[\"Decrypt\",\"Encrypt\"]");
  auto [id5, token5] = CreateGrant(key, alice_, "[\"Decrypt\",\"Encrypt\"]");
  EXPECT_NE(id3, id1);
  EXPECT_NE(id4, id1);
  EXPECT_NE(id4, id5);
  rapidjson::Document r;
  ASSERT_TRUE(Call("ListGrants", "{\"KeyId\":\"" + key + "\"}", &r).ok());
  EXPECT_EQ(r["Grants"].Size(), 4u);
  // Either token retires the grant.
  ASSERT_TRUE(Call("RetireGrant", "{\"GrantToken\":\"" + token1 + "\"}").ok());
  EXPECT_EQ(Call("RetireGrant", "{\"GrantToken\":\"" + token2 + "\"}").type(), "NotFoundException");
}

TEST_F(GrantOpsTest, ValidationErrorsUseAwsNames) {
  const std::string key = CreateKey();
  const std::string prefix = "{\"KeyId\":\"" + key + "\",";
  auto create = [&](const std::string& rest) { return Call("CreateGrant", prefix + rest + "}").type(); };
  EXPECT_EQ(create("\"Operations\":[\"Decrypt\"]"), "ValidationException");  // no grantee
  EXPECT_EQ(create("\"GranteePrincipal\":\"" + alice_ + "\""), "ValidationException");  // no operations
  EXPECT_EQ(create("\"GranteePrincipal\":\"" + alice_ + "\",\"Operations\":[]"), "ValidationException");
  EXPECT_EQ(create("\"GranteePrincipal\":\"" + alice_ + "\",\"Operations\":[\"Launch\"]"), "ValidationException");
  // Operations the key type does not support (CreateGrant, Operations: "you cannot create a
  // grant for a symmetric encryption KMS key that allows the Sign operation").
  EXPECT_EQ(create("\"GranteePrincipal\":\"" + alice_ + "\",\"Operations\":[\"Sign\"]"), "ValidationException");
  EXPECT_EQ(create("\"GranteePrincipal\":\"" + alice_ + "\",\"Operations\":[\"Decrypt\",\"GenerateMac\"]"),
            "ValidationException");
  EXPECT_EQ(create("\"GranteePrincipal\":\"alice smith\",\"Operations\":[\"Decrypt\"]"), "ValidationException");
  EXPECT_EQ(create("\"GranteePrincipal\":\"arn:aws:s3:::bucket\",\"Operations\":[\"Decrypt\"]"),
            "InvalidArnException");
  EXPECT_EQ(create("\"GranteePrincipal\":\"" + alice_ + "\",\"RetiringPrincipal\":\"bob\",\"Operations\":[\"Decrypt\"]"),
            "InvalidArnException");
  EXPECT_EQ(create("\"GranteePrincipal\":\"" + alice_ + "\",\"Operations\":[\"Decrypt\"],\"Name\":\"a b\""),
            "ValidationException");
  // One constraint type per grant (kms:GrantConstraintType is single-valued).
  EXPECT_EQ(create("\"GranteePrincipal\":\"" + alice_ +
                   "\",\"Operations\":[\"Decrypt\"],\"Constraints\":{\"EncryptionContextSubset\":{\"a\":\"1\"},"
                   "\"EncryptionContextEquals\":{\"a\":\"1\"}}"),
            "ValidationException");
  // "Each constraint value can include up to 8 encryption context pairs. The encryption context
  // value in each constraint cannot exceed 384 characters."
  std::string nine = "{";
  for (int i = 0; i < 9; ++i) nine += std::string(i ? "," : "") + "\"k" + std::to_string(i) + "\":\"v\"";
  nine += "}";
  EXPECT_EQ(create("\"GranteePrincipal\":\"" + alice_ + "\",\"Operations\":[\"Decrypt\"],\"Constraints\":"
                   "{\"EncryptionContextSubset\":" + nine + "}"),
            "ValidationException");
  EXPECT_EQ(create("\"GranteePrincipal\":\"" + alice_ + "\",\"Operations\":[\"Decrypt\"],\"Constraints\":"
                   "{\"EncryptionContextEquals\":{\"k\":\"" + std::string(385, 'v') + "\"}}"),
            "ValidationException");
  EXPECT_EQ(create("\"GranteePrincipal\":\"" + alice_ + "\",\"Operations\":[\"Decrypt\"],\"GrantTokens\":[\"bogus\"]"),
            "InvalidGrantTokenException");
  EXPECT_EQ(create("\"GranteePrincipal\":\"" + alice_ + "\",\"Operations\":[\"Decrypt\"],\"DryRun\":true"),
            "DryRunOperationException");
  EXPECT_EQ(Call("CreateGrant", "{\"KeyId\":\"1234abcd-12ab-34cd-56ef-1234567890ab\",\"GranteePrincipal\":\"" +
                                    alice_ + "\",\"Operations\":[\"Decrypt\"]}")
                .type(),
            "NotFoundException");

  const std::string unknown(64, 'e');
  EXPECT_EQ(Call("RevokeGrant", prefix + "\"GrantId\":\"nope\"}").type(), "InvalidGrantIdException");
  EXPECT_EQ(Call("RevokeGrant", prefix + "\"GrantId\":\"" + unknown + "\"}").type(), "NotFoundException");
  EXPECT_EQ(Call("RetireGrant", "{\"GrantToken\":\"bm90LWEtdG9rZW4=\"}").type(), "InvalidGrantTokenException");
  EXPECT_EQ(Call("RetireGrant", "{\"GrantId\":\"" + unknown + "\"}").type(), "ValidationException");
  EXPECT_EQ(Call("RetireGrant", prefix + "\"GrantId\":\"" + unknown + "\"}").type(), "NotFoundException");
  EXPECT_EQ(Call("ListGrants", prefix + "\"GrantId\":\"xyz\"}").type(), "InvalidGrantIdException");
  EXPECT_EQ(Call("ListGrants", prefix + "\"Marker\":\"xyz\"}").type(), "InvalidMarkerException");
  EXPECT_EQ(Call("ListGrants", prefix + "\"Limit\":101}").type(), "ValidationException");
  EXPECT_EQ(Call("ListRetirableGrants", "{\"RetiringPrincipal\":\"arn:aws:iam::444455556666:user/x\"}").type(),
            "AccessDeniedException");

  // Grant tokens in cryptographic requests must be well formed (and then add nothing: grants
  // are usable at once).
  auto [id, token] = CreateGrant(key, alice_, "[\"Encrypt\"]");
  EXPECT_TRUE(Call("Encrypt", prefix + "\"Plaintext\":\"eA==\",\"GrantTokens\":[\"" + token + "\"]}").ok());
  EXPECT_EQ(Call("Encrypt", prefix + "\"Plaintext\":\"eA==\",\"GrantTokens\":[\"garbage\"]}").type(),
            "InvalidGrantTokenException");
}

TEST_F(GrantOpsTest, KeyStateRules) {
  // Key states table: CreateGrant fails on a disabled key (DisabledException) and on a key
  // pending deletion (KMSInvalidStateException); ListGrants works in every state.
  const std::string key = CreateKey();
  auto [id, token] = CreateGrant(key, alice_, "[\"Decrypt\"]");
  ASSERT_TRUE(Call("DisableKey", "{\"KeyId\":\"" + key + "\"}").ok());
  const std::string req = "{\"KeyId\":\"" + key + "\",\"GranteePrincipal\":\"" + alice_ + "\",\"Operations\":[\"Decrypt\"]}";
  EXPECT_EQ(Call("CreateGrant", req).type(), "DisabledException");
  ASSERT_TRUE(Call("ScheduleKeyDeletion", "{\"KeyId\":\"" + key + "\",\"PendingWindowInDays\":7}").ok());
  EXPECT_EQ(Call("CreateGrant", req).type(), "KMSInvalidStateException");
  rapidjson::Document r;
  ASSERT_TRUE(Call("ListGrants", "{\"KeyId\":\"" + key + "\"}", &r).ok());
  EXPECT_EQ(r["Grants"].Size(), 1u);
}

TEST_F(GrantOpsTest, ListGrantsPagesAndFilters) {
  const std::string key = CreateKey();
  std::set<std::string> created;
  for (int i = 0; i < 7; ++i) created.insert(CreateGrant(key, i % 2 ? bob_ : alice_, "[\"Decrypt\"]").first);
  std::set<std::string> seen;
  std::string marker;
  int pages = 0;
  while (true) {
    rapidjson::Document r;
    const std::string m = marker.empty() ? "" : ",\"Marker\":\"" + marker + "\"";
    ASSERT_TRUE(Call("ListGrants", "{\"KeyId\":\"" + key + "\",\"Limit\":3" + m + "}", &r).ok());
    ++pages;
    for (const auto& g : r["Grants"].GetArray()) EXPECT_TRUE(seen.insert(g["GrantId"].GetString()).second);
    if (!r["Truncated"].GetBool()) {
      EXPECT_FALSE(r.HasMember("NextMarker"));
      break;
    }
    EXPECT_EQ(r["Grants"].Size(), 3u);
    marker = r["NextMarker"].GetString();
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen, created);
  rapidjson::Document r;
  ASSERT_TRUE(Call("ListGrants", "{\"KeyId\":\"" + key + "\",\"GranteePrincipal\":\"" + bob_ + "\"}", &r).ok());
  EXPECT_EQ(r["Grants"].Size(), 3u);
  const std::string one = *created.begin();
  ASSERT_TRUE(Call("ListGrants", "{\"KeyId\":\"" + key + "\",\"GrantId\":\"" + one + "\"}", &r).ok());
  ASSERT_EQ(r["Grants"].Size(), 1u);
  EXPECT_STREQ(r["Grants"][0]["GrantId"].GetString(), one.c_str());

  // ListRetirableGrants pages across keys.
  const std::string key2 = CreateKey();
  for (const auto& k : {key, key2})
    for (int i = 0; i < 3; ++i) CreateGrant(k, alice_, "[\"Decrypt\"]", ",\"RetiringPrincipal\":\"" + bob_ + "\"");
  seen.clear();
  marker.clear();
  pages = 0;
  while (true) {
    rapidjson::Document page;
    const std::string m = marker.empty() ? "" : ",\"Marker\":\"" + marker + "\"";
    ASSERT_TRUE(Call("ListRetirableGrants", "{\"RetiringPrincipal\":\"" + bob_ + "\",\"Limit\":4" + m + "}", &page).ok());
    ++pages;
    for (const auto& g : page["Grants"].GetArray()) EXPECT_TRUE(seen.insert(g["GrantId"].GetString()).second);
    if (!page["Truncated"].GetBool()) break;
    marker = page["NextMarker"].GetString();
  }
  EXPECT_EQ(pages, 2);
  EXPECT_EQ(seen.size(), 6u);
}

// RetireGrant: "This operation can be called by the retiring principal for a grant, by the
// grantee principal if the grant allows the RetireGrant operation, and by the Amazon Web
// Services account in which the grant is created." The grant decides (allowing_grant_id); the
// key policy does not ("The kms:RetireGrant permission is not effective in a key policy"), so the
// resource carries none and the account's own identity policies (root: all) cover the rest.
TEST_F(GrantOpsTest, WhoMayRetireAGrant) {
  const std::string key = CreateKey();
  const std::string carol = "arn:aws:iam::111122223333:role/ops/Carol";
  auto [plain, plain_token] = CreateGrant(key, alice_, "[\"Decrypt\"]", ",\"RetiringPrincipal\":\"" + carol + "\"");
  auto [self, self_token] = CreateGrant(key, alice_, "[\"Decrypt\",\"RetireGrant\"]");
  auto as = [&](const std::string& arn) { return Caller{kAccount, arn, "AKID"}; };
  auto allowing = [&](const std::string& token, const Caller& c) {
    auto r = ResourceFor("RetireGrant", "{\"GrantToken\":\"" + token + "\"}", c);
    EXPECT_TRUE(r.has_value());
    if (r) {
      EXPECT_EQ(r->policy, nullptr);
      EXPECT_EQ(r->policy_kind, iam::policy::ResourcePolicyKind::kResourceBased);
    }
    return r ? r->allowing_grant_id : "?";
  };
  // The retiring principal (here a role, matched through one of its sessions).
  EXPECT_EQ(allowing(plain_token, as("arn:aws:sts::111122223333:assumed-role/Carol/s")), plain);
  // The grantee only when the grant includes RetireGrant.
  EXPECT_EQ(allowing(plain_token, as(alice_)), "");
  EXPECT_EQ(allowing(self_token, as(alice_)), self);
  // Anyone else gets nothing from the grant.
  EXPECT_EQ(allowing(self_token, as(bob_)), "");
  // By key and grant id as well.
  auto r = ResourceFor("RetireGrant", "{\"KeyId\":\"" + key + "\",\"GrantId\":\"" + self + "\"}", as(alice_));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->allowing_grant_id, self);
}

TEST_F(GrantOpsTest, CreateGrantCarriesItsConditionKeys) {
  const std::string key = CreateKey();
  auto r = ResourceFor("CreateGrant",
                       "{\"KeyId\":\"" + key + "\",\"GranteePrincipal\":\"" + alice_ + "\",\"RetiringPrincipal\":\"" +
                           bob_ + "\",\"Operations\":[\"Encrypt\",\"Decrypt\"],\"Constraints\":"
                           "{\"EncryptionContextEquals\":{\"dept\":\"it\"}}}",
                       caller_);
  ASSERT_TRUE(r);
  auto has = [&](const std::string& k, const std::string& v) {
    return std::find(r->context.begin(), r->context.end(), std::make_pair(k, v)) != r->context.end();
  };
  EXPECT_TRUE(has("kms:GranteePrincipal", alice_));
  EXPECT_TRUE(has("kms:RetiringPrincipal", bob_));
  EXPECT_TRUE(has("kms:GrantOperations", "Encrypt"));
  EXPECT_TRUE(has("kms:GrantOperations", "Decrypt"));
  EXPECT_TRUE(has("kms:GrantConstraintType", "EncryptionContextEquals"));
  EXPECT_TRUE(has("kms:EncryptionContext:dept", "it"));
  EXPECT_TRUE(has("kms:EncryptionContextKeys", "dept"));
  EXPECT_TRUE(has("kms:GrantIsForAWSResource", "false"));
  EXPECT_TRUE(has("kms:CallerAccount", kAccount));
  EXPECT_EQ(r->policy_kind, iam::policy::ResourcePolicyKind::kKeyPolicy);
}

// The key's grants are cached with it: once warm, authorizing (ResourceFor) and using the key
// read no storage; creating or revoking a grant invalidates the entry, and the next request sees
// the change.
TEST_F(GrantOpsTest, GrantsAreCachedWithTheKeyAndInvalidatedOnChange) {
  const std::string key = CreateKey();
  const Caller alice{kAccount, alice_, "AKIDALICE"};
  const std::string encrypt = "{\"KeyId\":\"" + key + "\",\"Plaintext\":\"eA==\",\"EncryptionContext\":{\"t\":\"1\"}}";
  auto r = ResourceFor("Encrypt", encrypt, alice);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->allowing_grant_id, "");
  auto [id, token] = CreateGrant(key, alice_, "[\"Encrypt\"]", ",\"Constraints\":{\"EncryptionContextSubset\":{\"t\":\"1\"}}");
  ASSERT_EQ(ResourceFor("Encrypt", encrypt, alice)->allowing_grant_id, id);  // reloads once
  const int reads = storage_->reads;
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(ResourceFor("Encrypt", encrypt, alice)->allowing_grant_id, id);
    ASSERT_TRUE(CallAs(alice, "Encrypt", encrypt).ok());
  }
  EXPECT_EQ(storage_->reads, reads);
  ASSERT_TRUE(Call("RevokeGrant", "{\"KeyId\":\"" + key + "\",\"GrantId\":\"" + id + "\"}").ok());
  EXPECT_EQ(ResourceFor("Encrypt", encrypt, alice)->allowing_grant_id, "");
}

TEST_F(GrantOpsTest, DestroyingAKeyDeletesItsGrants) {
  const std::string key = CreateKey(), other = CreateKey();
  CreateGrant(key, alice_, "[\"Decrypt\"]");
  CreateGrant(key, bob_, "[\"Encrypt\"]");
  CreateGrant(other, alice_, "[\"Decrypt\"]");
  ASSERT_TRUE(Call("ScheduleKeyDeletion", "{\"KeyId\":\"" + key + "\",\"PendingWindowInDays\":7}").ok());
  clock_.Advance(7 * kDay + 1);
  ASSERT_EQ(*service_->RunDueMaintenance(), 1);
  auto txn = storage_->BeginRead();
  ASSERT_TRUE(txn.ok());
  auto rows = (*txn)->Scan(storage::tables::kKmsGrants, "");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ(rows->front().key.substr(0, other.size()), other);
}

TEST_F(GrantOpsTest, ReEncryptOnTheSameKeyNeedsFromAndTo) {
  // KMS API reference, ReEncrypt: two permissions, kms:ReEncryptFrom on the source key and
  // kms:ReEncryptTo on the destination key, even when both are the same key. The destination is
  // the primary resource, the source comes in also_required; each carries its own grant.
  const std::string key = CreateKey();
  const Caller alice{kAccount, alice_, "AKIDALICE"};
  rapidjson::Document enc;
  ASSERT_TRUE(Call("Encrypt", "{\"KeyId\":\"" + key + "\",\"Plaintext\":\"eA==\"}", &enc).ok());
  const std::string req = "{\"CiphertextBlob\":\"" + std::string(enc["CiphertextBlob"].GetString()) +
                          "\",\"DestinationKeyId\":\"" + key + "\"}";
  auto [to, t1] = CreateGrant(key, alice_, "[\"ReEncryptTo\"]");
  auto resource = ResourceFor("ReEncrypt", req, alice);
  ASSERT_TRUE(resource.has_value());
  EXPECT_EQ(resource->action, "kms:ReEncryptTo");
  EXPECT_EQ(resource->allowing_grant_id, to);
  ASSERT_EQ(resource->also_required.size(), 1u);
  EXPECT_EQ(resource->also_required[0].action, "kms:ReEncryptFrom");
  EXPECT_EQ(resource->also_required[0].allowing_grant_id, "");  // no ReEncryptFrom grant yet
  auto [from, t2] = CreateGrant(key, alice_, "[\"ReEncryptFrom\"]");
  resource = ResourceFor("ReEncrypt", req, alice);
  ASSERT_TRUE(resource.has_value());
  EXPECT_EQ(resource->allowing_grant_id, to);
  ASSERT_EQ(resource->also_required.size(), 1u);
  EXPECT_EQ(resource->also_required[0].allowing_grant_id, from);
}

}  // namespace
}  // namespace meridian::kms
