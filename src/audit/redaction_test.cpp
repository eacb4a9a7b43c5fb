#include "audit/redaction.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <filesystem>

#include "audit/audit_log.h"
#include "audit/test_util.h"
#include "common/encoding.h"

namespace meridian::audit {
namespace {

// Values that must never reach the audit trail, in every form a client might send them.
const std::string kPlaintext = "TOP-SECRET-PLAINTEXT-4c1f";
const std::string kDataKey = "DATAKEY-0123456789abcdef0123456789ab";
const std::string kSecretString = "{\"password\":\"hunter2-db-9f3a\"}";
const std::string kSecretBinary = "BINARY-SECRET-77aa";
const std::string kRandomPassword = "Rand0m-Pa55word-xyz";
const std::string kSecretAccessKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const std::string kSessionToken = "FwoGZXIvYXdzEXAMPLESESSIONTOKEN";
const std::string kSignature = "SIGNATURE-BYTES-5566";
const std::string kGrantToken = "GRANT-TOKEN-abcdef";
const std::string kUnknown = "UNKNOWN-FIELD-VALUE-1234";
const std::string kLoginPassword = "L0gin-Pa55-!";
const std::string kMfaCode = "123456";

std::string B64(const std::string& s) { return Base64Encode(AsBytes(s)); }

std::vector<std::string> ForbiddenValues() {
  std::vector<std::string> out;
  for (const std::string& s : {kPlaintext, kDataKey, kSecretString, kSecretBinary, kRandomPassword, kSecretAccessKey,
                               kSessionToken, kSignature, kGrantToken, kUnknown, kLoginPassword}) {
    out.push_back(s);
    out.push_back(B64(s));
  }
  out.push_back("hunter2-db-9f3a");
  return out;
}

struct Message {
  std::string_view source;
  std::string json;
};

std::vector<Message> HostileMessages() {
  const std::string ec = "\"EncryptionContext\":{\"tenant\":\"acme\",\"Purpose\":\"billing\"}";
  return {
      // KMS requests
      {kKmsEventSource, "{\"KeyId\":\"alias/app\",\"Plaintext\":\"" + B64(kPlaintext) + "\"," + ec +
                            ",\"GrantTokens\":[\"" + kGrantToken + "\"],\"SuperSecret\":\"" + kUnknown + "\"}"},
      {kKmsEventSource, "{\"CiphertextBlob\":\"" + B64(kDataKey) + "\",\"KeyId\":\"k1\"," + ec + "}"},
      {kKmsEventSource, "{\"KeyId\":\"k1\",\"Message\":\"" + B64(kPlaintext) + "\",\"Signature\":\"" + B64(kSignature) +
                            "\",\"SigningAlgorithm\":\"ECDSA_SHA_256\"}"},
      // KMS responses
      {kKmsEventSource, "{\"KeyId\":\"arn:aws:kms:us-east-1:111122223333:key/k1\",\"Plaintext\":\"" + B64(kDataKey) +
                            "\",\"CiphertextBlob\":\"" + B64(kSecretBinary) + "\",\"EncryptionAlgorithm\":\"SYMMETRIC_DEFAULT\"}"},
      {kKmsEventSource, "{\"Plaintext\":\"" + B64(kPlaintext) + "\"}"},  // GenerateRandom
      {kKmsEventSource, "{\"KeyId\":\"k1\",\"PrivateKeyPlaintext\":\"" + B64(kDataKey) + "\",\"PublicKey\":\"" +
                            B64(kSignature) + "\",\"Signature\":\"" + B64(kSignature) + "\"}"},
      {kKmsEventSource, "{\"KeyMetadata\":{\"KeyId\":\"k1\",\"Arn\":\"arn\",\"KeyState\":\"Enabled\",\"Secret\":\"" +
                            kUnknown + "\",\"MultiRegionConfiguration\":{\"MultiRegionKeyType\":\"PRIMARY\",\"Hidden\":\"" +
                            kUnknown + "\"}}}"},
      // Encryption context values nested as objects are not scalars: dropped.
      {kKmsEventSource, "{\"EncryptionContext\":{\"x\":{\"deep\":\"" + kUnknown + "\"}}}"},
      // Secrets Manager
      {kSecretsManagerEventSource, "{\"Name\":\"prod/db\",\"SecretString\":" + std::string("\"") + "{\\\"password\\\":\\\"hunter2-db-9f3a\\\"}" +
                                       "\",\"ClientRequestToken\":\"tok-1\",\"Tags\":[{\"Key\":\"team\",\"Value\":\"pay\",\"Note\":\"" +
                                       kUnknown + "\"}]}"},
      {kSecretsManagerEventSource, "{\"ARN\":\"arn:sm\",\"Name\":\"prod/db\",\"SecretString\":\"" + kRandomPassword +
                                       "\",\"SecretBinary\":\"" + B64(kSecretBinary) + "\",\"VersionStages\":[\"AWSCURRENT\"]}"},
      {kSecretsManagerEventSource, "{\"RandomPassword\":\"" + kRandomPassword + "\"}"},
      {kSecretsManagerEventSource, "{\"SecretValues\":[{\"ARN\":\"a\",\"SecretString\":\"" + kLoginPassword + "\"}]}"},
      // IAM
      {kIamEventSource, "{\"AccessKey\":{\"UserName\":\"alice\",\"AccessKeyId\":\"AKIAEXAMPLE\",\"Status\":\"Active\","
                        "\"SecretAccessKey\":\"" + kSecretAccessKey + "\"}}"},
      {kIamEventSource, "{\"UserName\":\"alice\",\"Password\":\"" + kLoginPassword + "\",\"NewPassword\":\"" +
                            kLoginPassword + "\"}"},
      // STS
      {kStsEventSource, "{\"RoleArn\":\"arn:aws:iam::111122223333:role/app\",\"RoleSessionName\":\"s\",\"TokenCode\":\"" +
                            kMfaCode + "\",\"SerialNumber\":\"arn:mfa\"}"},
      {kStsEventSource, "{\"Credentials\":{\"AccessKeyId\":\"ASIAEXAMPLE\",\"SecretAccessKey\":\"" + kSecretAccessKey +
                            "\",\"SessionToken\":\"" + kSessionToken + "\",\"Expiration\":\"2024-05-01T13:00:00Z\"},"
                            "\"AssumedRoleUser\":{\"Arn\":\"arn:aws:sts::111122223333:assumed-role/app/s\",\"AssumedRoleId\":\"AROA:s\"}}"},
      // IAM MFA devices (after the entries the tests below index).
      {kIamEventSource, "{\"VirtualMFADevice\":{\"SerialNumber\":\"arn:aws:iam::111122223333:mfa/alice\","
                        "\"Base32StringSeed\":\"" + B64(kSessionToken) + "\",\"QRCodePNG\":\"" + B64(kSignature) + "\"}}"},
      {kIamEventSource, "{\"UserName\":\"alice\",\"SerialNumber\":\"arn:mfa\",\"AuthenticationCode1\":\"" +
                            kMfaCode + "\",\"AuthenticationCode2\":\"" + kMfaCode + "\"}"},
      // An unknown service: nothing at all.
      {"unknown.amazonaws.com", "{\"KeyId\":\"" + kUnknown + "\"}"},
  };
}

rapidjson::Document Parse(const std::string& s) {
  rapidjson::Document d;
  d.Parse(s.data(), s.size());
  return d;
}

TEST(RedactionTest, KeepsAllowListedMembersInCloudTrailCase) {
  std::string out = RedactMessageJson(kKmsEventSource,
                                      "{\"KeyId\":\"alias/app\",\"EncryptionContext\":{\"Tenant\":\"acme\"},"
                                      "\"EncryptionAlgorithm\":\"SYMMETRIC_DEFAULT\",\"NumberOfBytes\":32,"
                                      "\"Tags\":[{\"TagKey\":\"k\",\"TagValue\":\"v\"}],\"MultiRegion\":true}");
  auto d = Parse(out);
  ASSERT_FALSE(d.HasParseError()) << out;
  EXPECT_STREQ(d["keyId"].GetString(), "alias/app");
  EXPECT_STREQ(d["encryptionContext"]["Tenant"].GetString(), "acme");  // map keys verbatim
  EXPECT_STREQ(d["encryptionAlgorithm"].GetString(), "SYMMETRIC_DEFAULT");
  EXPECT_EQ(d["numberOfBytes"].GetInt(), 32);
  EXPECT_STREQ(d["tags"][0]["tagKey"].GetString(), "k");
  EXPECT_TRUE(d["multiRegion"].GetBool());
}

TEST(RedactionTest, DropsSecretsAndUnknownMembers) {
  for (const Message& m : HostileMessages()) {
    const std::string out = RedactMessageJson(m.source, m.json);
    for (const std::string& bad : ForbiddenValues())
      EXPECT_EQ(out.find(bad), std::string::npos) << "leaked " << bad << " from " << m.json << " -> " << out;
    EXPECT_EQ(out.find(kMfaCode), std::string::npos) << out;
    for (const char* member : {"plaintext", "ciphertextBlob", "secretString", "secretBinary", "randomPassword",
                               "secretAccessKey", "sessionToken", "signature", "grantTokens", "password",
                               "tokenCode", "message", "privateKeyPlaintext", "publicKey", "secretValues",
                               "base32StringSeed", "qRCodePNG", "qrCodePNG", "authenticationCode1"})
      EXPECT_EQ(out.find(std::string("\"") + member + "\""), std::string::npos) << member << " in " << out;
  }
}

TEST(RedactionTest, KeepsTheUsefulPartsOfHostileMessages) {
  auto msgs = HostileMessages();
  auto first = Parse(RedactMessageJson(msgs[0].source, msgs[0].json));
  EXPECT_STREQ(first["keyId"].GetString(), "alias/app");
  EXPECT_STREQ(first["encryptionContext"]["Purpose"].GetString(), "billing");
  auto access_key = Parse(RedactMessageJson(msgs[12].source, msgs[12].json));
  EXPECT_STREQ(access_key["accessKey"]["accessKeyId"].GetString(), "AKIAEXAMPLE");
  EXPECT_STREQ(access_key["accessKey"]["status"].GetString(), "Active");
  auto creds = Parse(RedactMessageJson(msgs[15].source, msgs[15].json));
  EXPECT_STREQ(creds["credentials"]["accessKeyId"].GetString(), "ASIAEXAMPLE");
  EXPECT_STREQ(creds["assumedRoleUser"]["arn"].GetString(), "arn:aws:sts::111122223333:assumed-role/app/s");
  auto meta = Parse(RedactMessageJson(msgs[6].source, msgs[6].json));
  EXPECT_STREQ(meta["keyMetadata"]["keyState"].GetString(), "Enabled");
  EXPECT_STREQ(meta["keyMetadata"]["multiRegionConfiguration"]["multiRegionKeyType"].GetString(), "PRIMARY");
}

TEST(RedactionTest, NothingKeptIsNull) {
  EXPECT_EQ(RedactMessageJson(kKmsEventSource, "{\"Plaintext\":\"AAAA\"}"), "");
  EXPECT_EQ(RedactMessageJson(kKmsEventSource, "not json"), "");
  EXPECT_EQ(RedactMessageJson(kKmsEventSource, "[1,2]"), "");
  EXPECT_EQ(RedactMessageJson("example.com", "{\"KeyId\":\"a\"}"), "");
}

TEST(RedactionTest, OverlongStringsAreDropped) {
  std::string big(70 * 1024, 'x');
  EXPECT_EQ(RedactMessageJson(kKmsEventSource, "{\"Description\":\"" + big + "\"}"), "");
}

class RedactionFilesTest : public testing::AuditDirTest {};

// The whole path: hostile requests and responses go through redaction into records, the records
// into the log; then no file of the audit directory holds any of the values.
TEST_F(RedactionFilesTest, NoSecretReachesTheAuditFiles) {
  auto log = OpenLog();
  ASSERT_TRUE(log);
  int i = 0;
  for (const Message& m : HostileMessages()) {
    AuditRecord r = testing::SampleRecord(i++);
    r.event_source = std::string(m.source);
    r.request_parameters = RedactMessageJson(m.source, m.json);
    r.response_elements = RedactMessageJson(m.source, m.json);
    ASSERT_TRUE(log->Append(std::move(r)).ok());
  }
  ASSERT_TRUE(log->Close().ok());
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir())) {
    ++files;
    const std::string bytes = testing::ReadFile(entry.path().string());
    for (const std::string& bad : ForbiddenValues())
      EXPECT_EQ(bytes.find(bad), std::string::npos) << bad << " found in " << entry.path();
  }
  EXPECT_GE(files, 4u);  // a log file, a digest, the public key, the wrapped signing key
}

}  // namespace
}  // namespace meridian::audit
