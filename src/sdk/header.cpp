#include "sdk/header.h"

#include "sdk/errors.h"

namespace meridian::sdk {
namespace {

constexpr uint8_t kTypeCustomerAed = 0x80;  // spec: data-format/message-header.md#supported-types

void WriteEdks(const std::vector<EncryptedDataKey>& edks, ByteWriter& w) {
  w.WriteU16(static_cast<uint16_t>(edks.size()));
  for (const auto& e : edks) {
    w.WriteU16(static_cast<uint16_t>(e.provider_id.size()));
    w.Write(e.provider_id);
    w.WriteU16(static_cast<uint16_t>(e.provider_info.size()));
    w.Write(e.provider_info);
    w.WriteU16(static_cast<uint16_t>(e.ciphertext.size()));
    w.Write(e.ciphertext);
  }
}

}  // namespace

Status SerializeHeaderBody(MessageHeader& h, ByteView stored_context_bytes) {
  const AlgorithmSuite& s = *h.suite;
  if (h.message_id.size() != s.message_id_length()) return errors::InvalidArgument("bad message id length");
  if (h.edks.empty()) return errors::InvalidArgument("a message needs at least one encrypted data key");
  if (h.edks.size() > 0xFFFF) return errors::InvalidArgument("too many encrypted data keys");
  for (const auto& e : h.edks)
    if (e.provider_id.size() > 0xFFFF || e.provider_info.size() > 0xFFFF || e.ciphertext.size() > 0xFFFF)
      return errors::InvalidArgument("encrypted data key field longer than 65535 bytes");
  if (stored_context_bytes.size() > 0xFFFF) return errors::InvalidArgument("encryption context too large");
  if (s.committing && h.commitment.size() != s.suite_data_length())
    return errors::InvalidArgument("missing commit key");
  ByteWriter w(256);
  if (s.message_version == 1) {
    // spec: data-format/message-header.md#header-body-version-1-0
    w.WriteU8(0x01);
    w.WriteU8(kTypeCustomerAed);
    w.WriteU16(s.id);
    w.Write(h.message_id);
    w.WriteU16(static_cast<uint16_t>(stored_context_bytes.size()));
    w.Write(stored_context_bytes);
    WriteEdks(h.edks, w);
    w.WriteU8(static_cast<uint8_t>(h.content_type));
    w.WriteU32(0);  // reserved
    w.WriteU8(AlgorithmSuite::kIvLength);
    w.WriteU32(h.frame_length);
  } else {
    // spec: data-format/message-header.md#header-body-version-2-0
    w.WriteU8(0x02);
    w.WriteU16(s.id);
    w.Write(h.message_id);
    w.WriteU16(static_cast<uint16_t>(stored_context_bytes.size()));
    w.Write(stored_context_bytes);
    WriteEdks(h.edks, w);
    w.WriteU8(static_cast<uint8_t>(h.content_type));
    w.WriteU32(h.frame_length);
    w.Write(h.commitment);
  }
  h.body = w.Take();
  return Status::Ok();
}

void AppendHeaderAuth(const MessageHeader& h, ByteWriter& out) {
  if (h.suite->message_version == 1) out.Write(h.header_iv);
  out.Write(h.auth_tag);
}

Result<HeaderParse> ParseHeader(ByteView data, size_t max_edks, MessageHeader& out) {
  ByteReader r(data);
  const HeaderParse need_more{};
  uint8_t version = 0;
  if (!r.ReadU8(version)) return need_more;
  if (version != 0x01 && version != 0x02)
    return errors::BadMessage("unsupported message format version " + std::to_string(version));
  if (version == 0x01) {
    uint8_t type = 0;
    if (!r.ReadU8(type)) return need_more;
    if (type != kTypeCustomerAed) return errors::BadMessage("unsupported message type");
  }
  uint16_t suite_id = 0;
  if (!r.ReadU16(suite_id)) return need_more;
  const AlgorithmSuite* suite = FindSuite(suite_id);
  if (!suite) return errors::BadMessage("unknown algorithm suite");
  if (suite->message_version != version)
    return errors::BadMessage("algorithm suite does not match the message format version");
  out.suite = suite;
  if (!r.ReadBytes(suite->message_id_length(), out.message_id)) return need_more;

  uint16_t aad_len = 0;
  ByteView aad;
  if (!r.ReadU16(aad_len) || !r.ReadView(aad_len, aad)) return need_more;
  auto ec = ParseEncryptionContext(aad);
  if (!ec.ok()) return ec.status();
  out.encryption_context = std::move(ec).value();

  uint16_t edk_count = 0;
  if (!r.ReadU16(edk_count)) return need_more;
  if (edk_count == 0) return errors::BadMessage("message has no encrypted data keys");
  // spec: client-apis/decrypt.md#parse-the-header (max EDKs checked as soon as known)
  if (max_edks > 0 && edk_count > max_edks)
    return errors::TooManyEdks("message has " + std::to_string(edk_count) +
                               " encrypted data keys; the configured maximum is " + std::to_string(max_edks));
  out.edks.clear();
  out.edks.reserve(edk_count);
  for (uint16_t i = 0; i < edk_count; ++i) {
    EncryptedDataKey e;
    uint16_t n = 0;
    ByteView id;
    if (!r.ReadU16(n) || !r.ReadView(n, id)) return need_more;
    e.provider_id.assign(AsString(id));
    if (!r.ReadU16(n) || !r.ReadBytes(n, e.provider_info)) return need_more;
    if (!r.ReadU16(n) || !r.ReadBytes(n, e.ciphertext)) return need_more;
    out.edks.push_back(std::move(e));
  }
  uint8_t content_type = 0;
  if (!r.ReadU8(content_type)) return need_more;
  if (content_type != 0x01 && content_type != 0x02) return errors::BadMessage("unknown content type");
  out.content_type = static_cast<ContentType>(content_type);
  if (version == 0x01) {
    uint32_t reserved = 0;
    uint8_t iv_len = 0;
    if (!r.ReadU32(reserved)) return need_more;
    if (reserved != 0) return errors::BadMessage("reserved header field is not zero");
    if (!r.ReadU8(iv_len)) return need_more;
    if (iv_len != AlgorithmSuite::kIvLength) return errors::BadMessage("IV length does not match the suite");
  }
  if (!r.ReadU32(out.frame_length)) return need_more;
  if (out.content_type == ContentType::kNonFramed && out.frame_length != 0)
    return errors::BadMessage("non-framed message with a non-zero frame length");
  if (out.content_type == ContentType::kFramed && out.frame_length == 0)
    return errors::BadMessage("framed message with a zero frame length");
  out.commitment.clear();
  if (suite->committing && !r.ReadBytes(suite->suite_data_length(), out.commitment)) return need_more;
  size_t body_len = r.position();

  out.header_iv.clear();
  if (version == 0x01 && !r.ReadBytes(AlgorithmSuite::kIvLength, out.header_iv)) return need_more;
  if (!r.ReadBytes(AlgorithmSuite::kTagLength, out.auth_tag)) return need_more;
  out.body.assign(data.begin(), data.begin() + static_cast<std::ptrdiff_t>(body_len));
  return HeaderParse{true, r.position()};
}

}  // namespace meridian::sdk
