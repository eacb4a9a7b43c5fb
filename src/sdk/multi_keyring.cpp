#include "sdk/multi_keyring.h"

#include "sdk/errors.h"

namespace meridian::sdk {

Result<std::shared_ptr<MultiKeyring>> MultiKeyring::Create(std::shared_ptr<const Keyring> generator,
                                                           std::vector<std::shared_ptr<const Keyring>> children) {
  if (!generator && children.empty()) return errors::InvalidArgument("multi-keyring needs a generator or children");
  for (const auto& c : children)
    if (!c) return errors::InvalidArgument("multi-keyring child is null");
  return std::make_shared<MultiKeyring>(std::move(generator), std::move(children));
}

// spec: framework/multi-keyring.md#onencrypt
Status MultiKeyring::OnEncrypt(EncryptionMaterials& m) const {
  if (!generator_ && m.plaintext_data_key.empty())
    return errors::State("multi-keyring without a generator cannot create a data key");
  if (generator_) MERIDIAN_RETURN_IF_ERROR(generator_->OnEncrypt(m));
  if (m.plaintext_data_key.empty()) return errors::State("generator keyring produced no data key");
  for (const auto& c : children_) MERIDIAN_RETURN_IF_ERROR(c->OnEncrypt(m));
  return Status::Ok();
}

// spec: framework/multi-keyring.md#ondecrypt
Status MultiKeyring::OnDecrypt(DecryptionMaterials& m, const std::vector<EncryptedDataKey>& edks) const {
  if (!m.plaintext_data_key.empty()) return errors::State("decryption materials already have a data key");
  std::string failures;
  auto attempt = [&](const Keyring& k) {
    Status st = k.OnDecrypt(m, edks);
    if (st.ok()) return true;
    if (!failures.empty()) failures += "; ";
    failures += st.message();
    return false;
  };
  if (generator_ && attempt(*generator_)) return Status::Ok();
  for (const auto& c : children_)
    if (attempt(*c)) return Status::Ok();
  return errors::NoDataKey("no keyring in the multi-keyring decrypted a data key: " + failures);
}

}  // namespace meridian::sdk
