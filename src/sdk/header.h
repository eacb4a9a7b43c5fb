// The message header (v1 and v2) and its bounds-checked, incremental parser.
// spec: data-format/message-header.md
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"
#include "sdk/algorithm_suite.h"
#include "sdk/encryption_context.h"

namespace meridian::sdk {

// spec: data-format/message-header.md#encrypted-data-key-entries
struct EncryptedDataKey {
  std::string provider_id;
  Bytes provider_info;
  Bytes ciphertext;
  bool operator==(const EncryptedDataKey&) const = default;
};

enum class ContentType : uint8_t { kNonFramed = 0x01, kFramed = 0x02 };

struct MessageHeader {
  const AlgorithmSuite* suite = nullptr;
  Bytes message_id;                       // 16 bytes (v1) or 32 bytes (v2)
  EncryptionContext encryption_context;   // the stored context (header AAD field)
  std::vector<EncryptedDataKey> edks;
  ContentType content_type = ContentType::kFramed;
  uint32_t frame_length = 0;
  Bytes commitment;                       // v2 algorithm suite data (commit key), else empty
  Bytes header_iv;                        // v1 header authentication IV (12 bytes)
  Bytes auth_tag;                         // 16 bytes

  // The serialized header body exactly as read or written: the AAD of the header auth tag.
  Bytes body;

  uint8_t version() const { return suite ? suite->message_version : 0; }
};

// Serializes header fields (everything but header_iv/auth_tag/body) into `h.body`.
// Uses `stored_context_bytes` as the AAD field content (already-serialized stored context).
Status SerializeHeaderBody(MessageHeader& h, ByteView stored_context_bytes);
// Header authentication section: v1 = IV || tag, v2 = tag.
void AppendHeaderAuth(const MessageHeader& h, ByteWriter& out);

struct HeaderParse {
  bool complete = false;  // false: more bytes are needed
  size_t consumed = 0;    // bytes of header body + authentication, when complete
};

// Parses a header from the start of `data`. Returns complete=false if `data` ends before the
// header does; an error Status if the bytes can never be a valid header (including more than
// `max_edks` encrypted data keys when max_edks > 0, detected before reading the keys).
Result<HeaderParse> ParseHeader(ByteView data, size_t max_edks, MessageHeader& out);

}  // namespace meridian::sdk
