// KMS keyrings: ARN parsing and MRK matching (spec: framework/aws-kms/*.md), credentials loading,
// and an end-to-end round trip through a real KMS endpoint (moto_server, started by the test;
// skipped with the reason when it is not installed).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <rapidjson/document.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "sdk/aws_credentials.h"
#include "sdk/client.h"
#include "sdk/kms_arn.h"
#include "sdk/kms_keyring.h"
#include "sdk/multi_keyring.h"
#include "sdk/raw_aes_keyring.h"

namespace meridian::sdk {
namespace {

// spec: framework/aws-kms/aws-kms-key-arn.md
TEST(KmsArnTest, Parsing) {
  auto a = ParseKmsArn("arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->partition, "aws");
  EXPECT_EQ(a->region, "us-east-1");
  EXPECT_EQ(a->account, "111122223333");
  EXPECT_TRUE(a->is_mrk());
  EXPECT_EQ(a->ToString(), "arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd");
  EXPECT_FALSE(ParseKmsArn("arn:aws:kms:us-east-1:111122223333:key/1234abcd")->is_mrk());
  EXPECT_FALSE(ParseKmsArn("arn:aws:kms:us-east-1:111122223333:alias/mrk-x")->is_mrk());
  EXPECT_FALSE(ParseKmsArn("arn:aws:s3:us-east-1:111122223333:key/abc"));
  EXPECT_FALSE(ParseKmsArn("arn:aws:kms::111122223333:key/abc"));
  EXPECT_FALSE(ParseKmsArn("arn:aws:kms:us-east-1:111122223333:key/"));
  EXPECT_FALSE(ParseKmsArn("arn:aws:kms:us-east-1:111122223333:grant/abc"));
  EXPECT_FALSE(ParseKmsArn("mrk-1234"));
  EXPECT_TRUE(IsMrkIdentifier("mrk-1234"));
  EXPECT_FALSE(IsMrkIdentifier("alias/mrk-1234"));
}

// spec: framework/aws-kms/aws-kms-mrk-match-for-decrypt.md
TEST(KmsArnTest, MrkMatchForDecrypt) {
  const char* east = "arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd";
  const char* west = "arn:aws:kms:us-west-2:111122223333:key/mrk-1234abcd";
  EXPECT_TRUE(MrkMatchForDecrypt(east, west));
  EXPECT_TRUE(MrkMatchForDecrypt(east, east));
  EXPECT_FALSE(MrkMatchForDecrypt(east, "arn:aws:kms:us-west-2:444455556666:key/mrk-1234abcd"));
  EXPECT_FALSE(MrkMatchForDecrypt(east, "arn:aws-cn:kms:us-west-2:111122223333:key/mrk-1234abcd"));
  EXPECT_FALSE(MrkMatchForDecrypt("arn:aws:kms:us-east-1:111122223333:key/1234abcd",
                                  "arn:aws:kms:us-west-2:111122223333:key/1234abcd"));
  EXPECT_FALSE(MrkMatchForDecrypt(east, "arn:aws:kms:us-west-2:111122223333:key/mrk-9999"));
}

TEST(AwsCredentialsTest, SharedFileProfiles) {
  std::string ini =
      "[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = secret1\n\n"
      "[profile dev]\naws_access_key_id=AKIDDEV\naws_secret_access_key=secret2\naws_session_token=tok\n";
  auto d = CredentialsFromIni(ini, "default");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->access_key_id, "AKIDDEFAULT");
  auto dev = CredentialsFromIni(ini, "dev");
  ASSERT_TRUE(dev.ok());
  EXPECT_EQ(dev->session_token, "tok");
  EXPECT_FALSE(CredentialsFromIni(ini, "missing").ok());
}

TEST(KmsKeyringTest, DiscoveryKeyringCannotEncryptAndFilterIsValidated) {
  KmsClientConfig cfg;
  cfg.region = "us-west-2";
  cfg.endpoint = "http://127.0.0.1:1";
  cfg.credentials = sigv4::Credentials::Make("AKID", "secret");
  auto client = KmsClient::Create(std::move(cfg)).value();
  EXPECT_FALSE(AwsKmsDiscoveryKeyring::Create(client, DiscoveryFilter{"aws", {}}).ok());
  auto kr = AwsKmsDiscoveryKeyring::Create(client, std::nullopt).value();
  EncryptOptions o;
  EXPECT_FALSE(Encrypt(kr, AsBytes("x"), o).ok());
  EXPECT_FALSE(AwsKmsKeyring::Create("arn:aws:kms:bad", client).ok());
}

// --- end to end against a real KMS endpoint (moto_server) ---

int FreePort() {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  int port = ntohs(a.sin_port);
  close(s);
  return port;
}

bool CanConnect(int port) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(s);
  return ok;
}

std::string FindInPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  if (!path) return "";
  std::string p = path;
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find(':', start);
    std::string dir = p.substr(start, end == std::string::npos ? std::string::npos : end - start);
    std::string full = dir + "/" + name;
    if (!dir.empty() && access(full.c_str(), X_OK) == 0) return full;
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return "";
}

class MotoKms : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string moto = FindInPath("moto_server");
    if (moto.empty()) GTEST_SKIP() << "moto_server not installed: KMS keyring end-to-end test skipped";
    port_ = FreePort();
    pid_ = fork();
    if (pid_ == 0) {
      std::string port = std::to_string(port_);
      freopen("/dev/null", "w", stdout);
      freopen("/dev/null", "w", stderr);
      execl(moto.c_str(), moto.c_str(), "-H", "127.0.0.1", "-p", port.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    for (int i = 0; i < 300 && !CanConnect(port_); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ASSERT_TRUE(CanConnect(port_)) << "moto_server did not start";
    KmsClientConfig cfg;
    cfg.region = "us-east-1";
    cfg.endpoint = "http://127.0.0.1:" + std::to_string(port_);
    cfg.credentials = sigv4::Credentials::Make("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    client_ = KmsClient::Create(std::move(cfg)).value();
  }
  void TearDown() override {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }
  std::string CreateKey() {
    auto body = client_->Call("CreateKey", "{\"Description\":\"meridian sdk test\"}");
    EXPECT_TRUE(body.ok()) << body.status().ToString();
    rapidjson::Document d;
    d.Parse(body->c_str());
    return d["KeyMetadata"]["Arn"].GetString();
  }

  int port_ = 0;
  pid_t pid_ = -1;
  std::shared_ptr<KmsClient> client_;
};

TEST_F(MotoKms, StrictAndDiscoveryKeyringsRoundTrip) {
  std::string arn = CreateKey();
  std::string other = CreateKey();
  auto kr = AwsKmsKeyring::Create(arn, client_).value();
  EncryptOptions o;
  o.encryption_context = {{"tenant", "acme"}};
  Bytes pt(10000, 0x61);
  auto ct = Encrypt(kr, pt, o);
  ASSERT_TRUE(ct.ok()) << ct.status().ToString();
  auto out = Decrypt(kr, *ct, DecryptOptions{});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->plaintext, pt);
  EXPECT_EQ(AsString(out->header.edks[0].provider_info), arn);

  // A keyring for another key does not even try this EDK; wrong key → NoDecryptableDataKey.
  auto wrong = Decrypt(AwsKmsKeyring::Create(other, client_).value(), *ct, DecryptOptions{});
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().type(), "NoDecryptableDataKey");

  // Discovery: admitted by a filter naming the key's account, refused by one that does not.
  auto parsed = ParseKmsArn(arn).value();
  auto disc = AwsKmsDiscoveryKeyring::Create(client_, DiscoveryFilter{parsed.partition, {parsed.account}}).value();
  EXPECT_TRUE(Decrypt(disc, *ct, DecryptOptions{}).ok());
  auto filtered = AwsKmsDiscoveryKeyring::Create(client_, DiscoveryFilter{parsed.partition, {"000000000000"}}).value();
  EXPECT_FALSE(Decrypt(filtered, *ct, DecryptOptions{}).ok());

  // Multi-keyring: KMS generator plus a raw AES child; either decrypts; KMS Encrypt path used.
  auto aes = RawAesKeyring::Create("ns", "name", Bytes(32, 7)).value();
  auto multi = MultiKeyring::Create(aes, {kr}).value();
  auto ct2 = Encrypt(multi, pt, o).value();
  EXPECT_TRUE(Decrypt(kr, ct2, DecryptOptions{}).ok());
  EXPECT_TRUE(Decrypt(aes, ct2, DecryptOptions{}).ok());

  // Tampered encryption context is refused by KMS (it is KMS AAD) and by the header tag.
  DecryptOptions reproduced;
  reproduced.reproduced_encryption_context = {{"tenant", "evil"}};
  EXPECT_FALSE(Decrypt(kr, *ct, reproduced).ok());
}

}  // namespace
}  // namespace meridian::sdk
