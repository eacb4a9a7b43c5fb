// Caching CMM. spec: framework/caching-cmm.md
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "sdk/caching_cmm.h"
#include "sdk/client.h"
#include "sdk/default_cmm.h"
#include "sdk/raw_aes_keyring.h"

namespace meridian::sdk {
namespace {

// Counts how often the real raw AES keyring underneath is asked to wrap or unwrap.
class CountingKeyring : public Keyring {
 public:
  explicit CountingKeyring(std::shared_ptr<const Keyring> inner) : inner_(std::move(inner)) {}
  Status OnEncrypt(EncryptionMaterials& m) const override {
    ++encrypts;
    return inner_->OnEncrypt(m);
  }
  Status OnDecrypt(DecryptionMaterials& m, const std::vector<EncryptedDataKey>& edks) const override {
    ++decrypts;
    return inner_->OnDecrypt(m, edks);
  }
  mutable std::atomic<int> encrypts{0}, decrypts{0};

 private:
  std::shared_ptr<const Keyring> inner_;
};

struct Fixture {
  std::shared_ptr<RawAesKeyring> aes = RawAesKeyring::Create("ns", "k", Bytes(32, 9)).value();
  std::shared_ptr<CountingKeyring> counting = std::make_shared<CountingKeyring>(aes);
  std::shared_ptr<MaterialsCache> cache = std::make_shared<MaterialsCache>(100);
  ManualClock clock{1000000};
  std::shared_ptr<CachingCmm> Make(CachingCmmOptions o = {}) {
    o.clock = &clock;
    return CachingCmm::Create(std::make_shared<DefaultCmm>(counting), cache, o).value();
  }
};

EncryptOptions Opts(uint16_t suite = 0x0478) {
  EncryptOptions o;
  o.suite = FindSuite(suite);
  o.commitment_policy = FindSuite(suite)->committing ? CommitmentPolicy::kRequireEncryptRequireDecrypt
                                                     : CommitmentPolicy::kForbidEncryptAllowDecrypt;
  o.encryption_context = {{"a", "b"}};
  return o;
}

TEST(CachingCmmTest, ReusesEncryptionMaterialsWithinLimits) {
  Fixture f;
  CachingCmmOptions o;
  o.max_messages = 3;
  auto cmm = f.Make(o);
  Bytes pt(100, 1);
  for (int i = 0; i < 7; ++i) {
    auto ct = Encrypt(*cmm, pt, Opts()).value();
    auto out = Decrypt(f.aes, ct, DecryptOptions{});
    ASSERT_TRUE(out.ok());
    EXPECT_EQ(out->plaintext, pt);
  }
  EXPECT_EQ(f.counting->encrypts.load(), 3);  // messages 1-3, 4-6, 7
}

TEST(CachingCmmTest, ByteLimitAgeAndIdentitySuites) {
  Fixture f;
  CachingCmmOptions o;
  o.max_bytes = 250;
  o.max_age_seconds = 60;
  auto cmm = f.Make(o);
  Bytes pt(100, 1);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Encrypt(*cmm, pt, Opts()).ok());
  EXPECT_EQ(f.counting->encrypts.load(), 2);  // 100+100 fit, the third would exceed 250
  f.clock.Advance(61000);
  ASSERT_TRUE(Encrypt(*cmm, pt, Opts()).ok());
  EXPECT_EQ(f.counting->encrypts.load(), 3);  // expired
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(Encrypt(*cmm, pt, Opts(0x0078)).ok());
  EXPECT_EQ(f.counting->encrypts.load(), 5);  // identity KDF: never cached
  Bytes big(300, 1);
  ASSERT_TRUE(Encrypt(*cmm, big, Opts()).ok());
  ASSERT_TRUE(Encrypt(*cmm, big, Opts()).ok());
  EXPECT_EQ(f.counting->encrypts.load(), 7);  // larger than the byte limit: bypass
}

TEST(CachingCmmTest, DifferentContextsAndSuitesGetDifferentEntries) {
  Fixture f;
  auto cmm = f.Make();
  Bytes pt(10, 1);
  auto o1 = Opts();
  auto o2 = Opts();
  o2.encryption_context = {{"a", "c"}};
  ASSERT_TRUE(Encrypt(*cmm, pt, o1).ok());
  ASSERT_TRUE(Encrypt(*cmm, pt, o2).ok());
  ASSERT_TRUE(Encrypt(*cmm, pt, Opts(0x0578)).ok());
  ASSERT_TRUE(Encrypt(*cmm, pt, o1).ok());
  EXPECT_EQ(f.counting->encrypts.load(), 3);
}

TEST(CachingCmmTest, DecryptMaterialsCachedAndPartitioned) {
  Fixture f;
  auto cmm = f.Make();
  auto ct = Encrypt(f.aes, Bytes(50, 3), Opts(0x0578)).value();
  for (int i = 0; i < 3; ++i) {
    auto out = Decrypt(cmm, ct, DecryptOptions{});
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_EQ(out->plaintext, Bytes(50, 3));
  }
  EXPECT_EQ(f.counting->decrypts.load(), 1);
  // Another caching CMM on the same cache without a shared partition id does not see the entry.
  auto other = f.Make();
  ASSERT_TRUE(Decrypt(other, ct, DecryptOptions{}).ok());
  EXPECT_EQ(f.counting->decrypts.load(), 2);
  // With the same partition id, entries are shared.
  CachingCmmOptions shared;
  shared.partition_id = "team";
  auto p1 = f.Make(shared), p2 = f.Make(shared);
  ASSERT_TRUE(Decrypt(p1, ct, DecryptOptions{}).ok());
  ASSERT_TRUE(Decrypt(p2, ct, DecryptOptions{}).ok());
  EXPECT_EQ(f.counting->decrypts.load(), 3);
  // A cached entry does not bypass the commitment policy.
  auto v1 = Encrypt(f.aes, Bytes(5, 1), Opts(0x0178)).value();
  DecryptOptions allow;
  allow.commitment_policy = CommitmentPolicy::kRequireEncryptAllowDecrypt;
  ASSERT_TRUE(Decrypt(cmm, v1, allow).ok());
  EXPECT_FALSE(Decrypt(cmm, v1, DecryptOptions{}).ok());
}

TEST(CachingCmmTest, RejectsBadOptions) {
  Fixture f;
  CachingCmmOptions o;
  o.max_age_seconds = 0;
  EXPECT_FALSE(CachingCmm::Create(std::make_shared<DefaultCmm>(f.aes), f.cache, o).ok());
}

}  // namespace
}  // namespace meridian::sdk

namespace meridian::sdk {
namespace {

// Keyrings and CMMs are shared across threads (materials.h); hammer one of each concurrently.
TEST(ConcurrencyTest, SharedKeyringAndCachingCmmAcrossThreads) {
  auto aes = RawAesKeyring::Create("ns", "k", Bytes(32, 5)).value();
  auto cache = std::make_shared<MaterialsCache>(16);
  CachingCmmOptions o;
  o.max_messages = 7;
  auto caching = CachingCmm::Create(std::make_shared<DefaultCmm>(aes), cache, o).value();
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 150; ++i) {
        Bytes pt(static_cast<size_t>(100 + t * 37 + i), static_cast<uint8_t>(t));
        EncryptOptions eo;
        eo.suite = FindSuite(i % 2 ? 0x0478 : 0x0578);
        eo.encryption_context = {{"thread", std::to_string(t % 2)}};
        auto ct = i % 3 ? Encrypt(*caching, pt, eo) : Encrypt(aes, pt, eo);
        if (!ct.ok()) {
          ++failures;
          continue;
        }
        auto out = i % 2 ? Decrypt(caching, *ct, DecryptOptions{}) : Decrypt(aes, *ct, DecryptOptions{});
        if (!out.ok() || out->plaintext != pt) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_LE(cache->size(), 16u);
}

}  // namespace
}  // namespace meridian::sdk
