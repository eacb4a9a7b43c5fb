// Grant rules that need no service: constraint matching (decision tables citing the AWS KMS
// documentation), child-grant restrictiveness, grantee matching, grant tokens, the stored form.
#include <gtest/gtest.h>

#include "common/encoding.h"
#include "kms/grant.h"
#include "kms/grant_set.h"
#include "kms/grant_token.h"

namespace meridian::kms {
namespace {

GrantConstraint Subset(EncryptionContext pairs) { return {ConstraintType::kEncryptionContextSubset, std::move(pairs)}; }
GrantConstraint Equals(EncryptionContext pairs) { return {ConstraintType::kEncryptionContextEquals, std::move(pairs)}; }

// Developer Guide, "Grants in AWS KMS" > grant constraints, the worked example: a grant with
// EncryptionContextSubset {"Department":"Finance","Classification":"Public"}.
TEST(GrantConstraintTest, SubsetDecisionTableFromTheDeveloperGuide) {
  const GrantConstraint c = Subset({{"Classification", "Public"}, {"Department", "Finance"}});
  struct Case {
    EncryptionContext request;
    bool allowed;
  } cases[] = {
      // "any of the following encryption context values would satisfy the constraint"
      {{{"Classification", "Public"}, {"Department", "Finance"}}, true},
      {{{"Classification", "Public"}, {"Customer", "12345"}, {"Department", "Finance"}, {"Purpose", "Test"}}, true},
      // "the following ... would not satisfy the constraint": incomplete, or values differ in case
      {{{"Department", "Finance"}}, false},
      {{{"classification", "public"}, {"department", "finance"}}, false},
      {{{"Classification", "Public"}, {"Customer", "12345"}}, false},
      {{}, false},
      // API reference, GrantConstraints: "in a grant constraint, the key in each key-value pair is
      // not case sensitive, but the value is case sensitive".
      {{{"CLASSIFICATION", "Public"}, {"department", "Finance"}}, true},
  };
  for (const auto& c2 : cases) {
    std::string desc;
    for (const auto& [k, v] : c2.request) desc += k + "=" + v + " ";
    EXPECT_EQ(c.AllowsContext(c2.request), c2.allowed) << desc;
  }
}

// GrantConstraints.EncryptionContextEquals: "The grant allows the operation only when the
// encryption context in the request is the same as the encryption context specified".
TEST(GrantConstraintTest, EqualsDecisionTable) {
  const GrantConstraint c = Equals({{"tenant", "acme"}});
  EXPECT_TRUE(c.AllowsContext({{"tenant", "acme"}}));
  EXPECT_TRUE(c.AllowsContext({{"Tenant", "acme"}}));    // keys: not case sensitive
  EXPECT_FALSE(c.AllowsContext({{"tenant", "Acme"}}));   // values: case sensitive
  EXPECT_FALSE(c.AllowsContext({{"stage", "prod"}, {"tenant", "acme"}}));  // an extra pair
  EXPECT_FALSE(c.AllowsContext({}));
  // Grants without a constraint apply to any context.
  EXPECT_TRUE(GrantConstraint{}.AllowsContext({{"x", "y"}}));
}

// Developer Guide, "Granting CreateGrant permission": "the child grant can add pairs to an
// EncryptionContextSubset constraint in the parent grant, but it cannot remove them. The child
// grant can change an EncryptionContextSubset constraint to an EncryptionContextEquals
// constraint, but not the reverse."
TEST(GrantConstraintTest, ChildGrantsAreEquallyOrMoreRestrictive) {
  const GrantConstraint parent_subset = Subset({{"dept", "it"}});
  EXPECT_TRUE(parent_subset.PermitsChild(Subset({{"dept", "it"}})));
  EXPECT_TRUE(parent_subset.PermitsChild(Subset({{"dept", "it"}, {"project", "alpha"}})));
  EXPECT_TRUE(parent_subset.PermitsChild(Equals({{"dept", "it"}, {"project", "alpha"}})));
  EXPECT_FALSE(parent_subset.PermitsChild(Subset({{"project", "alpha"}})));  // removes a pair
  EXPECT_FALSE(parent_subset.PermitsChild(GrantConstraint{}));                // removes the constraint
  const GrantConstraint parent_equals = Equals({{"dept", "it"}});
  EXPECT_TRUE(parent_equals.PermitsChild(Equals({{"dept", "it"}})));
  EXPECT_FALSE(parent_equals.PermitsChild(Subset({{"dept", "it"}})));  // Equals -> Subset: the reverse
  EXPECT_FALSE(parent_equals.PermitsChild(Equals({{"dept", "it"}, {"x", "y"}})));
  EXPECT_TRUE(GrantConstraint{}.PermitsChild(GrantConstraint{}));
}

Grant MakeGrant(std::string id, std::string grantee, GrantOps ops, GrantConstraint c = {}) {
  Grant g;
  g.key_id = "1234abcd-12ab-34cd-56ef-1234567890ab";
  g.key_arn = "arn:aws:kms:us-east-1:111122223333:key/" + g.key_id;
  g.grant_id = std::move(id);
  g.grantee_principal = std::move(grantee);
  g.operations = ops;
  g.constraint = std::move(c);
  return g;
}

TEST(GrantSetTest, GranteeIsTheCallerOrTheRoleOfItsSession) {
  // Grants to a role name the role (with its path); a session of the role is that role.
  EXPECT_TRUE(CallerIsPrincipal("arn:aws:iam::111122223333:role/app/Reader",
                                "arn:aws:sts::111122223333:assumed-role/Reader/job-42"));
  EXPECT_TRUE(CallerIsPrincipal("arn:aws:iam::111122223333:role/Reader",
                                "arn:aws:sts::111122223333:assumed-role/Reader/job-42"));
  EXPECT_FALSE(CallerIsPrincipal("arn:aws:iam::111122223333:role/Reader",
                                 "arn:aws:sts::444455556666:assumed-role/Reader/job-42"));  // other account
  EXPECT_FALSE(CallerIsPrincipal("arn:aws:iam::111122223333:role/Reader",
                                 "arn:aws:sts::111122223333:assumed-role/ReaderX/job-42"));
  EXPECT_FALSE(CallerIsPrincipal("arn:aws:iam::111122223333:user/Reader",
                                 "arn:aws:sts::111122223333:assumed-role/Reader/job-42"));  // a user, not the role
  EXPECT_TRUE(CallerIsPrincipal("arn:aws:iam::111122223333:user/alice", "arn:aws:iam::111122223333:user/alice"));
  EXPECT_FALSE(CallerIsPrincipal("arn:aws:iam::111122223333:user/alice", "arn:aws:iam::111122223333:user/bob"));
  // A grant to the account names its root; other identities of the account are not the grantee.
  EXPECT_FALSE(CallerIsPrincipal("arn:aws:iam::111122223333:root", "arn:aws:iam::111122223333:user/alice"));
  EXPECT_FALSE(CallerIsPrincipal("", "arn:aws:iam::111122223333:user/alice"));
}

TEST(GrantSetTest, FindsTheGrantThatAllowsTheOperationWithTheContext) {
  const std::string alice = "arn:aws:iam::111122223333:user/alice";
  const std::string a(64, 'a'), b(64, 'b'), c(64, 'c');
  GrantSet set({MakeGrant(b, alice, grant_op::kDecrypt, Subset({{"tenant", "acme"}})),
                MakeGrant(a, alice, grant_op::kEncrypt | grant_op::kDescribeKey, Equals({{"tenant", "zeta"}})),
                MakeGrant(c, "arn:aws:iam::111122223333:role/ops/Worker", grant_op::kGenerateDataKey)});
  EXPECT_EQ(set.FindAllowing(alice, grant_op::kDecrypt, {{"tenant", "acme"}})->grant_id, b);
  EXPECT_EQ(set.FindAllowing(alice, grant_op::kDecrypt, {{"tenant", "other"}}), nullptr);
  EXPECT_EQ(set.FindAllowing(alice, grant_op::kGenerateDataKey, {{"tenant", "acme"}}), nullptr);
  // Constraints do not apply to DescribeKey ("Grants with grant constraints can include the
  // DescribeKey and RetireGrant operations, but the constraint doesn't apply to these").
  EXPECT_EQ(set.FindAllowing(alice, grant_op::kDescribeKey, {})->grant_id, a);
  EXPECT_EQ(set.FindAllowing("arn:aws:iam::111122223333:user/bob", grant_op::kDecrypt, {{"tenant", "acme"}}), nullptr);
  EXPECT_EQ(set.FindAllowing("arn:aws:sts::111122223333:assumed-role/Worker/s1", grant_op::kGenerateDataKey, {})
                ->grant_id, c);
  // CreateGrant through a grant needs CreateGrant in the parent.
  EXPECT_EQ(set.FindAllowingCreateGrant(alice, grant_op::kDecrypt, Subset({{"tenant", "acme"}})), nullptr);
  GrantSet parent({MakeGrant(a, alice, grant_op::kCreateGrant | grant_op::kDecrypt | grant_op::kEncrypt,
                             Subset({{"tenant", "acme"}}))});
  EXPECT_NE(parent.FindAllowingCreateGrant(alice, grant_op::kDecrypt, Subset({{"tenant", "acme"}, {"x", "1"}})),
            nullptr);
  EXPECT_EQ(parent.FindAllowingCreateGrant(alice, grant_op::kDecrypt | grant_op::kReEncryptFrom,
                                           Subset({{"tenant", "acme"}})),
            nullptr);  // an operation the parent does not have
  EXPECT_EQ(parent.FindAllowingCreateGrant(alice, grant_op::kDecrypt, GrantConstraint{}), nullptr);
  EXPECT_EQ(set.Find(b)->grant_id, b);
  EXPECT_EQ(set.Find(std::string(64, 'd')), nullptr);
  EXPECT_EQ(set.CountForGrantee(alice), 2u);
}

TEST(GrantTokenTest, RoundTripsAndRejectsMalformedTokens) {
  const std::string grant_id = NewGrantId();
  ASSERT_TRUE(LooksLikeGrantId(grant_id));
  const std::string t1 = NewGrantToken("mrk-0123456789abcdef0123456789abcdef", grant_id);
  const std::string t2 = NewGrantToken("mrk-0123456789abcdef0123456789abcdef", grant_id);
  EXPECT_NE(t1, t2);  // "the returned grant token is unique with every CreateGrant request"
  for (const auto& t : {t1, t2}) {
    auto view = ParseGrantToken(t);
    ASSERT_TRUE(view);
    EXPECT_EQ(view->key_id, "mrk-0123456789abcdef0123456789abcdef");
    EXPECT_EQ(view->grant_id, grant_id);
  }
  EXPECT_FALSE(ParseGrantToken(""));
  EXPECT_FALSE(ParseGrantToken("not a token"));
  EXPECT_FALSE(ParseGrantToken(Base64Encode(AsBytes(std::string_view("MGT")))));
  Bytes raw = *Base64Decode(t1);
  for (size_t cut = 0; cut < raw.size(); ++cut)  // every truncation is refused
    EXPECT_FALSE(ParseGrantToken(Base64Encode(ByteView(raw.data(), cut)))) << cut;
  Bytes longer = raw;
  longer.push_back(0);
  EXPECT_FALSE(ParseGrantToken(Base64Encode(longer)));
  Bytes other_version = raw;
  other_version[3] = 2;
  EXPECT_FALSE(ParseGrantToken(Base64Encode(other_version)));
}

TEST(GrantTest, StoredFormRoundTrips) {
  Grant g = MakeGrant(NewGrantId(), "arn:aws:iam::111122223333:user/alice",
                      grant_op::kDecrypt | grant_op::kRetireGrant, Equals({{"a", "1"}, {"b", "2"}}));
  g.name = "nightly:job/1";
  g.retiring_principal = "arn:aws:iam::111122223333:role/Admin";
  g.issuing_account = "arn:aws:iam::111122223333:root";
  g.creation_ms = 1'700'000'000'123;
  auto parsed = Grant::Parse(g.Serialize());
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_TRUE(parsed->SameParameters(g));
  EXPECT_EQ(parsed->name, g.name);
  EXPECT_EQ(parsed->key_arn, g.key_arn);
  EXPECT_EQ(parsed->creation_ms, g.creation_ms);
  EXPECT_EQ(parsed->issuing_account, g.issuing_account);
  EXPECT_FALSE(Grant::Parse("{\"key_id\":1}").ok());
  EXPECT_EQ(GrantOpNames(parsed->operations), (std::vector<std::string_view>{"Decrypt", "RetireGrant"}));
  EXPECT_EQ(GrantOpFromName("ReEncryptFrom"), grant_op::kReEncryptFrom);
  EXPECT_EQ(GrantOpFromName("decrypt"), 0u);  // enum values are exact
}

}  // namespace
}  // namespace meridian::kms
