// Internal: parsers for the two places SigV4 puts its parameters, an Authorization header and
// the X-Amz-* query parameters of a presigned request. Untrusted input: the fuzz target
// fuzz/sigv4_fuzz.cpp drives both. Errors are IncompleteSignatureException Statuses with AWS's
// wording.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace meridian::sigv4::internal {

// "AKID/20150830/us-east-1/service/aws4_request" split at '/'. All views into the credential.
struct CredentialScope {
  std::string_view access_key_id;
  std::string_view date;        // YYYYMMDD
  std::string_view region;
  std::string_view service;
  std::string_view terminator;  // aws4_request
  std::string_view scope;       // "20150830/us-east-1/service/aws4_request"
};

// Splits a credential into its five '/'-separated elements.
Status ParseCredential(std::string_view credential, CredentialScope& out);

// The SigV4 parameters, whichever form carried them. Views into the header or into a
// PresignedQuery that must outlive them.
struct AuthorizationFields {
  std::string_view algorithm;
  std::string_view credential;
  CredentialScope scope;
  std::string_view signed_headers;
  std::string_view signature;
};

// Parses "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=..." (components in
// any order, separated by ',' and optional spaces). Fails on any algorithm but AWS4-HMAC-SHA256.
Status ParseAuthorizationHeader(std::string_view header, AuthorizationFields& out);

// The decoded X-Amz-* parameters of a presigned request.
struct PresignedQuery {
  std::string algorithm, credential, date, expires, signed_headers, signature, security_token;
  bool has_expires = false;
  bool has_security_token = false;
};

// True when the query carries any SigV4 parameter (X-Amz-Algorithm, X-Amz-Credential or
// X-Amz-Signature), i.e. the request means to use the presigned form.
bool HasPresignedParameters(std::string_view raw_query);

// Extracts and decodes the X-Amz-* parameters of a presigned request, and fills `fields` with
// views into `query`. Fails when a required parameter is missing or repeated, or on any
// algorithm but AWS4-HMAC-SHA256.
Status ParsePresignedQuery(std::string_view raw_query, PresignedQuery& query,
                           AuthorizationFields& fields);

}  // namespace meridian::sigv4::internal
