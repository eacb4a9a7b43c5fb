#include "sdk/client.h"

#include "sdk/default_cmm.h"

namespace meridian::sdk {

Result<Bytes> Encrypt(CryptoMaterialsManager& cmm, ByteView plaintext, const EncryptOptions& options) {
  EncryptOptions opt = options;
  if (!opt.plaintext_length_bound || *opt.plaintext_length_bound > plaintext.size())
    opt.plaintext_length_bound = plaintext.size();
  MERIDIAN_ASSIGN_OR_RETURN(auto enc, Encryptor::Create(cmm, opt));
  Bytes out;
  out.reserve(enc->MaxMessageSize(plaintext.size()));
  MERIDIAN_RETURN_IF_ERROR(enc->Update(plaintext, out));
  MERIDIAN_RETURN_IF_ERROR(enc->Finish(out));
  return out;
}

Result<Bytes> Encrypt(std::shared_ptr<const Keyring> keyring, ByteView plaintext, const EncryptOptions& options) {
  DefaultCmm cmm(std::move(keyring));
  return Encrypt(cmm, plaintext, options);
}

Result<DecryptResult> Decrypt(std::shared_ptr<CryptoMaterialsManager> cmm, ByteView message,
                              const DecryptOptions& options) {
  // Everything is in memory and nothing is returned before Finish succeeds, so frames can be
  // decrypted straight into the result buffer.
  DecryptOptions opt = options;
  opt.release_unverified_plaintext = true;
  MERIDIAN_ASSIGN_OR_RETURN(auto dec, Decryptor::Create(std::move(cmm), opt));
  DecryptResult result;
  result.plaintext.reserve(message.size());
  Status st = dec->Update(message, result.plaintext);
  if (st.ok()) st = dec->Finish(result.plaintext);
  if (!st.ok()) {
    crypto::Cleanse(result.plaintext);
    return st;
  }
  result.header = dec->header();
  result.encryption_context = dec->encryption_context();
  return result;
}

Result<DecryptResult> Decrypt(std::shared_ptr<const Keyring> keyring, ByteView message,
                              const DecryptOptions& options) {
  return Decrypt(std::make_shared<DefaultCmm>(std::move(keyring)), message, options);
}

}  // namespace meridian::sdk
