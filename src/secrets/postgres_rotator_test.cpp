// The built-in PostgreSQL single-user rotator against a real PostgreSQL server: a throwaway
// cluster this binary starts (storage/postgres_cluster.h), shared by its tests. Secrets live in
// the usual SQLite-backed fixture; RotateSecret runs the rotator through BuiltInRotators().
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>

#include "secrets/builtin_rotators.h"
#include "secrets/postgres_rotator.h"
#include "secrets/test_fixture.h"
#include "storage/postgres_cluster.h"

namespace meridian::secrets {
namespace {

namespace fs = std::filesystem;
using storage::LocalPostgres;
using testing::Quote;
using testing::Token;

constexpr char kFunctionArn[] = "arn:aws:lambda:us-east-1:111122223333:function:meridian-postgres-single-user";

// The cluster the tests of this binary share, started on first use and stopped at exit.
class TestCluster {
 public:
  static TestCluster& Get() {
    static TestCluster instance;
    return instance;
  }
  LocalPostgres* cluster() { return cluster_.get(); }
  const std::string& why_not() const { return why_not_; }

 private:
  TestCluster() {
    std::string tmpl = (fs::temp_directory_path() / "meridian-rotator-pg-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) {
      why_not_ = "cannot create a temporary directory";
      return;
    }
    dir_ = tmpl;
    auto cluster = LocalPostgres::Start({.directory = dir_.string(), .port = 0, .fsync = false});
    if (!cluster.ok()) {
      why_not_ = cluster.status().message();
      return;
    }
    cluster_ = std::move(cluster).value();
  }
  ~TestCluster() {
    cluster_.reset();  // stops the server
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  fs::path dir_;
  std::unique_ptr<LocalPostgres> cluster_;
  std::string why_not_;
};

// The server's answer to a login as `user` with `password` (true: logged in).
bool CanLogin(const LocalPostgres& pg, const std::string& user, const std::string& password) {
  const std::string port = std::to_string(pg.port());
  const char* keys[] = {"host", "port", "user", "password", "dbname", "connect_timeout", nullptr};
  const char* values[] = {"127.0.0.1", port.c_str(), user.c_str(), password.c_str(), "postgres", "5", nullptr};
  PGconn* conn = PQconnectdbParams(keys, values, 0);
  const bool ok = PQstatus(conn) == CONNECTION_OK;
  PQfinish(conn);
  return ok;
}

// The rotator's JSON secret for `user` on the test cluster.
std::string SecretJson(const LocalPostgres& pg, const std::string& user, const std::string& password,
                       const std::string& extra_members = "") {
  return "{\"engine\":\"postgres\",\"host\":\"127.0.0.1\",\"port\":" + std::to_string(pg.port()) +
         ",\"username\":" + Quote(user) + ",\"password\":" + Quote(password) + ",\"dbname\":\"postgres\"" +
         (extra_members.empty() ? "" : "," + extra_members) + "}";
}

class PostgresRotatorTest : public testing::SecretsFixture {
 protected:
  void SetUp() override {
    pg_ = TestCluster::Get().cluster();
    if (pg_ == nullptr)
      GTEST_SKIP() << "PostgreSQL tests skipped: no server (" << TestCluster::Get().why_not()
                   << "); scripts/install-deps.sh installs one";
    if (!rotators_) rotators_ = BuiltInRotators();
    testing::SecretsFixture::SetUp();
  }

  // Runs `sql` as the superuser, with $user and $password replaced by the quoted values.
  void AsSuperuser(std::string sql, const std::string& user, const std::string& password) {
    PGconn* conn = PQconnectdb(pg_->Conninfo().c_str());
    ASSERT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
    char* ident = PQescapeIdentifier(conn, user.c_str(), user.size());
    char* literal = PQescapeLiteral(conn, password.c_str(), password.size());
    sql.replace(sql.find("$user"), 5, ident);
    if (size_t at = sql.find("$password"); at != std::string::npos) sql.replace(at, 9, literal);
    PQfreemem(ident);
    PQfreemem(literal);
    PGresult* r = PQexec(conn, sql.c_str());
    EXPECT_EQ(PQresultStatus(r), PGRES_COMMAND_OK) << PQresultErrorMessage(r);
    PQclear(r);
    PQfinish(conn);
  }
  void CreateRole(const std::string& user, const std::string& password) {
    AsSuperuser("CREATE ROLE $user LOGIN PASSWORD $password", user, password);
  }

  Status Rotate(const std::string& secret, const std::string& token, const std::string& function = kFunctionArn) {
    return Call("RotateSecret", "{\"SecretId\":" + Quote(secret) + ",\"ClientRequestToken\":" + Quote(token) +
                                    ",\"RotationLambdaARN\":" + Quote(function) + "}");
  }
  // A member of the secret's JSON (AWSCURRENT, or the version `stage`).
  std::string Field(const std::string& secret, const std::string& name, const std::string& stage = "AWSCURRENT") {
    rapidjson::Document d;
    d.Parse(Value(secret, "\"VersionStage\":" + Quote(stage)).c_str());
    if (!d.IsObject() || !d.HasMember(name.c_str())) return "<absent>";
    const auto& v = d[name.c_str()];
    return v.IsString() ? v.GetString() : std::to_string(v.GetInt());
  }

  LocalPostgres* pg_ = nullptr;
};

TEST(PostgresRotatorFunction, TheArnConvention) {
  EXPECT_TRUE(IsPostgresSingleUserFunction(kFunctionArn));
  EXPECT_TRUE(IsPostgresSingleUserFunction("arn:aws:lambda:eu-west-3:444455556666:function:meridian-postgres-single-user"));
  EXPECT_TRUE(IsPostgresSingleUserFunction("arn:aws-cn:lambda:cn-north-1:444455556666:function:meridian-postgres-single-user"));
  EXPECT_TRUE(IsPostgresSingleUserFunction("meridian-postgres-single-user"));
  EXPECT_FALSE(IsPostgresSingleUserFunction("arn:aws:lambda:us-east-1:111122223333:function:my-rotator"));
  EXPECT_FALSE(IsPostgresSingleUserFunction("arn:aws:lambda:us-east-1:111122223333:function:meridian-postgres-single-user:1"));
  EXPECT_FALSE(IsPostgresSingleUserFunction("arn:aws:s3:us-east-1:111122223333:function:meridian-postgres-single-user"));
  EXPECT_FALSE(IsPostgresSingleUserFunction("arn:aws:lambda:::function:meridian-postgres-single-user"));
  EXPECT_FALSE(IsPostgresSingleUserFunction(""));
  EXPECT_EQ(BuiltInRotators()("arn:aws:lambda:us-east-1:111122223333:function:other"), nullptr);
  EXPECT_NE(BuiltInRotators()(kFunctionArn), nullptr);
}

TEST_F(PostgresRotatorTest, RotatesThePasswordOnTheServer) {
  const std::string old_password = "initial-Passw0rd";
  CreateRole("app_rotated", old_password);
  Create("db/app", SecretJson(*pg_, "app_rotated", old_password, "\"note\":\"kept\""),
         "\"ClientRequestToken\":" + Quote(Token(1)));
  ASSERT_TRUE(CanLogin(*pg_, "app_rotated", old_password));

  Status rotated = Rotate("db/app", Token(2));
  ASSERT_TRUE(rotated.ok()) << rotated.ToString();
  const std::string new_password = Field("db/app", "password");
  EXPECT_NE(new_password, old_password);
  EXPECT_EQ(new_password.size(), 32u);
  EXPECT_EQ(new_password.find_first_of("/@\"'\\"), std::string::npos) << "AWS's RDS exclusions";
  EXPECT_TRUE(CanLogin(*pg_, "app_rotated", new_password));
  EXPECT_FALSE(CanLogin(*pg_, "app_rotated", old_password));
  // Everything but the password is kept.
  EXPECT_EQ(Field("db/app", "username"), "app_rotated");
  EXPECT_EQ(Field("db/app", "port"), std::to_string(pg_->port()));
  EXPECT_EQ(Field("db/app", "dbname"), "postgres");
  EXPECT_EQ(Field("db/app", "note"), "kept");
  EXPECT_EQ(Stages("db/app", Token(2)), std::vector<std::string>{"AWSCURRENT"});
  EXPECT_EQ(Stages("db/app", Token(1)), std::vector<std::string>{"AWSPREVIOUS"});
  EXPECT_EQ(Field("db/app", "password", "AWSPREVIOUS"), old_password);

  // A second rotation starts from the new AWSCURRENT.
  ASSERT_TRUE(Rotate("db/app", Token(3)).ok());
  const std::string third = Field("db/app", "password");
  EXPECT_NE(third, new_password);
  EXPECT_TRUE(CanLogin(*pg_, "app_rotated", third));
  EXPECT_FALSE(CanLogin(*pg_, "app_rotated", new_password));
}

TEST_F(PostgresRotatorTest, AFailedSetSecretLeavesCurrentAndPendingAndIsReattempted) {
  const std::string stored = "stale-password";
  CreateRole("app_stale", "the-real-one");
  const std::string json = SecretJson(*pg_, "app_stale", stored);
  Create("db/stale", json, "\"ClientRequestToken\":" + Quote(Token(1)));

  Status failed = Rotate("db/stale", Token(2));
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.type(), "InvalidRequestException");
  EXPECT_NE(failed.message().find("setSecret"), std::string::npos) << failed.message();
  EXPECT_NE(failed.message().find("Unable to log into the database"), std::string::npos) << failed.message();
  // AWSCURRENT is untouched; the pending version (with its new password) stays for the reattempt.
  EXPECT_EQ(Value("db/stale"), json);
  EXPECT_EQ(Stages("db/stale", Token(2)), std::vector<std::string>{"AWSPENDING"});
  const std::string pending = Field("db/stale", "password", "AWSPENDING");
  EXPECT_EQ(pending.size(), 32u);
  // No password in the error.
  EXPECT_EQ(failed.message().find(stored), std::string::npos) << failed.message();
  EXPECT_EQ(failed.message().find(pending), std::string::npos) << failed.message();
  EXPECT_EQ(failed.message().find("the-real-one"), std::string::npos) << failed.message();
  EXPECT_TRUE(CanLogin(*pg_, "app_stale", "the-real-one"));
  // A new rotation is blocked while AWSPENDING is there.
  EXPECT_EQ(Rotate("db/stale", Token(3)).type(), "InvalidRequestException");

  // The administrator repairs the database so AWSCURRENT works again; the same rotation is
  // reattempted and completes with the password its createSecret made.
  AsSuperuser("ALTER ROLE $user PASSWORD $password", "app_stale", stored);
  ASSERT_TRUE(CanLogin(*pg_, "app_stale", stored));
  Status reattempt = Rotate("db/stale", Token(2));
  ASSERT_TRUE(reattempt.ok()) << reattempt.ToString();
  EXPECT_EQ(Field("db/stale", "password"), pending);
  EXPECT_TRUE(CanLogin(*pg_, "app_stale", pending));
  EXPECT_FALSE(CanLogin(*pg_, "app_stale", stored));
}

TEST_F(PostgresRotatorTest, SetSecretFallsBackToThePreviousPassword) {
  // A rotation changed the server's password but AWSCURRENT was moved back by hand: the server
  // accepts only AWSPREVIOUS's password, which setSecret then uses to log in.
  CreateRole("app_back", "first-password");
  Create("db/back", SecretJson(*pg_, "app_back", "first-password"), "\"ClientRequestToken\":" + Quote(Token(1)));
  ASSERT_TRUE(Rotate("db/back", Token(2)).ok());
  const std::string second = Field("db/back", "password");
  Ok("UpdateSecretVersionStage", "{\"SecretId\":\"db/back\",\"VersionStage\":\"AWSCURRENT\",\"MoveToVersionId\":" +
                                     Quote(Token(1)) + ",\"RemoveFromVersionId\":" + Quote(Token(2)) + "}");
  ASSERT_EQ(Field("db/back", "password"), "first-password");
  ASSERT_EQ(Field("db/back", "password", "AWSPREVIOUS"), second);

  Status rotated = Rotate("db/back", Token(3));
  ASSERT_TRUE(rotated.ok()) << rotated.ToString();
  const std::string third = Field("db/back", "password");
  EXPECT_TRUE(CanLogin(*pg_, "app_back", third));
  EXPECT_FALSE(CanLogin(*pg_, "app_back", second));
}

TEST_F(PostgresRotatorTest, NotAPostgresSecretFailsWithoutQuotingTheValue) {
  Create("db/mysql", "{\"engine\":\"mysql\",\"host\":\"h\",\"username\":\"u\",\"password\":\"pw-in-mysql-secret\"}");
  Status failed = Rotate("db/mysql", Token(2));
  EXPECT_EQ(failed.type(), "InvalidRequestException");
  EXPECT_NE(failed.message().find("createSecret"), std::string::npos) << failed.message();
  EXPECT_NE(failed.message().find("\"engine\" must be \"postgres\""), std::string::npos) << failed.message();
  EXPECT_EQ(failed.message().find("pw-in-mysql-secret"), std::string::npos) << failed.message();

  Create("db/broken", "{\"engine\":\"postgres\",\"password\":\"pw-in-broken-json\"");
  failed = Rotate("db/broken", Token(3));
  EXPECT_NE(failed.message().find("not valid JSON"), std::string::npos) << failed.message();
  EXPECT_EQ(failed.message().find("pw-in-broken-json"), std::string::npos) << failed.message();
}

class QuotingRotatorTest : public PostgresRotatorTest {
 protected:
  void SetUp() override {
    // Passwords made only of letters and the characters that need quoting: ' " and backslash.
    PostgresSingleUserRotator::Options options;
    options.password.exclude_numbers = true;
    options.password.exclude_characters = "!#$%&()*+,-./:;<=>?@[]^_`{|}~";
    auto rotator = std::make_shared<PostgresSingleUserRotator>(options);
    rotators_ = [rotator](const std::string& id) -> std::shared_ptr<Rotator> {
      return IsPostgresSingleUserFunction(id) ? rotator : nullptr;
    };
    PostgresRotatorTest::SetUp();
  }
};

TEST_F(QuotingRotatorTest, PasswordsAndNamesWithQuotesAndBackslashes) {
  const std::string user = "app \"quoted\" 'role' \\";
  const std::string old_password = "it's a \"quote\" \\ and '' more\\'";
  CreateRole(user, old_password);
  ASSERT_TRUE(CanLogin(*pg_, user, old_password));
  Create("db/quoted", SecretJson(*pg_, user, old_password));

  Status rotated = Rotate("db/quoted", Token(2));
  ASSERT_TRUE(rotated.ok()) << rotated.ToString();
  const std::string new_password = Field("db/quoted", "password");
  EXPECT_NE(new_password.find_first_of("'\"\\"), std::string::npos) << "the generator must have used them";
  EXPECT_TRUE(CanLogin(*pg_, user, new_password));
  EXPECT_FALSE(CanLogin(*pg_, user, old_password));
  EXPECT_EQ(Field("db/quoted", "username"), user);
}

}  // namespace
}  // namespace meridian::secrets
