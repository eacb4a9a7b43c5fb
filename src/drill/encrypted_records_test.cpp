// The pure half of encrypted_records.h: encryption contexts, sealing and opening records with a
// raw AES keyring (no KMS, no database; the database half runs in tests/e2e/test_global_db.py).
#include "drill/encrypted_records.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "crypto/crypto.h"
#include "sdk/raw_aes_keyring.h"

namespace meridian::drill {
namespace {

std::shared_ptr<const sdk::Keyring> AesKeyring(uint8_t fill) {
  Bytes key(32, fill);
  return sdk::RawAesKeyring::Create("drill-test", "key", key).value();
}

CustomerRecord Alice() { return {42, "acme", "Alice Example", "123-45-6789", "4111111111111111"}; }

bool Contains(const Bytes& haystack, std::string_view needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) != haystack.end();
}

TEST(FieldEncryptionContext, BindsTableRowTenantAndField) {
  sdk::EncryptionContext ec = FieldEncryptionContext("customer_records", 42, "acme", "ssn");
  EXPECT_EQ(ec, (sdk::EncryptionContext{
                    {"table", "customer_records"}, {"row_id", "42"}, {"tenant", "acme"}, {"field", "ssn"}}));
}

TEST(CheckFieldContext, AcceptsExactlyTheExpectedPairsPlusTheSdksOwn) {
  sdk::EncryptionContext expected = FieldEncryptionContext("t", 1, "acme", "ssn");
  sdk::EncryptionContext got = expected;
  EXPECT_TRUE(CheckFieldContext(got, expected).ok());
  got["aws-crypto-public-key"] = "AAAA";
  EXPECT_TRUE(CheckFieldContext(got, expected).ok());
  got["extra"] = "x";
  EXPECT_EQ(CheckFieldContext(got, expected).type(), "IntegrityException");
  got = expected;
  got["row_id"] = "2";
  EXPECT_EQ(CheckFieldContext(got, expected).type(), "IntegrityException");
  got = expected;
  got.erase("tenant");
  EXPECT_EQ(CheckFieldContext(got, expected).type(), "IntegrityException");
}

TEST(SealRecord, RoundTripsAndKeepsNoPlaintextInTheMessages) {
  auto keyring = AesKeyring(7);
  auto sealed = SealRecord(Alice(), kDefaultRecordTable, keyring);
  ASSERT_TRUE(sealed.ok()) << sealed.status().ToString();
  EXPECT_EQ(sealed->id, 42);
  EXPECT_EQ(sealed->tenant, "acme");
  EXPECT_EQ(sealed->name, "Alice Example");
  EXPECT_FALSE(Contains(sealed->ssn_message, "123-45-6789"));
  EXPECT_FALSE(Contains(sealed->card_number_message, "4111111111111111"));
  // The context is stored in the message header (in clear, authenticated): it names the row.
  EXPECT_TRUE(Contains(sealed->ssn_message, "row_id"));
  auto opened = OpenRecord(*sealed, kDefaultRecordTable, keyring);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(*opened, Alice());
}

TEST(OpenRecord, RefusesACiphertextMovedToAnotherRowTenantFieldOrTable) {
  auto keyring = AesKeyring(7);
  SealedRecord sealed = SealRecord(Alice(), kDefaultRecordTable, keyring).value();

  SealedRecord other_row = sealed;
  other_row.id = 43;
  EXPECT_EQ(OpenRecord(other_row, kDefaultRecordTable, keyring).status().type(), "IntegrityException");

  SealedRecord other_tenant = sealed;
  other_tenant.tenant = "globex";
  EXPECT_EQ(OpenRecord(other_tenant, kDefaultRecordTable, keyring).status().type(), "IntegrityException");

  SealedRecord swapped = sealed;
  std::swap(swapped.ssn_message, swapped.card_number_message);
  EXPECT_EQ(OpenRecord(swapped, kDefaultRecordTable, keyring).status().type(), "IntegrityException");

  EXPECT_EQ(OpenRecord(sealed, "other_table", keyring).status().type(), "IntegrityException");
}

TEST(OpenRecord, FailsWithTheWrongKeyAndOnATamperedMessage) {
  SealedRecord sealed = SealRecord(Alice(), kDefaultRecordTable, AesKeyring(7)).value();
  EXPECT_FALSE(OpenRecord(sealed, kDefaultRecordTable, AesKeyring(8)).ok());
  SealedRecord tampered = sealed;
  tampered.card_number_message[tampered.card_number_message.size() / 2] ^= 1;
  EXPECT_FALSE(OpenRecord(tampered, kDefaultRecordTable, AesKeyring(7)).ok());
}

TEST(SealRecord, NeedsAKeyring) {
  EXPECT_FALSE(SealRecord(Alice(), kDefaultRecordTable, nullptr).ok());
  EXPECT_FALSE(OpenRecord(SealedRecord{}, kDefaultRecordTable, nullptr).ok());
}

TEST(IsValidTableName, AcceptsOnlyPlainLowercaseIdentifiers) {
  EXPECT_TRUE(IsValidTableName("customer_records"));
  EXPECT_TRUE(IsValidTableName("_t1"));
  EXPECT_FALSE(IsValidTableName(""));
  EXPECT_FALSE(IsValidTableName("1t"));
  EXPECT_FALSE(IsValidTableName("Customer"));
  EXPECT_FALSE(IsValidTableName("t; DROP TABLE x"));
  EXPECT_FALSE(IsValidTableName(std::string(64, 'a')));
}

TEST(EncryptedRecordStore, RejectsABadTableNameBeforeConnecting) {
  auto store = EncryptedRecordStore::Connect({.conninfo = "host=127.0.0.1 port=1", .table = "x;y"});
  EXPECT_EQ(store.status().type(), "ValidationException");
}

TEST(EncryptedRecordStore, ReportsAnUnreachableServerWithoutThePassword) {
  auto store = EncryptedRecordStore::Connect(
      {.conninfo = "host=127.0.0.1 port=1 user=u password=hunter2secret dbname=d", .connect_timeout_seconds = 2});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().type(), "StorageException");
  EXPECT_EQ(store.status().message().find("hunter2secret"), std::string::npos);
}

}  // namespace
}  // namespace meridian::drill
