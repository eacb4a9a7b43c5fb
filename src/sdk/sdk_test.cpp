// Unit tests of the SDK: round trips over every suite and frame shape, streaming, keyrings,
// CMMs, commitment policy, and negative cases (tampering, truncation, wrong key/context, EDK limit).
#include <gtest/gtest.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <algorithm>
#include <string>

#include "common/encoding.h"
#include "sdk/aead.h"
#include "sdk/client.h"
#include "sdk/default_cmm.h"
#include "sdk/ecdsa.h"
#include "sdk/header.h"
#include "sdk/message_format.h"
#include "sdk/multi_keyring.h"
#include "sdk/raw_aes_keyring.h"
#include "sdk/raw_rsa_keyring.h"
#include "sdk/required_ec_cmm.h"

namespace meridian::sdk {
namespace {

Bytes Pattern(size_t n) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(i * 31 + 7);
  return b;
}

std::shared_ptr<RawAesKeyring> AesKeyring(size_t bytes = 32, uint8_t fill = 0x42, std::string name = "k1") {
  Bytes key(bytes, fill);
  return RawAesKeyring::Create("meridian-test", std::move(name), key).value();
}

PKey TestRsaKey() {
  static PKey key(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048}));
  return key;
}

std::shared_ptr<RawRsaKeyring> RsaKeyring(RsaPadding padding) {
  // A private key loaded through PEM so has_private() is set as for user-supplied keys.
  static std::string pem = [] {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(bio, TestRsaKey().get(), nullptr, nullptr, 0, nullptr, nullptr);
    char* p = nullptr;
    long n = BIO_get_mem_data(bio, &p);
    std::string s(p, static_cast<size_t>(n));
    BIO_free(bio);
    return s;
  }();
  PKey priv = PKey::LoadPrivate(AsBytes(pem)).value();
  return RawRsaKeyring::Create("meridian-rsa", "rsa-key", padding, PKey(), priv).value();
}

EncryptOptions Opts(uint16_t suite, uint32_t frame = 4096, EncryptionContext ec = {}) {
  EncryptOptions o;
  o.suite = FindSuite(suite);
  o.frame_length = frame;
  o.encryption_context = std::move(ec);
  o.commitment_policy = FindSuite(suite)->committing ? CommitmentPolicy::kRequireEncryptRequireDecrypt
                                                     : CommitmentPolicy::kForbidEncryptAllowDecrypt;
  return o;
}

DecryptOptions AllowAll() {
  DecryptOptions d;
  d.commitment_policy = CommitmentPolicy::kRequireEncryptAllowDecrypt;
  return d;
}

// spec: framework/algorithm-suites.md#supported-algorithm-suites — every suite, several shapes.
TEST(SdkRoundTrip, EverySuiteFrameShapeAndSize) {
  auto kr = AesKeyring();
  for (const auto& suite : AllSuites()) {
    for (uint32_t frame : {1u, 7u, 4096u, 65536u}) {
      for (size_t n : {size_t{0}, size_t{1}, size_t{7}, size_t{4096}, size_t{10000}}) {
        if (frame == 1 && n > 4096) continue;
        Bytes pt = Pattern(n);
        auto ct = Encrypt(kr, pt, Opts(suite.id, frame, {{"purpose", "test"}, {"ünï", "cødé ✓"}}));
        ASSERT_TRUE(ct.ok()) << suite.name << " " << ct.status().ToString();
        auto out = Decrypt(kr, *ct, AllowAll());
        ASSERT_TRUE(out.ok()) << suite.name << " frame " << frame << " n " << n << ": " << out.status().ToString();
        EXPECT_EQ(out->plaintext, pt);
        EXPECT_EQ(out->header.suite, &suite);
        EXPECT_EQ(out->encryption_context.at("ünï"), "cødé ✓");
        EXPECT_EQ(out->encryption_context.count(kPublicKeyContextKey), suite.signed_suite() ? 1u : 0u);
      }
    }
  }
}

// spec: data-format/message-header.md — the header we write parses back to the same fields.
TEST(SdkHeader, SerializeParseRoundTrip) {
  auto kr = AesKeyring();
  for (uint16_t id : {0x0078, 0x0578}) {
    auto ct = Encrypt(kr, Pattern(10), Opts(id, 512, {{"a", "b"}}));
    ASSERT_TRUE(ct.ok());
    MessageHeader h;
    auto hp = ParseHeader(*ct, 0, h);
    ASSERT_TRUE(hp.ok());
    ASSERT_TRUE(hp->complete);
    EXPECT_EQ(h.suite->id, id);
    EXPECT_EQ(h.frame_length, 512u);
    EXPECT_EQ(h.edks.size(), 1u);
    EXPECT_EQ(h.encryption_context.at("a"), "b");
    EXPECT_EQ(h.message_id.size(), id == 0x0578 ? 32u : 16u);
    // Every proper prefix of the header is "need more", never an error or a crash.
    for (size_t i = 0; i < hp->consumed; ++i) {
      MessageHeader partial;
      auto r = ParseHeader(ByteView(ct->data(), i), 0, partial);
      ASSERT_TRUE(r.ok());
      EXPECT_FALSE(r->complete);
    }
  }
}

TEST(SdkHeader, EncryptionContextSerializationIsSortedByUtf8Bytes) {
  // spec: framework/structures.md#serialization
  EncryptionContext ec{{"b", "2"}, {"a", "1"}, {"\xc3\xa9", "3"}};
  auto bytes = SerializeEncryptionContext(ec);
  ASSERT_TRUE(bytes.ok());
  Bytes expected = {0, 3, 0, 1, 'a', 0, 1, '1', 0, 1, 'b', 0, 1, '2', 0, 2, 0xc3, 0xa9, 0, 1, '3'};
  EXPECT_EQ(*bytes, expected);
  auto back = ParseEncryptionContext(*bytes);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, ec);
  EXPECT_TRUE(SerializeEncryptionContext({})->empty());
  Bytes dup = {0, 2, 0, 1, 'a', 0, 0, 0, 1, 'a', 0, 0};
  EXPECT_FALSE(ParseEncryptionContext(dup).ok());
}

// spec: client-apis/streaming.md — arbitrary chunking gives the same plaintext.
TEST(SdkStreaming, ChunkedEncryptAndDecrypt) {
  auto kr = AesKeyring();
  auto cmm = std::make_shared<DefaultCmm>(kr);
  Bytes pt = Pattern(50000);
  for (uint16_t id : {0x0478, 0x0578, 0x0178}) {
    for (size_t chunk : {size_t{1}, size_t{13}, size_t{4096}, size_t{4097}}) {
      auto enc = Encryptor::Create(*cmm, Opts(id, 4096)).value();
      Bytes ct;
      for (size_t off = 0; off < pt.size(); off += chunk)
        ASSERT_TRUE(enc->Update(ByteView(pt).subspan(off, std::min(chunk, pt.size() - off)), ct).ok());
      ASSERT_TRUE(enc->Finish(ct).ok());
      auto dec = Decryptor::Create(cmm, AllowAll()).value();
      Bytes out;
      for (size_t off = 0; off < ct.size(); off += chunk) {
        ASSERT_TRUE(dec->Update(ByteView(ct).subspan(off, std::min(chunk, ct.size() - off)), out).ok());
        // Signed messages release nothing before the signature verifies.
        if (FindSuite(id)->signed_suite()) {
          EXPECT_TRUE(out.empty());
        }
      }
      ASSERT_TRUE(dec->Finish(out).ok());
      EXPECT_EQ(out, pt) << id << " chunk " << chunk;
    }
  }
}

TEST(SdkStreaming, SignedStreamingReleaseHoldsOnlyTheFinalFrame) {
  auto kr = AesKeyring();
  auto cmm = std::make_shared<DefaultCmm>(kr);
  Bytes pt = Pattern(10000);
  auto ct = Encrypt(kr, pt, Opts(0x0578, 4096)).value();
  DecryptOptions o;
  o.release_unverified_plaintext = true;
  auto dec = Decryptor::Create(cmm, o).value();
  Bytes out;
  ASSERT_TRUE(dec->Update(ByteView(ct).first(ct.size() - 1), out).ok());
  EXPECT_EQ(out.size(), 8192u);  // two regular frames released, final frame held
  ASSERT_TRUE(dec->Update(ByteView(ct).last(1), out).ok());
  ASSERT_TRUE(dec->Finish(out).ok());
  EXPECT_EQ(out, pt);
}

TEST(SdkStreaming, FailOnSignedOption) {
  auto kr = AesKeyring();
  auto ct = Encrypt(kr, Pattern(10), Opts(0x0578)).value();
  DecryptOptions o;
  o.fail_on_signed = true;
  EXPECT_FALSE(Decrypt(kr, ct, o).ok());
  auto unsigned_ct = Encrypt(kr, Pattern(10), Opts(0x0478)).value();
  EXPECT_TRUE(Decrypt(kr, unsigned_ct, o).ok());
}

// spec: framework/commitment-policy.md
TEST(SdkPolicy, DefaultsAndViolations) {
  auto kr = AesKeyring();
  EncryptOptions def;
  auto ct = Encrypt(kr, Pattern(3), def);
  ASSERT_TRUE(ct.ok());
  MessageHeader h;
  ASSERT_TRUE(ParseHeader(*ct, 0, h).ok());
  EXPECT_EQ(h.suite->id, 0x0578);  // default under REQUIRE_ENCRYPT_REQUIRE_DECRYPT

  EncryptOptions bad;
  bad.suite = FindSuite(0x0178);
  auto st = Encrypt(kr, Pattern(3), bad);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.status().type(), "CommitmentPolicyViolation");

  auto v1 = Encrypt(kr, Pattern(3), Opts(0x0378)).value();
  auto refused = Decrypt(kr, v1, DecryptOptions{});  // default policy forbids v1 (non-committing)
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().type(), "CommitmentPolicyViolation");
  EXPECT_TRUE(Decrypt(kr, v1, AllowAll()).ok());

  EncryptOptions forbid;
  forbid.commitment_policy = CommitmentPolicy::kForbidEncryptAllowDecrypt;
  forbid.suite = FindSuite(0x0478);
  EXPECT_FALSE(Encrypt(kr, Pattern(3), forbid).ok());
}

// spec: framework/raw-aes-keyring.md — all three wrapping key sizes, wrong key, wrong context.
TEST(SdkKeyrings, RawAesSizesWrongKeyAndContext) {
  for (size_t size : {16, 24, 32}) {
    auto kr = AesKeyring(size);
    auto ct = Encrypt(kr, Pattern(100), Opts(0x0478, 4096, {{"tenant", "a"}})).value();
    EXPECT_TRUE(Decrypt(kr, ct, AllowAll()).ok());
    auto wrong = Decrypt(AesKeyring(size, 0x43), ct, AllowAll());
    ASSERT_FALSE(wrong.ok());
    EXPECT_EQ(wrong.status().type(), "NoDecryptableDataKey");
    auto other_name = Decrypt(AesKeyring(size, 0x42, "k2"), ct, AllowAll());
    EXPECT_FALSE(other_name.ok());
  }
  EXPECT_FALSE(RawAesKeyring::Create("ns", "n", Bytes(20)).ok());
  EXPECT_FALSE(RawAesKeyring::Create("aws-kms", "n", Bytes(32)).ok());
}

// spec: framework/raw-rsa-keyring.md — every padding scheme.
TEST(SdkKeyrings, RawRsaEveryPadding) {
  for (auto p : {RsaPadding::kPkcs1, RsaPadding::kOaepSha1, RsaPadding::kOaepSha256, RsaPadding::kOaepSha384,
                 RsaPadding::kOaepSha512}) {
    auto kr = RsaKeyring(p);
    auto ct = Encrypt(kr, Pattern(1000), Opts(0x0578));
    ASSERT_TRUE(ct.ok()) << ct.status().ToString();
    auto out = Decrypt(kr, *ct, AllowAll());
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_EQ(out->plaintext, Pattern(1000));
    // A keyring with another padding cannot decrypt.
    auto other = RsaKeyring(p == RsaPadding::kPkcs1 ? RsaPadding::kOaepSha256 : RsaPadding::kPkcs1);
    EXPECT_FALSE(Decrypt(other, *ct, AllowAll()).ok());
  }
  // Encrypt-only keyring (public key) cannot decrypt.
  auto pub_pem = TestRsaKey().PublicPem().value();
  auto pub_only = RawRsaKeyring::Create("meridian-rsa", "rsa-key", RsaPadding::kOaepSha256,
                                        PKey::LoadPublic(AsBytes(pub_pem)).value(), PKey())
                      .value();
  auto ct = Encrypt(pub_only, Pattern(5), Opts(0x0478)).value();
  EXPECT_FALSE(Decrypt(pub_only, ct, AllowAll()).ok());
  EXPECT_TRUE(Decrypt(RsaKeyring(RsaPadding::kOaepSha256), ct, AllowAll()).ok());
}

// spec: framework/multi-keyring.md
TEST(SdkKeyrings, MultiKeyringAnyMemberDecrypts) {
  auto a = AesKeyring(32, 1, "a");
  auto b = AesKeyring(16, 2, "b");
  auto r = RsaKeyring(RsaPadding::kOaepSha256);
  auto multi = MultiKeyring::Create(a, {b, r}).value();
  auto ct = Encrypt(multi, Pattern(300), Opts(0x0578)).value();
  MessageHeader h;
  ASSERT_TRUE(ParseHeader(ct, 0, h).ok());
  EXPECT_EQ(h.edks.size(), 3u);
  for (std::shared_ptr<const Keyring> k : {std::shared_ptr<const Keyring>(a), std::shared_ptr<const Keyring>(b),
                                           std::shared_ptr<const Keyring>(r)})
    EXPECT_TRUE(Decrypt(k, ct, AllowAll()).ok());
  EXPECT_FALSE(Decrypt(AesKeyring(32, 9, "a"), ct, AllowAll()).ok());
  EXPECT_FALSE(MultiKeyring::Create(nullptr, {}).ok());
  auto no_generator = MultiKeyring::Create(nullptr, {a}).value();
  EXPECT_FALSE(Encrypt(no_generator, Pattern(3), Opts(0x0478)).ok());
}

// spec: client-apis/client.md#maximum-number-of-encrypted-data-keys
TEST(SdkLimits, TooManyEncryptedDataKeys) {
  auto multi = MultiKeyring::Create(AesKeyring(32, 1, "a"), {AesKeyring(32, 2, "b"), AesKeyring(32, 3, "c")}).value();
  auto opts = Opts(0x0478);
  opts.max_encrypted_data_keys = 2;
  auto refused = Encrypt(multi, Pattern(3), opts);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().type(), "TooManyEncryptedDataKeys");
  auto ct = Encrypt(multi, Pattern(3), Opts(0x0478)).value();
  DecryptOptions d;
  d.max_encrypted_data_keys = 2;
  auto out = Decrypt(AesKeyring(32, 1, "a"), ct, d);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().type(), "TooManyEncryptedDataKeys");
  d.max_encrypted_data_keys = 3;
  EXPECT_TRUE(Decrypt(AesKeyring(32, 1, "a"), ct, d).ok());
}

// spec: framework/required-encryption-context-cmm.md
TEST(SdkCmm, RequiredEncryptionContextIsAuthenticatedNotStored) {
  auto kr = AesKeyring();
  auto cmm = std::make_shared<RequiredEncryptionContextCmm>(std::make_shared<DefaultCmm>(kr),
                                                            std::vector<std::string>{"tenant"});
  EncryptOptions o = Opts(0x0478, 4096, {{"tenant", "acme"}, {"stored", "yes"}});
  auto ct = Encrypt(*cmm, Pattern(50), o).value();
  MessageHeader h;
  ASSERT_TRUE(ParseHeader(ct, 0, h).ok());
  EXPECT_EQ(h.encryption_context.count("tenant"), 0u);
  EXPECT_EQ(h.encryption_context.at("stored"), "yes");

  DecryptOptions d;
  EXPECT_FALSE(Decrypt(cmm, ct, d).ok());  // required key not reproduced
  d.reproduced_encryption_context = {{"tenant", "acme"}};
  auto out = Decrypt(cmm, ct, d);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->encryption_context.at("tenant"), "acme");
  d.reproduced_encryption_context = {{"tenant", "evil"}};
  EXPECT_FALSE(Decrypt(cmm, ct, d).ok());
  // A plain default CMM with the right reproduced context also decrypts.
  d.reproduced_encryption_context = {{"tenant", "acme"}};
  EXPECT_TRUE(Decrypt(kr, ct, d).ok());
  // Reproduced context that contradicts a stored value fails.
  d.reproduced_encryption_context = {{"tenant", "acme"}, {"stored", "no"}};
  auto mismatch = Decrypt(kr, ct, d);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_EQ(mismatch.status().type(), "EncryptionContextMismatch");
  // Missing the required key on encrypt fails.
  EXPECT_FALSE(Encrypt(*cmm, Pattern(1), Opts(0x0478, 4096, {{"stored", "yes"}})).ok());
}

TEST(SdkCmm, ReservedPublicKeyContextRejected) {
  auto kr = AesKeyring();
  EXPECT_FALSE(Encrypt(kr, Pattern(1), Opts(0x0478, 4096, {{kPublicKeyContextKey, "x"}})).ok());
}

// Negative: flipping any single bit anywhere in a message makes decryption fail.
TEST(SdkNegative, EveryBitFlipIsDetected) {
  auto kr = AesKeyring();
  for (uint16_t id : {0x0014, 0x0214, 0x0478, 0x0578}) {
    auto ct = Encrypt(kr, Pattern(40), Opts(id, 16, {{"k", "v"}})).value();
    for (size_t i = 0; i < ct.size(); ++i) {
      for (int bit = 0; bit < 8; ++bit) {
        Bytes t = ct;
        t[i] ^= static_cast<uint8_t>(1 << bit);
        auto out = Decrypt(kr, t, AllowAll());
        ASSERT_FALSE(out.ok()) << "suite " << id << " byte " << i << " bit " << bit;
      }
    }
  }
}

// Negative: truncation at every length fails (one-shot and streaming), as do trailing bytes.
TEST(SdkNegative, TruncationAtEveryLengthAndTrailingBytes) {
  auto kr = AesKeyring();
  auto cmm = std::make_shared<DefaultCmm>(kr);
  for (uint16_t id : {0x0078, 0x0478, 0x0578}) {
    auto ct = Encrypt(kr, Pattern(100), Opts(id, 32)).value();
    for (size_t n = 0; n < ct.size(); ++n) {
      auto out = Decrypt(kr, ByteView(ct.data(), n), AllowAll());
      ASSERT_FALSE(out.ok()) << "suite " << id << " length " << n;
      auto dec = Decryptor::Create(cmm, AllowAll()).value();
      Bytes pt;
      Status st = dec->Update(ByteView(ct.data(), n), pt);
      if (st.ok()) st = dec->Finish(pt);
      ASSERT_FALSE(st.ok());
      if (FindSuite(id)->signed_suite()) {
        EXPECT_TRUE(pt.empty());
      }
    }
    Bytes extra = ct;
    extra.push_back(0);
    EXPECT_FALSE(Decrypt(kr, extra, AllowAll()).ok());
  }
}

TEST(SdkNegative, WrongEncryptionContextInHeaderFailsAuthentication) {
  auto kr = AesKeyring();
  auto ct = Encrypt(kr, Pattern(10), Opts(0x0478, 4096, {{"k", "v"}})).value();
  // Replace the value "v" with "w" in the stored context: header tag and keyring AAD both fail.
  const Bytes needle = {0, 1, 'k', 0, 1, 'v'};
  auto pos = std::search(ct.begin(), ct.end(), needle.begin(), needle.end());
  ASSERT_NE(pos, ct.end());
  Bytes t = ct;
  t[static_cast<size_t>(pos - ct.begin()) + 5] = 'w';
  EXPECT_FALSE(Decrypt(kr, t, AllowAll()).ok());
}

TEST(SdkNegative, GarbageNeverCrashes) {
  auto kr = AesKeyring();
  Bytes junk = Pattern(300);
  for (size_t n = 0; n < junk.size(); ++n) EXPECT_FALSE(Decrypt(kr, ByteView(junk.data(), n), AllowAll()).ok());
  Bytes v2 = {0x02, 0x05, 0x78};
  EXPECT_FALSE(Decrypt(kr, v2, AllowAll()).ok());
}

// Builds a legacy non-framed message (spec: client-apis/encrypt.md#un-framed-message-body-encryption)
// from the format's building blocks; Meridian never writes these but must decrypt them.
Bytes NonFramedMessage(const AlgorithmSuite& suite, const Keyring& keyring, ByteView pt, const EncryptionContext& ec) {
  EncryptionMaterials m;
  m.suite = &suite;
  m.encryption_context = ec;
  EXPECT_TRUE(keyring.OnEncrypt(m).ok());
  MessageHeader h;
  h.suite = &suite;
  h.message_id = crypto::RandomBytes(suite.message_id_length());
  h.edks = m.edks;
  h.content_type = ContentType::kNonFramed;
  h.frame_length = 0;
  auto keys = DeriveKeys(suite, m.plaintext_data_key.view(), h.message_id).value();
  h.commitment = keys.commit_key;
  Bytes stored = SerializeEncryptionContext(ec).value();
  EXPECT_TRUE(SerializeHeaderBody(h, stored).ok());
  GcmContext gcm;
  EXPECT_TRUE(gcm.InitEncrypt(keys.data_key.view()).ok());
  std::array<uint8_t, 12> zero{};
  h.auth_tag.resize(16);
  EXPECT_TRUE(gcm.Seal(zero, h.body, {}, nullptr, h.auth_tag.data()).ok());
  if (suite.message_version == 1) h.header_iv.assign(zero.begin(), zero.end());
  ByteWriter w;
  w.Write(h.body);
  AppendHeaderAuth(h, w);
  auto iv = FrameIv(1);
  w.Write(iv);
  w.WriteU64(pt.size());
  Bytes body(pt.size() + 16);
  BodyAad aad(h.message_id, BodyAadKind::kSingleBlock, 1, pt.size());
  EXPECT_TRUE(gcm.Seal(iv, aad.view(), pt, body.data(), body.data() + pt.size()).ok());
  w.Write(body);
  return w.Take();
}

// spec: data-format/message-body.md#un-framed-data (decrypt only)
TEST(SdkNonFramed, DecryptsLegacySingleBlockMessages) {
  auto kr = AesKeyring();
  for (uint16_t id : {0x0014, 0x0078, 0x0178, 0x0478}) {
    for (size_t n : {size_t{0}, size_t{1}, size_t{5000}}) {
      Bytes msg = NonFramedMessage(*FindSuite(id), *kr, Pattern(n), {{"k", "v"}});
      auto out = Decrypt(kr, msg, AllowAll());
      ASSERT_TRUE(out.ok()) << id << " " << out.status().ToString();
      EXPECT_EQ(out->plaintext, Pattern(n));
      EXPECT_EQ(out->header.content_type, ContentType::kNonFramed);
      // Streaming in small chunks gives the same result; tampering and truncation fail.
      auto dec = Decryptor::Create(std::make_shared<DefaultCmm>(kr), AllowAll()).value();
      Bytes pt;
      for (size_t off = 0; off < msg.size(); off += 100)
        ASSERT_TRUE(dec->Update(ByteView(msg).subspan(off, std::min<size_t>(100, msg.size() - off)), pt).ok());
      ASSERT_TRUE(dec->Finish(pt).ok());
      EXPECT_EQ(pt, Pattern(n));
      Bytes t = msg;
      t[t.size() - 1] ^= 0x80;
      EXPECT_FALSE(Decrypt(kr, t, AllowAll()).ok());
      EXPECT_FALSE(Decrypt(kr, ByteView(msg).first(msg.size() - 1), AllowAll()).ok());
    }
  }
}

// spec: framework/default-cmm.md — the compressed point round-trips and a signature verifies.
TEST(SdkSignature, CompressedKeyRoundTrip) {
  for (auto curve : {SignatureCurve::kP256, SignatureCurve::kP384}) {
    auto key = GenerateSigningKey(curve).value();
    auto point = CompressedPublicKey(key).value();
    EXPECT_EQ(point.size(), curve == SignatureCurve::kP256 ? 33u : 49u);
    EXPECT_TRUE(point[0] == 2 || point[0] == 3);
    auto pub = PublicKeyFromPoint(curve, point).value();
    SignatureHasher h(curve);
    h.Update(AsBytes("message"));
    Bytes digest = h.Final();
    auto sig = SignDigest(key, digest).value();
    EXPECT_TRUE(VerifyDigest(pub, digest, sig));
    digest[0] ^= 1;
    EXPECT_FALSE(VerifyDigest(pub, digest, sig));
  }
}

}  // namespace
}  // namespace meridian::sdk
