// Internal: the pieces of the SigV4 canonical request and string to sign, shared by the Signer
// and the Verifier so both sides canonicalize with one implementation. Appends into caller-owned
// buffers so the verifier can reuse them across requests.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "common/bytes.h"
#include "sigv4/request.h"

namespace meridian::sigv4::internal {

bool EqualsIgnoreCase(std::string_view a, std::string_view b);

// Appends `s` percent-encoded: every byte outside A-Z a-z 0-9 - _ . ~ becomes %XY (upper-case
// hex); '/' is kept as is when keep_slash.
void AppendUriEncoded(std::string_view s, bool keep_slash, std::string& out);

// Percent-decodes `s` into `out` (appending). A '%' not followed by two hex digits is kept as a
// literal '%' (so that even a malformed query canonicalizes deterministically); '+' stays '+'.
void AppendUriDecoded(std::string_view s, std::string& out);

// Appends the canonical URI of `raw_path` (an empty path is "/").
void AppendCanonicalUri(std::string_view raw_path, PathMode mode, std::string& out);

// Appends the canonical query string of `raw_query`: every name and value percent-decoded then
// re-encoded, pairs sorted by encoded name then encoded value, joined as "n=v&n=v". Empty
// segments ("a=1&&b=2") are dropped; a segment without '=' has an empty value. Parameters whose
// decoded name is one of `excluded_names` are left out (the verifier excludes X-Amz-Signature).
void AppendCanonicalQuery(std::string_view raw_query,
                          std::span<const std::string_view> excluded_names, std::string& out);

// Appends a header value with leading and trailing spaces/tabs removed and every inner run of
// spaces/tabs collapsed to one space.
void AppendTrimmedHeaderValue(std::string_view value, std::string& out);

// Appends "name:value\n" for each name in `signed_headers` (";"-separated, in the order given),
// where value joins every header with that name (case-insensitive) in the order received, with
// ','. Returns false when a listed name is empty or absent from `headers`; `missing` then holds
// it and the output is unspecified.
bool AppendCanonicalHeaders(std::span<const Header> headers, std::string_view signed_headers,
                            std::string& out, std::string_view& missing);

struct CanonicalRequestInput {
  std::string_view method;
  std::string_view raw_path;
  PathMode path_mode = PathMode::kNormalize;
  std::string_view raw_query;
  std::span<const std::string_view> excluded_query_names;  // e.g. {"X-Amz-Signature"}
  std::span<const Header> headers;
  std::string_view signed_headers;    // "host;x-amz-date"
  std::string_view payload_hash_hex;  // 64 lower-case hex digits
};

// Replaces `out` with the canonical request. Returns false when a signed header is missing from
// the request (see AppendCanonicalHeaders).
bool BuildCanonicalRequest(const CanonicalRequestInput& in, std::string& out,
                           std::string_view& missing_header);

// Replaces `out` with the string to sign:
// "AWS4-HMAC-SHA256\n<amz_date>\n<scope>\n<hex sha256(canonical_request)>".
void BuildStringToSign(std::string_view amz_date, std::string_view scope,
                       std::string_view canonical_request, std::string& out);

// Lower-case hex of `data` appended to `out`.
void AppendHex(ByteView data, std::string& out);
// Lower-case hex SHA-256 of `data` into a 64-char buffer.
void Sha256Hex(ByteView data, char (&out)[64]);

// Parses "YYYYMMDDTHHMMSSZ" (ISO 8601 basic, UTC) without allocating. False when malformed.
bool ParseAmzDate(std::string_view text, int64_t& epoch_seconds);

}  // namespace meridian::sigv4::internal
