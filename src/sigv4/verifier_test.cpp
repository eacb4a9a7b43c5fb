// Verifier behaviour on KMS-shaped requests: every error AWS returns for a bad signature, with
// its name, HTTP status and message.
#include "sigv4/verifier.h"

#include <gtest/gtest.h>

#include <cctype>
#include <chrono>
#include <iostream>
#include <map>
#include <thread>

#include "sigv4/signer.h"

namespace meridian::sigv4 {
namespace {

constexpr int64_t kT0 = 1440938160;  // 2015-08-30T12:36:00Z
constexpr std::string_view kLongKey = "AKIALONGTERMEXAMPLE1";
constexpr std::string_view kLongSecret = "long-term-secret-0123456789abcdefghijklm";
constexpr std::string_view kTempKey = "ASIATEMPORARYEXAMPL1";
constexpr std::string_view kTempSecret = "temporary-secret-0123456789abcdefghijklm";
constexpr std::string_view kTempToken = "FwoGZXIvYXdzEXAMPLEsessiontoken//+==";

constexpr std::string_view kMismatch =
    "The request signature we calculated does not match the signature you provided. Check your "
    "AWS Secret Access Key and signing method. Consult the service documentation for details.";

// An owned request: headers as strings, convertible to a RequestView.
struct OwnedRequest {
  std::string method = "POST";
  std::string path = "/";
  std::string query;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::vector<Header> views;

  RequestView View() {
    views.clear();
    for (const auto& [n, v] : headers) views.push_back({n, v});
    return RequestView{method, path, query, views, body, {}};
  }
  void Set(std::string_view name, std::string value) {
    for (auto& [n, v] : headers) {
      if (n == name) {
        v = std::move(value);
        return;
      }
    }
    headers.emplace_back(name, std::move(value));
  }
  void Remove(std::string_view name) {
    std::erase_if(headers, [&](const auto& h) { return h.first == name; });
  }
  std::string Get(std::string_view name) const {
    for (const auto& [n, v] : headers) {
      if (n == name) return v;
    }
    return {};
  }
};

OwnedRequest KmsRequest() {
  OwnedRequest r;
  r.headers = {{"Host", "kms.us-east-1.amazonaws.com"},
               {"Content-Type", "application/x-amz-json-1.1"},
               {"X-Amz-Target", "TrentService.Encrypt"}};
  r.body = R"({"KeyId":"alias/app","Plaintext":"aGVsbG8="})";
  return r;
}

class VerifierTest : public ::testing::Test {
 protected:
  VerifierTest() : clock_(kT0 * 1000) {
    auto long_term = std::make_shared<CredentialRecord>();
    long_term->access_key_id = std::string(kLongKey);
    long_term->secret_access_key = crypto::SecureBytes(AsBytes(kLongSecret));
    long_term->account_id = "111122223333";
    long_term->principal_arn = "arn:aws:iam::111122223333:user/alice";
    records_[std::string(kLongKey)] = long_term;

    auto temp = std::make_shared<CredentialRecord>();
    temp->access_key_id = std::string(kTempKey);
    temp->secret_access_key = crypto::SecureBytes(AsBytes(kTempSecret));
    temp->session_token = std::string(kTempToken);
    temp->account_id = "111122223333";
    temp->principal_arn = "arn:aws:sts::111122223333:assumed-role/app/session";
    temp->expires_at = kT0 + 3600;
    records_[std::string(kTempKey)] = temp;
  }

  Verifier MakeVerifier(std::vector<std::string> services = {"kms"}) {
    VerifierOptions options;
    options.region = "us-east-1";
    options.services = std::move(services);
    return Verifier(options, [this](std::string_view id) -> std::shared_ptr<const CredentialRecord> {
      auto it = records_.find(std::string(id));
      return it == records_.end() ? nullptr : it->second;
    }, clock_);
  }

  // Signs `r` in place (header form).
  static void SignInPlace(OwnedRequest& r, const Credentials& creds, int64_t at,
                          std::string region = "us-east-1", std::string service = "kms") {
    Signer signer(Credentials::Make(creds.access_key_id, AsString(creds.secret_access_key.view()),
                                    creds.session_token),
                  std::move(region), std::move(service));
    Result<SignedRequest> s = signer.Sign(r.View(), at);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    for (auto& [n, v] : s->headers_to_add) r.headers.emplace_back(n, v);
  }
  static Credentials LongTerm() { return Credentials::Make(kLongKey, kLongSecret); }
  static Credentials Temporary() { return Credentials::Make(kTempKey, kTempSecret, kTempToken); }

  static void ExpectError(const Result<Caller>& r, std::string_view type, int http_status,
                          std::string_view message_part) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().type(), type) << r.status().message();
    EXPECT_EQ(r.status().http_status(), http_status);
    EXPECT_NE(r.status().message().find(message_part), std::string::npos) << r.status().message();
  }

  ManualClock clock_;
  std::map<std::string, std::shared_ptr<const CredentialRecord>> records_;
};

TEST_F(VerifierTest, AuthenticatesLongTermCredentials) {
  Verifier verifier = MakeVerifier();
  OwnedRequest r = KmsRequest();
  SignInPlace(r, LongTerm(), kT0);
  Result<Caller> caller = verifier.Verify(r.View());
  ASSERT_TRUE(caller.ok()) << caller.status().ToString();
  EXPECT_EQ(caller->access_key_id(), kLongKey);
  EXPECT_EQ(caller->account_id(), "111122223333");
  EXPECT_EQ(caller->principal_arn(), "arn:aws:iam::111122223333:user/alice");
  EXPECT_EQ(caller->region, "us-east-1");
  EXPECT_EQ(caller->service, "kms");
  EXPECT_EQ(caller->signed_at, kT0);
  EXPECT_FALSE(caller->has_session_token);
  EXPECT_FALSE(caller->presigned);
}

TEST_F(VerifierTest, AuthenticatesTemporaryCredentials) {
  Verifier verifier = MakeVerifier();
  OwnedRequest r = KmsRequest();
  SignInPlace(r, Temporary(), kT0);
  Result<Caller> caller = verifier.Verify(r.View());
  ASSERT_TRUE(caller.ok()) << caller.status().ToString();
  EXPECT_TRUE(caller->has_session_token);
  EXPECT_EQ(caller->principal_arn(), "arn:aws:sts::111122223333:assumed-role/app/session");
}

TEST_F(VerifierTest, AcceptsAnyExpectedService) {
  Verifier verifier = MakeVerifier({"kms", "secretsmanager"});
  OwnedRequest r = KmsRequest();
  SignInPlace(r, LongTerm(), kT0, "us-east-1", "secretsmanager");
  Result<Caller> caller = verifier.Verify(r.View());
  ASSERT_TRUE(caller.ok()) << caller.status().ToString();
  EXPECT_EQ(caller->service, "secretsmanager");
}

TEST_F(VerifierTest, MissingAuthentication) {
  Verifier verifier = MakeVerifier();
  OwnedRequest r = KmsRequest();
  r.headers.emplace_back("X-Amz-Date", "20150830T123600Z");
  ExpectError(verifier.Verify(r.View()), "MissingAuthenticationTokenException", 403,
              "Missing Authentication Token");
}

TEST_F(VerifierTest, MalformedAuthorizationHeader) {
  Verifier verifier = MakeVerifier();
  OwnedRequest r = KmsRequest();
  SignInPlace(r, LongTerm(), kT0);
  const std::string good = r.Get("Authorization");

  r.Set("Authorization", "AWS4-HMAC-SHA256 Credential");
  ExpectError(verifier.Verify(r.View()), "IncompleteSignatureException", 400,
              "not a valid key=value pair (missing equal-sign) in Authorization header");

  r.Set("Authorization", good.substr(0, good.find(", Signature=")));
  ExpectError(verifier.Verify(r.View()), "IncompleteSignatureException", 400,
              "Authorization header requires 'Signature' parameter.");

  r.Set("Authorization", "Bearer abc");
  ExpectError(verifier.Verify(r.View()), "IncompleteSignatureException", 400,
              "Unsupported AWS 'algorithm': 'Bearer'");

  std::string four_parts = good;
  four_parts.replace(four_parts.find("/aws4_request"), 13, "");
  r.Set("Authorization", four_parts);
  ExpectError(verifier.Verify(r.View()), "IncompleteSignatureException", 400,
              "Credential must have exactly 5 slash-delimited elements");
}

TEST_F(VerifierTest, RequiredSignedHeaders) {
  Verifier verifier = MakeVerifier();
  OwnedRequest r = KmsRequest();
  SignInPlace(r, LongTerm(), kT0);
  const std::string good = r.Get("Authorization");

  // Host not among SignedHeaders.
  std::string no_host = good;
  no_host.replace(no_host.find("host;"), 5, "");
  r.Set("Authorization", no_host);
  ExpectError(verifier.Verify(r.View()), "IncompleteSignatureException", 400,
              "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");

  // x-amz-date not among SignedHeaders.
  std::string no_date = good;
  no_date.replace(no_date.find(";x-amz-date"), 11, "");
  r.Set("Authorization", no_date);
  ExpectError(verifier.Verify(r.View()), "IncompleteSignatureException", 400,
              "'X-Amz-Date' must be a 'SignedHeader'");

  // No X-Amz-Date header at all.
  r.Set("Authorization", good);
  r.Remove("X-Amz-Date");
  ExpectError(verifier.Verify(r.View()), "IncompleteSignatureException", 400,
              "requires existence of a 'X-Amz-Date' header");

  // A signed header that is absent from the request.
  OwnedRequest r2 = KmsRequest();
  SignInPlace(r2, LongTerm(), kT0);
  r2.Remove("X-Amz-Target");
  ExpectError(verifier.Verify(r2.View()), "IncompleteSignatureException", 400,
              "Header 'x-amz-target' is listed in SignedHeaders but is not present");

  // Malformed X-Amz-Date.
  OwnedRequest r3 = KmsRequest();
  SignInPlace(r3, LongTerm(), kT0);
  r3.Set("X-Amz-Date", "2015-08-30T12:36:00Z");
  ExpectError(verifier.Verify(r3.View()), "IncompleteSignatureException", 400,
              "X-Amz-Date must be in the ISO 8601 basic format");
}

TEST_F(VerifierTest, UnknownAccessKey) {
  Verifier verifier = MakeVerifier();
  OwnedRequest r = KmsRequest();
  SignInPlace(r, Credentials::Make("AKIAUNKNOWNEXAMPLE00", kLongSecret), kT0);
  Result<Caller> result = verifier.Verify(r.View());
  ExpectError(result, "UnrecognizedClientException", 400, "");
  EXPECT_EQ(result.status().message(), "The security token included in the request is invalid.");
}

TEST_F(VerifierTest, WrongSecretAndTampering) {
  Verifier verifier = MakeVerifier();
  OwnedRequest wrong_secret = KmsRequest();
  SignInPlace(wrong_secret, Credentials::Make(kLongKey, "not-the-secret"), kT0);
  Result<Caller> result = verifier.Verify(wrong_secret.View());
  ExpectError(result, "InvalidSignatureException", 400, "");
  EXPECT_EQ(result.status().message(), kMismatch);

  OwnedRequest body = KmsRequest();
  SignInPlace(body, LongTerm(), kT0);
  body.body = R"({"KeyId":"alias/other","Plaintext":"aGVsbG8="})";
  ExpectError(verifier.Verify(body.View()), "InvalidSignatureException", 400, kMismatch);

  OwnedRequest header = KmsRequest();
  SignInPlace(header, LongTerm(), kT0);
  header.Set("X-Amz-Target", "TrentService.Decrypt");
  ExpectError(verifier.Verify(header.View()), "InvalidSignatureException", 400, kMismatch);

  OwnedRequest path = KmsRequest();
  SignInPlace(path, LongTerm(), kT0);
  path.path = "/other";
  ExpectError(verifier.Verify(path.View()), "InvalidSignatureException", 400, kMismatch);

  OwnedRequest query = KmsRequest();
  SignInPlace(query, LongTerm(), kT0);
  query.query = "a=1";
  ExpectError(verifier.Verify(query.View()), "InvalidSignatureException", 400, kMismatch);

  OwnedRequest garbage = KmsRequest();
  SignInPlace(garbage, LongTerm(), kT0);
  std::string authz = garbage.Get("Authorization");
  garbage.Set("Authorization", authz.substr(0, authz.size() - 64) + std::string(64, 'z'));
  ExpectError(verifier.Verify(garbage.View()), "InvalidSignatureException", 400, kMismatch);

  // Upper-case hex for the same signature is the same signature.
  OwnedRequest upper = KmsRequest();
  SignInPlace(upper, LongTerm(), kT0);
  authz = upper.Get("Authorization");
  for (size_t i = authz.size() - 64; i < authz.size(); ++i) authz[i] = static_cast<char>(std::toupper(authz[i]));
  upper.Set("Authorization", authz);
  EXPECT_TRUE(verifier.Verify(upper.View()).ok());
}

TEST_F(VerifierTest, ClockSkewInThePast) {
  Verifier verifier = MakeVerifier();
  OwnedRequest at_limit = KmsRequest();
  SignInPlace(at_limit, LongTerm(), kT0 - 300);
  EXPECT_TRUE(verifier.Verify(at_limit.View()).ok());

  OwnedRequest r = KmsRequest();
  SignInPlace(r, LongTerm(), kT0 - 301);
  Result<Caller> result = verifier.Verify(r.View());
  ExpectError(result, "InvalidSignatureException", 400, "");
  EXPECT_EQ(result.status().message(),
            "Signature expired: 20150830T123059Z is now earlier than 20150830T123100Z "
            "(20150830T123600Z - 5 min.)");
}

TEST_F(VerifierTest, ClockSkewInTheFuture) {
  Verifier verifier = MakeVerifier();
  OwnedRequest at_limit = KmsRequest();
  SignInPlace(at_limit, LongTerm(), kT0 + 300);
  EXPECT_TRUE(verifier.Verify(at_limit.View()).ok());

  OwnedRequest r = KmsRequest();
  SignInPlace(r, LongTerm(), kT0 + 301);
  Result<Caller> result = verifier.Verify(r.View());
  ExpectError(result, "InvalidSignatureException", 400, "");
  EXPECT_EQ(result.status().message(),
            "Signature not yet current: 20150830T124101Z is still later than 20150830T124100Z "
            "(20150830T123600Z + 5 min.)");
}

TEST_F(VerifierTest, CredentialScopeErrors) {
  Verifier verifier = MakeVerifier();
  OwnedRequest region = KmsRequest();
  SignInPlace(region, LongTerm(), kT0, "eu-west-1", "kms");
  Result<Caller> result = verifier.Verify(region.View());
  ExpectError(result, "InvalidSignatureException", 400, "");
  EXPECT_EQ(result.status().message(), "Credential should be scoped to a valid region, not 'eu-west-1'. ");

  OwnedRequest service = KmsRequest();
  SignInPlace(service, LongTerm(), kT0, "us-east-1", "secretsmanager");
  result = verifier.Verify(service.View());
  ExpectError(result, "InvalidSignatureException", 400, "");
  EXPECT_EQ(result.status().message(), "Credential should be scoped to correct service: 'kms'. ");

  OwnedRequest terminator = KmsRequest();
  SignInPlace(terminator, LongTerm(), kT0);
  std::string authz = terminator.Get("Authorization");
  authz.replace(authz.find("aws4_request"), 12, "aws4_reqXYZ");
  terminator.Set("Authorization", authz);
  result = verifier.Verify(terminator.View());
  ExpectError(result, "InvalidSignatureException", 400, "");
  EXPECT_EQ(result.status().message(),
            "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws4_reqXYZ'. ");

  OwnedRequest date = KmsRequest();
  SignInPlace(date, LongTerm(), kT0);
  authz = date.Get("Authorization");
  authz.replace(authz.find("/20150830/"), 10, "/20150831/");
  date.Set("Authorization", authz);
  ExpectError(verifier.Verify(date.View()), "InvalidSignatureException", 400,
              "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
              "from HTTP: '20150831' != '20150830', from '20150830T123600Z'.");
}

TEST_F(VerifierTest, SessionTokenRules) {
  Verifier verifier = MakeVerifier();
  // Temporary key signed without its token.
  OwnedRequest missing = KmsRequest();
  SignInPlace(missing, Credentials::Make(kTempKey, kTempSecret), kT0);
  ExpectError(verifier.Verify(missing.View()), "UnrecognizedClientException", 400,
              "The security token included in the request is invalid.");
  // With a different token.
  OwnedRequest wrong = KmsRequest();
  SignInPlace(wrong, Credentials::Make(kTempKey, kTempSecret, "another-token"), kT0);
  ExpectError(verifier.Verify(wrong.View()), "UnrecognizedClientException", 400,
              "The security token included in the request is invalid.");
  // A long-term key presented with a token.
  OwnedRequest extra = KmsRequest();
  SignInPlace(extra, Credentials::Make(kLongKey, kLongSecret, "some-token"), kT0);
  ExpectError(verifier.Verify(extra.View()), "UnrecognizedClientException", 400,
              "The security token included in the request is invalid.");
  // The right token added after signing (not signed) is accepted.
  OwnedRequest after = KmsRequest();
  SignInPlace(after, Credentials::Make(kTempKey, kTempSecret), kT0);
  after.headers.emplace_back("X-Amz-Security-Token", std::string(kTempToken));
  EXPECT_TRUE(verifier.Verify(after.View()).ok());
}

TEST_F(VerifierTest, ExpiredTemporaryCredentials) {
  Verifier verifier = MakeVerifier();
  clock_.Set((kT0 + 3599) * 1000);
  OwnedRequest still_valid = KmsRequest();
  SignInPlace(still_valid, Temporary(), kT0 + 3599);
  EXPECT_TRUE(verifier.Verify(still_valid.View()).ok());

  clock_.Set((kT0 + 3600) * 1000);
  OwnedRequest r = KmsRequest();
  SignInPlace(r, Temporary(), kT0 + 3600);
  Result<Caller> result = verifier.Verify(r.View());
  ExpectError(result, "ExpiredTokenException", 400, "");
  EXPECT_EQ(result.status().message(), "The security token included in the request is expired");
}

TEST_F(VerifierTest, ContentSha256MustMatchBody) {
  Verifier verifier = MakeVerifier();
  OwnedRequest r = KmsRequest();
  Signer signer(LongTerm(), "us-east-1", "kms");
  SigningOptions options;
  options.add_content_sha256_header = true;
  Result<SignedRequest> s = signer.Sign(r.View(), kT0, options);
  ASSERT_TRUE(s.ok());
  for (auto& [n, v] : s->headers_to_add) r.headers.emplace_back(n, v);
  EXPECT_TRUE(verifier.Verify(r.View()).ok());

  // A body swapped together with a matching content hash still fails the signature...
  OwnedRequest swapped = r;
  swapped.body = "{}";
  swapped.Set("X-Amz-Content-Sha256",
              "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
  ExpectError(verifier.Verify(swapped.View()), "InvalidSignatureException", 400, kMismatch);
  // ...and a body that does not match the claimed hash is reported as such.
  OwnedRequest mismatch = r;
  mismatch.body = "{}";
  ExpectError(verifier.Verify(mismatch.View()), "InvalidSignatureException", 400,
              "'x-amz-content-sha256' header does not match");
}

TEST_F(VerifierTest, PresignedRequests) {
  Verifier verifier = MakeVerifier();
  Signer signer(LongTerm(), "us-east-1", "kms");
  auto presign = [&](int64_t at, int64_t expires) {
    OwnedRequest r;
    r.method = "GET";
    r.query = "Action=ListKeys";
    r.headers = {{"Host", "kms.us-east-1.amazonaws.com"}};
    Result<SignedRequest> s = signer.Presign(r.View(), at, expires);
    EXPECT_TRUE(s.ok());
    r.query = s->query;
    return r;
  };
  // Signed 50 minutes ago, valid for an hour: accepted although beyond the 5-minute skew.
  OwnedRequest valid = presign(kT0 - 3000, 3600);
  Result<Caller> caller = verifier.Verify(valid.View());
  ASSERT_TRUE(caller.ok()) << caller.status().ToString();
  EXPECT_TRUE(caller->presigned);

  OwnedRequest expired = presign(kT0 - 4000, 3600);
  Result<Caller> result = verifier.Verify(expired.View());
  ExpectError(result, "InvalidSignatureException", 400, "");
  EXPECT_EQ(result.status().message(),
            "Signature expired: 20150830T122920Z is now earlier than 20150830T123600Z (the "
            "presigned request was signed at 20150830T112920Z with X-Amz-Expires=3600)");

  OwnedRequest future = presign(kT0 + 600, 3600);
  ExpectError(verifier.Verify(future.View()), "InvalidSignatureException", 400,
              "Signature not yet current");

  OwnedRequest bad_expires = presign(kT0, 60);
  bad_expires.query.replace(bad_expires.query.find("X-Amz-Expires=60"), 16, "X-Amz-Expires=9999999");
  ExpectError(verifier.Verify(bad_expires.View()), "IncompleteSignatureException", 400,
              "X-Amz-Expires must be a whole number of seconds from 1 to 604800");

  OwnedRequest tampered = presign(kT0, 60);
  tampered.query.replace(tampered.query.find("ListKeys"), 8, "ListAlias");
  ExpectError(verifier.Verify(tampered.View()), "InvalidSignatureException", 400, kMismatch);

  OwnedRequest incomplete = presign(kT0, 60);
  incomplete.query = incomplete.query.substr(0, incomplete.query.find("&X-Amz-Signature="));
  ExpectError(verifier.Verify(incomplete.View()), "IncompleteSignatureException", 400,
              "AWS query-string parameters must include 'X-Amz-Signature'.");

  OwnedRequest both = presign(kT0, 60);
  both.headers.emplace_back("Authorization", "AWS4-HMAC-SHA256 Credential=x");
  ExpectError(verifier.Verify(both.View()), "IncompleteSignatureException", 400,
              "Only one auth mechanism allowed");
}

TEST_F(VerifierTest, SecretRotationIsNotMaskedByTheKeyCache) {
  Verifier verifier = MakeVerifier();
  OwnedRequest r = KmsRequest();
  SignInPlace(r, LongTerm(), kT0);
  ASSERT_TRUE(verifier.Verify(r.View()).ok());
  ASSERT_TRUE(verifier.Verify(r.View()).ok());
  EXPECT_EQ(verifier.key_cache().misses(), 1u);
  EXPECT_EQ(verifier.key_cache().hits(), 1u);

  auto rotated = std::make_shared<CredentialRecord>();
  rotated->access_key_id = std::string(kLongKey);
  rotated->secret_access_key = crypto::SecureBytes(AsBytes("rotated-secret"));
  records_[std::string(kLongKey)] = rotated;
  ExpectError(verifier.Verify(r.View()), "InvalidSignatureException", 400, kMismatch);
  OwnedRequest fresh = KmsRequest();
  SignInPlace(fresh, Credentials::Make(kLongKey, "rotated-secret"), kT0);
  EXPECT_TRUE(verifier.Verify(fresh.View()).ok());
}

TEST_F(VerifierTest, ConcurrentVerificationAndThroughput) {
  Verifier verifier = MakeVerifier();
  OwnedRequest good = KmsRequest();
  SignInPlace(good, LongTerm(), kT0);
  OwnedRequest bad = KmsRequest();
  SignInPlace(bad, Credentials::Make(kLongKey, "wrong"), kT0);
  constexpr int kThreads = 2, kPerThread = 20000;
  std::atomic<int> ok{0}, rejected{0};
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      OwnedRequest g = good, b = bad;
      RequestView gv = g.View(), bv = b.View();
      for (int i = 0; i < kPerThread; ++i) {
        if (i % 10 == 9) {
          if (!verifier.Verify(bv).ok()) rejected.fetch_add(1);
        } else if (verifier.Verify(gv).ok()) {
          ok.fetch_add(1);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(ok.load(), kThreads * kPerThread * 9 / 10);
  EXPECT_EQ(rejected.load(), kThreads * kPerThread / 10);
  std::cout << "[ sigv4 ] " << kThreads * kPerThread << " verifications on " << kThreads
            << " threads: " << static_cast<int64_t>(kThreads * kPerThread / seconds) << "/s\n";
}

}  // namespace
}  // namespace meridian::sigv4
