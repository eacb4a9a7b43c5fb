#include "kms/ciphertext_blob.h"

#include "crypto/crypto.h"

namespace meridian::kms {

std::optional<CiphertextBlobView> ParseCiphertextBlob(ByteView blob) {
  ByteReader r(blob);
  uint8_t version = 0, id_len = 0;
  ByteView id, backing, nonce;
  if (!r.ReadU8(version) || version != kBlobVersion) return std::nullopt;
  if (!r.ReadU8(id_len) || id_len == 0 || id_len > kMaxKeyIdLength) return std::nullopt;
  if (!r.ReadView(id_len, id) || !r.ReadView(kBackingKeyIdSize, backing) || !r.ReadView(kBlobNonceSize, nonce))
    return std::nullopt;
  const size_t header_len = r.position();
  if (r.remaining() < crypto::kAesGcmTagSize) return std::nullopt;
  for (uint8_t c : id)
    if (c < 0x21 || c > 0x7e) return std::nullopt;
  CiphertextBlobView v;
  v.key_id.assign(reinterpret_cast<const char*>(id.data()), id.size());
  v.backing_key_id = backing;
  v.nonce = nonce;
  v.header = blob.subspan(0, header_len);
  v.ciphertext_and_tag = r.Rest();
  return v;
}

Bytes BuildBlobHeader(std::string_view key_id, ByteView backing_key_id, ByteView nonce) {
  ByteWriter w(2 + key_id.size() + backing_key_id.size() + nonce.size());
  w.WriteU8(kBlobVersion);
  w.WriteU8(static_cast<uint8_t>(key_id.size()));
  w.Write(key_id);
  w.Write(backing_key_id);
  w.Write(nonce);
  return w.Take();
}

Bytes SerializeEncryptionContext(const EncryptionContext& context) {
  if (context.empty()) return {};
  ByteWriter w;
  w.WriteU16(static_cast<uint16_t>(context.size()));
  for (const auto& [k, v] : context) {
    w.WriteU16(static_cast<uint16_t>(k.size()));
    w.Write(k);
    w.WriteU16(static_cast<uint16_t>(v.size()));
    w.Write(v);
  }
  return w.Take();
}

}  // namespace meridian::kms
