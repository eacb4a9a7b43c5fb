#include "iam/credential_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

namespace meridian::iam {
namespace {

class CredentialStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("iam-" + std::to_string(::getpid()) + "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    storage_ = std::move(*storage::OpenSqlite((dir_ / "iam.db").string()));
  }
  void TearDown() override {
    storage_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::filesystem::path dir_;
  crypto::RootKey root_ = crypto::RootKey::FromBytes(crypto::RandomBytes(32));
  std::unique_ptr<storage::Storage> storage_;
};

TEST_F(CredentialStoreTest, GeneratedKeysHaveAwsShapeAndLookUp) {
  CredentialStore store(*storage_, root_);
  ASSERT_TRUE(store.EnsureAccount("111122223333").ok());
  auto key = store.CreateAccessKey("111122223333", "arn:aws:iam::111122223333:root");
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ((*key)->access_key_id.substr(0, 4), "AKIA");
  EXPECT_EQ((*key)->access_key_id.size(), 20u);
  EXPECT_EQ((*key)->secret_access_key.size(), 40u);
  // A fresh store over the same storage finds it (the secret is unwrapped from storage).
  CredentialStore reopened(*storage_, root_);
  auto found = reopened.Lookup((*key)->access_key_id);
  ASSERT_TRUE(found);
  EXPECT_TRUE(crypto::ConstantTimeEquals(found->secret_access_key.view(), (*key)->secret_access_key.view()));
  EXPECT_EQ(found->principal_arn, "arn:aws:iam::111122223333:root");
  EXPECT_FALSE(reopened.Lookup("AKIAUNKNOWNUNKNOWN00"));
}

TEST_F(CredentialStoreTest, FixedBootstrapCredentialsAreIdempotentAndSecretNeverStoredInClear) {
  CredentialStore store(*storage_, root_);
  ASSERT_TRUE(store.EnsureAccount("000000000000").ok());
  const std::string secret = "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEYxx";
  ASSERT_TRUE(store.CreateAccessKey("000000000000", "arn:aws:iam::000000000000:root", "AKIAIOSFODNN7EXAMPLE", secret).ok());
  EXPECT_TRUE(store.CreateAccessKey("000000000000", "arn:aws:iam::000000000000:root", "AKIAIOSFODNN7EXAMPLE", secret).ok());
  EXPECT_FALSE(store.CreateAccessKey("000000000000", "arn:aws:iam::000000000000:root", "AKIAIOSFODNN7EXAMPLE",
                                     "another-secret-of-enough-length").ok());
  storage_.reset();
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(content.find(secret), std::string::npos) << entry.path();
  }
}

// Suites written for moto or LocalStack sign with access key "test" and secret "test".
TEST_F(CredentialStoreTest, AcceptsEmulatorStyleTestCredentials) {
  CredentialStore store(*storage_, root_);
  ASSERT_TRUE(store.EnsureAccount("000000000000").ok());
  ASSERT_TRUE(store.CreateAccessKey("000000000000", "arn:aws:iam::000000000000:root", "test", "test").ok());
  ASSERT_TRUE(store.Lookup("test"));
  EXPECT_FALSE(store.CreateAccessKey("000000000000", "arn:aws:iam::000000000000:root", "bad id!", "x").ok());
  EXPECT_FALSE(store.CreateAccessKey("000000000000", "arn:aws:iam::000000000000:root", "empty", "").ok());
}

TEST_F(CredentialStoreTest, RejectsBadAccountIds) {
  CredentialStore store(*storage_, root_);
  EXPECT_FALSE(store.EnsureAccount("12345").ok());
  EXPECT_FALSE(store.EnsureAccount("abcdefghijkl").ok());
  EXPECT_FALSE(store.CreateAccessKey("111122223333", "arn:aws:iam::111122223333:root").ok());
}

}  // namespace
}  // namespace meridian::iam
