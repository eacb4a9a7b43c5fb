#include "kms/grant_token.h"

#include "common/bytes.h"
#include "common/encoding.h"
#include "crypto/crypto.h"
#include "kms/ciphertext_blob.h"

namespace meridian::kms {
namespace {

constexpr std::string_view kMagic = "MGT";
constexpr uint8_t kVersion = 1;
constexpr size_t kGrantIdBytes = 32;
constexpr size_t kNonceBytes = 16;

}  // namespace

std::string NewGrantToken(std::string_view key_id, std::string_view grant_id) {
  ByteWriter w(4 + 1 + key_id.size() + kGrantIdBytes + kNonceBytes);
  w.Write(kMagic);
  w.WriteU8(kVersion);
  w.WriteU8(static_cast<uint8_t>(key_id.size()));
  w.Write(key_id);
  auto id = HexDecode(grant_id);
  w.Write(id ? ByteView(*id) : ByteView());
  w.Write(crypto::RandomBytes(kNonceBytes));
  return Base64Encode(w.bytes());
}

std::optional<GrantTokenView> ParseGrantToken(std::string_view token) {
  if (token.empty() || token.size() > 8192) return std::nullopt;
  auto bytes = Base64Decode(token);
  if (!bytes) return std::nullopt;
  ByteReader r(*bytes);
  ByteView magic, key_id, grant_id, nonce;
  uint8_t version = 0, key_id_len = 0;
  if (!r.ReadView(kMagic.size(), magic) || AsString(magic) != kMagic || !r.ReadU8(version) || version != kVersion ||
      !r.ReadU8(key_id_len) || key_id_len == 0 || key_id_len > kMaxKeyIdLength || !r.ReadView(key_id_len, key_id) ||
      !r.ReadView(kGrantIdBytes, grant_id) || !r.ReadView(kNonceBytes, nonce) || !r.AtEnd())
    return std::nullopt;
  return GrantTokenView{std::string(AsString(key_id)), HexEncode(grant_id)};
}

}  // namespace meridian::kms
