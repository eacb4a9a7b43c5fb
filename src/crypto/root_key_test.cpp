#include "crypto/root_key.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

namespace meridian::crypto {
namespace {

class RootKeyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("rootkey-" + std::to_string(::getpid()) + "-" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "root.key").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  static constexpr ScryptParams kFast{1024, 8, 1};
  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(RootKeyTest, SealedFileReopensWithPassphraseAndIsPrivate) {
  auto created = RootKey::CreateSealedFile(path_, "correct horse battery", kFast);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  struct stat st{};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);

  Bytes wrapped = created->Wrap(AsBytes("key material"), "key/1");
  auto reopened = RootKey::OpenSealedFile(path_, "correct horse battery");
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_EQ(reopened->Fingerprint(), created->Fingerprint());
  auto unwrapped = reopened->Unwrap(wrapped, "key/1");
  ASSERT_TRUE(unwrapped.ok());
  EXPECT_EQ(AsString(unwrapped->view()), "key material");
}

TEST_F(RootKeyTest, WrongPassphraseIsRefused) {
  ASSERT_TRUE(RootKey::CreateSealedFile(path_, "correct horse battery", kFast).ok());
  auto reopened = RootKey::OpenSealedFile(path_, "wrong passphrase!");
  EXPECT_FALSE(reopened.ok());
}

TEST_F(RootKeyTest, ExistingFileIsNeverOverwritten) {
  ASSERT_TRUE(RootKey::CreateSealedFile(path_, "correct horse battery", kFast).ok());
  EXPECT_FALSE(RootKey::CreateSealedFile(path_, "correct horse battery", kFast).ok());
}

TEST_F(RootKeyTest, UnwrapChecksContextAndIntegrity) {
  RootKey key = RootKey::FromBytes(RandomBytes(32));
  Bytes wrapped = key.Wrap(AsBytes("material"), "ctx-a");
  EXPECT_FALSE(key.Unwrap(wrapped, "ctx-b").ok());
  for (size_t i = 0; i < wrapped.size(); ++i) {
    Bytes bad = wrapped;
    bad[i] ^= 0x80;
    EXPECT_FALSE(key.Unwrap(bad, "ctx-a").ok()) << i;
  }
  EXPECT_FALSE(key.Unwrap(ByteView(wrapped.data(), 5), "ctx-a").ok());
  // The plaintext never appears in the wrapped form.
  EXPECT_EQ(std::search(wrapped.begin(), wrapped.end(), std::begin("material"), std::end("material") - 1),
            wrapped.end());
}

}  // namespace
}  // namespace meridian::crypto
