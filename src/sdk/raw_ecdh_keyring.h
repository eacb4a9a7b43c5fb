// Raw ECDH keyring: wraps data keys under a key agreed by ECDH between a sender and a recipient
// key pair (P-256, P-384, P-521), derived with KDF in counter mode (HMAC-SHA384) and bound to
// both public keys and the encryption context; a commitment key in each EDK is checked on decrypt.
// spec: framework/raw-ecdh-keyring.md, framework/key-agreement-schemas.md
#pragma once

#include <memory>

#include "sdk/materials.h"
#include "sdk/pkey.h"

namespace meridian::sdk {

enum class EcdhCurve { kP256, kP384, kP521 };

class RawEcdhKeyring : public Keyring {
 public:
  // RawPrivateKeyToStaticPublicKey: encrypts and decrypts between two static key pairs.
  static Result<std::shared_ptr<RawEcdhKeyring>> StaticKeys(EcdhCurve curve, PKey sender_private,
                                                            PKey recipient_public);
  // EphemeralPrivateKeyToStaticPublicKey: encrypt only, a fresh sender key pair per data key.
  static Result<std::shared_ptr<RawEcdhKeyring>> Ephemeral(EcdhCurve curve, PKey recipient_public);
  // PublicKeyDiscovery: decrypt only, any sender, for messages addressed to this recipient.
  static Result<std::shared_ptr<RawEcdhKeyring>> Discovery(EcdhCurve curve, PKey recipient_private);

  Status OnEncrypt(EncryptionMaterials& materials) const override;
  Status OnDecrypt(DecryptionMaterials& materials, const std::vector<EncryptedDataKey>& edks) const override;

  enum class Schema { kStatic, kEphemeral, kDiscovery };
  RawEcdhKeyring(Schema schema, EcdhCurve curve, PKey own_private, PKey peer_public, Bytes own_point,
                 Bytes peer_point)
      : schema_(schema), curve_(curve), own_private_(std::move(own_private)), peer_public_(std::move(peer_public)),
        own_point_(std::move(own_point)), peer_point_(std::move(peer_point)) {}

 private:
  Schema schema_;
  EcdhCurve curve_;
  PKey own_private_;   // static sender (kStatic) or recipient (kDiscovery) private key
  PKey peer_public_;   // recipient public key (kStatic, kEphemeral)
  Bytes own_point_;    // compressed public point of own_private_
  Bytes peer_point_;   // compressed public point of peer_public_
};

}  // namespace meridian::sdk
