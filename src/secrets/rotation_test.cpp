// Rotation: configuration, the AWSPENDING / AWSCURRENT / AWSPREVIOUS mechanics through the API
// (an external rotator), and a Rotator run by the service, on demand and on schedule, including
// failures and reattempts.
#include <gtest/gtest.h>

#include "secrets/rotator.h"
#include "secrets/test_fixture.h"

namespace meridian::secrets {
namespace {

using testing::kDay;
using testing::kHour;
using testing::Obj;
using testing::Quote;
using testing::Token;

constexpr char kBuiltIn[] = "meridian:rotator:test-source";
constexpr char kExternal[] = "arn:aws:lambda:us-east-1:111122223333:function:external-rotator";

// The system whose credential is rotated: it accepts only its active password.
struct CredentialSource {
  std::string password;
  int logins = 0;
  bool Login(std::string_view p) {
    ++logins;
    return p == password;
  }
};

// Rotates the source's password the way AWS's rotation templates do.
class SourceRotator : public Rotator {
 public:
  explicit SourceRotator(CredentialSource& source) : source_(source) {}

  Status CreateSecret(RotationContext& ctx) override {
    MERIDIAN_RETURN_IF_ERROR(Step("createSecret"));
    MERIDIAN_RETURN_IF_ERROR(ctx.GetValue("AWSCURRENT").status());
    if (ctx.GetValue("AWSPENDING").ok()) return Status::Ok();  // created by an earlier attempt
    PasswordOptions options;
    options.length = 24;
    MERIDIAN_ASSIGN_OR_RETURN(auto password, ctx.RandomPassword(options));
    return ctx.PutPendingValue(SecretValue::String(password.view()));
  }
  Status SetSecret(RotationContext& ctx) override {
    MERIDIAN_RETURN_IF_ERROR(Step("setSecret"));
    MERIDIAN_ASSIGN_OR_RETURN(auto pending, ctx.GetValue("AWSPENDING"));
    source_.password = std::string(AsString(pending.bytes.view()));
    return Status::Ok();
  }
  Status TestSecret(RotationContext& ctx) override {
    MERIDIAN_RETURN_IF_ERROR(Step("testSecret"));
    MERIDIAN_ASSIGN_OR_RETURN(auto pending, ctx.GetValue("AWSPENDING"));
    if (!source_.Login(AsString(pending.bytes.view()))) return Status("LoginFailed", "the pending password is refused", 400);
    return Status::Ok();
  }

  std::string fail_at;             // the step that fails, "" for none
  std::vector<std::string> steps;  // the steps run, in order

 private:
  Status Step(const std::string& name) {
    steps.push_back(name);
    if (name == fail_at) return Status("StepFailed", name + " was told to fail", 400);
    return Status::Ok();
  }
  CredentialSource& source_;
};

class RotationTest : public testing::SecretsFixture {
 protected:
  void SetUp() override {
    rotator_ = std::make_shared<SourceRotator>(source_);
    rotators_ = [this](const std::string& id) -> std::shared_ptr<Rotator> {
      return id == kBuiltIn ? rotator_ : nullptr;
    };
    testing::SecretsFixture::SetUp();
  }

  Status Rotate(const std::string& secret, const std::string& function, const std::string& token,
                const std::string& extra = "", rapidjson::Document* out = nullptr) {
    std::string json = "{\"SecretId\":" + Quote(secret) + ",\"ClientRequestToken\":" + Quote(token);
    if (!function.empty()) json += ",\"RotationLambdaARN\":" + Quote(function);
    if (!extra.empty()) json += "," + extra;
    return Call("RotateSecret", json + "}", out);
  }

  CredentialSource source_;
  std::shared_ptr<SourceRotator> rotator_;
};

TEST_F(RotationTest, ExternalRotatorCompletesARotationThroughTheApi) {
  Create("ext", "old-password", "\"ClientRequestToken\":" + Quote(Token(1)));
  rapidjson::Document r;
  ASSERT_TRUE(Rotate("ext", kExternal, Token(2), "\"RotationRules\":{\"AutomaticallyAfterDays\":30}", &r).ok());
  EXPECT_EQ(r["VersionId"].GetString(), Token(2));
  rapidjson::Document d = Describe("ext");
  EXPECT_TRUE(d["RotationEnabled"].GetBool());
  EXPECT_STREQ(d["RotationLambdaARN"].GetString(), kExternal);
  EXPECT_EQ(d["RotationRules"]["AutomaticallyAfterDays"].GetInt64(), 30);
  EXPECT_TRUE(d.HasMember("NextRotationDate"));
  EXPECT_EQ(Stages("ext", Token(2)), std::vector<std::string>{"AWSPENDING"});
  // The pending version exists but has no value yet; AWSCURRENT still works.
  EXPECT_EQ(Call("GetSecretValue", Obj({{"SecretId", Quote("ext")}, {"VersionStage", Quote("AWSPENDING")}})).type(),
            "ResourceNotFoundException");
  EXPECT_EQ(Value("ext"), "old-password");
  // AWSPENDING blocks a new rotation.
  Status blocked = Rotate("ext", "", Token(3));
  EXPECT_EQ(blocked.type(), "InvalidRequestException");
  EXPECT_EQ(blocked.message(), "A previous rotation isn't complete. That rotation will be reattempted.");
  // The same token again is the same rotation: idempotent.
  ASSERT_TRUE(Rotate("ext", "", Token(2)).ok());

  // The rotator's createSecret: the value goes into the pending version.
  ASSERT_TRUE(Put("ext", "new-password", Token(2), "\"VersionStages\":[\"AWSPENDING\"]").ok());
  EXPECT_EQ(Value("ext", "\"VersionStage\":\"AWSPENDING\""), "new-password");
  EXPECT_EQ(Value("ext"), "old-password");
  // Its finishSecret: AWSCURRENT moves, AWSPREVIOUS follows.
  clock_.Advance(kHour);
  Ok("UpdateSecretVersionStage", Obj({{"SecretId", Quote("ext")}, {"VersionStage", Quote("AWSCURRENT")},
                                      {"MoveToVersionId", Quote(Token(2))}, {"RemoveFromVersionId", Quote(Token(1))}}));
  EXPECT_EQ(Value("ext"), "new-password");
  EXPECT_EQ(Value("ext", "\"VersionStage\":\"AWSPREVIOUS\""), "old-password");
  d = Describe("ext");
  EXPECT_DOUBLE_EQ(d["LastRotatedDate"].GetDouble(), clock_.NowMillis() / 1000.0);
  // AWSPENDING left on the current version does not block the next rotation, which takes it.
  ASSERT_TRUE(Rotate("ext", "", Token(3)).ok());
  EXPECT_EQ(Stages("ext", Token(2)), std::vector<std::string>{"AWSCURRENT"});
  EXPECT_EQ(Stages("ext", Token(3)), std::vector<std::string>{"AWSPENDING"});
}

TEST_F(RotationTest, RotationNeedsAFunctionAndValidRules) {
  Create("cfg", "v");
  EXPECT_EQ(Rotate("cfg", "", Token(1)).type(), "InvalidRequestException");
  EXPECT_EQ(Call("CancelRotateSecret", Obj({{"SecretId", Quote("cfg")}})).type(), "InvalidRequestException");
  const std::string immediately_false = "\"RotateImmediately\":false,";
  for (const std::string& rules : {
           std::string(R"j({"AutomaticallyAfterDays":30,"ScheduleExpression":"rate(10 days)"})j"),
           std::string(R"j({"ScheduleExpression":"rate(2 hours)"})j"),
           std::string(R"j({"ScheduleExpression":"rate(1 days)"})j"),
           std::string(R"j({"ScheduleExpression":"rate(1001 days)"})j"),
           std::string(R"({"ScheduleExpression":"every day"})"),
           std::string(R"j({"ScheduleExpression":"cron(0 16 1,15 * * *)"})j"),
           std::string(R"j({"ScheduleExpression":"cron(0 25 * * ? *)"})j"),
           std::string(R"j({"ScheduleExpression":"cron(0 16 * * ?)"})j"),
           std::string(R"j({"ScheduleExpression":"cron(0 22 ? * MON *)","Duration":"3h"})j"),
           std::string(R"j({"ScheduleExpression":"rate(4 hours)","Duration":"5h"})j"),
           std::string(R"j({"ScheduleExpression":"rate(10 days)","Duration":"25h"})j"),
           std::string(R"j({"ScheduleExpression":"rate(10 days)","Duration":"3d"})j"),
       }) {
    Status st = Rotate("cfg", kExternal, Token(2), immediately_false + "\"RotationRules\":" + rules);
    EXPECT_EQ(st.type(), "InvalidParameterException") << rules << " " << st.ToString();
  }
  EXPECT_EQ(Rotate("cfg", kExternal, Token(2), immediately_false + R"("RotationRules":{"AutomaticallyAfterDays":0})").type(),
            "ValidationException");
  EXPECT_EQ(Rotate("cfg", kExternal, Token(2), immediately_false + R"("RotationRules":{"AutomaticallyAfterDays":1001})").type(),
            "ValidationException");
  EXPECT_FALSE(Describe("cfg").HasMember("RotationEnabled"));  // nothing was stored

  for (const std::string& rules : {
           std::string(R"j({"ScheduleExpression":"rate(10 days)","Duration":"3h"})j"),
           std::string(R"j({"ScheduleExpression":"rate(1 day)"})j"),
           std::string(R"j({"ScheduleExpression":"rate(4 hours)","Duration":"4h"})j"),
           std::string(R"j({"ScheduleExpression":"cron(0 16 1,15 * ? *)","Duration":"2h"})j"),
           std::string(R"j({"ScheduleExpression":"cron(0 8 ? * MON-FRI *)"})j"),
           std::string(R"j({"ScheduleExpression":"cron(0 4 ? * 2#1 *)"})j"),
           std::string(R"j({"ScheduleExpression":"cron(0 0 L * ? *)"})j"),
       }) {
    Status st = Rotate("cfg", kExternal, Token(2), immediately_false + "\"RotationRules\":" + rules);
    EXPECT_TRUE(st.ok()) << rules << " " << st.ToString();
  }
  rapidjson::Document d = Describe("cfg");
  EXPECT_STREQ(d["RotationRules"]["ScheduleExpression"].GetString(), "cron(0 0 L * ? *)");
  EXPECT_TRUE(d["RotationEnabled"].GetBool());
  // Without RotateImmediately=false nothing rotated: no pending version was made.
  EXPECT_EQ(d["VersionIdsToStages"].MemberCount(), 1u);
}

TEST_F(RotationTest, RotatorRunsTheFourStepsAndMovesTheLabels) {
  source_.password = "initial-password";
  Create("db", "initial-password", "\"ClientRequestToken\":" + Quote(Token(1)));
  rapidjson::Document r;
  ASSERT_TRUE(Rotate("db", kBuiltIn, Token(2), "\"RotationRules\":{\"AutomaticallyAfterDays\":7}", &r).ok());
  EXPECT_EQ(r["VersionId"].GetString(), Token(2));
  EXPECT_EQ(rotator_->steps, (std::vector<std::string>{"createSecret", "setSecret", "testSecret"}));
  const std::string current = Value("db");
  EXPECT_EQ(current.size(), 24u);
  EXPECT_EQ(current, source_.password);
  EXPECT_EQ(Value("db", "\"VersionStage\":\"AWSPREVIOUS\""), "initial-password");
  EXPECT_EQ(Stages("db", Token(2)), std::vector<std::string>{"AWSCURRENT"});  // AWSPENDING removed
  EXPECT_EQ(Stages("db", Token(1)), std::vector<std::string>{"AWSPREVIOUS"});
  rapidjson::Document d = Describe("db");
  EXPECT_DOUBLE_EQ(d["LastRotatedDate"].GetDouble(), clock_.NowMillis() / 1000.0);
  const int64_t day = clock_.NowMillis() - clock_.NowMillis() % kDay;
  EXPECT_DOUBLE_EQ(d["NextRotationDate"].GetDouble(), (day + 7 * kDay) / 1000.0);
  // Nothing is due now.
  EXPECT_EQ(*service_->RunDueMaintenance(), 0);
}

TEST_F(RotationTest, FailedStepLeavesAwsCurrentWorkingAndIsReattempted) {
  source_.password = "initial-password";
  Create("db", "initial-password", "\"ClientRequestToken\":" + Quote(Token(1)));
  rotator_->fail_at = "testSecret";
  Status st = Rotate("db", kBuiltIn, Token(2));
  EXPECT_EQ(st.type(), "InvalidRequestException");
  EXPECT_NE(st.message().find("testSecret"), std::string::npos) << st.message();
  // AWSCURRENT still answers with the value the source had before... but setSecret already
  // changed the source, as a real rotation would: the test step is what failed.
  EXPECT_EQ(Value("db"), "initial-password");
  EXPECT_EQ(Stages("db", Token(2)), std::vector<std::string>{"AWSPENDING"});
  const std::string pending = Value("db", "\"VersionStage\":\"AWSPENDING\"");
  EXPECT_EQ(Rotate("db", "", Token(3)).type(), "InvalidRequestException");  // blocked

  // The reattempt comes from maintenance once the retry delay has passed.
  rotator_->fail_at.clear();
  rotator_->steps.clear();
  EXPECT_EQ(*service_->RunDueMaintenance(), 0);
  clock_.Advance(kHour);
  Reopen();  // and survives a restart
  EXPECT_EQ(*service_->RunDueMaintenance(), 1);
  EXPECT_EQ(rotator_->steps, (std::vector<std::string>{"createSecret", "setSecret", "testSecret"}));
  EXPECT_EQ(Value("db"), pending);  // the same pending value was kept: createSecret is idempotent
  EXPECT_EQ(source_.password, pending);
  EXPECT_EQ(Stages("db", Token(2)), std::vector<std::string>{"AWSCURRENT"});
  EXPECT_EQ(Value("db", "\"VersionStage\":\"AWSPREVIOUS\""), "initial-password");
}

TEST_F(RotationTest, FailureInCreateSecretLeavesAnEmptyPendingVersion) {
  source_.password = "p0";
  Create("db", "p0", "\"ClientRequestToken\":" + Quote(Token(1)));
  rotator_->fail_at = "createSecret";
  EXPECT_EQ(Rotate("db", kBuiltIn, Token(2)).type(), "InvalidRequestException");
  EXPECT_EQ(Value("db"), "p0");
  EXPECT_EQ(source_.password, "p0");
  EXPECT_EQ(Call("GetSecretValue", Obj({{"SecretId", Quote("db")}, {"VersionStage", Quote("AWSPENDING")}})).type(),
            "ResourceNotFoundException");
  // The pending version can't be made current while it has no value.
  EXPECT_EQ(Call("UpdateSecretVersionStage", Obj({{"SecretId", Quote("db")}, {"VersionStage", Quote("AWSCURRENT")},
                                                  {"MoveToVersionId", Quote(Token(2))},
                                                  {"RemoveFromVersionId", Quote(Token(1))}})).type(),
            "InvalidRequestException");
  // Retrying RotateSecret with the same token reattempts the same rotation at once.
  rotator_->fail_at.clear();
  ASSERT_TRUE(Rotate("db", "", Token(2)).ok());
  EXPECT_EQ(Value("db"), source_.password);
  EXPECT_NE(source_.password, "p0");
}

TEST_F(RotationTest, ScheduledRotationRunsFromMaintenance) {
  source_.password = "p0";
  Create("db", "p0", "\"ClientRequestToken\":" + Quote(Token(1)));
  rapidjson::Document r;
  ASSERT_TRUE(Rotate("db", kBuiltIn, Token(2),
                     R"j("RotateImmediately":false,"RotationRules":{"ScheduleExpression":"rate(2 days)"})j", &r).ok());
  // Only testSecret ran, against a pending copy of the current value, which is then dropped.
  EXPECT_EQ(rotator_->steps, std::vector<std::string>{"testSecret"});
  EXPECT_EQ(source_.logins, 1);
  EXPECT_TRUE(Stages("db", Token(2)).empty());
  EXPECT_EQ(Value("db"), "p0");
  rotator_->steps.clear();

  Reopen();
  clock_.Advance(kDay);
  EXPECT_EQ(*service_->RunDueMaintenance(), 0);
  clock_.Advance(kDay);
  EXPECT_EQ(*service_->RunDueMaintenance(), 1);
  EXPECT_EQ(rotator_->steps, (std::vector<std::string>{"createSecret", "setSecret", "testSecret"}));
  EXPECT_NE(Value("db"), "p0");
  EXPECT_EQ(Value("db"), source_.password);
  EXPECT_EQ(Value("db", "\"VersionStage\":\"AWSPREVIOUS\""), "p0");
  EXPECT_EQ(*service_->RunDueMaintenance(), 0);
  // CancelRotateSecret stops the schedule but keeps the configuration.
  rapidjson::Document cancelled = Ok("CancelRotateSecret", Obj({{"SecretId", Quote("db")}}));
  EXPECT_FALSE(cancelled.HasMember("VersionId"));
  rapidjson::Document d = Describe("db");
  EXPECT_FALSE(d["RotationEnabled"].GetBool());
  EXPECT_FALSE(d.HasMember("NextRotationDate"));
  EXPECT_STREQ(d["RotationRules"]["ScheduleExpression"].GetString(), "rate(2 days)");
  clock_.Advance(10 * kDay);
  EXPECT_EQ(*service_->RunDueMaintenance(), 0);
}

TEST_F(RotationTest, FailedConfigurationTestLeavesNoPendingVersion) {
  source_.password = "something-else";  // the stored value does not log in
  Create("db", "p0", "\"ClientRequestToken\":" + Quote(Token(1)));
  Status st = Rotate("db", kBuiltIn, Token(2), R"("RotateImmediately":false)");
  EXPECT_EQ(st.type(), "InvalidRequestException");
  EXPECT_NE(st.message().find("testSecret"), std::string::npos);
  EXPECT_TRUE(Stages("db", Token(2)).empty());
  EXPECT_EQ(Value("db"), "p0");
  EXPECT_TRUE(Rotate("db", kExternal, Token(3), R"("RotateImmediately":false)").ok());  // not blocked
}

TEST_F(RotationTest, CancelLeavesAnUnfinishedRotationsPendingVersion) {
  Create("ext", "v", "\"ClientRequestToken\":" + Quote(Token(1)));
  ASSERT_TRUE(Rotate("ext", kExternal, Token(2), R"("RotationRules":{"AutomaticallyAfterDays":1})").ok());
  rapidjson::Document cancelled = Ok("CancelRotateSecret", Obj({{"SecretId", Quote("ext")}}));
  EXPECT_EQ(cancelled["VersionId"].GetString(), Token(2));
  EXPECT_EQ(Stages("ext", Token(2)), std::vector<std::string>{"AWSPENDING"});
  // Clearing the label by hand (as AWS tells you to) unblocks rotation.
  EXPECT_EQ(Rotate("ext", "", Token(3)).type(), "InvalidRequestException");
  Ok("UpdateSecretVersionStage", Obj({{"SecretId", Quote("ext")}, {"VersionStage", Quote("AWSPENDING")},
                                      {"RemoveFromVersionId", Quote(Token(2))}}));
  EXPECT_TRUE(Rotate("ext", "", Token(3)).ok());
  // Rotation of a secret pending deletion is refused.
  Ok("DeleteSecret", Obj({{"SecretId", Quote("ext")}}));
  EXPECT_EQ(Rotate("ext", "", Token(4)).type(), "InvalidRequestException");
  EXPECT_EQ(Call("CancelRotateSecret", Obj({{"SecretId", Quote("ext")}})).type(), "InvalidRequestException");
}

}  // namespace
}  // namespace meridian::secrets
