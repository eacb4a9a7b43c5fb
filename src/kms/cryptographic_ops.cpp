// Cryptographic operations: Encrypt, Decrypt, ReEncrypt, GenerateDataKey(WithoutPlaintext),
// GenerateRandom.
#include "common/encoding.h"
#include "kms/service_impl.h"

namespace meridian::kms {

Status KmsService::Impl::Encrypt(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
  MERIDIAN_ASSIGN_OR_RETURN(auto plaintext, req.RequiredBlob("Plaintext", 1, 4096));
  crypto::SecureBytes guard(plaintext);
  crypto::Cleanse(plaintext);
  MERIDIAN_ASSIGN_OR_RETURN(auto ctx, ReadContext(req, "EncryptionContext"));
  MERIDIAN_RETURN_IF_ERROR(CheckAlgorithm(req, "EncryptionAlgorithm"));
  MERIDIAN_RETURN_IF_ERROR(CheckGrantTokens(req));
  MERIDIAN_ASSIGN_OR_RETURN(auto dry_run, req.OptBool("DryRun"));
  MERIDIAN_ASSIGN_OR_RETURN(auto key, LoadKey(req, "KeyId", true, caller));
  MERIDIAN_RETURN_IF_ERROR(RequireUsable(key->record));
  if (dry_run.value_or(false)) return err::DryRun();
  MERIDIAN_ASSIGN_OR_RETURN(auto blob, Seal(*key, guard.view(), ctx));
  w.StartObject();
  w.Key("CiphertextBlob"); w.String(Base64Encode(blob));
  w.Key("KeyId"); w.String(key->record.arn);
  w.Key("EncryptionAlgorithm"); w.String("SYMMETRIC_DEFAULT");
  w.EndObject();
  return Status::Ok();
}

Status KmsService::Impl::Decrypt(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
  MERIDIAN_RETURN_IF_ERROR(CheckAlgorithm(req, "EncryptionAlgorithm"));
  MERIDIAN_RETURN_IF_ERROR(CheckGrantTokens(req));
  MERIDIAN_ASSIGN_OR_RETURN(auto dry_run, req.OptBool("DryRun"));
  if (req.Has("Recipient")) return err::Unsupported("Recipient (Nitro Enclaves attestation) is not supported.");
  MERIDIAN_ASSIGN_OR_RETURN(auto opened, Open(req, "CiphertextBlob", "EncryptionContext", "KeyId", caller));
  if (dry_run.value_or(false)) return err::DryRun();
  std::string b64 = Base64Encode(opened.plaintext.view());
  w.StartObject();
  w.Key("KeyId"); w.String(opened.key->record.arn);
  w.Key("Plaintext"); w.String(b64);
  w.Key("EncryptionAlgorithm"); w.String("SYMMETRIC_DEFAULT");
  w.EndObject();
  crypto::Cleanse(b64);
  return Status::Ok();
}

Status KmsService::Impl::ReEncrypt(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
  MERIDIAN_RETURN_IF_ERROR(CheckAlgorithm(req, "SourceEncryptionAlgorithm"));
  MERIDIAN_RETURN_IF_ERROR(CheckAlgorithm(req, "DestinationEncryptionAlgorithm"));
  MERIDIAN_RETURN_IF_ERROR(CheckGrantTokens(req));
  MERIDIAN_ASSIGN_OR_RETURN(auto dry_run, req.OptBool("DryRun"));
  MERIDIAN_ASSIGN_OR_RETURN(auto dest_ctx, ReadContext(req, "DestinationEncryptionContext"));
  MERIDIAN_ASSIGN_OR_RETURN(auto dest, LoadKey(req, "DestinationKeyId", true, caller));
  MERIDIAN_ASSIGN_OR_RETURN(auto opened, Open(req, "CiphertextBlob", "SourceEncryptionContext", "SourceKeyId", caller));
  MERIDIAN_RETURN_IF_ERROR(RequireUsable(dest->record));
  if (dry_run.value_or(false)) return err::DryRun();
  MERIDIAN_ASSIGN_OR_RETURN(auto blob, Seal(*dest, opened.plaintext.view(), dest_ctx));
  w.StartObject();
  w.Key("CiphertextBlob"); w.String(Base64Encode(blob));
  w.Key("SourceKeyId"); w.String(opened.key->record.arn);
  w.Key("KeyId"); w.String(dest->record.arn);
  w.Key("SourceEncryptionAlgorithm"); w.String("SYMMETRIC_DEFAULT");
  w.Key("DestinationEncryptionAlgorithm"); w.String("SYMMETRIC_DEFAULT");
  w.EndObject();
  return Status::Ok();
}

Status KmsService::Impl::GenerateDataKeyImpl(const JsonRequest& req, const Caller& caller, JsonWriter& w, bool with_plaintext) {
  MERIDIAN_ASSIGN_OR_RETURN(auto spec, req.OptEnum("KeySpec", {"AES_256", "AES_128"}));
  MERIDIAN_ASSIGN_OR_RETURN(auto nbytes, req.OptInt("NumberOfBytes", 1, 1024));
  MERIDIAN_ASSIGN_OR_RETURN(auto ctx, ReadContext(req, "EncryptionContext"));
  MERIDIAN_RETURN_IF_ERROR(CheckGrantTokens(req));
  MERIDIAN_ASSIGN_OR_RETURN(auto dry_run, req.OptBool("DryRun"));
  if (with_plaintext && req.Has("Recipient"))
    return err::Unsupported("Recipient (Nitro Enclaves attestation) is not supported.");
  if (spec && nbytes)
    return errors::Validation("Please specify either KeySpec or NumberOfBytes, not both.");
  if (!spec && !nbytes) return errors::Validation("Please specify either KeySpec or NumberOfBytes.");
  const size_t n = nbytes ? static_cast<size_t>(*nbytes) : (*spec == "AES_256" ? 32 : 16);
  MERIDIAN_ASSIGN_OR_RETURN(auto key, LoadKey(req, "KeyId", true, caller));
  MERIDIAN_RETURN_IF_ERROR(RequireUsable(key->record));
  if (dry_run.value_or(false)) return err::DryRun();
  crypto::SecureBytes data_key = crypto::RandomSecret(n);
  MERIDIAN_ASSIGN_OR_RETURN(auto blob, Seal(*key, data_key.view(), ctx));
  w.StartObject();
  w.Key("CiphertextBlob"); w.String(Base64Encode(blob));
  if (with_plaintext) {
    std::string b64 = Base64Encode(data_key.view());
    w.Key("Plaintext"); w.String(b64);
    crypto::Cleanse(b64);
  }
  w.Key("KeyId"); w.String(key->record.arn);
  w.EndObject();
  return Status::Ok();
}

Status KmsService::Impl::GenerateDataKey(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
  return GenerateDataKeyImpl(req, caller, w, true);
}

Status KmsService::Impl::GenerateDataKeyWithoutPlaintext(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
  return GenerateDataKeyImpl(req, caller, w, false);
}

Status KmsService::Impl::GenerateRandom(const JsonRequest& req, const Caller&, JsonWriter& w) {
  MERIDIAN_ASSIGN_OR_RETURN(auto n, req.OptInt("NumberOfBytes", 1, 1024));
  if (req.Has("CustomKeyStoreId")) return err::Unsupported("Custom key stores are not supported.");
  if (req.Has("Recipient")) return err::Unsupported("Recipient (Nitro Enclaves attestation) is not supported.");
  if (!n) return errors::Validation("NumberOfBytes is required: ask for 1 to 1024 random bytes.");
  crypto::SecureBytes r = crypto::RandomSecret(static_cast<size_t>(*n));
  w.StartObject();
  w.Key("Plaintext"); w.String(Base64Encode(r.view()));
  w.EndObject();
  return Status::Ok();
}

}  // namespace meridian::kms
