#include "server/tls/certificates.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "server/tls/identity.h"
#include "server/tls/tls_context.h"

namespace meridian::tls {
namespace {

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using CertPtr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION, X509_EXTENSION_free>>;
using NamesPtr = std::unique_ptr<GENERAL_NAMES, Deleter<GENERAL_NAMES, GENERAL_NAMES_free>>;

Status CertificateError(const std::string& what) {
  std::string message = what;
  if (std::string reason = TakeOpenSslErrors(); !reason.empty()) message += ": " + reason;
  return Status("CertificateError", std::move(message), 500);
}

Status IoError(const std::string& what) {
  return Status("CertificateError", what + ": " + std::strerror(errno), 500);
}

Status CheckValidityDays(int days) {
  if (days < 1 || days > 36500) return errors::Validation("validity must be 1..36500 days, not " + std::to_string(days));
  return Status::Ok();
}

// DNS SANs: host names of letters, digits and hyphens, dot-separated, optionally with a leading
// "*." wildcard label. Anything else (spaces, commas, NULs) never reaches a certificate.
bool IsValidDnsName(std::string_view name) {
  if (name.starts_with("*.")) name.remove_prefix(2);
  if (name.empty() || name.size() > 253) return false;
  size_t label = 0;
  for (size_t i = 0; i <= name.size(); ++i) {
    if (i == name.size() || name[i] == '.') {
      if (label == 0 || label > 63 || name[i - 1] == '-' || name[i - label] == '-') return false;
      label = 0;
      continue;
    }
    const char c = name[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-')) return false;
    ++label;
  }
  return true;
}

KeyPtr NewP256Key() { return KeyPtr(EVP_EC_gen("P-256")); }

Result<std::string> CertificatePem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) return CertificateError("cannot encode the certificate");
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(length));
}

Result<crypto::SecureBytes> PrivateKeyPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_secmem()));  // cleared when freed
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
    return CertificateError("cannot encode the private key");
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);
  return crypto::SecureBytes(ByteView(reinterpret_cast<const uint8_t*>(data), static_cast<size_t>(length)));
}

Result<CertPtr> ParseCertificate(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  CertPtr cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!cert) return CertificateError("not a PEM certificate");
  return cert;
}

Result<KeyPtr> ParsePrivateKey(const crypto::SecureBytes& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  KeyPtr key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!key) return CertificateError("not a PEM private key");
  return key;
}

// A positive random 159-bit serial number (RFC 5280: at most 20 octets, positive).
Status SetRandomSerial(X509* cert) {
  uint8_t bytes[20];
  crypto::RandomFill(bytes);
  bytes[0] = static_cast<uint8_t>((bytes[0] & 0x7f) | 0x40);  // positive, never zero, full length
  BnPtr bn(BN_bin2bn(bytes, sizeof bytes, nullptr));
  if (!bn || !BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert)))
    return CertificateError("cannot set the serial number");
  return Status::Ok();
}

// Version 3, serial, validity (backdated 5 minutes for clock skew), subject CN, public key.
Result<CertPtr> NewCertificate(const std::string& common_name, int validity_days, EVP_PKEY* key) {
  CertPtr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1) return CertificateError("cannot create a certificate");
  MERIDIAN_RETURN_IF_ERROR(SetRandomSerial(cert.get()));
  if (!X509_gmtime_adj(X509_getm_notBefore(cert.get()), -300) ||
      !X509_time_adj_ex(X509_getm_notAfter(cert.get()), validity_days, 0, nullptr))
    return CertificateError("cannot set the validity period");
  X509_NAME* subject = X509_get_subject_name(cert.get());
  if (X509_NAME_add_entry_by_txt(subject, "O", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>("Meridian"), -1,
                                 -1, 0) != 1 ||
      X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1, 0) != 1)
    return CertificateError("cannot set the subject name '" + common_name + "'");
  if (X509_set_pubkey(cert.get(), key) != 1) return CertificateError("cannot set the public key");
  return cert;
}

// Adds an extension written in OpenSSL's config syntax (values here are constants, never input).
Status AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX context;
  X509V3_set_ctx(&context, issuer, cert, nullptr, nullptr, 0);
  ExtPtr extension(X509V3_EXT_nconf_nid(nullptr, &context, nid, value));
  if (!extension || X509_add_ext(cert, extension.get(), -1) != 1)
    return CertificateError(std::string("cannot add the extension ") + OBJ_nid2sn(nid));
  return Status::Ok();
}

Status AddGeneralName(GENERAL_NAMES* names, int type, std::string_view text) {
  GENERAL_NAME* name = GENERAL_NAME_new();
  if (name == nullptr) return CertificateError("out of memory");
  if (type == GEN_IPADD) {
    ASN1_OCTET_STRING* ip = a2i_IPADDRESS(std::string(text).c_str());
    if (ip == nullptr) {
      GENERAL_NAME_free(name);
      return errors::Validation("'" + std::string(text) + "' is not an IP address");
    }
    GENERAL_NAME_set0_value(name, GEN_IPADD, ip);
  } else {
    ASN1_IA5STRING* value = ASN1_IA5STRING_new();
    if (value == nullptr || ASN1_STRING_set(value, text.data(), static_cast<int>(text.size())) != 1) {
      ASN1_IA5STRING_free(value);
      GENERAL_NAME_free(name);
      return CertificateError("out of memory");
    }
    GENERAL_NAME_set0_value(name, type, value);
  }
  if (sk_GENERAL_NAME_push(names, name) <= 0) {
    GENERAL_NAME_free(name);
    return CertificateError("out of memory");
  }
  return Status::Ok();
}

Status AddSubjectAltNames(X509* cert, const RegionCertificateOptions& options) {
  NamesPtr names(GENERAL_NAMES_new());
  if (!names) return CertificateError("out of memory");
  MERIDIAN_RETURN_IF_ERROR(AddGeneralName(names.get(), GEN_URI, RegionUri(options.region)));
  for (const std::string& dns : options.dns_names) MERIDIAN_RETURN_IF_ERROR(AddGeneralName(names.get(), GEN_DNS, dns));
  for (const std::string& ip : options.ip_addresses) MERIDIAN_RETURN_IF_ERROR(AddGeneralName(names.get(), GEN_IPADD, ip));
  if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) != 1)
    return CertificateError("cannot add the subject alternative names");
  return Status::Ok();
}

Status Sign(X509* cert, EVP_PKEY* key) {
  if (X509_sign(cert, key, EVP_sha256()) <= 0) return CertificateError("cannot sign the certificate");
  return Status::Ok();
}

// ---- Files ------------------------------------------------------------------------------------

Status MakeDirectory(const std::string& dir) {
  if (dir.empty()) return errors::Validation("a directory is required");
  for (size_t slash = dir.find('/', 1);; slash = dir.find('/', slash + 1)) {
    const std::string prefix = slash == std::string::npos ? dir : dir.substr(0, slash);
    if (::mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST) return IoError("cannot create '" + prefix + "'");
    if (slash == std::string::npos) break;
  }
  struct stat st{};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return IoError("'" + dir + "' is not a directory");
  return Status::Ok();
}

bool Exists(const std::string& path) {
  struct stat st{};
  return ::lstat(path.c_str(), &st) == 0;
}

// Writes a temporary file with `mode`, syncs it, then moves it into place: rename() when
// replacing, link() when the file must be new (fails with EEXIST instead of overwriting).
Status WriteFile(const std::string& path, ByteView data, mode_t mode, bool replace) {
  std::string temp = path + ".tmp-XXXXXX";
  const int fd = ::mkstemp(temp.data());
  if (fd < 0) return IoError("cannot create a file next to '" + path + "'");
  bool ok = ::fchmod(fd, mode) == 0;
  for (size_t done = 0; ok && done < data.size();) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  const int saved = errno;
  ::close(fd);
  if (ok) ok = replace ? ::rename(temp.c_str(), path.c_str()) == 0 : ::link(temp.c_str(), path.c_str()) == 0;
  const int saved_move = errno;
  if (!ok || !replace) ::unlink(temp.c_str());
  if (!ok) {
    errno = saved_move ? saved_move : saved;
    return IoError("cannot write '" + path + "'");
  }
  return Status::Ok();
}

Status WriteCredential(const PemCredential& credential, const CredentialFiles& files, bool replace) {
  // The key first: a certificate on disk without its key would be useless.
  MERIDIAN_RETURN_IF_ERROR(WriteFile(files.private_key, credential.private_key_pem.view(), 0600, replace));
  const ByteView cert(reinterpret_cast<const uint8_t*>(credential.certificate_pem.data()),
                      credential.certificate_pem.size());
  return WriteFile(files.certificate, cert, 0644, replace);
}

// Reads a whole PEM file into wiped-on-release memory (it may hold a private key).
Result<crypto::SecureBytes> ReadFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return IoError("cannot open '" + path + "'");
  struct stat st{};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > (1 << 20)) {
    ::close(fd);
    return CertificateError("'" + path + "' is not a PEM file (not a regular file of at most 1 MiB)");
  }
  crypto::SecureBytes out(static_cast<size_t>(st.st_size));
  size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::read(fd, out.data() + done, out.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) errno = EIO;  // the file shrank while being read
      ::close(fd);
      return IoError("cannot read '" + path + "'");
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  return out;
}

}  // namespace

Result<PemCredential> CreateCa(const CaOptions& options) {
  if (options.common_name.empty() || options.common_name.size() > 64)
    return errors::Validation("the CA name must be 1..64 characters");
  MERIDIAN_RETURN_IF_ERROR(CheckValidityDays(options.validity_days));
  KeyPtr key = NewP256Key();
  if (!key) return CertificateError("cannot generate an EC P-256 key");
  MERIDIAN_ASSIGN_OR_RETURN(CertPtr cert, NewCertificate(options.common_name, options.validity_days, key.get()));
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get())) != 1)
    return CertificateError("cannot set the issuer name");
  MERIDIAN_RETURN_IF_ERROR(AddExtension(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:TRUE,pathlen:0"));
  MERIDIAN_RETURN_IF_ERROR(AddExtension(cert.get(), cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign"));
  MERIDIAN_RETURN_IF_ERROR(AddExtension(cert.get(), cert.get(), NID_subject_key_identifier, "hash"));
  MERIDIAN_RETURN_IF_ERROR(AddExtension(cert.get(), cert.get(), NID_authority_key_identifier, "keyid:always"));
  MERIDIAN_RETURN_IF_ERROR(Sign(cert.get(), key.get()));
  PemCredential out;
  MERIDIAN_ASSIGN_OR_RETURN(out.certificate_pem, CertificatePem(cert.get()));
  MERIDIAN_ASSIGN_OR_RETURN(out.private_key_pem, PrivateKeyPem(key.get()));
  return out;
}

Result<PemCredential> IssueRegionCertificate(const PemCredential& ca, const RegionCertificateOptions& options) {
  if (!IsValidRegionName(options.region))
    return errors::Validation("'" + options.region +
                              "' is not a region name: use 1..63 characters of a-z, 0-9 and '-', such as us-east-1");
  for (const std::string& dns : options.dns_names) {
    if (!IsValidDnsName(dns)) return errors::Validation("'" + dns + "' is not a DNS name");
  }
  MERIDIAN_RETURN_IF_ERROR(CheckValidityDays(options.validity_days));
  MERIDIAN_ASSIGN_OR_RETURN(CertPtr ca_cert, ParseCertificate(ca.certificate_pem));
  MERIDIAN_ASSIGN_OR_RETURN(KeyPtr ca_key, ParsePrivateKey(ca.private_key_pem));
  if (X509_check_private_key(ca_cert.get(), ca_key.get()) != 1)
    return CertificateError("the CA key does not match the CA certificate");
  if (X509_check_ca(ca_cert.get()) < 1) return CertificateError("the issuer certificate is not a CA");

  KeyPtr key = NewP256Key();
  if (!key) return CertificateError("cannot generate an EC P-256 key");
  MERIDIAN_ASSIGN_OR_RETURN(CertPtr cert, NewCertificate(options.region, options.validity_days, key.get()));
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(ca_cert.get())) != 1)
    return CertificateError("cannot set the issuer name");
  MERIDIAN_RETURN_IF_ERROR(AddExtension(cert.get(), ca_cert.get(), NID_basic_constraints, "critical,CA:FALSE"));
  MERIDIAN_RETURN_IF_ERROR(AddExtension(cert.get(), ca_cert.get(), NID_key_usage, "critical,digitalSignature"));
  MERIDIAN_RETURN_IF_ERROR(AddExtension(cert.get(), ca_cert.get(), NID_ext_key_usage, "serverAuth,clientAuth"));
  MERIDIAN_RETURN_IF_ERROR(AddExtension(cert.get(), ca_cert.get(), NID_subject_key_identifier, "hash"));
  MERIDIAN_RETURN_IF_ERROR(AddExtension(cert.get(), ca_cert.get(), NID_authority_key_identifier, "keyid:always"));
  MERIDIAN_RETURN_IF_ERROR(AddSubjectAltNames(cert.get(), options));
  MERIDIAN_RETURN_IF_ERROR(Sign(cert.get(), ca_key.get()));
  PemCredential out;
  MERIDIAN_ASSIGN_OR_RETURN(out.certificate_pem, CertificatePem(cert.get()));
  MERIDIAN_ASSIGN_OR_RETURN(out.private_key_pem, PrivateKeyPem(key.get()));
  return out;
}

CredentialFiles CaFilesIn(const std::string& dir) { return {dir + "/ca-cert.pem", dir + "/ca-key.pem"}; }

CredentialFiles RegionFilesIn(const std::string& dir, std::string_view region) {
  const std::string base = dir + "/" + std::string(region);
  return {base + "-cert.pem", base + "-key.pem"};
}

Result<CredentialFiles> InitCaDirectory(const std::string& dir, const CaOptions& options) {
  MERIDIAN_RETURN_IF_ERROR(MakeDirectory(dir));
  CredentialFiles files = CaFilesIn(dir);
  for (const std::string& path : {files.certificate, files.private_key}) {
    if (Exists(path))
      return Status("AlreadyExists", "'" + path + "' exists: this directory already holds a CA (remove it first to replace it)",
                    400);
  }
  MERIDIAN_ASSIGN_OR_RETURN(PemCredential ca, CreateCa(options));
  MERIDIAN_RETURN_IF_ERROR(WriteCredential(ca, files, /*replace=*/false));
  return files;
}

Result<PemCredential> LoadCa(const std::string& dir) {
  const CredentialFiles files = CaFilesIn(dir);
  PemCredential ca;
  MERIDIAN_ASSIGN_OR_RETURN(crypto::SecureBytes cert_bytes, ReadFile(files.certificate));
  ca.certificate_pem.assign(reinterpret_cast<const char*>(cert_bytes.data()), cert_bytes.size());
  MERIDIAN_ASSIGN_OR_RETURN(ca.private_key_pem, ReadFile(files.private_key));
  auto cert = ParseCertificate(ca.certificate_pem);
  if (!cert.ok()) return CertificateError("'" + files.certificate + "' is not a PEM certificate");
  auto key = ParsePrivateKey(ca.private_key_pem);
  if (!key.ok()) return CertificateError("'" + files.private_key + "' is not a PEM private key");
  if (X509_check_private_key(cert->get(), key->get()) != 1)
    return CertificateError("'" + files.private_key + "' does not match '" + files.certificate + "'");
  if (X509_check_ca(cert->get()) < 1) return CertificateError("'" + files.certificate + "' is not a CA certificate");
  return ca;
}

Result<CredentialFiles> IssueRegionCertificateFiles(const std::string& ca_dir, const RegionCertificateOptions& options,
                                                    const std::string& out_dir) {
  MERIDIAN_ASSIGN_OR_RETURN(PemCredential ca, LoadCa(ca_dir));
  MERIDIAN_ASSIGN_OR_RETURN(PemCredential issued, IssueRegionCertificate(ca, options));
  MERIDIAN_RETURN_IF_ERROR(MakeDirectory(out_dir));
  CredentialFiles files = RegionFilesIn(out_dir, options.region);
  MERIDIAN_RETURN_IF_ERROR(WriteCredential(issued, files, /*replace=*/true));
  return files;
}

}  // namespace meridian::tls
