// The region's root of trust: a 256-bit key that wraps all key material at rest.
//
// On disk the root key lives in a sealed file: the key encrypted with AES-256-GCM under a key
// derived from a passphrase by scrypt (memory-hard). The passphrase comes from an environment
// variable or a file, never from the command line. A RootKey in memory wraps and unwraps
// with AAD naming what is wrapped, so a wrapped blob cannot be moved to another purpose.
#pragma once

#include <string>
#include <string_view>

#include "common/bytes.h"
#include "common/status.h"
#include "crypto/crypto.h"

namespace meridian::crypto {

class RootKey {
 public:
  // Creates a new random root key and writes it sealed to `path` (mode 0600). Fails if the file
  // exists.
  static Result<RootKey> CreateSealedFile(const std::string& path, std::string_view passphrase,
                                          const ScryptParams& params = {});
  // Reads and unseals `path`; a wrong passphrase or an altered file gives an error.
  static Result<RootKey> OpenSealedFile(const std::string& path, std::string_view passphrase);
  // For tests and for an HSM-held key that has been unwrapped into memory.
  static RootKey FromBytes(ByteView key);

  // Wraps secret bytes: returns version(1) || iv(12) || ciphertext || tag(16). `context` is bound
  // as AAD and must be given again to Unwrap.
  Bytes Wrap(ByteView secret, std::string_view context) const;
  Result<SecureBytes> Unwrap(ByteView wrapped, std::string_view context) const;

  // A short, non-secret fingerprint of the key (first 8 bytes of SHA-256 of a derived value).
  std::string Fingerprint() const;

 private:
  explicit RootKey(SecureBytes key) : key_(std::move(key)) {}
  SecureBytes key_;
};

}  // namespace meridian::crypto
