// The deployment CA, region certificates, their identity, and the TLS context settings, checked
// with OpenSSL's own verifier.
#include "server/tls/certificates.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "server/tls/identity.h"
#include "server/tls/tls_context.h"

namespace meridian::tls {
namespace {

struct CertFree {
  void operator()(X509* c) const { X509_free(c); }
};
using Cert = std::unique_ptr<X509, CertFree>;

Cert ParseCert(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  Cert cert(PEM_read_bio_X509(bio, nullptr, nullptr, nullptr));
  BIO_free(bio);
  return cert;
}

std::string KeyText(const PemCredential& c) {
  return std::string(reinterpret_cast<const char*>(c.private_key_pem.data()), c.private_key_pem.size());
}

// Verifies `leaf` against `ca` for TLS server or client use, as a TLS stack would.
int Verify(const std::string& ca_pem, const std::string& leaf_pem, int purpose) {
  Cert ca = ParseCert(ca_pem), leaf = ParseCert(leaf_pem);
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, ca.get());
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, leaf.get(), nullptr);
  X509_STORE_CTX_set_purpose(ctx, purpose);
  const int ok = X509_verify_cert(ctx);
  const int error = ok == 1 ? X509_V_OK : X509_STORE_CTX_get_error(ctx);
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  return error;
}

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "meridian-tls-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

mode_t ModeOf(const std::string& path) {
  struct stat st{};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 0777;
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

RegionCertificateOptions Region(std::string region) {
  RegionCertificateOptions o;
  o.region = std::move(region);
  o.dns_names = {"localhost", "kms.us-east-1.example.com"};
  o.ip_addresses = {"127.0.0.1", "::1"};
  return o;
}

TEST(Ca, IsASelfSignedP256CaCertificate) {
  auto ca = CreateCa({"Test deployment CA", 30});
  ASSERT_TRUE(ca.ok()) << ca.status().ToString();
  Cert cert = ParseCert(ca->certificate_pem);
  ASSERT_TRUE(cert);
  EXPECT_EQ(X509_check_ca(cert.get()), 1);
  EXPECT_EQ(IdentityOf(cert.get()).common_name, "Test deployment CA");
  EXPECT_EQ(X509_verify(cert.get(), X509_get0_pubkey(cert.get())), 1);  // self-signed
  char group[64] = {};
  EXPECT_EQ(EVP_PKEY_get_group_name(X509_get0_pubkey(cert.get()), group, sizeof group, nullptr), 1);
  EXPECT_STREQ(group, "prime256v1");
  EXPECT_NE(KeyText(*ca).find("-----BEGIN PRIVATE KEY-----"), std::string::npos);
  // Key usage limited to signing certificates and CRLs.
  EXPECT_TRUE(X509_get_key_usage(cert.get()) & KU_KEY_CERT_SIGN);
  EXPECT_FALSE(X509_get_key_usage(cert.get()) & KU_DIGITAL_SIGNATURE);
  // Two CAs never share a key or a serial.
  auto other = CreateCa({});
  ASSERT_TRUE(other.ok());
  EXPECT_NE(KeyText(*ca), KeyText(*other));
  EXPECT_NE(ASN1_INTEGER_cmp(X509_get0_serialNumber(cert.get()),
                             X509_get0_serialNumber(ParseCert(other->certificate_pem).get())),
            0);
}

TEST(RegionCertificate, ChainsToTheCaAndNamesItsRegion) {
  auto ca = CreateCa({});
  ASSERT_TRUE(ca.ok());
  auto issued = IssueRegionCertificate(*ca, Region("us-east-1"));
  ASSERT_TRUE(issued.ok()) << issued.status().ToString();
  EXPECT_EQ(Verify(ca->certificate_pem, issued->certificate_pem, X509_PURPOSE_SSL_SERVER), X509_V_OK);
  EXPECT_EQ(Verify(ca->certificate_pem, issued->certificate_pem, X509_PURPOSE_SSL_CLIENT), X509_V_OK);

  Cert cert = ParseCert(issued->certificate_pem);
  EXPECT_EQ(X509_check_ca(cert.get()), 0);
  EXPECT_TRUE(X509_get_extended_key_usage(cert.get()) & XKU_SSL_SERVER);
  EXPECT_TRUE(X509_get_extended_key_usage(cert.get()) & XKU_SSL_CLIENT);
  const CertificateIdentity id = IdentityOf(cert.get());
  EXPECT_EQ(id.common_name, "us-east-1");
  EXPECT_EQ(id.region, "us-east-1");
  EXPECT_EQ(id.uris, std::vector<std::string>{"meridian:region:us-east-1"});
  EXPECT_EQ(id.dns_names, (std::vector<std::string>{"localhost", "kms.us-east-1.example.com"}));
  EXPECT_EQ(id.ip_addresses, (std::vector<std::string>{"127.0.0.1", "::1"}));
  // Host name checks a TLS client makes against the SANs.
  EXPECT_EQ(X509_check_host(cert.get(), "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(cert.get(), "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_check_host(cert.get(), "evil.example.com", 0, 0, nullptr), 0);

  // The issued key belongs to the certificate.
  BIO* bio = BIO_new_mem_buf(issued->private_key_pem.data(), static_cast<int>(issued->private_key_pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(X509_check_private_key(cert.get(), key), 1);
  EVP_PKEY_free(key);
}

TEST(RegionCertificate, AnotherCasCertificateDoesNotVerify) {
  auto ca = CreateCa({});
  auto rogue = CreateCa({"Meridian deployment CA"});  // same name, different key
  ASSERT_TRUE(ca.ok() && rogue.ok());
  auto issued = IssueRegionCertificate(*rogue, Region("us-east-1"));
  ASSERT_TRUE(issued.ok());
  EXPECT_NE(Verify(ca->certificate_pem, issued->certificate_pem, X509_PURPOSE_SSL_SERVER), X509_V_OK);
  // A region certificate cannot sign certificates.
  PemCredential region_as_ca{issued->certificate_pem, issued->private_key_pem.Clone()};
  auto chained = IssueRegionCertificate(region_as_ca, Region("us-west-2"));
  EXPECT_FALSE(chained.ok());
  // A CA certificate with someone else's key.
  PemCredential mismatched{ca->certificate_pem, rogue->private_key_pem.Clone()};
  EXPECT_FALSE(IssueRegionCertificate(mismatched, Region("us-west-2")).ok());
}

TEST(RegionCertificate, RefusesInvalidNames) {
  auto ca = CreateCa({});
  ASSERT_TRUE(ca.ok());
  for (const char* region : {"", "US-EAST-1", "us_east_1", "-us", "us-", "us east", "us,east",
                             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}) {
    SCOPED_TRACE(region);
    auto r = IssueRegionCertificate(*ca, Region(region));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().type(), "ValidationException");
  }
  for (const char* dns : {"", "a,DNS:evil.com", "bad name", "a..b", "-a.com", "a-.com", "a.*.com", "x\ny"}) {
    SCOPED_TRACE(dns);
    RegionCertificateOptions o = Region("us-east-1");
    o.dns_names = {dns};
    EXPECT_EQ(IssueRegionCertificate(*ca, o).status().type(), "ValidationException");
  }
  for (const char* ip : {"300.1.1.1", "localhost", "1.2.3", "::g", ""}) {
    SCOPED_TRACE(ip);
    RegionCertificateOptions o = Region("us-east-1");
    o.ip_addresses = {ip};
    EXPECT_EQ(IssueRegionCertificate(*ca, o).status().type(), "ValidationException");
  }
  RegionCertificateOptions wildcard = Region("us-east-1");
  wildcard.dns_names = {"*.kms.example.com"};
  EXPECT_TRUE(IssueRegionCertificate(*ca, wildcard).ok());
  RegionCertificateOptions days = Region("us-east-1");
  days.validity_days = 0;
  EXPECT_EQ(IssueRegionCertificate(*ca, days).status().type(), "ValidationException");
  EXPECT_EQ(CreateCa({"", 10}).status().type(), "ValidationException");
  EXPECT_EQ(CreateCa({"x", 40000}).status().type(), "ValidationException");
}

// A certificate with hand-written SANs, to check how IdentityOf reads unusual ones.
Cert CertWithSans(const char* sans) {
  Cert cert(X509_new());
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509_set_pubkey(cert.get(), key);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(cert.get()), "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("x"), -1, -1, 0);
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_nconf_nid(nullptr, &ctx, NID_subject_alt_name, sans);
  EXPECT_NE(ext, nullptr);
  X509_add_ext(cert.get(), ext, -1);
  X509_EXTENSION_free(ext);
  X509_sign(cert.get(), key, EVP_sha256());
  EVP_PKEY_free(key);
  return cert;
}

TEST(Identity, RegionComesFromExactlyOneValidRegionUri) {
  EXPECT_EQ(IdentityOf(CertWithSans("URI:meridian:region:eu-west-1").get()).region, "eu-west-1");
  EXPECT_EQ(IdentityOf(CertWithSans("URI:meridian:region:a,URI:meridian:region:b").get()).region, "");
  EXPECT_EQ(IdentityOf(CertWithSans("URI:meridian:region:EU_WEST").get()).region, "");
  EXPECT_EQ(IdentityOf(CertWithSans("URI:meridian:region:").get()).region, "");
  EXPECT_EQ(IdentityOf(CertWithSans("DNS:meridian:region:eu-west-1").get()).region, "");
  EXPECT_EQ(IdentityOf(CertWithSans("URI:https://meridian/region/eu-west-1").get()).region, "");
  const CertificateIdentity id = IdentityOf(CertWithSans("URI:spiffe://x/y,URI:meridian:region:ap-south-1").get());
  EXPECT_EQ(id.region, "ap-south-1");
  EXPECT_EQ(id.uris.size(), 2u);
  EXPECT_EQ(id.common_name, "x");
  EXPECT_EQ(IdentityOf(nullptr).region, "");
}

TEST(Identity, RegionNames) {
  EXPECT_TRUE(IsValidRegionName("us-east-1"));
  EXPECT_TRUE(IsValidRegionName("a"));
  EXPECT_TRUE(IsValidRegionName(std::string(63, 'a')));
  EXPECT_FALSE(IsValidRegionName(std::string(64, 'a')));
  EXPECT_FALSE(IsValidRegionName("us-east-1\n"));
  EXPECT_FALSE(IsValidRegionName("us/east"));
  EXPECT_EQ(RegionUri("us-west-2"), "meridian:region:us-west-2");
}

TEST(CaFiles, InitWritesPrivateFilesAndRefusesToOverwrite) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/nested/ca";
  auto files = InitCaDirectory(dir, {});
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  EXPECT_EQ(files->certificate, dir + "/ca-cert.pem");
  EXPECT_EQ(files->private_key, dir + "/ca-key.pem");
  EXPECT_EQ(ModeOf(files->private_key), 0600u);
  EXPECT_EQ(ModeOf(files->certificate), 0644u);
  EXPECT_EQ(ModeOf(dir), 0700u);
  const std::string key_before = ReadText(files->private_key);

  auto again = InitCaDirectory(dir, {});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().type(), "AlreadyExists");
  EXPECT_EQ(ReadText(files->private_key), key_before);
  // No temporary files left behind.
  size_t entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) entries += e.is_regular_file();
  EXPECT_EQ(entries, 2u);

  auto ca = LoadCa(dir);
  ASSERT_TRUE(ca.ok()) << ca.status().ToString();
  EXPECT_EQ(KeyText(*ca), key_before);
}

TEST(CaFiles, IssueWritesRegionFilesAndReplacesOldOnes) {
  TempDir tmp;
  ASSERT_TRUE(InitCaDirectory(tmp.path(), {}).ok());
  const std::string out = tmp.path() + "/regions";
  auto files = IssueRegionCertificateFiles(tmp.path(), Region("us-west-2"), out);
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  EXPECT_EQ(files->certificate, out + "/us-west-2-cert.pem");
  EXPECT_EQ(files->private_key, out + "/us-west-2-key.pem");
  EXPECT_EQ(ModeOf(files->private_key), 0600u);
  const std::string first = ReadText(files->certificate);
  EXPECT_EQ(Verify(ReadText(CaFilesIn(tmp.path()).certificate), first, X509_PURPOSE_SSL_SERVER), X509_V_OK);

  auto reissued = IssueRegionCertificateFiles(tmp.path(), Region("us-west-2"), out);
  ASSERT_TRUE(reissued.ok());
  EXPECT_NE(ReadText(files->certificate), first);
  EXPECT_EQ(ModeOf(files->private_key), 0600u);
}

TEST(CaFiles, LoadRefusesMissingOrMismatchedFiles) {
  TempDir tmp;
  EXPECT_FALSE(LoadCa(tmp.path()).ok());
  EXPECT_FALSE(IssueRegionCertificateFiles(tmp.path(), Region("us-east-1"), tmp.path()).ok());
  ASSERT_TRUE(InitCaDirectory(tmp.path() + "/a", {}).ok());
  ASSERT_TRUE(InitCaDirectory(tmp.path() + "/b", {}).ok());
  std::filesystem::copy_file(tmp.path() + "/b/ca-key.pem", tmp.path() + "/a/ca-key.pem",
                             std::filesystem::copy_options::overwrite_existing);
  auto mismatched = LoadCa(tmp.path() + "/a");
  ASSERT_FALSE(mismatched.ok());
  EXPECT_NE(mismatched.status().message().find("does not match"), std::string::npos);
  std::ofstream(tmp.path() + "/b/ca-cert.pem") << "not a certificate";
  EXPECT_FALSE(LoadCa(tmp.path() + "/b").ok());
}

TEST(TlsContext, Tls13OnlyAndConfigErrors) {
  TempDir tmp;
  ASSERT_TRUE(InitCaDirectory(tmp.path(), {}).ok());
  auto region = IssueRegionCertificateFiles(tmp.path(), Region("us-east-1"), tmp.path());
  auto other = IssueRegionCertificateFiles(tmp.path(), Region("us-west-2"), tmp.path());
  ASSERT_TRUE(region.ok() && other.ok());
  const std::string ca_file = CaFilesIn(tmp.path()).certificate;

  auto with_context = [](const SSL_METHOD* method, auto configure) {
    SSL_CTX* ctx = SSL_CTX_new(method);
    Status st = configure(ctx);
    const long min_version = SSL_CTX_get_min_proto_version(ctx);
    SSL_CTX_free(ctx);
    return std::make_pair(st, min_version);
  };
  auto server = [&](TlsServerConfig config) {
    return with_context(TLS_server_method(), [&](SSL_CTX* c) { return ConfigureServerContext(c, config); });
  };
  auto client = [&](TlsClientConfig config) {
    return with_context(TLS_client_method(), [&](SSL_CTX* c) { return ConfigureClientContext(c, config); });
  };

  auto ok = server({region->certificate, region->private_key, ca_file, true});
  EXPECT_TRUE(ok.first.ok()) << ok.first.ToString();
  EXPECT_EQ(ok.second, TLS1_3_VERSION);
  auto ok_client = client({ca_file, region->certificate, region->private_key});
  EXPECT_TRUE(ok_client.first.ok()) << ok_client.first.ToString();
  EXPECT_EQ(ok_client.second, TLS1_3_VERSION);

  EXPECT_EQ(server({region->certificate, other->private_key, "", false}).first.type(), "TlsConfigError");
  EXPECT_EQ(server({tmp.path() + "/missing.pem", region->private_key, "", false}).first.type(), "TlsConfigError");
  EXPECT_EQ(server({region->certificate, region->private_key, "", true}).first.type(), "TlsConfigError");
  EXPECT_EQ(server({region->certificate, region->private_key, tmp.path() + "/none.pem", true}).first.type(),
            "TlsConfigError");
  EXPECT_EQ(server({"", "", "", false}).first.type(), "TlsConfigError");
  EXPECT_EQ(client({"", region->certificate, region->private_key}).first.type(), "TlsConfigError");
  EXPECT_EQ(client({ca_file, region->certificate, ""}).first.type(), "TlsConfigError");
  Status mismatch = client({ca_file, region->certificate, other->private_key}).first;
  EXPECT_NE(mismatch.message().find("does not match"), std::string::npos) << mismatch.ToString();
}

}  // namespace
}  // namespace meridian::tls
