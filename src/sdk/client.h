// One-shot helpers over the streaming Encryptor/Decryptor, for messages held in memory.
// spec: client-apis/encrypt.md, client-apis/decrypt.md, client-apis/client.md
#pragma once

#include <memory>

#include "sdk/decryptor.h"
#include "sdk/encryptor.h"

namespace meridian::sdk {

Result<Bytes> Encrypt(CryptoMaterialsManager& cmm, ByteView plaintext, const EncryptOptions& options);
// Same, writing the message into `out` (its contents are replaced; its capacity is reused, which
// avoids page faults when encrypting many messages into one buffer).
Status EncryptInto(CryptoMaterialsManager& cmm, ByteView plaintext, const EncryptOptions& options, Bytes& out);
// Uses a default CMM over `keyring`.
Result<Bytes> Encrypt(std::shared_ptr<const Keyring> keyring, ByteView plaintext, const EncryptOptions& options);

struct DecryptResult {
  Bytes plaintext;
  MessageHeader header;
  EncryptionContext encryption_context;  // materials context (stored + reproduced pairs)
};

// Releases nothing unless the whole message (including any signature) verifies.
Result<DecryptResult> Decrypt(std::shared_ptr<CryptoMaterialsManager> cmm, ByteView message,
                              const DecryptOptions& options);
// Same, decrypting into `plaintext` (contents replaced, capacity reused; wiped on failure).
// `header` and `encryption_context` are filled when non-null.
Status DecryptInto(std::shared_ptr<CryptoMaterialsManager> cmm, ByteView message, const DecryptOptions& options,
                   Bytes& plaintext, MessageHeader* header = nullptr, EncryptionContext* encryption_context = nullptr);
Result<DecryptResult> Decrypt(std::shared_ptr<const Keyring> keyring, ByteView message,
                              const DecryptOptions& options);

}  // namespace meridian::sdk
