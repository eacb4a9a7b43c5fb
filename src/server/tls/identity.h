// The identity a Meridian certificate carries, and the rule for region names.
//
// A region certificate names its region twice: in the subject CN ("us-east-1") for humans and
// logs, and in a URI subject alternative name "meridian:region:us-east-1", which is what peers
// check. IdentityOf() only reads names: it does not verify anything, so callers use it on a
// certificate the TLS stack has already verified against the deployment CA.
#pragma once

#include <openssl/types.h>

#include <string>
#include <string_view>
#include <vector>

namespace meridian::tls {

inline constexpr std::string_view kRegionUriPrefix = "meridian:region:";

struct CertificateIdentity {
  std::string common_name;  // subject CN; "" when absent, repeated, or not clean UTF-8 text
  // The region of the single URI SAN "meridian:region:<region>"; "" when there is none, when
  // there are several, or when the name after the prefix is not a valid region name.
  std::string region;
  std::vector<std::string> uris;
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;  // text form: "127.0.0.1", "::1"
};

CertificateIdentity IdentityOf(const X509* certificate);

// Region names: 1..63 characters of [a-z0-9-], first and last a letter or digit ("us-east-1").
bool IsValidRegionName(std::string_view region);

// The URI SAN that names `region`: "meridian:region:<region>".
std::string RegionUri(std::string_view region);

}  // namespace meridian::tls
