#include "server/tls/identity.h"

#include <arpa/inet.h>
#include <openssl/asn1.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

namespace meridian::tls {
namespace {

// The bytes of an IA5String / UTF-8 ASN.1 string, or nullopt-like "" with ok=false when it holds
// a NUL (a classic name-spoofing trick: "good.example\0.evil").
bool CleanText(const ASN1_STRING* s, std::string& out) {
  if (s == nullptr) return false;
  const unsigned char* data = ASN1_STRING_get0_data(s);
  const int length = ASN1_STRING_length(s);
  if (data == nullptr || length < 0) return false;
  std::string text(reinterpret_cast<const char*>(data), static_cast<size_t>(length));
  if (text.find('\0') != std::string::npos) return false;
  out = std::move(text);
  return true;
}

std::string CommonNameOf(const X509* certificate) {
  const X509_NAME* subject = X509_get_subject_name(certificate);
  if (subject == nullptr) return "";
  const int first = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (first < 0 || X509_NAME_get_index_by_NID(subject, NID_commonName, first) >= 0) return "";
  const ASN1_STRING* value = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, first));
  unsigned char* utf8 = nullptr;
  const int length = ASN1_STRING_to_UTF8(&utf8, value);
  if (length < 0) return "";
  std::string text(reinterpret_cast<const char*>(utf8), static_cast<size_t>(length));
  OPENSSL_free(utf8);
  if (text.find('\0') != std::string::npos) return "";
  return text;
}

std::string IpText(const ASN1_OCTET_STRING* ip) {
  const unsigned char* data = ASN1_STRING_get0_data(ip);
  char text[INET6_ADDRSTRLEN] = {};
  if (ASN1_STRING_length(ip) == 4) return inet_ntop(AF_INET, data, text, sizeof text) ? text : "";
  if (ASN1_STRING_length(ip) == 16) return inet_ntop(AF_INET6, data, text, sizeof text) ? text : "";
  return "";
}

struct GeneralNamesDeleter {
  void operator()(GENERAL_NAMES* names) const { GENERAL_NAMES_free(names); }
};

}  // namespace

bool IsValidRegionName(std::string_view region) {
  if (region.empty() || region.size() > 63) return false;
  for (char c : region) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return region.front() != '-' && region.back() != '-';
}

std::string RegionUri(std::string_view region) {
  std::string uri(kRegionUriPrefix);
  uri += region;
  return uri;
}

CertificateIdentity IdentityOf(const X509* certificate) {
  CertificateIdentity identity;
  if (certificate == nullptr) return identity;
  identity.common_name = CommonNameOf(certificate);

  std::unique_ptr<GENERAL_NAMES, GeneralNamesDeleter> names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(certificate, NID_subject_alt_name, nullptr, nullptr)));
  int region_uris = 0;
  std::string region;
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    std::string text;
    switch (name->type) {
      case GEN_URI:
        if (!CleanText(name->d.uniformResourceIdentifier, text)) break;
        if (std::string_view(text).starts_with(kRegionUriPrefix)) {
          ++region_uris;
          region = text.substr(kRegionUriPrefix.size());
        }
        identity.uris.push_back(std::move(text));
        break;
      case GEN_DNS:
        if (CleanText(name->d.dNSName, text)) identity.dns_names.push_back(std::move(text));
        break;
      case GEN_IPADD:
        if (std::string ip = IpText(name->d.iPAddress); !ip.empty()) identity.ip_addresses.push_back(std::move(ip));
        break;
      default:
        break;
    }
  }
  if (region_uris == 1 && IsValidRegionName(region)) identity.region = std::move(region);
  return identity;
}

}  // namespace meridian::tls
