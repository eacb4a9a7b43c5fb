// Text encodings of bytes: base64 (RFC 4648, as AWS JSON blobs use), hex, URI encoding (SigV4).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/bytes.h"

namespace meridian {

std::string Base64Encode(ByteView data);
// Strict decoding: padding required, no whitespace, no characters outside the alphabet.
std::optional<Bytes> Base64Decode(std::string_view text);

std::string HexEncode(ByteView data);  // lower case
std::optional<Bytes> HexDecode(std::string_view text);

// Percent-encodes every byte except the RFC 3986 unreserved set (A-Z a-z 0-9 - _ . ~);
// with encode_slash=false, '/' is kept too.
std::string UriEncode(std::string_view s, bool encode_slash = true);
// Decodes %XX escapes; returns nullopt on a malformed escape. '+' is left as is.
std::optional<std::string> UriDecode(std::string_view s);

}  // namespace meridian
