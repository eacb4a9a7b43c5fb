// The request pipeline's protocol envelopes, routing, error shapes and quotas, with real SigV4
// signing and verification, a real credential store (SQLite) and the real authorizer; the services
// behind it are small test services, so what is checked is the pipeline itself.
#include "server/request_pipeline.h"

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <set>

#include <gtest/gtest.h>

#include "crypto/crypto.h"
#include "crypto/root_key.h"
#include "iam/authorizer.h"
#include "iam/credential_store.h"
#include "sigv4/signer.h"
#include "storage/storage.h"

namespace meridian::server {
namespace {

constexpr char kAccount[] = "111122223333";
constexpr char kRootKeyId[] = "AKIAPIPELINETEST0001";
constexpr char kRootSecret[] = "pipelinesecretpipelinesecretpipelinesec1";
constexpr char kUserKeyId[] = "AKIAPIPELINETEST0002";
constexpr char kUserSecret[] = "pipelinesecretpipelinesecretpipelinesec2";
constexpr int64_t kNowMs = 1'800'000'000'000;

// Echo: the parameters it received as "Got", plus typed members. Fail: NoSuchEntity. Nothing: {}.
class TestService {
 public:
  static bool Knows(std::string_view op) { return op == "Echo" || op == "Fail" || op == "Nothing" || op == "Encrypt"; }
  Status Handle(std::string_view op, const rapidjson::Value& request, const Caller& caller, JsonWriter& w) {
    last_caller = caller;
    if (op == "Fail") return Status("NoSuchEntity", "The user with name bob cannot be found.", 404);
    w.StartObject();
    if (op == "Echo" || op == "Encrypt") {
      w.Key("Got");
      request.Accept(w);
      w.Key("Flag");
      w.Bool(true);
      w.Key("Count");
      w.Int(3);
    }
    w.EndObject();
    return Status::Ok();
  }
  Caller last_caller;
};

class RequestPipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("pipeline-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    storage_ = std::move(*storage::OpenSqlite((dir_ / "m.db").string()));
    credentials_ = std::make_unique<iam::CredentialStore>(*storage_, root_key_);
    ASSERT_TRUE(credentials_->EnsureAccount(kAccount).ok());
    ASSERT_TRUE(credentials_->CreateAccessKey(kAccount, std::string("arn:aws:iam::") + kAccount + ":root",
                                              std::string(kRootKeyId), std::string(kRootSecret)).ok());
    ASSERT_TRUE(credentials_->CreateAccessKey(kAccount, std::string("arn:aws:iam::") + kAccount + ":user/bob",
                                              std::string(kUserKeyId), std::string(kUserSecret)).ok());
  }
  void TearDown() override {
    pipeline_.reset();
    credentials_.reset();
    storage_.reset();
    std::filesystem::remove_all(dir_);
  }

  void MakePipeline(QuotaConfig quotas = {}) {
    pipeline_ = std::make_unique<RequestPipeline>(PipelineOptions{"us-west-2", "aws", quotas, {}}, *credentials_,
                                                  authorizer_,
                                                  std::vector<ApiService*>{&kms_api_, &iam_api_, &sts_api_}, nullptr,
                                                  clock_);
  }

  struct Sent {
    ApiResponse response;
    std::string request_id;
  };

  // POSTs `body`, signed for `service` in `region` with the given credential.
  Sent Send(std::string_view body, std::string_view service = "iam", std::string_view region = "us-west-2",
            std::string_view content_type = "application/x-www-form-urlencoded; charset=utf-8",
            std::string_view amz_target = "", std::string_view key_id = kRootKeyId,
            std::string_view secret = kRootSecret) {
    std::vector<sigv4::Header> headers{{"Host", "127.0.0.1:4566"}, {"Content-Type", content_type}};
    if (!amz_target.empty()) headers.push_back({"X-Amz-Target", amz_target});
    sigv4::Signer signer(sigv4::Credentials::Make(key_id, secret), std::string(region), std::string(service));
    auto signed_request = signer.Sign({"POST", "/", "", headers, body, {}}, kNowMs / 1000);
    EXPECT_TRUE(signed_request.ok());
    for (const auto& [name, value] : signed_request->headers_to_add) headers.push_back({name, value});
    Sent sent;
    pipeline_->Handle({"POST", "/", headers, body, "127.0.0.1", "", false},
                      [&sent](ApiResponse r) { sent.response = std::move(r); });
    for (const auto& [name, value] : sent.response.headers)
      if (name == "x-amzn-RequestId") sent.request_id = value;
    return sent;
  }

  std::filesystem::path dir_;
  std::unique_ptr<storage::Storage> storage_;
  crypto::RootKey root_key_ = crypto::RootKey::FromBytes(crypto::RandomBytes(32));
  std::unique_ptr<iam::CredentialStore> credentials_;
  iam::PolicyAuthorizer authorizer_;  // the account root may act; anyone else is denied
  ManualClock clock_{kNowMs};
  TestService kms_service_, iam_service_, sts_service_;
  ApiServiceAdapter<TestService> kms_api_{kms_service_, "TrentService.", "kms", "kms"};
  ApiServiceAdapter<TestService> iam_api_{iam_service_, "", "iam", "iam", &query::kIamDialect};
  ApiServiceAdapter<TestService> sts_api_{sts_service_, "", "sts", "sts", &query::kStsDialect};
  std::unique_ptr<RequestPipeline> pipeline_;
};

bool Contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST_F(RequestPipelineTest, RequestIdsAreDistinctUuids) {
  // More requests than one draw of the per-thread random pool holds (32 ids).
  MakePipeline();
  std::set<std::string> ids;
  constexpr size_t kRequests = 40;
  for (size_t i = 0; i < kRequests; ++i) {
    Sent s = Send("Action=Echo&Version=2010-05-08");
    ASSERT_EQ(s.request_id.size(), 36u) << s.request_id;
    EXPECT_EQ(s.request_id[14], '4') << s.request_id;
    ids.insert(s.request_id);
  }
  EXPECT_EQ(ids.size(), kRequests);
}

TEST_F(RequestPipelineTest, DeactivatedKeyIsRefusedAfterItsSigningKeyWasCached) {
  // The verifier caches derived signing keys; the credential lookup comes first, so a key made
  // inactive (UpdateAccessKey) or deleted is refused however warm that cache is.
  MakePipeline();
  for (int i = 0; i < 2; ++i) {
    Sent s = Send("Action=Echo&Version=2010-05-08", "iam", "us-west-2",
                  "application/x-www-form-urlencoded; charset=utf-8", "", kUserKeyId, kUserSecret);
    EXPECT_FALSE(Contains(s.response.body, "InvalidClientTokenId")) << s.response.body;
  }
  auto txn = storage_->BeginWrite();
  ASSERT_TRUE(txn.ok());
  ASSERT_TRUE(iam::CredentialStore::StageKeyStatus(**txn, kUserKeyId, "Inactive").ok());
  ASSERT_TRUE((*txn)->Commit().ok());
  credentials_->Invalidate(kUserKeyId);
  Sent s = Send("Action=Echo&Version=2010-05-08", "iam", "us-west-2",
                "application/x-www-form-urlencoded; charset=utf-8", "", kUserKeyId, kUserSecret);
  EXPECT_EQ(s.response.status, 403) << s.response.body;
  EXPECT_TRUE(Contains(s.response.body, "<Code>InvalidClientTokenId</Code>")) << s.response.body;
}

TEST_F(RequestPipelineTest, QueryRequestIsRoutedBySigningServiceAndAnsweredInXml) {
  MakePipeline();
  Sent s = Send("Action=Echo&Version=2010-05-08&UserName=bob&Tags.member.1.Key=k&Tags.member.1.Value=v");
  EXPECT_EQ(s.response.status, 200) << s.response.body;
  EXPECT_EQ(s.response.content_type, "text/xml");
  EXPECT_TRUE(Contains(s.response.body,
                       "<EchoResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><EchoResult><Got>"
                       "<Tags><member><Key>k</Key><Value>v</Value></member></Tags><UserName>bob</UserName></Got>"
                       "<Flag>true</Flag><Count>3</Count></EchoResult>"))
      << s.response.body;
  ASSERT_FALSE(s.request_id.empty());
  EXPECT_TRUE(Contains(s.response.body, "<RequestId>" + s.request_id + "</RequestId>"));
  EXPECT_EQ(iam_service_.last_caller.access_key_id, kRootKeyId);
  EXPECT_EQ(iam_service_.last_caller.account_id, kAccount);

  Sent sts = Send("Action=Echo&Version=2011-06-15", "sts");
  EXPECT_EQ(sts.response.status, 200);
  EXPECT_TRUE(Contains(sts.response.body, "<EchoResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"));
  Sent nothing = Send("Action=Nothing&Version=2010-05-08");
  EXPECT_EQ(nothing.response.status, 200);
  EXPECT_FALSE(Contains(nothing.response.body, "<NothingResult>")) << nothing.response.body;
}

TEST_F(RequestPipelineTest, ServiceErrorsAreQueryErrorResponses) {
  MakePipeline();
  Sent s = Send("Action=Fail&Version=2010-05-08");
  EXPECT_EQ(s.response.status, 404);
  EXPECT_EQ(s.response.content_type, "text/xml");
  EXPECT_TRUE(Contains(s.response.body, "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error>"
                                        "<Type>Sender</Type><Code>NoSuchEntity</Code>"
                                        "<Message>The user with name bob cannot be found.</Message></Error>"
                                        "<RequestId>" + s.request_id + "</RequestId></ErrorResponse>"))
      << s.response.body;
}

TEST_F(RequestPipelineTest, EnvelopeErrors) {
  MakePipeline();
  auto code_of = [](const Sent& s) {
    const size_t a = s.response.body.find("<Code>"), b = s.response.body.find("</Code>");
    return a == std::string::npos ? std::string() : s.response.body.substr(a + 6, b - a - 6);
  };
  EXPECT_EQ(code_of(Send("Action=Echo&X=%zz")), "MalformedQueryString");
  EXPECT_EQ(code_of(Send("Version=2010-05-08&UserName=bob")), "MissingAction");
  EXPECT_EQ(code_of(Send("Action=Unknown&Version=2010-05-08")), "InvalidAction");
  EXPECT_EQ(code_of(Send("Action=Echo&Version=2011-06-15")), "InvalidAction");  // STS's version sent to IAM
  EXPECT_EQ(code_of(Send("Action=Echo&Action=Echo")), "InvalidQueryParameter");
  // A form body signed for a JSON service is not a Query request of any service here.
  Sent kms = Send("Action=Echo", "kms");
  EXPECT_EQ(kms.response.status, 400);
  EXPECT_TRUE(Contains(kms.response.body, "\"__type\":\"UnknownOperationException\"")) << kms.response.body;
  // With X-Amz-Target the request is AWS JSON, whatever its content type.
  Sent json = Send("{}", "kms", "us-west-2", "application/x-amz-json-1.1", "TrentService.Echo");
  EXPECT_EQ(json.response.status, 200) << json.response.body;
  EXPECT_EQ(json.response.content_type, "application/x-amz-json-1.1");
  EXPECT_EQ(json.response.body, R"({"Got":{},"Flag":true,"Count":3})");
}

TEST_F(RequestPipelineTest, AuthenticationErrorsUseQueryNames) {
  MakePipeline();
  Sent bad_secret = Send("Action=Echo", "iam", "us-west-2", "application/x-www-form-urlencoded", "", kRootKeyId,
                         "wrongwrongwrongwrongwrongwrongwrongwrong");
  EXPECT_EQ(bad_secret.response.status, 403);
  EXPECT_TRUE(Contains(bad_secret.response.body, "<Code>SignatureDoesNotMatch</Code>")) << bad_secret.response.body;
  Sent unknown = Send("Action=Echo", "iam", "us-west-2", "application/x-www-form-urlencoded", "",
                      "AKIAUNKNOWNUNKNOWN00", kRootSecret);
  EXPECT_EQ(unknown.response.status, 403);
  EXPECT_TRUE(Contains(unknown.response.body, "<Code>InvalidClientTokenId</Code>")) << unknown.response.body;
  // The same failure over JSON keeps the JSON name.
  Sent json = Send("{}", "kms", "us-west-2", "application/x-amz-json-1.1", "TrentService.Echo",
                   "AKIAUNKNOWNUNKNOWN00", kRootSecret);
  EXPECT_TRUE(Contains(json.response.body, "UnrecognizedClientException")) << json.response.body;
}

TEST_F(RequestPipelineTest, AccessDeniedShapesPerProtocol) {
  MakePipeline();
  Sent query = Send("Action=Echo", "iam", "us-west-2", "application/x-www-form-urlencoded", "", kUserKeyId, kUserSecret);
  EXPECT_EQ(query.response.status, 403);
  EXPECT_TRUE(Contains(query.response.body, "<Code>AccessDenied</Code><Message>User: arn:aws:iam::111122223333:user/bob "
                                            "is not authorized to perform: iam:Echo"))
      << query.response.body;
  Sent json = Send("{}", "kms", "us-west-2", "application/x-amz-json-1.1", "TrentService.Echo", kUserKeyId,
                   kUserSecret);
  EXPECT_EQ(json.response.status, 400);
  EXPECT_TRUE(Contains(json.response.body, "\"__type\":\"AccessDeniedException\"")) << json.response.body;
  EXPECT_TRUE(Contains(json.response.body, "kms:Echo"));
}

TEST_F(RequestPipelineTest, IamAcceptsItsGlobalSigningRegionOthersDoNot) {
  MakePipeline();
  EXPECT_EQ(Send("Action=Echo", "iam", "us-east-1").response.status, 200);
  EXPECT_EQ(Send("Action=Echo", "iam", "us-west-2").response.status, 200);
  Sent other = Send("Action=Echo", "iam", "eu-west-1");
  EXPECT_EQ(other.response.status, 403);
  EXPECT_TRUE(Contains(other.response.body, "<Code>SignatureDoesNotMatch</Code>"));
  // STS is regional.
  Sent sts = Send("Action=Echo", "sts", "us-east-1");
  EXPECT_EQ(sts.response.status, 403);
  EXPECT_TRUE(Contains(sts.response.body, "scoped to a valid region")) << sts.response.body;
  // Nor does KMS take the IAM exception.
  Sent kms = Send("{}", "kms", "us-east-1", "application/x-amz-json-1.1", "TrentService.Echo");
  EXPECT_TRUE(Contains(kms.response.body, "InvalidSignatureException")) << kms.response.body;
}

TEST_F(RequestPipelineTest, QuotasThrottlePerClassWithEachProtocolsError) {
  QuotaConfig quotas;
  ASSERT_TRUE(ApplyQuotaSetting("iam=1:2", quotas));
  ASSERT_TRUE(ApplyQuotaSetting("symmetric_crypto=1:1", quotas));
  MakePipeline(quotas);
  EXPECT_EQ(Send("Action=Echo").response.status, 200);
  EXPECT_EQ(Send("Action=Echo", "sts").response.status, 200);  // IAM and STS share the iam class
  Sent throttled = Send("Action=Echo");
  EXPECT_EQ(throttled.response.status, 400);
  EXPECT_TRUE(Contains(throttled.response.body, "<Code>Throttling</Code><Message>Rate exceeded</Message>"))
      << throttled.response.body;
  EXPECT_EQ(Send("{}", "kms", "us-west-2", "application/x-amz-json-1.1", "TrentService.Encrypt").response.status, 200);
  Sent json = Send("{}", "kms", "us-west-2", "application/x-amz-json-1.1", "TrentService.Encrypt");
  EXPECT_EQ(json.response.status, 400);
  EXPECT_EQ(json.response.body, R"({"__type":"ThrottlingException","message":"Rate exceeded"})");
  // Another class is not affected; time refills the bucket.
  EXPECT_EQ(Send("{}", "kms", "us-west-2", "application/x-amz-json-1.1", "TrentService.Echo").response.status, 200);
  clock_.Advance(1000);
  EXPECT_EQ(Send("{}", "kms", "us-west-2", "application/x-amz-json-1.1", "TrentService.Encrypt").response.status, 200);
  // Requests that fail authentication take no token (the account is not known).
  for (int i = 0; i < 5; ++i)
    Send("Action=Echo", "iam", "us-west-2", "application/x-www-form-urlencoded", "", "AKIAUNKNOWNUNKNOWN00", kRootSecret);
  clock_.Advance(1000);
  EXPECT_EQ(Send("Action=Echo").response.status, 200);
}

}  // namespace
}  // namespace meridian::server
