// Typed values for the Numeric, Date and IP address condition operators.
//
// IAM User Guide, "Condition operators":
//  - Numeric: "comparing a key to an integer or decimal value".
//  - Date: values in "one of the W3C implementations of the ISO 8601 date formats or in epoch
//    (UNIX) time". Accepted here: YYYY-MM, YYYY-MM-DD, YYYY-MM-DDThh:mm[:ss[.fraction]] followed by
//    Z or +hh:mm / -hh:mm (no zone designator means UTC), or an all-digits epoch in seconds
//    (a bare "YYYY" is therefore read as epoch seconds, not as a year).
//  - IP address: "standard CIDR format (for example, 203.0.113.0/24 or 2001:DB8:1234:5678::/64).
//    If you specify an IP address without the associated routing prefix, IAM uses the default
//    prefix value of /32" (/128 for IPv6 here). IPv4 never matches an IPv6 range and vice versa.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace meridian::iam::policy {

bool ParseNumber(std::string_view text, double& out);

bool ParseDate(std::string_view text, int64_t& epoch_millis);

struct IpNetwork {
  uint8_t family = 0;  // 4 or 6
  uint8_t prefix = 0;  // bits
  std::array<uint8_t, 16> bytes{};  // network address (host bits cleared); IPv4 uses the first 4
};

// "address" or "address/prefix".
bool ParseCidr(std::string_view text, IpNetwork& out);
// A single address (no prefix).
bool ParseIpAddress(std::string_view text, IpNetwork& out);
bool NetworkContains(const IpNetwork& network, const IpNetwork& address);

}  // namespace meridian::iam::policy
