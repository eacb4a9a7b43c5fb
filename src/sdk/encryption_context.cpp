#include "sdk/encryption_context.h"

#include "sdk/errors.h"

namespace meridian::sdk {

Result<Bytes> SerializeEncryptionContext(const EncryptionContext& ec) {
  if (ec.empty()) return Bytes{};
  if (ec.size() > 0xFFFF) return errors::InvalidArgument("encryption context has too many pairs");
  ByteWriter w;
  w.WriteU16(static_cast<uint16_t>(ec.size()));
  for (const auto& [k, v] : ec) {
    if (k.size() > 0xFFFF || v.size() > 0xFFFF)
      return errors::InvalidArgument("encryption context key or value longer than 65535 bytes");
    w.WriteU16(static_cast<uint16_t>(k.size()));
    w.Write(k);
    w.WriteU16(static_cast<uint16_t>(v.size()));
    w.Write(v);
  }
  if (w.size() > 0xFFFF) return errors::InvalidArgument("serialized encryption context exceeds 65535 bytes");
  return w.Take();
}

Result<EncryptionContext> ParseEncryptionContext(ByteView bytes) {
  EncryptionContext ec;
  if (bytes.empty()) return ec;
  ByteReader r(bytes);
  uint16_t count = 0;
  if (!r.ReadU16(count)) return errors::BadMessage("truncated encryption context");
  if (count == 0) return errors::BadMessage("encryption context with a zero pair count");
  for (uint16_t i = 0; i < count; ++i) {
    uint16_t kl = 0, vl = 0;
    ByteView k, v;
    if (!r.ReadU16(kl) || !r.ReadView(kl, k) || !r.ReadU16(vl) || !r.ReadView(vl, v))
      return errors::BadMessage("truncated encryption context");
    auto [it, inserted] = ec.emplace(std::string(AsString(k)), std::string(AsString(v)));
    if (!inserted) return errors::BadMessage("duplicate encryption context key");
  }
  if (!r.AtEnd()) return errors::BadMessage("trailing bytes after encryption context");
  return ec;
}

EncryptionContext FilterContext(const EncryptionContext& ec, const std::vector<std::string>& keys) {
  EncryptionContext out;
  for (const auto& k : keys) {
    auto it = ec.find(k);
    if (it != ec.end()) out.emplace(*it);
  }
  return out;
}

}  // namespace meridian::sdk
