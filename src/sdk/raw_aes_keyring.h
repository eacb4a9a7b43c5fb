// Raw AES keyring: wraps data keys with a caller-held AES-GCM key (128/192/256 bits).
// spec: framework/raw-aes-keyring.md
#pragma once

#include <memory>
#include <string>

#include "crypto/crypto.h"
#include "sdk/materials.h"

namespace meridian::sdk {

class RawAesKeyring : public Keyring {
 public:
  // Fails unless the key is 16, 24 or 32 bytes and the namespace is not "aws-kms".
  static Result<std::shared_ptr<RawAesKeyring>> Create(std::string key_namespace, std::string key_name,
                                                       ByteView wrapping_key);

  Status OnEncrypt(EncryptionMaterials& materials) const override;
  Status OnDecrypt(DecryptionMaterials& materials, const std::vector<EncryptedDataKey>& edks) const override;

  RawAesKeyring(std::string key_namespace, std::string key_name, ByteView wrapping_key)
      : namespace_(std::move(key_namespace)), name_(std::move(key_name)), key_(wrapping_key) {}

 private:
  std::string namespace_;
  std::string name_;
  crypto::SecureBytes key_;
};

}  // namespace meridian::sdk
