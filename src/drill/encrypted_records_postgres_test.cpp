// EncryptedRecordStore against a real PostgreSQL server (a throwaway LocalPostgres), with a raw
// AES keyring (no KMS). Skipped when this machine has no PostgreSQL server programs.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "drill/encrypted_records.h"
#include "sdk/raw_aes_keyring.h"
#include "storage/postgres_cluster.h"

namespace meridian::drill {
namespace {

namespace fs = std::filesystem;

std::shared_ptr<const sdk::Keyring> AesKeyring(uint8_t fill) {
  Bytes key(32, fill);
  return sdk::RawAesKeyring::Create("drill-test", "key", key).value();
}

class RecordStorePostgresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!storage::LocalPostgres::FindBinaries().ok()) GTEST_SKIP() << "no PostgreSQL server programs";
    std::string tmpl = (fs::temp_directory_path() / "meridian-records-pg-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto cluster = storage::LocalPostgres::Start({.directory = dir_, .port = 0, .fsync = false});
    ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
    cluster_ = std::move(cluster).value();
    ASSERT_TRUE(cluster_->EnsureDatabase("records").ok());
  }
  void TearDown() override {
    cluster_.reset();
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  std::unique_ptr<EncryptedRecordStore> Open(const std::string& table = kDefaultRecordTable) {
    auto store = EncryptedRecordStore::Connect({.conninfo = cluster_->Conninfo("records"), .table = table});
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  std::string dir_;
  std::unique_ptr<storage::LocalPostgres> cluster_;
};

TEST_F(RecordStorePostgresTest, InsertGetListCountAndDuplicates) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->CreateTable().ok());
  ASSERT_TRUE(store->CreateTable().ok());  // IF NOT EXISTS
  auto keyring = AesKeyring(1);
  for (int64_t id : {3, 1, 2}) {
    CustomerRecord r{id, "acme", "Customer " + std::to_string(id), "123-45-000" + std::to_string(id),
                     "411111111111111" + std::to_string(id)};
    ASSERT_TRUE(store->Insert(r, keyring).ok());
  }
  EXPECT_EQ(store->Count().value(), 3);
  EXPECT_EQ(store->ListIds().value(), (std::vector<int64_t>{1, 2, 3}));
  auto two = store->Get(2, keyring);
  ASSERT_TRUE(two.ok()) << two.status().ToString();
  EXPECT_EQ(two->ssn, "123-45-0002");
  EXPECT_EQ(two->card_number, "4111111111111112");
  EXPECT_EQ(two->name, "Customer 2");
  EXPECT_EQ(store->Get(9, keyring).status().type(), "NotFoundException");
  EXPECT_FALSE(store->Get(2, AesKeyring(2)).ok());
  CustomerRecord duplicate{2, "acme", "Other", "000-00-0000", "4000000000000000"};
  EXPECT_EQ(store->Insert(duplicate, keyring).type(), "AlreadyExistsException");
  // Paging by id.
  auto page = store->ListSealed(1, 1);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ(page->front().id, 2);
  EXPECT_EQ(store->ListSealed().value().size(), 3u);
}

TEST_F(RecordStorePostgresTest, ReplaceReEncryptsInPlaceAndRefusesRowSwaps) {
  auto store = Open("user");  // a reserved word: the store quotes its table name
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->CreateTable().ok());
  auto old_key = AesKeyring(1), new_key = AesKeyring(2);
  CustomerRecord alice{1, "acme", "Alice", "111-11-1111", "4111111111111111"};
  CustomerRecord bob{2, "acme", "Bob", "222-22-2222", "4222222222222222"};
  ASSERT_TRUE(store->Insert(alice, old_key).ok());
  ASSERT_TRUE(store->Insert(bob, old_key).ok());
  // Re-encrypt Alice under the new key.
  auto resealed = SealRecord(store->Get(1, old_key).value(), store->table(), new_key);
  ASSERT_TRUE(resealed.ok());
  ASSERT_TRUE(store->Write(*resealed, /*replace=*/true).ok());
  EXPECT_EQ(store->Get(1, new_key).value(), alice);
  EXPECT_FALSE(store->Get(1, old_key).ok());
  // Bob's ciphertexts written into Alice's row do not open as Alice's.
  SealedRecord swapped = store->GetSealed(2).value();
  swapped.id = 1;
  ASSERT_TRUE(store->Write(swapped, /*replace=*/true).ok());
  EXPECT_EQ(store->Get(1, old_key).status().type(), "IntegrityException");
  SealedRecord missing = *resealed;
  missing.id = 77;
  EXPECT_EQ(store->Write(missing, /*replace=*/true).type(), "NotFoundException");
}

TEST_F(RecordStorePostgresTest, FailsWhileTheServerIsDownAndReconnects) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->CreateTable().ok());
  ASSERT_TRUE(cluster_->Stop(/*immediate=*/true).ok());
  EXPECT_EQ(store->Count().status().type(), "StorageException");
  EXPECT_EQ(store->Count().status().type(), "StorageException");
  EXPECT_FALSE(store->Reconnect().ok());
  ASSERT_TRUE(cluster_->Restart().ok());
  ASSERT_TRUE(store->Reconnect().ok());
  EXPECT_EQ(store->Count().value(), 0);
}

}  // namespace
}  // namespace meridian::drill
