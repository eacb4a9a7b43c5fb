#include "sigv4/signer.h"

#include <algorithm>

#include "common/clock.h"
#include "sigv4/canonical.h"

namespace meridian::sigv4 {
namespace {

using internal::EqualsIgnoreCase;

constexpr std::string_view kUnsignedHeaders[] = {
    "authorization", "connection", "expect", "transfer-encoding",
    "upgrade",       "user-agent", "x-amzn-trace-id"};

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return out;
}

// "host;x-amz-date": the lower-cased names of `headers`, sorted, deduplicated, minus the
// unsigned ones.
std::string SignedHeaderList(std::span<const Header> headers) {
  std::vector<std::string> names;
  names.reserve(headers.size());
  for (const Header& h : headers) {
    std::string name = ToLower(h.name);
    if (std::find(std::begin(kUnsignedHeaders), std::end(kUnsignedHeaders), name) !=
        std::end(kUnsignedHeaders))
      continue;
    names.push_back(std::move(name));
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  std::string list;
  for (const std::string& name : names) {
    if (!list.empty()) list.push_back(';');
    list += name;
  }
  return list;
}

std::string PayloadHash(const RequestView& request) {
  if (!request.payload_sha256_hex.empty()) return std::string(request.payload_sha256_hex);
  char hash[64];
  internal::Sha256Hex(AsBytes(request.payload), hash);
  return std::string(hash, sizeof hash);
}

std::string Encoded(std::string_view s) {
  std::string out;
  internal::AppendUriEncoded(s, /*keep_slash=*/false, out);
  return out;
}

Status RequireHost(const RequestView& request) {
  if (FindHeader(request.headers, "host")) return Status::Ok();
  return errors::Validation("SigV4 signing requires a Host header on the request");
}

}  // namespace

Credentials Credentials::Make(std::string_view access_key_id, std::string_view secret_access_key,
                              std::string_view session_token) {
  Credentials c;
  c.access_key_id = std::string(access_key_id);
  c.secret_access_key = crypto::SecureBytes(AsBytes(secret_access_key));
  c.session_token = std::string(session_token);
  return c;
}

Signer::Signer(Credentials credentials, std::string region, std::string service)
    : credentials_(std::move(credentials)),
      region_(std::move(region)),
      service_(std::move(service)) {}

std::string Signer::Scope(std::string_view date) const {
  std::string scope(date);
  scope += '/';
  scope += region_;
  scope += '/';
  scope += service_;
  scope += '/';
  scope += kScopeTerminator;
  return scope;
}

std::string Signer::SignatureHex(std::string_view date, std::string_view string_to_sign) const {
  SigningKey key = key_cache_.Get(credentials_.access_key_id, credentials_.secret_access_key.view(),
                                  date, region_, service_);
  crypto::Sha256Digest mac = crypto::HmacSha256(key.view(), AsBytes(string_to_sign));
  std::string hex;
  internal::AppendHex(mac, hex);
  return hex;
}

Result<SignedRequest> Signer::Sign(const RequestView& request, int64_t epoch_seconds,
                                   const SigningOptions& options) const {
  MERIDIAN_RETURN_IF_ERROR(RequireHost(request));
  const std::string amz_date = FormatAmzDate(epoch_seconds);
  const std::string_view date = std::string_view(amz_date).substr(0, 8);
  const std::string payload_hash = PayloadHash(request);
  const std::string& token = credentials_.session_token;

  std::vector<Header> headers(request.headers.begin(), request.headers.end());
  std::vector<std::pair<std::string, std::string>> added;
  if (!token.empty() && !FindHeader(request.headers, "x-amz-security-token")) {
    added.emplace_back("X-Amz-Security-Token", token);
  }
  if (auto existing = FindHeader(request.headers, "x-amz-date")) {
    if (*existing != amz_date) {
      return errors::Validation("the request carries X-Amz-Date '" + std::string(*existing) +
                                "' but the signing time is '" + amz_date + "'");
    }
  } else {
    added.emplace_back("X-Amz-Date", amz_date);
  }
  if (options.add_content_sha256_header &&
      !FindHeader(request.headers, "x-amz-content-sha256")) {
    added.emplace_back("X-Amz-Content-Sha256", payload_hash);
  }
  for (const auto& [name, value] : added) {
    if (name == "X-Amz-Security-Token" && !options.sign_session_token) continue;
    headers.push_back({name, value});
  }

  SignedRequest out;
  const std::string signed_headers = SignedHeaderList(headers);
  internal::CanonicalRequestInput in;
  in.method = request.method;
  in.raw_path = request.path;
  in.path_mode = options.path_mode;
  in.raw_query = request.query;
  in.headers = headers;
  in.signed_headers = signed_headers;
  in.payload_hash_hex = payload_hash;
  std::string_view missing;
  if (!internal::BuildCanonicalRequest(in, out.canonical_request, missing)) {
    return errors::Validation("cannot sign: header '" + std::string(missing) + "' has no value");
  }
  const std::string scope = Scope(date);
  internal::BuildStringToSign(amz_date, scope, out.canonical_request, out.string_to_sign);
  out.signature = SignatureHex(date, out.string_to_sign);

  out.headers_to_add = std::move(added);
  out.headers_to_add.emplace_back(
      "Authorization", std::string(kAlgorithm) + " Credential=" + credentials_.access_key_id +
                           "/" + scope + ", SignedHeaders=" + signed_headers +
                           ", Signature=" + out.signature);
  return out;
}

Result<SignedRequest> Signer::Presign(const RequestView& request, int64_t epoch_seconds,
                                      int64_t expires_seconds,
                                      const SigningOptions& options) const {
  MERIDIAN_RETURN_IF_ERROR(RequireHost(request));
  if (expires_seconds < 1 || expires_seconds > 604800) {
    return errors::Validation("X-Amz-Expires must be between 1 and 604800 seconds");
  }
  const std::string amz_date = FormatAmzDate(epoch_seconds);
  const std::string_view date = std::string_view(amz_date).substr(0, 8);
  const std::string scope = Scope(date);
  const std::string signed_headers = SignedHeaderList(request.headers);
  const std::string& token = credentials_.session_token;

  std::string query(request.query);
  auto add_param = [&query](std::string_view name, std::string_view value) {
    if (!query.empty()) query += '&';
    query += name;
    query += '=';
    query += Encoded(value);
  };
  add_param("X-Amz-Algorithm", kAlgorithm);
  add_param("X-Amz-Credential", credentials_.access_key_id + "/" + scope);
  add_param("X-Amz-Date", amz_date);
  add_param("X-Amz-SignedHeaders", signed_headers);
  add_param("X-Amz-Expires", std::to_string(expires_seconds));
  if (!token.empty() && options.sign_session_token) add_param("X-Amz-Security-Token", token);

  SignedRequest out;
  const std::string payload_hash = PayloadHash(request);
  internal::CanonicalRequestInput in;
  in.method = request.method;
  in.raw_path = request.path;
  in.path_mode = options.path_mode;
  in.raw_query = query;
  in.headers = request.headers;
  in.signed_headers = signed_headers;
  in.payload_hash_hex = payload_hash;
  std::string_view missing;
  if (!internal::BuildCanonicalRequest(in, out.canonical_request, missing)) {
    return errors::Validation("cannot sign: header '" + std::string(missing) + "' has no value");
  }
  internal::BuildStringToSign(amz_date, scope, out.canonical_request, out.string_to_sign);
  out.signature = SignatureHex(date, out.string_to_sign);

  if (!token.empty() && !options.sign_session_token) add_param("X-Amz-Security-Token", token);
  add_param("X-Amz-Signature", out.signature);
  out.query = std::move(query);
  return out;
}

}  // namespace meridian::sigv4
