// Multi-keyring: one optional generator plus child keyrings. Encrypt wraps the data key under
// every keyring; decrypt returns the first keyring's success. spec: framework/multi-keyring.md
#pragma once

#include <memory>
#include <vector>

#include "sdk/materials.h"

namespace meridian::sdk {

class MultiKeyring : public Keyring {
 public:
  // Fails if there is neither a generator nor a child.
  static Result<std::shared_ptr<MultiKeyring>> Create(std::shared_ptr<const Keyring> generator,
                                                      std::vector<std::shared_ptr<const Keyring>> children);

  Status OnEncrypt(EncryptionMaterials& materials) const override;
  Status OnDecrypt(DecryptionMaterials& materials, const std::vector<EncryptedDataKey>& edks) const override;

  MultiKeyring(std::shared_ptr<const Keyring> g, std::vector<std::shared_ptr<const Keyring>> c)
      : generator_(std::move(g)), children_(std::move(c)) {}

 private:
  std::shared_ptr<const Keyring> generator_;
  std::vector<std::shared_ptr<const Keyring>> children_;
};

}  // namespace meridian::sdk
