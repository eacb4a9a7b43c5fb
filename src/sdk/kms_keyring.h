// AWS KMS keyrings. spec: framework/aws-kms/aws-kms-mrk-keyring.md (strict, MRK-aware) and
// framework/aws-kms/aws-kms-mrk-discovery-keyring.md (discovery, MRK-aware, discovery filter).
//
// The strict keyring wraps with one configured key (GenerateDataKey or Encrypt) and unwraps only
// encrypted data keys whose key ARN matches it, where a multi-Region key in another region
// matches its replica (so a message written with the us-east-1 replica decrypts with the
// us-west-2 one, locally). The discovery keyring cannot encrypt; it decrypts any aws-kms
// encrypted data key its filter admits, calling its own region for MRKs.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sdk/kms_client.h"
#include "sdk/materials.h"

namespace meridian::sdk {

inline constexpr char kAwsKmsProviderId[] = "aws-kms";

struct DiscoveryFilter {
  std::string partition;              // e.g. "aws"
  std::vector<std::string> accounts;  // non-empty
};

class AwsKmsKeyring : public Keyring {
 public:
  // `key_id`: a key ARN, alias ARN, alias name or key id (decrypt needs a key ARN to match).
  static Result<std::shared_ptr<AwsKmsKeyring>> Create(std::string key_id, std::shared_ptr<KmsClient> client,
                                                       std::vector<std::string> grant_tokens = {});
  Status OnEncrypt(EncryptionMaterials& materials) const override;
  Status OnDecrypt(DecryptionMaterials& materials, const std::vector<EncryptedDataKey>& edks) const override;

  AwsKmsKeyring(std::string key_id, std::shared_ptr<KmsClient> client, std::vector<std::string> grants)
      : key_id_(std::move(key_id)), client_(std::move(client)), grants_(std::move(grants)) {}

 private:
  std::string key_id_;
  std::shared_ptr<KmsClient> client_;
  std::vector<std::string> grants_;
};

class AwsKmsDiscoveryKeyring : public Keyring {
 public:
  // `client` determines the region MRK ciphertexts are decrypted in.
  static Result<std::shared_ptr<AwsKmsDiscoveryKeyring>> Create(std::shared_ptr<KmsClient> client,
                                                                std::optional<DiscoveryFilter> filter,
                                                                std::vector<std::string> grant_tokens = {});
  Status OnEncrypt(EncryptionMaterials& materials) const override;
  Status OnDecrypt(DecryptionMaterials& materials, const std::vector<EncryptedDataKey>& edks) const override;

  AwsKmsDiscoveryKeyring(std::shared_ptr<KmsClient> client, std::optional<DiscoveryFilter> filter,
                         std::vector<std::string> grants)
      : client_(std::move(client)), filter_(std::move(filter)), grants_(std::move(grants)) {}

 private:
  std::shared_ptr<KmsClient> client_;
  std::optional<DiscoveryFilter> filter_;
  std::vector<std::string> grants_;
};

}  // namespace meridian::sdk
