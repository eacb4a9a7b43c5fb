#include "sigv4/authorization.h"

#include "sigv4/canonical.h"
#include "sigv4/request.h"

namespace meridian::sigv4::internal {
namespace {

Status Incomplete(std::string message) {
  return Status("IncompleteSignatureException", std::move(message), 400);
}

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

Status CheckAlgorithm(std::string_view algorithm) {
  if (algorithm == kAlgorithm) return Status::Ok();
  return Incomplete("Unsupported AWS 'algorithm': '" + std::string(algorithm) +
                    "'. Only AWS4-HMAC-SHA256 is supported.");
}

}  // namespace

Status ParseCredential(std::string_view credential, CredentialScope& out) {
  std::string_view parts[5];
  size_t count = 0, pos = 0;
  while (true) {
    size_t slash = credential.find('/', pos);
    std::string_view part = credential.substr(pos, slash == std::string_view::npos
                                                       ? std::string_view::npos
                                                       : slash - pos);
    if (count == 5) {
      count = 6;  // too many
      break;
    }
    parts[count++] = part;
    if (slash == std::string_view::npos) break;
    pos = slash + 1;
  }
  if (count != 5) {
    return Incomplete(
        "Credential must have exactly 5 slash-delimited elements, e.g. "
        "keyid/date/region/service/term, got '" +
        std::string(credential) + "'");
  }
  out.access_key_id = parts[0];
  out.date = parts[1];
  out.region = parts[2];
  out.service = parts[3];
  out.terminator = parts[4];
  out.scope = credential.substr(parts[0].size() + 1);
  return Status::Ok();
}

Status ParseAuthorizationHeader(std::string_view header, AuthorizationFields& out) {
  out = AuthorizationFields{};
  std::string_view value = TrimSpaces(header);
  size_t space = value.find(' ');
  out.algorithm = value.substr(0, space);
  MERIDIAN_RETURN_IF_ERROR(CheckAlgorithm(out.algorithm));
  std::string_view rest = space == std::string_view::npos ? std::string_view() : value.substr(space + 1);
  bool has_credential = false, has_signed_headers = false, has_signature = false;
  size_t pos = 0;
  while (pos <= rest.size()) {
    size_t comma = rest.find(',', pos);
    if (comma == std::string_view::npos) comma = rest.size();
    std::string_view component = TrimSpaces(rest.substr(pos, comma - pos));
    pos = comma + 1;
    if (component.empty()) continue;
    size_t eq = component.find('=');
    if (eq == std::string_view::npos) {
      return Incomplete("'" + std::string(component) +
                        "' not a valid key=value pair (missing equal-sign) in Authorization "
                        "header: '" + std::string(value) + "'.");
    }
    std::string_view key = component.substr(0, eq);
    std::string_view val = component.substr(eq + 1);
    bool* seen = nullptr;
    std::string_view* target = nullptr;
    if (key == "Credential") {
      seen = &has_credential;
      target = &out.credential;
    } else if (key == "SignedHeaders") {
      seen = &has_signed_headers;
      target = &out.signed_headers;
    } else if (key == "Signature") {
      seen = &has_signature;
      target = &out.signature;
    } else {
      continue;  // unknown components are not signed and carry nothing we use
    }
    if (*seen) {
      return Incomplete("Authorization header has more than one '" + std::string(key) +
                        "' parameter. Authorization=" + std::string(value));
    }
    *seen = true;
    *target = val;
  }
  std::string missing;
  if (!has_credential) missing += "Authorization header requires 'Credential' parameter. ";
  if (!has_signature) missing += "Authorization header requires 'Signature' parameter. ";
  if (!has_signed_headers) missing += "Authorization header requires 'SignedHeaders' parameter. ";
  if (!missing.empty()) return Incomplete(missing + "Authorization=" + std::string(value));
  return ParseCredential(out.credential, out.scope);
}

bool HasPresignedParameters(std::string_view raw_query) {
  if (raw_query.empty()) return false;
  std::string name;
  size_t pos = 0;
  while (pos < raw_query.size()) {
    size_t end = raw_query.find('&', pos);
    if (end == std::string_view::npos) end = raw_query.size();
    std::string_view segment = raw_query.substr(pos, end - pos);
    pos = end + 1;
    name.clear();
    AppendUriDecoded(segment.substr(0, segment.find('=')), name);
    if (name == "X-Amz-Algorithm" || name == "X-Amz-Credential" || name == "X-Amz-Signature")
      return true;
  }
  return false;
}

Status ParsePresignedQuery(std::string_view raw_query, PresignedQuery& query,
                           AuthorizationFields& fields) {
  query = PresignedQuery{};
  fields = AuthorizationFields{};
  bool has_algorithm = false, has_credential = false, has_date = false,
       has_signed_headers = false, has_signature = false;
  std::string name;
  size_t pos = 0;
  while (pos < raw_query.size()) {
    size_t end = raw_query.find('&', pos);
    if (end == std::string_view::npos) end = raw_query.size();
    std::string_view segment = raw_query.substr(pos, end - pos);
    pos = end + 1;
    if (segment.empty()) continue;
    size_t eq = segment.find('=');
    name.clear();
    AppendUriDecoded(segment.substr(0, eq), name);
    std::string_view raw_value =
        eq == std::string_view::npos ? std::string_view() : segment.substr(eq + 1);
    bool* seen = nullptr;
    std::string* target = nullptr;
    if (name == "X-Amz-Algorithm") {
      seen = &has_algorithm, target = &query.algorithm;
    } else if (name == "X-Amz-Credential") {
      seen = &has_credential, target = &query.credential;
    } else if (name == "X-Amz-Date") {
      seen = &has_date, target = &query.date;
    } else if (name == "X-Amz-Expires") {
      seen = &query.has_expires, target = &query.expires;
    } else if (name == "X-Amz-SignedHeaders") {
      seen = &has_signed_headers, target = &query.signed_headers;
    } else if (name == "X-Amz-Signature") {
      seen = &has_signature, target = &query.signature;
    } else if (name == "X-Amz-Security-Token") {
      seen = &query.has_security_token, target = &query.security_token;
    } else {
      continue;
    }
    if (*seen) {
      return Incomplete("The query-string parameter '" + name +
                        "' appears more than once. Re-examine the query-string parameters.");
    }
    *seen = true;
    AppendUriDecoded(raw_value, *target);
  }
  std::string missing;
  auto require = [&](bool present, const char* param) {
    if (present) return;
    if (!missing.empty()) missing += ", ";
    missing += "'";
    missing += param;
    missing += "'";
  };
  require(has_algorithm, "X-Amz-Algorithm");
  require(has_credential, "X-Amz-Credential");
  require(has_signature, "X-Amz-Signature");
  require(has_date, "X-Amz-Date");
  require(has_signed_headers, "X-Amz-SignedHeaders");
  if (!missing.empty()) {
    return Incomplete("AWS query-string parameters must include " + missing +
                      ". Re-examine the query-string parameters.");
  }
  MERIDIAN_RETURN_IF_ERROR(CheckAlgorithm(query.algorithm));
  fields.algorithm = query.algorithm;
  fields.credential = query.credential;
  fields.signed_headers = query.signed_headers;
  fields.signature = query.signature;
  return ParseCredential(fields.credential, fields.scope);
}

}  // namespace meridian::sigv4::internal
