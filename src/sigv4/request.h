// The parts of an HTTP request that AWS Signature Version 4 covers, as a read-only view.
//
// Independent of any HTTP library: the server builds a RequestView from what its parser produced,
// client code from what it is about to send. Nothing is copied; every view must outlive the call
// it is passed to.
#pragma once

#include <optional>
#include <span>
#include <string_view>

namespace meridian::sigv4 {

inline constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
inline constexpr std::string_view kScopeTerminator = "aws4_request";

// One header line as received. Names compare case-insensitively and may repeat; repeated values
// are joined with ',' in the order received.
struct Header {
  std::string_view name;
  std::string_view value;
};

struct RequestView {
  std::string_view method;  // "POST"
  std::string_view path;    // raw path as sent: percent-encoding intact, no query ("/")
  std::string_view query;   // raw query string after '?', without the '?' ("" when none)
  std::span<const Header> headers;
  std::string_view payload;  // the body
  // Lower-case hex SHA-256 of the body, when the caller already has it (for instance computed
  // while the body streamed in). When non-empty `payload` is not hashed: the caller vouches that
  // this is the hash of the body actually received.
  std::string_view payload_sha256_hex;
};

// How the path becomes the canonical URI.
enum class PathMode {
  // Every AWS service except S3: remove "." and ".." segments and empty segments (RFC 3986
  // 5.2.4 plus AWS's collapsing of "//"), then URI-encode the path once more (the raw path is
  // already encoded, so relative to the decoded path this is AWS's "double encoding").
  kNormalize,
  // URI-encode without normalizing (aws-c-auth's "unnormalized" test cases).
  kNoNormalize,
};

// First header named `name` (case-insensitive), or nullopt.
std::optional<std::string_view> FindHeader(std::span<const Header> headers, std::string_view name);

}  // namespace meridian::sigv4
