#include "sdk/client.h"

#include "sdk/default_cmm.h"

namespace meridian::sdk {

Status EncryptInto(CryptoMaterialsManager& cmm, ByteView plaintext, const EncryptOptions& options, Bytes& out) {
  EncryptOptions opt = options;
  if (!opt.plaintext_length_bound || *opt.plaintext_length_bound > plaintext.size())
    opt.plaintext_length_bound = plaintext.size();
  out.clear();
  MERIDIAN_ASSIGN_OR_RETURN(auto enc, Encryptor::Create(cmm, opt));
  out.reserve(enc->MaxMessageSize(plaintext.size()));
  MERIDIAN_RETURN_IF_ERROR(enc->Update(plaintext, out));
  return enc->Finish(out);
}

Result<Bytes> Encrypt(CryptoMaterialsManager& cmm, ByteView plaintext, const EncryptOptions& options) {
  Bytes out;
  MERIDIAN_RETURN_IF_ERROR(EncryptInto(cmm, plaintext, options, out));
  return out;
}

Result<Bytes> Encrypt(std::shared_ptr<const Keyring> keyring, ByteView plaintext, const EncryptOptions& options) {
  DefaultCmm cmm(std::move(keyring));
  return Encrypt(cmm, plaintext, options);
}

Status DecryptInto(std::shared_ptr<CryptoMaterialsManager> cmm, ByteView message, const DecryptOptions& options,
                   Bytes& plaintext, MessageHeader* header, EncryptionContext* encryption_context) {
  // Everything is in memory and nothing is returned before Finish succeeds, so frames can be
  // decrypted straight into the result buffer.
  DecryptOptions opt = options;
  opt.release_unverified_plaintext = true;
  plaintext.clear();
  MERIDIAN_ASSIGN_OR_RETURN(auto dec, Decryptor::Create(std::move(cmm), opt));
  plaintext.reserve(message.size());
  Status st = dec->Update(message, plaintext);
  if (st.ok()) st = dec->Finish(plaintext);
  if (!st.ok()) {
    crypto::Cleanse(plaintext);
    plaintext.clear();
    return st;
  }
  if (header) *header = dec->header();
  if (encryption_context) *encryption_context = dec->encryption_context();
  return Status::Ok();
}

Result<DecryptResult> Decrypt(std::shared_ptr<CryptoMaterialsManager> cmm, ByteView message,
                              const DecryptOptions& options) {
  DecryptResult result;
  MERIDIAN_RETURN_IF_ERROR(
      DecryptInto(std::move(cmm), message, options, result.plaintext, &result.header, &result.encryption_context));
  return result;
}

Result<DecryptResult> Decrypt(std::shared_ptr<const Keyring> keyring, ByteView message,
                              const DecryptOptions& options) {
  return Decrypt(std::make_shared<DefaultCmm>(std::move(keyring)), message, options);
}

}  // namespace meridian::sdk
