#include "kms/ciphertext_blob.h"

#include <gtest/gtest.h>

namespace meridian::kms {
namespace {

TEST(CiphertextBlob, RoundTripsHeader) {
  Bytes backing(16, 0xAB), nonce(16, 0xCD);
  Bytes blob = BuildBlobHeader("1234abcd-12ab-34cd-56ef-1234567890ab", backing, nonce);
  blob.resize(blob.size() + 20, 0x11);  // ciphertext + tag
  auto v = ParseCiphertextBlob(blob);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->key_id, "1234abcd-12ab-34cd-56ef-1234567890ab");
  EXPECT_EQ(Bytes(v->backing_key_id.begin(), v->backing_key_id.end()), backing);
  EXPECT_EQ(Bytes(v->nonce.begin(), v->nonce.end()), nonce);
  EXPECT_EQ(v->ciphertext_and_tag.size(), 20u);
}

TEST(CiphertextBlob, RejectsEveryTruncationAndBadHeader) {
  Bytes blob = BuildBlobHeader("abc", Bytes(16, 1), Bytes(16, 2));
  blob.resize(blob.size() + 16, 0);
  for (size_t n = 0; n < blob.size(); ++n)
    EXPECT_FALSE(ParseCiphertextBlob(ByteView(blob.data(), n)).has_value()) << n;
  Bytes bad_version = blob;
  bad_version[0] = 2;
  EXPECT_FALSE(ParseCiphertextBlob(bad_version).has_value());
  Bytes zero_len = blob;
  zero_len[1] = 0;
  EXPECT_FALSE(ParseCiphertextBlob(zero_len).has_value());
  Bytes huge_len = blob;
  huge_len[1] = 0xff;
  EXPECT_FALSE(ParseCiphertextBlob(huge_len).has_value());
}

TEST(EncryptionContext, CanonicalSerialization) {
  EXPECT_TRUE(SerializeEncryptionContext({}).empty());
  Bytes s = SerializeEncryptionContext({{"a", "1"}, {"b", "22"}});
  EXPECT_EQ(s, (Bytes{0, 2, 0, 1, 'a', 0, 1, '1', 0, 1, 'b', 0, 2, '2', '2'}));
}

}  // namespace
}  // namespace meridian::kms
