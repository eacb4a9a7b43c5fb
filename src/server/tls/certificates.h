// The deployment CA and its region certificates (what `meridian ca init|issue` write).
//
// A deployment has one CA: an EC P-256 key and a self-signed certificate (CA:TRUE, pathlen 0,
// keyCertSign). Each region gets a certificate signed by it, naming the region in the subject CN
// and in the URI SAN "meridian:region:<region>" (see identity.h), plus DNS / IP SANs for the
// clients that connect to it, with both serverAuth and clientAuth EKUs: the same certificate
// serves the region's listeners and authenticates it to its peers.
//
// Private keys are PKCS#8 PEM, unencrypted, held in SecureBytes (wiped when released) and
// written to disk with mode 0600; certificates are written 0644.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "crypto/crypto.h"

namespace meridian::tls {

struct PemCredential {
  std::string certificate_pem;
  crypto::SecureBytes private_key_pem;
};

struct CaOptions {
  std::string common_name = "Meridian deployment CA";
  int validity_days = 3650;
};

struct RegionCertificateOptions {
  std::string region;                     // "us-east-1": see IsValidRegionName
  std::vector<std::string> dns_names;     // "localhost", "kms.us-east-1.example.com", "*.example.com"
  std::vector<std::string> ip_addresses;  // "127.0.0.1", "::1"
  int validity_days = 825;
};

// A new CA key and self-signed certificate. Fails ("ValidationException") on an empty or
// over-long name or a validity outside 1..36500 days.
Result<PemCredential> CreateCa(const CaOptions& options);

// A new key and a certificate for `options.region`, signed by `ca` (which must be a CA
// certificate with its matching key). Invalid region names, DNS names or IP addresses are
// refused ("ValidationException"), never written into a certificate.
Result<PemCredential> IssueRegionCertificate(const PemCredential& ca, const RegionCertificateOptions& options);

// ---- On disk ----------------------------------------------------------------------------------

struct CredentialFiles {
  std::string certificate;  // PEM certificate (a region's chain is its certificate alone)
  std::string private_key;  // PEM private key, mode 0600
};

// <dir>/ca-cert.pem and <dir>/ca-key.pem. ca-cert.pem is the bundle clients trust (--ca-bundle).
CredentialFiles CaFilesIn(const std::string& dir);
// <dir>/<region>-cert.pem and <dir>/<region>-key.pem.
CredentialFiles RegionFilesIn(const std::string& dir, std::string_view region);

// Creates `dir` (mode 0700) when missing and writes a new CA there. Refuses ("AlreadyExists")
// when either CA file exists: re-running `ca init` must not silently orphan issued certificates.
Result<CredentialFiles> InitCaDirectory(const std::string& dir, const CaOptions& options);

// Reads the CA from `dir`; checks that the key matches and that the certificate is a CA.
Result<PemCredential> LoadCa(const std::string& dir);

// Issues a region certificate with the CA in `ca_dir` and writes it to `out_dir` (created when
// missing), replacing an earlier certificate for that region atomically.
Result<CredentialFiles> IssueRegionCertificateFiles(const std::string& ca_dir, const RegionCertificateOptions& options,
                                                    const std::string& out_dir);

}  // namespace meridian::tls
