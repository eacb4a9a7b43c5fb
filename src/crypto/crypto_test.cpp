#include "crypto/crypto.h"

#include <gtest/gtest.h>

#include "common/encoding.h"

namespace meridian::crypto {
namespace {

Bytes Hex(std::string_view h) { return *HexDecode(h); }

// FIPS 180-2 / NIST example.
TEST(Sha256, Abc) {
  auto d = Sha256(AsBytes("abc"));
  EXPECT_EQ(HexEncode(d), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

// RFC 4231 test case 2.
TEST(HmacSha256, Rfc4231Case2) {
  auto d = HmacSha256(AsBytes("Jefe"), AsBytes("what do ya want for nothing?"));
  EXPECT_EQ(HexEncode(d), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

// RFC 5869 test case 1.
TEST(Hkdf, Rfc5869Case1) {
  auto okm = HkdfSha256(Hex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"), Hex("000102030405060708090a0b0c"),
                        Hex("f0f1f2f3f4f5f6f7f8f9"), 42);
  EXPECT_EQ(HexEncode(okm.view()),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
}

// RFC 7914 section 12, second vector (N=1024, r=8, p=16).
TEST(Scrypt, Rfc7914Vector) {
  auto out = Scrypt("password", AsBytes("NaCl"), {1024, 8, 16}, 64);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(HexEncode(out->view()),
            "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640");
}

// NIST GCM test vector (gcmEncryptExtIV256, Count 0 with 16-byte plaintext).
TEST(AesGcm, NistVector) {
  Bytes key = Hex("31bdadd96698c204aa9ce1448ea94ae1fb4a9a0b3c9d773b51bb1822666b8f22");
  Bytes iv = Hex("0d18e06c7c725ac9e362e1ce");
  Bytes pt = Hex("2db5168e932556f8089a0622981d017d");
  Bytes out;
  ASSERT_TRUE(AesGcmSeal(key, iv, {}, pt, out).ok());
  EXPECT_EQ(HexEncode(out), "fa4362189661d163fcd6a56d8bf0405ad636ac1bbedd5cc3ee727dc2ab4a9489");
  SecureBytes back;
  ASSERT_TRUE(AesGcmOpen(key, iv, {}, out, back));
  EXPECT_EQ(Bytes(back.view().begin(), back.view().end()), pt);
}

TEST(AesGcm, AnyAlteredByteOrAadFailsAuthentication) {
  Bytes key = RandomBytes(32), iv = RandomBytes(12);
  Bytes aad = ToBytes("context");
  Bytes out;
  ASSERT_TRUE(AesGcmSeal(key, iv, aad, AsBytes("secret data"), out).ok());
  for (size_t i = 0; i < out.size(); ++i) {
    Bytes bad = out;
    bad[i] ^= 1;
    SecureBytes pt;
    EXPECT_FALSE(AesGcmOpen(key, iv, aad, bad, pt)) << i;
  }
  SecureBytes pt;
  EXPECT_FALSE(AesGcmOpen(key, iv, AsBytes("other"), out, pt));
  EXPECT_FALSE(AesGcmOpen(key, iv, aad, ByteView(out.data(), 10), pt));
}

TEST(RandomUuid, Version4Format) {
  std::string a = RandomUuid(), b = RandomUuid();
  ASSERT_EQ(a.size(), 36u);
  EXPECT_NE(a, b);
  for (size_t i : {8u, 13u, 18u, 23u}) EXPECT_EQ(a[i], '-');
  EXPECT_EQ(a[14], '4');
  EXPECT_TRUE(a[19] == '8' || a[19] == '9' || a[19] == 'a' || a[19] == 'b');
}

TEST(ConstantTime, Equals) {
  EXPECT_TRUE(ConstantTimeEquals(AsBytes("abc"), AsBytes("abc")));
  EXPECT_FALSE(ConstantTimeEquals(AsBytes("abc"), AsBytes("abd")));
  EXPECT_FALSE(ConstantTimeEquals(AsBytes("abc"), AsBytes("abcd")));
}

}  // namespace
}  // namespace meridian::crypto
