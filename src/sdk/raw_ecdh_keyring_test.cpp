// Raw ECDH keyring round trips (spec: framework/raw-ecdh-keyring.md); byte compatibility is
// checked by sdk_vectors_test against the 99 raw-ecdh cases of the Dafny decrypt manifest.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include "sdk/client.h"
#include "sdk/raw_ecdh_keyring.h"

namespace meridian::sdk {
namespace {

struct Pair {
  PKey priv, pub;
};

Pair NewPair(const char* group) {
  // Private keys go through PEM as user-supplied keys do (so has_private() is set).
  EVP_PKEY* k = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", group);
  PKey key(k);
  unsigned char* der = nullptr;
  int n = i2d_PrivateKey(key.get(), &der);
  Pair p{PKey::LoadPrivate(ByteView(der, static_cast<size_t>(n))).value(), PKey()};
  OPENSSL_free(der);
  p.pub = PKey::LoadPublic(AsBytes(key.PublicPem().value())).value();
  return p;
}

TEST(RawEcdhKeyringTest, StaticEphemeralAndDiscovery) {
  for (auto [curve, group] : {std::pair{EcdhCurve::kP256, "P-256"}, std::pair{EcdhCurve::kP384, "P-384"},
                              std::pair{EcdhCurve::kP521, "P-521"}}) {
    Pair alice = NewPair(group), bob = NewPair(group), eve = NewPair(group);
    auto alice_to_bob = RawEcdhKeyring::StaticKeys(curve, alice.priv, bob.pub).value();
    auto bob_to_alice = RawEcdhKeyring::StaticKeys(curve, bob.priv, alice.pub).value();
    auto bob_discovery = RawEcdhKeyring::Discovery(curve, bob.priv).value();
    auto eve_discovery = RawEcdhKeyring::Discovery(curve, eve.priv).value();
    EncryptOptions o;
    o.encryption_context = {{"purpose", "ecdh"}};
    Bytes pt(3000, 0x33);
    auto ct = Encrypt(alice_to_bob, pt, o).value();
    // Either party of the static pair and the recipient's discovery keyring decrypt.
    for (std::shared_ptr<const Keyring> k : {std::shared_ptr<const Keyring>(alice_to_bob),
                                             std::shared_ptr<const Keyring>(bob_to_alice),
                                             std::shared_ptr<const Keyring>(bob_discovery)}) {
      auto out = Decrypt(k, ct, DecryptOptions{});
      ASSERT_TRUE(out.ok()) << out.status().ToString();
      EXPECT_EQ(out->plaintext, pt);
    }
    EXPECT_FALSE(Decrypt(eve_discovery, ct, DecryptOptions{}).ok());
    // Ephemeral sender: encrypt only; the recipient decrypts by discovery.
    auto eph = RawEcdhKeyring::Ephemeral(curve, bob.pub).value();
    auto ct2 = Encrypt(eph, pt, o).value();
    EXPECT_TRUE(Decrypt(bob_discovery, ct2, DecryptOptions{}).ok());
    EXPECT_FALSE(Decrypt(eph, ct2, DecryptOptions{}).ok());
    EXPECT_FALSE(Encrypt(bob_discovery, pt, o).ok());
  }
  // Keys on the wrong curve are refused.
  Pair p256 = NewPair("P-256");
  EXPECT_FALSE(RawEcdhKeyring::Discovery(EcdhCurve::kP384, p256.priv).ok());
}

}  // namespace
}  // namespace meridian::sdk
