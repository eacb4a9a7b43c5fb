#include "sigv4/verifier.h"

#include "sigv4/authorization.h"
#include "sigv4/canonical.h"

namespace meridian::sigv4 {
namespace {

using internal::AuthorizationFields;

constexpr std::string_view kSignatureMismatch =
    "The request signature we calculated does not match the signature you provided. Check your "
    "AWS Secret Access Key and signing method. Consult the service documentation for details.";

Status MissingAuthenticationToken() {
  return Status("MissingAuthenticationTokenException", "Missing Authentication Token", 403);
}
Status Incomplete(std::string message) {
  return Status("IncompleteSignatureException", std::move(message), 400);
}
Status InvalidSignature(std::string message) {
  return Status("InvalidSignatureException", std::move(message), 400);
}
Status UnrecognizedClient() {
  return Status("UnrecognizedClientException",
                "The security token included in the request is invalid.", 400);
}
Status ExpiredToken() {
  return Status("ExpiredTokenException", "The security token included in the request is expired",
                400);
}

bool ContainsName(std::string_view list, std::string_view name) {
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t end = list.find(';', pos);
    if (end == std::string_view::npos) end = list.size();
    if (internal::EqualsIgnoreCase(list.substr(pos, end - pos), name)) return true;
    pos = end + 1;
  }
  return false;
}

bool IsLowerHex64(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// Decodes 64 hex digits (either case) into 32 bytes; false when malformed.
bool DecodeSignature(std::string_view hex, std::array<uint8_t, 32>& out) {
  if (hex.size() != 64) return false;
  auto value = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < 32; ++i) {
    int hi = value(hex[2 * i]), lo = value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>((hi << 4) | lo);
  }
  return true;
}

// Buffers reused by every verification on a thread: the hot path allocates nothing once warm.
struct ThreadBuffers {
  std::string canonical_request;
  std::string string_to_sign;
};
ThreadBuffers& Buffers() {
  thread_local ThreadBuffers buffers;
  return buffers;
}

}  // namespace

Verifier::Verifier(VerifierOptions options, CredentialLookup lookup, const Clock& clock)
    : options_(std::move(options)),
      lookup_(std::move(lookup)),
      clock_(clock),
      key_cache_(options_.signing_key_cache_capacity) {}

Result<Caller> Verifier::Verify(const RequestView& request) const {
  // 1. Which auth mechanism, and its parameters.
  const std::optional<std::string_view> authorization = FindHeader(request.headers, "authorization");
  const bool presigned_params = internal::HasPresignedParameters(request.query);
  AuthorizationFields fields;
  internal::PresignedQuery presigned;
  std::string_view amz_date;
  std::optional<std::string_view> session_token;
  if (authorization && presigned_params) {
    return Incomplete(
        "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the "
        "Authorization header should be specified");
  }
  if (authorization) {
    MERIDIAN_RETURN_IF_ERROR(internal::ParseAuthorizationHeader(*authorization, fields));
    std::optional<std::string_view> date_header = FindHeader(request.headers, "x-amz-date");
    if (!date_header) {
      return Incomplete(
          "Authorization header requires existence of a 'X-Amz-Date' header (the 'Date' header "
          "is not accepted here). Authorization=" + std::string(*authorization));
    }
    amz_date = *date_header;
    session_token = FindHeader(request.headers, "x-amz-security-token");
  } else if (presigned_params) {
    MERIDIAN_RETURN_IF_ERROR(internal::ParsePresignedQuery(request.query, presigned, fields));
    amz_date = presigned.date;
    if (presigned.has_security_token) session_token = presigned.security_token;
  } else {
    return MissingAuthenticationToken();
  }

  // 2. Date and credential scope.
  int64_t signed_at = 0;
  if (!internal::ParseAmzDate(amz_date, signed_at)) {
    return Incomplete("X-Amz-Date must be in the ISO 8601 basic format yyyyMMdd'T'HHmmss'Z', got '" +
                      std::string(amz_date) + "'.");
  }
  const internal::CredentialScope& scope = fields.scope;
  if (scope.date != amz_date.substr(0, 8)) {
    return InvalidSignature(
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from "
        "HTTP: '" + std::string(scope.date) + "' != '" + std::string(amz_date.substr(0, 8)) +
        "', from '" + std::string(amz_date) + "'.");
  }
  if (scope.terminator != kScopeTerminator) {
    return InvalidSignature("Credential should be scoped with a valid terminator: 'aws4_request', not '" +
                            std::string(scope.terminator) + "'. ");
  }
  if (scope.region != options_.region) {
    return InvalidSignature("Credential should be scoped to a valid region, not '" +
                            std::string(scope.region) + "'. ");
  }
  const std::string* service = nullptr;
  for (const std::string& s : options_.services) {
    if (scope.service == s) service = &s;
  }
  if (service == nullptr) {
    std::string expected;
    for (const std::string& s : options_.services) {
      if (!expected.empty()) expected += " or ";
      expected += "'" + s + "'";
    }
    return InvalidSignature("Credential should be scoped to correct service: " + expected + ". ");
  }

  // 3. Required signed headers.
  if (!ContainsName(fields.signed_headers, "host")) {
    return Incomplete("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  }
  if (authorization && !ContainsName(fields.signed_headers, "x-amz-date")) {
    return Incomplete("'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.");
  }

  // 4. Time.
  const int64_t now = clock_.NowSeconds();
  const int64_t skew = options_.max_clock_skew_seconds;
  auto skew_text = [skew] { return std::to_string(skew / 60) + " min."; };
  if (signed_at > now + skew) {
    return InvalidSignature("Signature not yet current: " + std::string(amz_date) +
                            " is still later than " + FormatAmzDate(now + skew) + " (" +
                            FormatAmzDate(now) + " + " + skew_text() + ")");
  }
  if (authorization) {
    if (signed_at < now - skew) {
      return InvalidSignature("Signature expired: " + std::string(amz_date) +
                              " is now earlier than " + FormatAmzDate(now - skew) + " (" +
                              FormatAmzDate(now) + " - " + skew_text() + ")");
    }
  } else if (presigned.has_expires) {
    int64_t expires = 0;
    const std::string& text = presigned.expires;
    bool numeric = !text.empty() && text.size() <= 7;
    for (char c : text) numeric = numeric && c >= '0' && c <= '9';
    if (numeric) expires = std::stoll(text);
    if (!numeric || expires < 1 || expires > 604800) {
      return Incomplete("X-Amz-Expires must be a whole number of seconds from 1 to 604800 (a "
                        "week), got '" + text + "'.");
    }
    if (now > signed_at + expires) {
      return InvalidSignature("Signature expired: " + FormatAmzDate(signed_at + expires) +
                              " is now earlier than " + FormatAmzDate(now) +
                              " (the presigned request was signed at " + std::string(amz_date) +
                              " with X-Amz-Expires=" + text + ")");
    }
  } else if (signed_at < now - skew) {
    return InvalidSignature("Signature expired: " + std::string(amz_date) +
                            " is now earlier than " + FormatAmzDate(now - skew) + " (" +
                            FormatAmzDate(now) + " - " + skew_text() + ")");
  }

  // 5. The credential.
  std::shared_ptr<const CredentialRecord> record = lookup_(scope.access_key_id);
  if (!record) return UnrecognizedClient();
  if (record->session_token) {
    if (!session_token ||
        !crypto::ConstantTimeEquals(AsBytes(*session_token), AsBytes(*record->session_token)))
      return UnrecognizedClient();
  } else if (session_token) {
    return UnrecognizedClient();
  }
  if (record->expires_at && now >= *record->expires_at) return ExpiredToken();

  // 6. Payload hash.
  char computed_hash[64];
  std::string_view payload_hash = request.payload_sha256_hex;
  if (payload_hash.empty()) {
    internal::Sha256Hex(AsBytes(request.payload), computed_hash);
    payload_hash = std::string_view(computed_hash, sizeof computed_hash);
  } else if (!IsLowerHex64(payload_hash)) {
    return InvalidSignature("The payload hash supplied with the request is not 64 lower-case hex digits.");
  }
  if (std::optional<std::string_view> claimed = FindHeader(request.headers, "x-amz-content-sha256")) {
    if (*claimed != payload_hash) {
      return InvalidSignature(
          "The provided 'x-amz-content-sha256' header does not match what was computed.");
    }
  }

  // 7. Signature. A presigned request may carry its session token unsigned (added after
  // signing, as some SDKs do); the token itself was checked above, so try both readings.
  std::array<uint8_t, 32> provided;
  if (!DecodeSignature(fields.signature, provided)) return InvalidSignature(std::string(kSignatureMismatch));
  SigningKey key = key_cache_.Get(scope.access_key_id, record->secret_access_key.view(), scope.date,
                                  scope.region, scope.service);
  static constexpr std::string_view kSignatureOnly[] = {"X-Amz-Signature"};
  static constexpr std::string_view kSignatureAndToken[] = {"X-Amz-Signature", "X-Amz-Security-Token"};
  ThreadBuffers& buffers = Buffers();
  internal::CanonicalRequestInput in;
  in.method = request.method;
  in.raw_path = request.path;
  in.path_mode = options_.path_mode;
  in.raw_query = request.query;
  if (!authorization) in.excluded_query_names = kSignatureOnly;
  in.headers = request.headers;
  in.signed_headers = fields.signed_headers;
  in.payload_hash_hex = payload_hash;
  for (int attempt = 0;; ++attempt) {
    std::string_view missing;
    if (!internal::BuildCanonicalRequest(in, buffers.canonical_request, missing)) {
      if (missing.empty()) {
        return Incomplete("SignedHeaders contains an empty header name: '" +
                          std::string(fields.signed_headers) + "'.");
      }
      return Incomplete("Header '" + std::string(missing) +
                        "' is listed in SignedHeaders but is not present in the request.");
    }
    internal::BuildStringToSign(amz_date, scope.scope, buffers.canonical_request,
                                buffers.string_to_sign);
    crypto::Sha256Digest expected = crypto::HmacSha256(key.view(), AsBytes(buffers.string_to_sign));
    if (crypto::ConstantTimeEquals(expected, provided)) break;
    if (attempt == 0 && !authorization && presigned.has_security_token) {
      in.excluded_query_names = kSignatureAndToken;
      continue;
    }
    return InvalidSignature(std::string(kSignatureMismatch));
  }

  Caller caller;
  caller.region = std::string(scope.region);
  caller.service = *service;
  caller.has_session_token = session_token.has_value();
  caller.presigned = !authorization;
  caller.signed_at = signed_at;
  caller.credential = std::move(record);
  return caller;
}

std::optional<ClaimedCredential> ClaimedCredentialOf(const RequestView& request) {
  internal::AuthorizationFields fields;
  internal::PresignedQuery query;
  if (auto header = FindHeader(request.headers, "authorization")) {
    if (!internal::ParseAuthorizationHeader(*header, fields).ok()) return std::nullopt;
  } else if (internal::HasPresignedParameters(request.query)) {
    if (!internal::ParsePresignedQuery(request.query, query, fields).ok()) return std::nullopt;
  } else {
    return std::nullopt;
  }
  return ClaimedCredential{std::string(fields.scope.access_key_id), std::string(fields.scope.region),
                           std::string(fields.scope.service)};
}

}  // namespace meridian::sigv4
