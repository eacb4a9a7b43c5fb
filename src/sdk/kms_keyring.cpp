#include "sdk/kms_keyring.h"

#include <algorithm>

#include "sdk/errors.h"
#include "sdk/kms_arn.h"

namespace meridian::sdk {
namespace {

void Note(std::string& failures, const std::string& what) {
  if (!failures.empty()) failures += "; ";
  failures += what;
}

// Asks KMS to decrypt one encrypted data key with `key_id` and, if KMS used exactly that key and
// returned a data key of the suite's length, puts it in the materials. Otherwise notes why.
bool DecryptDataKey(KmsClient& client, const std::string& key_id, const EncryptedDataKey& edk,
                    const std::vector<std::string>& grants, DecryptionMaterials& m, std::string& failures) {
  auto dk = client.Decrypt(key_id, edk.ciphertext, m.encryption_context, grants);
  if (!dk.ok()) {
    Note(failures, dk.status().ToString());
    return false;
  }
  if (dk->key_id != key_id) {
    Note(failures, "KMS decrypted with " + dk->key_id + ", not " + key_id);
    return false;
  }
  if (dk->plaintext.size() != m.suite->key_length) {
    Note(failures, "KMS returned a data key of the wrong length");
    return false;
  }
  m.plaintext_data_key = std::move(dk->plaintext);
  return true;
}

}  // namespace

Result<std::shared_ptr<AwsKmsKeyring>> AwsKmsKeyring::Create(std::string key_id, std::shared_ptr<KmsClient> client,
                                                             std::vector<std::string> grants) {
  if (key_id.empty()) return errors::InvalidArgument("AWS KMS keyring needs a key identifier");
  if (!client) return errors::InvalidArgument("AWS KMS keyring needs a KMS client");
  if (key_id.rfind("arn:", 0) == 0 && !ParseKmsArn(key_id))
    return errors::InvalidArgument("not a valid AWS KMS key ARN: " + key_id);
  return std::make_shared<AwsKmsKeyring>(std::move(key_id), std::move(client), std::move(grants));
}

// spec: framework/aws-kms/aws-kms-mrk-keyring.md#onencrypt
Status AwsKmsKeyring::OnEncrypt(EncryptionMaterials& m) const {
  EncryptedDataKey edk;
  edk.provider_id = kAwsKmsProviderId;
  if (m.plaintext_data_key.empty()) {
    MERIDIAN_ASSIGN_OR_RETURN(KmsDataKey dk,
                              client_->GenerateDataKey(key_id_, m.suite->key_length, m.encryption_context, grants_));
    if (dk.plaintext.size() != m.suite->key_length) return errors::Crypto("KMS returned a data key of the wrong length");
    if (!ParseKmsArn(dk.key_id)) return errors::Crypto("KMS GenerateDataKey returned an invalid key ARN");
    m.plaintext_data_key = std::move(dk.plaintext);
    edk.provider_info = ToBytes(dk.key_id);
    edk.ciphertext = std::move(dk.ciphertext_blob);
  } else {
    MERIDIAN_ASSIGN_OR_RETURN(KmsDataKey dk,
                              client_->Encrypt(key_id_, m.plaintext_data_key.view(), m.encryption_context, grants_));
    if (!ParseKmsArn(dk.key_id)) return errors::Crypto("KMS Encrypt returned an invalid key ARN");
    edk.provider_info = ToBytes(dk.key_id);
    edk.ciphertext = std::move(dk.ciphertext_blob);
  }
  m.edks.push_back(std::move(edk));
  return Status::Ok();
}

// spec: framework/aws-kms/aws-kms-mrk-keyring.md#ondecrypt
Status AwsKmsKeyring::OnDecrypt(DecryptionMaterials& m, const std::vector<EncryptedDataKey>& edks) const {
  if (!m.plaintext_data_key.empty()) return errors::State("decryption materials already have a data key");
  std::string failures;
  for (const auto& edk : edks) {
    if (edk.provider_id != kAwsKmsProviderId) continue;
    std::string arn_text(AsString(edk.provider_info));
    auto arn = ParseKmsArn(arn_text);
    if (!arn || arn->resource_type != "key") continue;
    if (!MrkMatchForDecrypt(key_id_, arn_text)) continue;
    if (DecryptDataKey(*client_, key_id_, edk, grants_, m, failures)) return Status::Ok();
  }
  return errors::NoDataKey("AWS KMS keyring " + key_id_ + " could not decrypt any encrypted data key" +
                           (failures.empty() ? std::string() : ": " + failures));
}

Result<std::shared_ptr<AwsKmsDiscoveryKeyring>> AwsKmsDiscoveryKeyring::Create(
    std::shared_ptr<KmsClient> client, std::optional<DiscoveryFilter> filter, std::vector<std::string> grants) {
  if (!client) return errors::InvalidArgument("AWS KMS discovery keyring needs a KMS client");
  if (filter && (filter->partition.empty() || filter->accounts.empty()))
    return errors::InvalidArgument("discovery filter needs a partition and at least one account");
  return std::make_shared<AwsKmsDiscoveryKeyring>(std::move(client), std::move(filter), std::move(grants));
}

Status AwsKmsDiscoveryKeyring::OnEncrypt(EncryptionMaterials&) const {
  return errors::State("an AWS KMS discovery keyring cannot encrypt");
}

// spec: framework/aws-kms/aws-kms-mrk-discovery-keyring.md#ondecrypt
Status AwsKmsDiscoveryKeyring::OnDecrypt(DecryptionMaterials& m, const std::vector<EncryptedDataKey>& edks) const {
  if (!m.plaintext_data_key.empty()) return errors::State("decryption materials already have a data key");
  std::string failures;
  for (const auto& edk : edks) {
    if (edk.provider_id != kAwsKmsProviderId) continue;
    auto arn = ParseKmsArn(AsString(edk.provider_info));
    if (!arn || arn->resource_type != "key") continue;
    if (filter_ && (arn->partition != filter_->partition ||
                    std::find(filter_->accounts.begin(), filter_->accounts.end(), arn->account) ==
                        filter_->accounts.end()))
      continue;
    // Non-MRK keys are only usable in their own region; MRKs are called in this keyring's region.
    if (!arn->is_mrk() && arn->region != client_->region()) continue;
    std::string key_id = arn->is_mrk() ? arn->WithRegion(client_->region()).ToString() : arn->ToString();
    if (DecryptDataKey(*client_, key_id, edk, grants_, m, failures)) return Status::Ok();
  }
  return errors::NoDataKey("AWS KMS discovery keyring (" + client_->region() +
                           ") could not decrypt any encrypted data key" +
                           (failures.empty() ? std::string() : ": " + failures));
}

}  // namespace meridian::sdk
