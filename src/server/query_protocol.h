// The AWS Query protocol (IAM, STS): form-encoded requests in (a POST body, or the query string
// of a GET), XML responses out.
//
// Requests. A body of application/x-www-form-urlencoded pairs, as botocore's QuerySerializer
// writes it (`Action=CreateUser&Version=2010-05-08&UserName=bob&Tags.member.1.Key=k&...`), is
// parsed into a JSON object the services read like an AWS JSON request:
//   - every scalar becomes a JSON string ("MaxItems": "10", "SetAsDefault": "true");
//   - `X.member.N[.Sub...]` becomes an array X ordered by N (strings, or objects when
//     sub-members follow); gaps in N are allowed, order is kept;
//   - `X.entry.N.key` / `X.entry.N.value` becomes an object X {key: value};
//   - `X=` with an empty value and no sub-members (botocore's serialization of an EMPTY LIST)
//     stays the string "": a service reading a list member must treat "" as [];
//   - "Action" and "Version" are taken out into ParsedQuery::action / ::version.
// Parsing is bounded (body size, number of pairs, key length, key depth, list index) and strict:
// a malformed escape, invalid UTF-8, a key given twice, a key that is both a scalar and a list,
// or a list index that is not a positive decimal is an AWS-shaped error (MalformedQueryString,
// InvalidQueryParameter), never a crash.
//
// Responses. The service answers with the members of botocore's output shape as JSON; Render*
// writes the XML AWS sends:
//   <CreateUserResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
//     <CreateUserResult>...members...</CreateUserResult>
//     <ResponseMetadata><RequestId>id</RequestId></ResponseMetadata>
//   </CreateUserResponse>
// Objects become nested elements, arrays <member> elements, the dialect's map members
// <entry><key/><value/></entry>, booleans true/false, numbers their decimal text; null members
// are omitted. An operation with no output (the service wrote nothing or {}) has no Result
// element, as AWS does. (IAM's policy documents travel URL-encoded; the IAM service encodes them
// in its output, as botocore's json_decode_policies expects.) Text is XML-escaped; characters
// XML 1.0 cannot carry become U+FFFD.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include <rapidjson/document.h>

#include "common/status.h"

namespace meridian::server::query {

struct ParseLimits {
  size_t max_body_bytes = 1024 * 1024;  // IAM's largest documents URL-encode to well under this
  size_t max_pairs = 2000;
  size_t max_key_bytes = 256;
  size_t max_key_segments = 16;
  uint32_t max_list_index = 10000;  // N in X.member.N / X.entry.N
};

struct ParsedQuery {
  std::string action;   // "" when the body has none
  std::string version;  // "" when the body has none
  rapidjson::Document params;  // always an object
};

// Parses a form-encoded body. Errors: MalformedQueryString (bad escape, invalid UTF-8),
// InvalidQueryParameter (structure, duplicates, limits), both HTTP 400.
Result<ParsedQuery> ParseFormBody(std::string_view body, const ParseLimits& limits = {});

// The GET form of the protocol: the same pairs in the URL's query string (without the '?'), the
// same rules and errors, except that SigV4 query-authentication parameters (X-Amz-Algorithm,
// X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders, X-Amz-Signature,
// X-Amz-Security-Token) are left out of the operation's parameters: the verifier reads them.
Result<ParsedQuery> ParseQueryString(std::string_view query, const ParseLimits& limits = {});

// What differs between Query services when rendering.
struct Dialect {
  std::string_view xml_namespace;
  std::string_view api_version;
  // Members whose value is a JSON object rendered as <entry><key/><value/></entry>.
  std::span<const std::string_view> map_members;
};

// IAM's map-typed output members (botocore's IAM model: EvalDecisionDetailsType, summaryMapType,
// CertificationMapType).
inline constexpr std::string_view kIamMapMembers[] = {"EvalDecisionDetails", "SummaryMap", "Certifications"};
inline constexpr Dialect kIamDialect{"https://iam.amazonaws.com/doc/2010-05-08/", "2010-05-08", kIamMapMembers};
inline constexpr Dialect kStsDialect{"https://sts.amazonaws.com/doc/2011-06-15/", "2011-06-15", {}};

// The success response for `action`; `result` is the service's output object (or null / an
// empty object for operations without output).
std::string RenderResponse(const Dialect& dialect, std::string_view action, const rapidjson::Value& result,
                           std::string_view request_id);

// <ErrorResponse><Error><Type>Sender|Receiver</Type><Code/><Message/></Error><RequestId/>.
// Receiver for HTTP 5xx statuses.
std::string RenderError(const Dialect& dialect, std::string_view code, std::string_view message, int http_status,
                        std::string_view request_id);

// XML text escaping (&, <, >, ", '), invalid UTF-8 and characters outside XML 1.0 replaced by
// U+FFFD.
void AppendXmlEscaped(std::string& out, std::string_view text);

}  // namespace meridian::server::query
