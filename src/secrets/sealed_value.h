// Envelope encryption of secret versions under the region's KMS.
//
// Each version's value is sealed with AES-256-GCM under a fresh 256-bit data key from
// KmsService::GenerateDataKeyFor. The KMS encryption context binds the secret ARN and version
// id ({"SecretARN": arn, "SecretVersionId": id}); the AES-GCM additional data binds them again
// with the value's kind, so a sealed value cannot be moved to another secret, version or kind.
// The stored row keeps only the KMS ciphertext blob of the data key and the sealed value:
//
//   format(1) = 1 | kind(1) | blob length(2, big endian) | KMS blob | iv(12) | ciphertext | tag(16)
//
// Plaintext data keys and values exist only in SecureBytes, wiped after use. KMS failures come
// back as the errors AWS Secrets Manager returns: EncryptionFailure when sealing,
// DecryptionFailure when opening, AccessDeniedException ("Access to KMS is not allowed") when
// the caller may not use the key.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "kms/kms.h"
#include "secrets/secret_value.h"

namespace meridian::secrets {

inline constexpr char kDefaultKeyAlias[] = "alias/aws/secretsmanager";

class ValueSealer {
 public:
  explicit ValueSealer(kms::KmsService& kms) : kms_(kms) {}

  struct Sealed {
    std::string row;      // what storage keeps
    std::string key_arn;  // the KMS key that protects it
  };
  // Seals `value` for version `version_id` of secret `arn` under `kms_key_id` (key id, ARN,
  // alias or alias ARN), or under the caller's aws/secretsmanager key (created on first use)
  // when `kms_key_id` is empty.
  Result<Sealed> Seal(const Caller& caller, const std::string& kms_key_id, const std::string& arn,
                      const std::string& version_id, const SecretValue& value);
  // Opens a row written by Seal for the same ARN and version id.
  Result<SecretValue> Open(const Caller& caller, std::string_view row, const std::string& arn,
                           const std::string& version_id);

  // EncryptionFailure (or AccessDeniedException) unless the caller can encrypt under `kms_key_id`
  // (empty: the aws/secretsmanager key) now.
  Status CheckKey(const Caller& caller, const std::string& kms_key_id);

  // The ARN of the caller's aws/secretsmanager key, created on first use.
  Result<std::string> DefaultKeyArn(const Caller& caller);

 private:
  kms::KmsService& kms_;
};

}  // namespace meridian::secrets
