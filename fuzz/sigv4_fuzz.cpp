// libFuzzer target for the SigV4 parsers: the Authorization header, the presigned query
// parameters, query/path canonicalization, and the whole Verifier on a request built from the
// input. Input layout: "<authorization header>\n<query string>\n<path>\n<body>" (missing parts
// are empty).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "sigv4/authorization.h"
#include "sigv4/canonical.h"
#include "sigv4/sigv4.h"

namespace {

using namespace meridian;
using namespace meridian::sigv4;

std::string_view NextPart(std::string_view& rest) {
  size_t nl = rest.find('\n');
  std::string_view part = rest.substr(0, nl);
  rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
  return part;
}

const Verifier& TheVerifier() {
  static ManualClock clock(1440938160LL * 1000);
  static auto record = [] {
    auto r = std::make_shared<CredentialRecord>();
    r->access_key_id = "AKIDEXAMPLE";
    r->secret_access_key = crypto::SecureBytes(AsBytes("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"));
    return r;
  }();
  static Verifier verifier(
      VerifierOptions{"us-east-1", {"service", "kms"}, PathMode::kNormalize, 300, 64},
      [](std::string_view id) -> std::shared_ptr<const CredentialRecord> {
        return id == "AKIDEXAMPLE" ? record : nullptr;
      },
      clock);
  return verifier;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  const std::string_view authorization = NextPart(rest);
  const std::string_view query = NextPart(rest);
  const std::string_view path = NextPart(rest);
  const std::string_view body = rest;

  internal::AuthorizationFields fields;
  (void)internal::ParseAuthorizationHeader(authorization, fields);
  internal::PresignedQuery presigned;
  (void)internal::ParsePresignedQuery(query, presigned, fields);
  (void)internal::HasPresignedParameters(query);
  int64_t t = 0;
  (void)internal::ParseAmzDate(authorization.substr(0, 16), t);

  std::string out;
  const std::string_view excluded[] = {"X-Amz-Signature"};
  internal::AppendCanonicalQuery(query, excluded, out);
  internal::AppendCanonicalUri(path, PathMode::kNormalize, out);
  internal::AppendCanonicalUri(path, PathMode::kNoNormalize, out);

  // The whole verifier, header form and (with no Authorization) presigned form.
  const Header with_authorization[] = {{"Host", "example.amazonaws.com"},
                                       {"X-Amz-Date", "20150830T123600Z"},
                                       {"Authorization", authorization}};
  RequestView request{"POST", path, query, with_authorization, body, {}};
  (void)TheVerifier().Verify(request);
  request.headers = std::span<const Header>(with_authorization, 2);
  (void)TheVerifier().Verify(request);
  return 0;
}
