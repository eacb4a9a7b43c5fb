// Decrypt test vectors from other AWS Encryption SDK implementations.
//  - testdata/esdk/from-dafny: the aws-encryption-sdk-dafny 4.1.0 decrypt manifest
//    (spec: framework/test-vectors/decryption-manifest.md). Every case whose keys are available
//    offline (raw AES, raw RSA, multi-keyring, required-encryption-context CMM) must decrypt to
//    the expected plaintext; KMS, ECDH and hierarchy cases are counted as skipped with the reason.
//  - testdata/esdk/commitment: the aws-encryption-sdk-c key-commitment known-answer messages.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "common/encoding.h"
#include "sdk/client.h"
#include "sdk/default_cmm.h"
#include "sdk/multi_keyring.h"
#include "sdk/raw_aes_keyring.h"
#include "sdk/raw_ecdh_keyring.h"
#include "sdk/raw_rsa_keyring.h"
#include "sdk/required_ec_cmm.h"

namespace meridian::sdk {
namespace {

namespace fs = std::filesystem;

fs::path TestdataDir() {
  const char* src = std::getenv("MERIDIAN_SOURCE_DIR");
  fs::path root = src ? fs::path(src) : fs::current_path();
  return root / ".." / "shared" / "testdata" / "esdk";
}

Bytes ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

fs::path FromUri(const fs::path& base, const std::string& uri) {
  std::string rel = uri.rfind("file://", 0) == 0 ? uri.substr(7) : uri;
  return base / rel;
}

class VectorKeys {
 public:
  explicit VectorKeys(const rapidjson::Value& keys) : keys_(keys) {}

  // Builds the keyring a key description names; sets `skip_reason` when it needs AWS access or
  // a keyring type Meridian does not implement offline.
  Result<std::shared_ptr<const meridian::sdk::Keyring>> MakeKeyring(const rapidjson::Value& d, std::string& skip_reason) const {
    std::string type = d["type"].GetString();
    if (type == "raw") {
      const auto& key = keys_[d["key"].GetString()];
      std::string provider = d["provider-id"].GetString();
      std::string key_id = key["key-id"].GetString();
      std::string alg = d["encryption-algorithm"].GetString();
      if (alg == "aes") {
        auto material = Base64Decode(key["material"].GetString());
        if (!material) return Status("TestSetup", "bad base64 key");
        MERIDIAN_ASSIGN_OR_RETURN(auto kr, RawAesKeyring::Create(provider, key_id, *material));
        return std::shared_ptr<const meridian::sdk::Keyring>(kr);
      }
      if (alg == "rsa") {
        std::string padding = d["padding-algorithm"].GetString();
        std::string hash = d.HasMember("padding-hash") ? d["padding-hash"].GetString() : "sha1";
        auto pad = ParseRsaPadding(padding == "pkcs1" ? "pkcs1" : "oaep-" + hash);
        if (!pad) return Status("TestSetup", "unknown RSA padding " + padding + "/" + hash);
        std::string pem = key["material"].GetString();
        PKey priv, pub;
        if (std::string(key["type"].GetString()) == "private") {
          MERIDIAN_ASSIGN_OR_RETURN(priv, PKey::LoadPrivate(AsBytes(pem)));
        } else {
          MERIDIAN_ASSIGN_OR_RETURN(pub, PKey::LoadPublic(AsBytes(pem)));
        }
        MERIDIAN_ASSIGN_OR_RETURN(auto kr, RawRsaKeyring::Create(provider, key_id, *pad, pub, priv));
        return std::shared_ptr<const meridian::sdk::Keyring>(kr);
      }
      skip_reason = "raw keyring algorithm " + alg + " not supported";
      return Status("Skip", skip_reason);
    }
    if (type == "multi-keyring") {
      std::shared_ptr<const meridian::sdk::Keyring> generator;
      std::vector<std::shared_ptr<const meridian::sdk::Keyring>> children;
      if (d.HasMember("generator")) {
        MERIDIAN_ASSIGN_OR_RETURN(generator, MakeKeyring(d["generator"], skip_reason));
      }
      if (d.HasMember("childKeyrings")) {
        for (const auto& c : d["childKeyrings"].GetArray()) {
          MERIDIAN_ASSIGN_OR_RETURN(auto child, MakeKeyring(c, skip_reason));
          children.push_back(std::move(child));
        }
      }
      MERIDIAN_ASSIGN_OR_RETURN(auto kr, MultiKeyring::Create(generator, children));
      return std::shared_ptr<const meridian::sdk::Keyring>(kr);
    }
    if (type == "raw-ecdh") {
      // spec: framework/raw-ecdh-keyring.md (schemas: framework/key-agreement-schemas.md)
      std::string curve_name = d["ecc-curve"].GetString();
      EcdhCurve curve = curve_name == "ecc-256" ? EcdhCurve::kP256
                        : curve_name == "ecc-384" ? EcdhCurve::kP384 : EcdhCurve::kP521;
      std::string schema = d["schema"].GetString();
      const auto& recipient = keys_[d["recipient"].GetString()];
      if (schema == "discovery") {
        MERIDIAN_ASSIGN_OR_RETURN(PKey priv, PKey::LoadPrivate(AsBytes(recipient["recipient-material"].GetString())));
        MERIDIAN_ASSIGN_OR_RETURN(auto kr, RawEcdhKeyring::Discovery(curve, priv));
        return std::shared_ptr<const meridian::sdk::Keyring>(kr);
      }
      const auto& sender = keys_[d["sender"].GetString()];
      MERIDIAN_ASSIGN_OR_RETURN(PKey priv, PKey::LoadPrivate(AsBytes(sender["sender-material"].GetString())));
      auto der = Base64Decode(recipient["recipient-material-public-key"].GetString());
      if (!der) return Status("TestSetup", "bad base64 public key");
      MERIDIAN_ASSIGN_OR_RETURN(PKey pub, PKey::LoadPublic(*der));
      MERIDIAN_ASSIGN_OR_RETURN(auto kr, RawEcdhKeyring::StaticKeys(curve, priv, pub));
      return std::shared_ptr<const meridian::sdk::Keyring>(kr);
    }
    if (type.rfind("aws-kms", 0) == 0) {
      skip_reason = "needs AWS KMS (" + type + "), not reachable offline";
    } else {
      skip_reason = "keyring type " + type + " not implemented";
    }
    return Status("Skip", skip_reason);
  }

 private:
  const rapidjson::Value& keys_;
};

TEST(SdkVectors, DafnyDecryptManifestOfflineCases) {
  // spec: framework/test-vectors/decryption-manifest.md
  fs::path dir = TestdataDir() / "from-dafny";
  Bytes manifest_bytes = ReadFile(dir / "decrypt-manifest.json");
  Bytes keys_bytes = ReadFile(dir / "keys.json");
  ASSERT_FALSE(manifest_bytes.empty()) << "missing " << (dir / "decrypt-manifest.json");
  rapidjson::Document manifest, keys_doc;
  manifest.Parse(reinterpret_cast<const char*>(manifest_bytes.data()), manifest_bytes.size());
  keys_doc.Parse(reinterpret_cast<const char*>(keys_bytes.data()), keys_bytes.size());
  ASSERT_FALSE(manifest.HasParseError());
  ASSERT_FALSE(keys_doc.HasParseError());
  VectorKeys keys(keys_doc["keys"]);

  int total = 0, ran = 0, passed = 0;
  std::map<std::string, int> skipped;
  std::vector<std::string> failures;
  const auto& tests = manifest["tests"];
  // Indexed member access: range-for over RapidJSON objects trips clang's C++20
  // ambiguous-reversed-operator warning.
  for (rapidjson::SizeType t = 0; t < tests.MemberCount(); ++t) {
    const auto& test = *(tests.MemberBegin() + t);
    ++total;
    std::string name = test.name.GetString();
    const auto& s = test.value["decryption-scenario"];
    const auto& desc = s["decryptKeyDescription"];
    std::string type = s["type"].GetString();
    bool expect_success = type == "positive-esdk";
    std::string skip;
    std::shared_ptr<CryptoMaterialsManager> cmm;
    if (std::string(desc["type"].GetString()) == "required-encryption-context-cmm") {
      auto kr = keys.MakeKeyring(desc["underlying"], skip);
      if (kr.ok()) {
        std::vector<std::string> req;
        for (const auto& k : desc["requiredEncryptionContextKeys"].GetArray()) req.emplace_back(k.GetString());
        cmm = std::make_shared<RequiredEncryptionContextCmm>(std::make_shared<DefaultCmm>(*kr), req);
      }
    } else {
      auto kr = keys.MakeKeyring(desc, skip);
      if (kr.ok()) cmm = std::make_shared<DefaultCmm>(*kr);
    }
    if (!cmm) {
      ++skipped[skip.empty() ? "keyring setup failed" : skip];
      if (skip.empty()) failures.push_back(name + ": keyring setup failed");
      continue;
    }
    ++ran;
    DecryptOptions opt;
    opt.commitment_policy = CommitmentPolicy::kRequireEncryptAllowDecrypt;
    if (s.HasMember("reproduced-encryption-context")) {
      const auto& rec = s["reproduced-encryption-context"];
      for (rapidjson::SizeType i = 0; i < rec.MemberCount(); ++i) {
        const auto& kv = *(rec.MemberBegin() + i);
        opt.reproduced_encryption_context[kv.name.GetString()] = kv.value.GetString();
      }
    }
    Bytes ct = ReadFile(FromUri(dir, s["ciphertext"].GetString()));
    auto result = Decrypt(cmm, ct, opt);
    if (expect_success) {
      Bytes expected = ReadFile(FromUri(dir, s["result"].GetString()));
      if (!result.ok()) {
        failures.push_back(name + " (" + s["description"].GetString() + "): " + result.status().ToString());
      } else if (result->plaintext != expected) {
        failures.push_back(name + ": plaintext mismatch");
      } else {
        ++passed;
      }
    } else {
      if (result.ok()) failures.push_back(name + ": decrypted but the manifest expects an error");
      else ++passed;
    }
  }
  int skipped_total = 0;
  for (auto& [reason, n] : skipped) skipped_total += n;
  std::cout << "[sdk_vectors] from-dafny decrypt manifest: " << total << " cases, " << ran << " ran, " << passed
            << " passed, " << skipped_total << " skipped\n";
  for (auto& [reason, n] : skipped) std::cout << "[sdk_vectors]   skipped " << n << ": " << reason << "\n";
  for (size_t i = 0; i < failures.size() && i < 20; ++i) std::cout << "[sdk_vectors]   FAILED " << failures[i] << "\n";
  EXPECT_TRUE(failures.empty()) << failures.size() << " runnable cases failed";
  EXPECT_EQ(ran, passed);
  EXPECT_GE(ran, 286);  // 33 raw AES + 55 raw RSA + 44 multi-keyring + 55 required-EC CMM + 99 raw ECDH
}

// A keyring that hands out a fixed plaintext data key, as the C SDK's commitment tests do:
// the vectors were produced with known data keys so commitment can be checked without KMS.
class FixedDataKeyKeyring : public Keyring {
 public:
  explicit FixedDataKeyKeyring(Bytes key) : key_(std::move(key)) {}
  Status OnEncrypt(EncryptionMaterials&) const override { return Status("Unsupported", "decrypt only"); }
  Status OnDecrypt(DecryptionMaterials& m, const std::vector<EncryptedDataKey>&) const override {
    m.plaintext_data_key = crypto::SecureBytes(key_);
    return Status::Ok();
  }

 private:
  Bytes key_;
};

// spec: framework/algorithm-suites.md#key-commitment
TEST(SdkVectors, CommitmentKnownAnswers) {
  fs::path dir = TestdataDir() / "commitment";
  Bytes good = ReadFile(dir / "ct_good_commitment.bin");
  Bytes bad = ReadFile(dir / "ct_bad_commitment.bin");
  ASSERT_FALSE(good.empty());
  ASSERT_FALSE(bad.empty());
  // Data keys of cases 1 and 2 of aws-encryption-sdk-c tests/unit/t_commitment.c.
  auto good_key = Base64Decode("+p6+whPVw9kOrYLZFMRBJ2n6Vli6T/7TkjDouS+25s0=");
  auto bad_key = Base64Decode("8Bu+AFAu9ZT8BwYK+QAKXKQ2iaySSiQwlPUrKMf6fdo=");
  DecryptOptions opt;
  auto ok = Decrypt(std::make_shared<FixedDataKeyKeyring>(*good_key), good, opt);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  std::cout << "[sdk_vectors] ct_good_commitment.bin decrypted: " << ok->plaintext.size() << " bytes\n";
  auto fail = Decrypt(std::make_shared<FixedDataKeyKeyring>(*bad_key), bad, opt);
  ASSERT_FALSE(fail.ok());
  EXPECT_EQ(fail.status().type(), "KeyCommitmentMismatch") << fail.status().ToString();
  // The good message with a wrong data key also fails on commitment (before any decryption).
  auto wrong = Decrypt(std::make_shared<FixedDataKeyKeyring>(*bad_key), good, opt);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().type(), "KeyCommitmentMismatch");
}

}  // namespace
}  // namespace meridian::sdk
