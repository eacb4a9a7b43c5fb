// The offline half of secrets_client.h (the calls themselves run against Meridian in
// tests/e2e/test_global_db.py).
#include "drill/secrets_client.h"

#include <gtest/gtest.h>

namespace meridian::drill {
namespace {

crypto::SecureBytes Secure(std::string_view text) {
  return crypto::SecureBytes(ByteView(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

std::string Text(const crypto::SecureBytes& bytes) {
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

TEST(JsonStringMember, ReadsOneStringMember) {
  auto password = JsonStringMember(Secure(R"({"username":"app_user","password":"s3cr\"et"})"), "password");
  ASSERT_TRUE(password.ok()) << password.status().ToString();
  EXPECT_EQ(Text(*password), "s3cr\"et");
  EXPECT_EQ(Text(JsonStringMember(Secure(R"({"username":"app_user"})"), "username").value()), "app_user");
}

TEST(JsonStringMember, RejectsMissingNonStringAndMalformed) {
  EXPECT_EQ(JsonStringMember(Secure(R"({"username":"u"})"), "password").status().type(), "NotFoundException");
  EXPECT_FALSE(JsonStringMember(Secure(R"({"password":42})"), "password").ok());
  EXPECT_FALSE(JsonStringMember(Secure(R"(["password"])"), "password").ok());
  EXPECT_FALSE(JsonStringMember(Secure(R"({"password":"x")"), "password").ok());
  EXPECT_FALSE(JsonStringMember(Secure(""), "password").ok());
}

TEST(SecretsClient, RejectsABadEndpoint) {
  EXPECT_FALSE(SecretsClient::Create("us-east-1", "not a url", sigv4::Credentials::Make("AKID", "secret")).ok());
  auto client = SecretsClient::Create("eu-west-1", "http://127.0.0.1:1", sigv4::Credentials::Make("AKID", "secret"));
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  EXPECT_EQ((*client)->region(), "eu-west-1");
  // Nothing listens there: the call fails (no retry loop on a connection error).
  EXPECT_FALSE((*client)->WaitForSecretString("x", std::chrono::milliseconds(2000)).ok());
}

}  // namespace
}  // namespace meridian::drill
