// Encryption context: the caller's non-secret key/value pairs bound to a message as AAD.
// spec: framework/structures.md#encryption-context, data-format/message-header.md#aad
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"

namespace meridian::sdk {

// std::map<std::string> orders keys by their UTF-8 bytes (char_traits compares as unsigned char),
// which is the order the serialization requires.
using EncryptionContext = std::map<std::string, std::string>;

// The key the default CMM reserves for the signature verification key.
inline constexpr char kPublicKeyContextKey[] = "aws-crypto-public-key";

// Serialization: empty context -> no bytes; otherwise count(u16) then, sorted by key,
// key length(u16) key value length(u16) value. spec: framework/structures.md#serialization
Result<Bytes> SerializeEncryptionContext(const EncryptionContext& ec);
// Parses the serialized form (the header AAD field's content). Rejects duplicate keys, a zero
// count, and trailing bytes.
Result<EncryptionContext> ParseEncryptionContext(ByteView bytes);

// The pairs of `ec` whose keys are listed in `keys` (keys absent from `ec` are ignored).
EncryptionContext FilterContext(const EncryptionContext& ec, const std::vector<std::string>& keys);

}  // namespace meridian::sdk
