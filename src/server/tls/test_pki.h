// Test support (not part of meridian_tls): a throw-away deployment CA in a temporary directory,
// region certificates issued on demand, and a second, unrelated CA for "rogue" certificates.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <map>
#include <string>

#include "server/tls/certificates.h"
#include "server/tls/tls_context.h"

namespace meridian::tls {

class TestPki {
 public:
  TestPki() {
    std::string pattern = (std::filesystem::temp_directory_path() / "meridian-pki-XXXXXX").string();
    dir_ = ::mkdtemp(pattern.data());
    auto ca = InitCaDirectory(dir_ + "/ca", {});
    auto rogue = InitCaDirectory(dir_ + "/rogue-ca", {});
    EXPECT_TRUE(ca.ok() && rogue.ok()) << ca.status().ToString() << rogue.status().ToString();
  }
  ~TestPki() { std::filesystem::remove_all(dir_); }
  TestPki(const TestPki&) = delete;
  TestPki& operator=(const TestPki&) = delete;

  const std::string& dir() const { return dir_; }
  std::string ca_file() const { return CaFilesIn(dir_ + "/ca").certificate; }
  std::string rogue_ca_file() const { return CaFilesIn(dir_ + "/rogue-ca").certificate; }

  // A certificate for `region` from the deployment CA (or from the rogue CA).
  const CredentialFiles& Region(const std::string& region) { return Issue("ca", region); }
  const CredentialFiles& Rogue(const std::string& region) { return Issue("rogue-ca", region); }

  TlsServerConfig Server(const std::string& region, bool mutual) {
    const CredentialFiles& files = Region(region);
    TlsServerConfig config;
    config.certificate_chain_file = files.certificate;
    config.private_key_file = files.private_key;
    if (mutual) {
      config.client_ca_file = ca_file();
      config.require_client_certificate = true;
    }
    return config;
  }

  // A client trusting the deployment CA, presenting `region`'s certificate ("" for none).
  TlsClientConfig Client(const std::string& region) {
    TlsClientConfig config;
    config.ca_file = ca_file();
    if (!region.empty()) {
      config.certificate_chain_file = Region(region).certificate;
      config.private_key_file = Region(region).private_key;
    }
    return config;
  }

 private:
  const CredentialFiles& Issue(const std::string& ca, const std::string& region) {
    const std::string key = ca + "/" + region;
    auto it = issued_.find(key);
    if (it != issued_.end()) return it->second;
    RegionCertificateOptions options;
    options.region = region;
    options.dns_names = {"localhost"};
    options.ip_addresses = {"127.0.0.1"};
    auto files = IssueRegionCertificateFiles(dir_ + "/" + ca, options, dir_ + "/" + ca + "/issued");
    EXPECT_TRUE(files.ok()) << files.status().ToString();
    return issued_.emplace(key, files.ok() ? *files : CredentialFiles{}).first->second;
  }

  std::string dir_;
  std::map<std::string, CredentialFiles> issued_;
};

}  // namespace meridian::tls
