#include "secrets/sealed_value.h"

#include "common/bytes.h"
#include "secrets/errors.h"

namespace meridian::secrets {
namespace {

constexpr uint8_t kFormat = 1;
constexpr std::string_view kAadLabel = "meridian-secret-v1";
constexpr char kDefaultKeyDescription[] = "Default key that protects my Secrets Manager data when no other key is defined";

kms::KmsService::Context EncryptionContext(const std::string& arn, const std::string& version_id) {
  return {{"SecretARN", arn}, {"SecretVersionId", version_id}};
}

Bytes AdditionalData(const std::string& arn, const std::string& version_id, SecretValue::Kind kind) {
  ByteWriter w;
  w.Write(kAadLabel);
  w.WriteU8(0);
  w.Write(arn);
  w.WriteU8(0);
  w.Write(version_id);
  w.WriteU8(0);
  w.WriteU8(static_cast<uint8_t>(kind));
  return w.Take();
}

// A KMS error as Secrets Manager reports it; `sealing` picks EncryptionFailure over
// DecryptionFailure. Internal failures stay internal.
Status FromKms(const Status& kms_error, bool sealing) {
  if (kms_error.type() == "AccessDeniedException") return err::KmsAccessDenied();
  if (kms_error.http_status() >= 500) return err::Internal("KMS failed: " + kms_error.message());
  if (sealing)
    return err::EncryptionFailure(
        "Secrets Manager can't encrypt the protected secret text using the provided KMS key. Check that the KMS key "
        "is available, enabled, and not in an invalid state. (" + kms_error.type() + ": " + kms_error.message() + ")");
  return err::DecryptionFailure("Secrets Manager can't decrypt the protected secret text using the provided KMS key. (" +
                                kms_error.type() + ": " + kms_error.message() + ")");
}

}  // namespace

Result<std::string> ValueSealer::DefaultKeyArn(const Caller& caller) {
  auto arn = kms_.EnsureAwsManagedKey(caller, kDefaultKeyAlias, kDefaultKeyDescription);
  if (!arn.ok()) return FromKms(arn.status(), /*sealing=*/true);
  return arn;
}

Status ValueSealer::CheckKey(const Caller& caller, const std::string& kms_key_id) {
  std::string key_id = kms_key_id;
  if (key_id.empty()) {
    MERIDIAN_ASSIGN_OR_RETURN(key_id, DefaultKeyArn(caller));
  }
  auto data_key = kms_.GenerateDataKeyFor(caller, key_id, {}, crypto::kAesGcmKeySize);
  return data_key.ok() ? Status::Ok() : FromKms(data_key.status(), /*sealing=*/true);
}

Result<ValueSealer::Sealed> ValueSealer::Seal(const Caller& caller, const std::string& kms_key_id,
                                              const std::string& arn, const std::string& version_id,
                                              const SecretValue& value) {
  std::string key_id = kms_key_id;
  if (key_id.empty()) {
    MERIDIAN_ASSIGN_OR_RETURN(key_id, DefaultKeyArn(caller));
  }
  auto data_key = kms_.GenerateDataKeyFor(caller, key_id, EncryptionContext(arn, version_id), crypto::kAesGcmKeySize);
  if (!data_key.ok()) return FromKms(data_key.status(), /*sealing=*/true);
  if (data_key->ciphertext_blob.size() > 0xffff) return err::Internal("The KMS ciphertext blob is too large.");

  Bytes iv = crypto::RandomBytes(crypto::kAesGcmIvSize);
  Bytes sealed;
  MERIDIAN_RETURN_IF_ERROR(crypto::AesGcmSeal(data_key->plaintext.view(), iv,
                                              AdditionalData(arn, version_id, value.kind), value.bytes.view(), sealed));
  ByteWriter w(4 + data_key->ciphertext_blob.size() + iv.size() + sealed.size());
  w.WriteU8(kFormat);
  w.WriteU8(static_cast<uint8_t>(value.kind));
  w.WriteU16(static_cast<uint16_t>(data_key->ciphertext_blob.size()));
  w.Write(data_key->ciphertext_blob);
  w.Write(iv);
  w.Write(sealed);
  Bytes row = w.Take();
  return Sealed{std::string(row.begin(), row.end()), data_key->key_arn};
}

Result<SecretValue> ValueSealer::Open(const Caller& caller, std::string_view row, const std::string& arn,
                                      const std::string& version_id) {
  const Status corrupt = err::Internal("A stored secret version is corrupt.");
  ByteReader r(AsBytes(row));
  uint8_t format = 0, kind = 0;
  uint16_t blob_len = 0;
  ByteView blob, iv;
  if (!r.ReadU8(format) || !r.ReadU8(kind) || !r.ReadU16(blob_len) || !r.ReadView(blob_len, blob) ||
      !r.ReadView(crypto::kAesGcmIvSize, iv) || r.remaining() < crypto::kAesGcmTagSize)
    return corrupt;
  if (format != kFormat ||
      (kind != static_cast<uint8_t>(SecretValue::Kind::kString) && kind != static_cast<uint8_t>(SecretValue::Kind::kBinary)))
    return corrupt;
  auto data_key = kms_.DecryptFor(caller, blob, EncryptionContext(arn, version_id));
  if (!data_key.ok()) return FromKms(data_key.status(), /*sealing=*/false);
  SecretValue value;
  value.kind = static_cast<SecretValue::Kind>(kind);
  if (!crypto::AesGcmOpen(data_key->view(), iv, AdditionalData(arn, version_id, value.kind), r.Rest(), value.bytes))
    return err::DecryptionFailure(
        "Secrets Manager can't decrypt the protected secret text: the stored value failed authentication.");
  return value;
}

}  // namespace meridian::secrets
