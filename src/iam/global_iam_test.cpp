// Global IAM across three regions, each a real Directory / CredentialStore / authorizer over its
// own SQLite store and root key, linked by the replication outbox / inbox through in-process
// transports (which can be partitioned). us-east-1 is IAM's home. Checks: principals, keys and
// policies made at home authenticate (real SigV4) and authorize elsewhere; later changes follow;
// other regions refuse IAM changes; STS sessions from any region work in every region and expire
// everywhere; a region that was down (and restarted) catches up; no secret is on any disk in the
// clear, and every region's copy is wrapped under its own root key only.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <iterator>
#include <thread>
#include <tuple>

#include <rapidjson/document.h>

#include "common/aws_json.h"
#include "common/caller.h"
#include "common/clock.h"
#include "common/encoding.h"
#include "crypto/crypto.h"
#include "crypto/root_key.h"
#include "iam/authorizer.h"
#include "iam/credential_store.h"
#include "iam/directory.h"
#include "iam/iam_service.h"
#include "iam/totp.h"
#include "replication/in_process_transport.h"
#include "replication/peer_link.h"
#include "replication/replication.h"
#include "sigv4/signer.h"
#include "sigv4/verifier.h"
#include "storage/schema.h"
#include "storage/storage.h"

namespace meridian::iam {
namespace {

constexpr const char* kAccount = "111122223333";
constexpr const char* kHome = "us-east-1";
constexpr const char* kRootKeyId = "AKIAROOTBOOTSTRAP001";
constexpr const char* kRootSecret = "bootstrap-secret-the-same-in-every-region";
constexpr int64_t kT0 = 1'800'000'000;

std::string Doc(const std::string& effect, const std::string& action) {
  return R"({\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\")" + effect + R"(\",\"Action\":\")" + action +
         R"(\",\"Resource\":\"*\"}]})";
}

struct Region {
  std::string name;
  crypto::RootKey root = crypto::RootKey::FromBytes(crypto::RandomBytes(32));
  std::unique_ptr<storage::Storage> storage;
  std::unique_ptr<replication::Outbox> outbox;
  std::unique_ptr<replication::Inbox> inbox;
  std::unique_ptr<CredentialStore> credentials;
  std::unique_ptr<Directory> directory;
  std::unique_ptr<IamService> iam;
  std::unique_ptr<StsService> sts;
  std::unique_ptr<PolicyAuthorizer> authorizer;
  std::vector<std::unique_ptr<replication::PeerLink>> links;       // to the other regions
  std::map<std::string, replication::InProcessTransport*> to;      // peer -> transport (owned by its link)
};

class GlobalIamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("global-iam-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    regions_[0].name = kHome;
    regions_[1].name = "us-west-2";
    regions_[2].name = "eu-west-1";
    for (auto& r : regions_) Open(r);
    for (auto& r : regions_) Link(r);
  }
  void TearDown() override {
    for (auto& r : regions_) r.links.clear();
    for (auto& r : regions_) Close(r);
    std::filesystem::remove_all(dir_);
  }

  Region& home() { return regions_[0]; }
  Region& west() { return regions_[1]; }
  Region& eu() { return regions_[2]; }

  // The region's process: storage, services, handlers (links are separate, see Link).
  void Open(Region& r) {
    r.storage = std::move(*storage::OpenSqlite((dir_ / (r.name + ".db")).string()));
    r.outbox = std::make_unique<replication::Outbox>(*r.storage, clock_);
    r.inbox = std::make_unique<replication::Inbox>(*r.storage);
    r.credentials = std::make_unique<CredentialStore>(*r.storage, r.root);
    r.directory = std::make_unique<Directory>(*r.storage, r.root, *r.credentials, clock_);
    GlobalIamOptions o;
    o.region = r.name;
    o.home_region = kHome;
    o.home_endpoint = "https://iam.example:4566";
    o.outbox = r.outbox.get();
    for (const auto& p : regions_)
      if (p.name != r.name && !absent_.count(p.name)) o.peers.push_back(p.name);
    options_[r.name] = o;
    o.replication_enqueued = [&r] {
      for (auto& l : r.links) l->Wake();
    };
    r.directory->MakeGlobal(std::move(o));
    r.directory->RegisterReplicationHandlers(*r.inbox);
    r.iam = std::make_unique<IamService>(*r.directory);
    r.sts = std::make_unique<StsService>(*r.directory);
    r.authorizer = std::make_unique<PolicyAuthorizer>(r.directory.get());
    ASSERT_TRUE(r.credentials->EnsureAccount(kAccount).ok());
    // The bootstrap credential `meridian up` gives every region (not replicated: configured).
    ASSERT_TRUE(r.credentials->CreateAccessKey(kAccount, Root().principal_arn, std::string(kRootKeyId),
                                               std::string(kRootSecret)).ok());
  }
  void Close(Region& r) {
    r.authorizer.reset();
    r.sts.reset();
    r.iam.reset();
    r.directory.reset();
    r.credentials.reset();
    r.inbox.reset();
    r.outbox.reset();
    r.storage.reset();
  }
  void Link(Region& r) {
    for (auto& p : regions_) {
      if (p.name == r.name || absent_.count(p.name)) continue;
      auto transport = std::make_unique<replication::InProcessTransport>(*p.inbox);
      r.to[p.name] = transport.get();
      std::map<std::string, replication::Expander, std::less<>> expanders;
      expanders[std::string(kReplicationPrefix)] = r.directory->ReplicationExpander();
      r.links.push_back(std::make_unique<replication::PeerLink>(r.name, p.name, *r.outbox, std::move(transport),
                                                                std::move(expanders), clock_));
    }
    for (auto& l : r.links) l->Start();
  }
  // Cuts (or heals) every link into `r`.
  void Partition(Region& r, bool cut) {
    for (auto& p : regions_)
      if (p.name != r.name) p.to[r.name]->partitioned = cut;
    if (!cut)
      for (auto& p : regions_)
        for (auto& l : p.links) l->Wake();
  }

  static Caller Root() { return Caller{kAccount, std::string("arn:aws:iam::") + kAccount + ":root", kRootKeyId}; }

  Status Call(Region& r, bool iam, std::string_view op, const std::string& request, rapidjson::Document* response = nullptr,
              const Caller* caller = nullptr) {
    rapidjson::Document doc;
    doc.Parse(request.c_str());
    EXPECT_FALSE(doc.HasParseError()) << request;
    rapidjson::StringBuffer sb;
    JsonWriter w(sb);
    const Caller who = caller ? *caller : Root();
    Status st = iam ? r.iam->Handle(op, doc, who, w) : r.sts->Handle(op, doc, who, w);
    if (st.ok() && response) response->Parse(sb.GetString(), sb.GetSize());
    return st;
  }
  Status Iam(Region& r, std::string_view op, const std::string& request, rapidjson::Document* response = nullptr) {
    return Call(r, true, op, request, response);
  }

  // A request signed with (id, secret, token) as boto3 would for KMS in region `r`, verified by
  // r's real SigV4 verifier over r's CredentialStore.
  Result<sigv4::Caller> Authenticate(Region& r, const std::string& id, const std::string& secret,
                                             const std::string& token = "") {
    sigv4::VerifierOptions options;
    options.region = r.name;
    options.services = {"kms"};
    sigv4::Verifier verifier(options, [&r](std::string_view k) { return r.credentials->Lookup(std::string(k)); },
                             clock_);
    std::vector<std::pair<std::string, std::string>> headers = {{"Host", "kms." + r.name + ".amazonaws.com"},
                                                                {"X-Amz-Target", "TrentService.ListKeys"}};
    const std::string body = "{}";
    std::vector<sigv4::Header> views;
    for (const auto& [n, v] : headers) views.push_back({n, v});
    sigv4::Signer signer(sigv4::Credentials::Make(id, secret, token), r.name, "kms");
    auto s = signer.Sign(sigv4::RequestView{"POST", "/", "", views, body, {}}, clock_.NowSeconds());
    if (!s.ok()) return s.status();
    for (auto& [n, v] : s->headers_to_add) headers.emplace_back(n, v);
    views.clear();
    for (const auto& [n, v] : headers) views.push_back({n, v});
    return verifier.Verify(sigv4::RequestView{"POST", "/", "", views, body, {}});
  }

  bool Allowed(Region& r, const std::string& principal_arn, const std::string& access_key_id, const std::string& action) {
    AuthorizationRequest q;
    q.principal_arn = principal_arn;
    q.principal_account = kAccount;
    q.access_key_id = access_key_id;
    q.action = action;
    q.region = r.name;
    q.resource_arn = "arn:aws:kms:" + r.name + ":" + kAccount + ":key/1234abcd-12ab-34cd-56ef-1234567890ab";
    q.resource_account = kAccount;
    q.now_ms = clock_.NowMillis();
    return r.authorizer->Authorize(q).ok();
  }

  bool Eventually(const std::function<bool()>& cond) {
    for (int i = 0; i < 1000; ++i) {
      if (cond()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return cond();
  }

  // bob with one access key and an inline policy allowing kms:Encrypt, made at home.
  struct Key {
    std::string id, secret;
  };
  Key MakeBob() {
    EXPECT_TRUE(Iam(home(), "CreateUser", R"({"UserName":"bob"})").ok());
    EXPECT_TRUE(Iam(home(), "PutUserPolicy",
                    R"({"UserName":"bob","PolicyName":"enc","PolicyDocument":")" + Doc("Allow", "kms:Encrypt") + "\"}")
                    .ok());
    rapidjson::Document out;
    Status st = Iam(home(), "CreateAccessKey", R"({"UserName":"bob"})", &out);
    EXPECT_TRUE(st.ok()) << st.ToString();
    if (!st.ok()) return {};
    return {out["AccessKey"]["AccessKeyId"].GetString(), out["AccessKey"]["SecretAccessKey"].GetString()};
  }
  static std::string BobArn() { return std::string("arn:aws:iam::") + kAccount + ":user/bob"; }

  // Every byte every region keeps on disk (database and write-ahead log).
  std::string AllFiles() {
    std::string all;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir_)) {
      if (!e.is_regular_file()) continue;
      std::ifstream in(e.path(), std::ios::binary);
      all.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    return all;
  }

  std::filesystem::path dir_;
  ManualClock clock_{kT0 * 1000};
  Region regions_[3];
  std::set<std::string> absent_;                    // regions not (yet) in the deployment
  std::map<std::string, GlobalIamOptions> options_;  // as each region was last opened with
};

TEST_F(GlobalIamTest, UserMadeAtHomeAuthenticatesAndIsAuthorizedInEveryRegion) {
  Key bob = MakeBob();
  for (Region* r : {&west(), &eu()}) {
    ASSERT_TRUE(Eventually([&] { return Authenticate(*r, bob.id, bob.secret).ok(); })) << r->name;
    auto caller = Authenticate(*r, bob.id, bob.secret);
    EXPECT_EQ(caller->principal_arn(), BobArn());
    EXPECT_FALSE(Authenticate(*r, bob.id, std::string(40, 'x')).ok());  // the secret is the one issued
    EXPECT_TRUE(Allowed(*r, BobArn(), bob.id, "kms:Encrypt"));
    EXPECT_FALSE(Allowed(*r, BobArn(), bob.id, "kms:Decrypt"));  // default deny, as at home
    // IAM reads answer from the replicated copy.
    rapidjson::Document out;
    ASSERT_TRUE(Iam(*r, "ListAccessKeys", R"({"UserName":"bob"})", &out).ok());
    ASSERT_EQ(out["AccessKeyMetadata"].Size(), 1u);
    EXPECT_STREQ(out["AccessKeyMetadata"][0]["AccessKeyId"].GetString(), bob.id.c_str());
  }
}

TEST_F(GlobalIamTest, LaterChangesAtHomeTakeEffectEverywhere) {
  Key bob = MakeBob();
  ASSERT_TRUE(Eventually([&] { return Allowed(west(), BobArn(), bob.id, "kms:Encrypt"); }));

  // A managed policy, attached, then edited (a new default version).
  rapidjson::Document out;
  ASSERT_TRUE(Iam(home(), "CreatePolicy",
                  R"({"PolicyName":"dec","PolicyDocument":")" + Doc("Allow", "kms:Decrypt") + "\"}", &out).ok());
  const std::string arn = out["Policy"]["Arn"].GetString();
  ASSERT_TRUE(Iam(home(), "AttachUserPolicy", R"({"UserName":"bob","PolicyArn":")" + arn + "\"}").ok());
  EXPECT_TRUE(Eventually([&] { return Allowed(west(), BobArn(), bob.id, "kms:Decrypt"); }));
  ASSERT_TRUE(Iam(home(), "CreatePolicyVersion", R"({"PolicyArn":")" + arn + R"(","SetAsDefault":"true","PolicyDocument":")" +
                                                     Doc("Allow", "kms:GenerateDataKey") + "\"}").ok());
  EXPECT_TRUE(Eventually([&] { return !Allowed(west(), BobArn(), bob.id, "kms:Decrypt"); }));
  EXPECT_TRUE(Allowed(west(), BobArn(), bob.id, "kms:GenerateDataKey"));
  EXPECT_TRUE(Eventually([&] { return Allowed(eu(), BobArn(), bob.id, "kms:GenerateDataKey"); }));

  // An inline policy removed.
  ASSERT_TRUE(Iam(home(), "DeleteUserPolicy", R"({"UserName":"bob","PolicyName":"enc"})").ok());
  EXPECT_TRUE(Eventually([&] { return !Allowed(eu(), BobArn(), bob.id, "kms:Encrypt"); }));

  // The key deactivated, then deleted: it stops authenticating everywhere.
  ASSERT_TRUE(Iam(home(), "UpdateAccessKey", R"({"UserName":"bob","AccessKeyId":")" + bob.id + R"(","Status":"Inactive"})").ok());
  EXPECT_TRUE(Eventually([&] { return !Authenticate(west(), bob.id, bob.secret).ok(); }));
  ASSERT_TRUE(Iam(home(), "UpdateAccessKey", R"({"UserName":"bob","AccessKeyId":")" + bob.id + R"(","Status":"Active"})").ok());
  EXPECT_TRUE(Eventually([&] { return Authenticate(west(), bob.id, bob.secret).ok(); }));
  ASSERT_TRUE(Iam(home(), "DeleteAccessKey", R"({"UserName":"bob","AccessKeyId":")" + bob.id + "\"}").ok());
  for (Region* r : {&west(), &eu()}) {
    EXPECT_TRUE(Eventually([&] { return !Authenticate(*r, bob.id, bob.secret).ok(); })) << r->name;
    EXPECT_FALSE(Allowed(*r, BobArn(), bob.id, "kms:GenerateDataKey"));
  }
}

TEST_F(GlobalIamTest, OtherRegionsRefuseIamChangesNamingTheHome) {
  Key bob = MakeBob();
  ASSERT_TRUE(Eventually([&] { return Authenticate(west(), bob.id, bob.secret).ok(); }));
  for (const auto& [op, request] : std::vector<std::pair<std::string, std::string>>{
           {"CreateUser", R"({"UserName":"eve"})"},
           {"CreateUser", R"({"UserName":"not a valid name!"})"},  // refused before validation
           {"DeleteAccessKey", R"({"UserName":"bob","AccessKeyId":")" + bob.id + "\"}"},
           {"PutUserPolicy", R"({"UserName":"bob","PolicyName":"p","PolicyDocument":")" + Doc("Allow", "*") + "\"}"},
           {"CreateVirtualMFADevice", R"({"VirtualMFADeviceName":"m"})"}}) {
    Status st = Iam(west(), op, request);
    EXPECT_EQ(st.type(), "UnsupportedOperation") << op;
    EXPECT_EQ(st.http_status(), 400);
    EXPECT_NE(st.message().find("home region us-east-1"), std::string::npos) << st.message();
    EXPECT_NE(st.message().find("https://iam.example:4566"), std::string::npos) << st.message();
  }
  // The Directory itself refuses too (in-process callers), and nothing was changed or queued.
  EXPECT_EQ(west().directory->CreateUser(kAccount, "eve", "/", {}, "").status().type(), "UnsupportedOperation");
  EXPECT_EQ(west().outbox->Stats(kHome)->last_enqueued, 0u);
  EXPECT_TRUE(Authenticate(west(), bob.id, bob.secret).ok());
  rapidjson::Document out;
  EXPECT_TRUE(Iam(west(), "GetUser", R"({"UserName":"bob"})", &out).ok());
  EXPECT_EQ(Iam(west(), "GetUser", R"({"UserName":"eve"})").type(), "NoSuchEntity");
  EXPECT_EQ(Iam(home(), "GetUser", R"({"UserName":"eve"})").type(), "NoSuchEntity");
}

TEST_F(GlobalIamTest, SessionsFromAnyRegionWorkEverywhereAndExpireEverywhere) {
  Key bob = MakeBob();
  const std::string trust = R"({\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::111122223333:root\"},\"Action\":\"sts:AssumeRole\"}]})";
  ASSERT_TRUE(Iam(home(), "CreateRole", R"({"RoleName":"app","AssumeRolePolicyDocument":")" + trust + "\"}").ok());
  ASSERT_TRUE(Iam(home(), "PutRolePolicy",
                  R"({"RoleName":"app","PolicyName":"s","PolicyDocument":")" + Doc("Allow", "kms:Sign") + "\"}").ok());
  ASSERT_TRUE(Eventually([&] { return west().directory->RoleByArn("arn:aws:iam::111122223333:role/app") != nullptr; }));

  // AssumeRole in us-west-2 (no call to the home region: it is cut off meanwhile).
  Partition(home(), true);
  rapidjson::Document out;
  Caller bob_caller{kAccount, BobArn(), bob.id};
  Status st = Call(west(), false, "AssumeRole", R"({"RoleArn":"arn:aws:iam::111122223333:role/app","RoleSessionName":"s1","DurationSeconds":"900"})",
                   &out, &bob_caller);
  ASSERT_TRUE(st.ok()) << st.ToString();
  const std::string id = out["Credentials"]["AccessKeyId"].GetString();
  const std::string secret = out["Credentials"]["SecretAccessKey"].GetString();
  const std::string token = out["Credentials"]["SessionToken"].GetString();
  const std::string session_arn = out["AssumedRoleUser"]["Arn"].GetString();
  EXPECT_TRUE(Authenticate(west(), id, secret, token).ok());
  EXPECT_TRUE(Eventually([&] { return Authenticate(eu(), id, secret, token).ok(); }));
  EXPECT_FALSE(Authenticate(home(), id, secret, token).ok());  // not delivered yet
  Partition(home(), false);
  ASSERT_TRUE(Eventually([&] { return Authenticate(home(), id, secret, token).ok(); }));
  EXPECT_FALSE(Authenticate(home(), id, secret, "").ok());  // the token is required there too
  EXPECT_TRUE(Allowed(home(), session_arn, id, "kms:Sign"));
  EXPECT_FALSE(Allowed(home(), session_arn, id, "kms:Decrypt"));

  // GetSessionToken in eu-west-1 works at home too.
  ASSERT_TRUE(Call(eu(), false, "GetSessionToken", R"({"DurationSeconds":"900"})", &out, &bob_caller).ok());
  const std::string uid = out["Credentials"]["AccessKeyId"].GetString();
  const std::string usecret = out["Credentials"]["SecretAccessKey"].GetString();
  const std::string utoken = out["Credentials"]["SessionToken"].GetString();
  ASSERT_TRUE(Eventually([&] { return Authenticate(home(), uid, usecret, utoken).ok(); }));
  EXPECT_TRUE(Allowed(home(), BobArn(), uid, "kms:Encrypt"));

  // One expiry for every region.
  clock_.Advance(901 * 1000);
  for (Region& r : regions_) {
    auto expired = Authenticate(r, id, secret, token);
    ASSERT_FALSE(expired.ok()) << r.name;
    EXPECT_EQ(expired.status().type(), "ExpiredTokenException") << r.name;
  }
}

TEST_F(GlobalIamTest, ARegionThatWasDownCatchesUpInOrder) {
  Key bob = MakeBob();
  ASSERT_TRUE(Eventually([&] { return Authenticate(eu(), bob.id, bob.secret).ok(); }));
  // eu-west-1 goes down: its links are cut and its process stops.
  Partition(eu(), true);
  eu().links.clear();
  Close(eu());

  // Meanwhile: bob's key is deleted and a new one made, alice appears with a policy and a group,
  // and us-west-2 issues a session.
  ASSERT_TRUE(Iam(home(), "DeleteAccessKey", R"({"UserName":"bob","AccessKeyId":")" + bob.id + "\"}").ok());
  rapidjson::Document out;
  ASSERT_TRUE(Iam(home(), "CreateAccessKey", R"({"UserName":"bob"})", &out).ok());
  Key bob2{out["AccessKey"]["AccessKeyId"].GetString(), out["AccessKey"]["SecretAccessKey"].GetString()};
  ASSERT_TRUE(Iam(home(), "CreateUser", R"({"UserName":"alice"})").ok());
  ASSERT_TRUE(Iam(home(), "CreateGroup", R"({"GroupName":"ops"})").ok());
  ASSERT_TRUE(Iam(home(), "PutGroupPolicy", R"({"GroupName":"ops","PolicyName":"g","PolicyDocument":")" +
                                                Doc("Allow", "kms:Verify") + "\"}").ok());
  ASSERT_TRUE(Iam(home(), "AddUserToGroup", R"({"GroupName":"ops","UserName":"alice"})").ok());
  ASSERT_TRUE(Iam(home(), "CreateAccessKey", R"({"UserName":"alice"})", &out).ok());
  Key alice{out["AccessKey"]["AccessKeyId"].GetString(), out["AccessKey"]["SecretAccessKey"].GetString()};
  Caller bob_caller{kAccount, BobArn(), bob2.id};
  ASSERT_TRUE(Eventually([&] { return Authenticate(west(), bob2.id, bob2.secret).ok(); }));
  ASSERT_TRUE(Call(west(), false, "GetSessionToken", R"({"DurationSeconds":"900"})", &out, &bob_caller).ok());
  Key session{out["Credentials"]["AccessKeyId"].GetString(), out["Credentials"]["SecretAccessKey"].GetString()};
  const std::string session_token = out["Credentials"]["SessionToken"].GetString();
  EXPECT_GT(home().outbox->Stats("eu-west-1")->pending, 0u);
  EXPECT_GT(west().outbox->Stats("eu-west-1")->pending, 0u);

  // eu-west-1 restarts from its disk; the links into it come back.
  for (auto& r : regions_) {
    r.links.clear();
    r.to.clear();
  }
  Open(eu());
  for (auto& r : regions_) Link(r);

  ASSERT_TRUE(Eventually([&] { return Authenticate(eu(), alice.id, alice.secret).ok(); }));
  EXPECT_TRUE(Eventually([&] { return Authenticate(eu(), session.id, session.secret, session_token).ok(); }));
  EXPECT_TRUE(Allowed(eu(), std::string("arn:aws:iam::") + kAccount + ":user/alice", alice.id, "kms:Verify"));
  EXPECT_FALSE(Authenticate(eu(), bob.id, bob.secret).ok());
  EXPECT_TRUE(Authenticate(eu(), bob2.id, bob2.secret).ok());
  EXPECT_TRUE(Eventually([&] { return home().outbox->Stats("eu-west-1")->pending == 0; }));
  EXPECT_TRUE(Eventually([&] { return west().outbox->Stats("eu-west-1")->pending == 0; }));
  // Every entry applied exactly once, in order: eu's high-water marks equal what was sent.
  EXPECT_EQ(*eu().inbox->LastApplied(kHome), home().outbox->Stats("eu-west-1")->last_enqueued);
  EXPECT_EQ(*eu().inbox->LastApplied("us-west-2"), west().outbox->Stats("eu-west-1")->last_enqueued);
  rapidjson::Document keys;
  ASSERT_TRUE(Iam(eu(), "ListAccessKeys", R"({"UserName":"bob"})", &keys).ok());
  ASSERT_EQ(keys["AccessKeyMetadata"].Size(), 1u);
  EXPECT_STREQ(keys["AccessKeyMetadata"][0]["AccessKeyId"].GetString(), bob2.id.c_str());
}

TEST_F(GlobalIamTest, NoSecretOnAnyDiskInTheClearOrUnderAnotherRegionsRootKey) {
  // Hold us-west-2's deliveries back first, to look at what the home outbox keeps for it.
  Partition(west(), true);
  Key bob = MakeBob();
  rapidjson::Document out;
  ASSERT_TRUE(Iam(home(), "CreateVirtualMFADevice", R"({"VirtualMFADeviceName":"bobs-phone"})", &out).ok());
  const std::string serial = out["VirtualMFADevice"]["SerialNumber"].GetString();
  auto seed_b64 = Base64Decode(out["VirtualMFADevice"]["Base32StringSeed"].GetString());
  ASSERT_TRUE(seed_b64);
  const std::string base32_seed(seed_b64->begin(), seed_b64->end());
  auto seed = Base32Decode(base32_seed);
  ASSERT_TRUE(seed);
  const int64_t now = clock_.NowSeconds();
  ASSERT_TRUE(Iam(home(), "EnableMFADevice", R"({"UserName":"bob","SerialNumber":")" + serial +
                                                 R"(","AuthenticationCode1":")" + TotpCode(*seed, now - 30) +
                                                 R"(","AuthenticationCode2":")" + TotpCode(*seed, now) + "\"}").ok());
  std::vector<std::string> wrapped_at_home;
  for (const auto& [table, key, member] : std::vector<std::tuple<std::string_view, std::string, const char*>>{
           {storage::tables::kAccessKeys, bob.id, "wrapped_secret"},
           {storage::tables::kIamMfaDevices, std::string(kAccount) + "/bobs-phone", "wrapped_seed"}}) {
    auto txn = *home().storage->BeginRead();
    auto row = *txn->Get(table, key);
    ASSERT_TRUE(row);
    rapidjson::Document d;
    d.Parse(row->c_str());
    wrapped_at_home.emplace_back(d[member].GetString());
  }
  auto pending = home().outbox->Peek("us-west-2", 100);
  ASSERT_TRUE(pending.ok());
  ASSERT_FALSE(pending->empty());
  for (const auto& e : *pending) {
    EXPECT_EQ(e.message.kind.rfind("iam.", 0), 0u);
    EXPECT_EQ(e.message.payload.find(bob.secret), std::string::npos);
    for (const auto& wrapped : wrapped_at_home)
      EXPECT_EQ(e.message.payload.find(wrapped), std::string::npos);  // not even wrapped
  }
  Partition(west(), false);

  Caller bob_caller{kAccount, BobArn(), bob.id};
  ASSERT_TRUE(Eventually([&] { return Authenticate(eu(), bob.id, bob.secret).ok(); }));
  ASSERT_TRUE(Eventually([&] {  // the enabled device, whose seed eu-west-1 now holds under its own root key
    return eu().directory->VerifyMfaCode(serial, "bob", TotpCode(*seed, clock_.NowSeconds())).ok();
  }));
  ASSERT_TRUE(Call(eu(), false, "GetSessionToken",
                   R"({"DurationSeconds":"900","SerialNumber":")" + serial + R"(","TokenCode":")" +
                       TotpCode(*seed, clock_.NowSeconds()) + "\"}",
                   &out, &bob_caller).ok());  // the MFA seed works in eu-west-1: re-wrapped there
  const std::string session_secret = out["Credentials"]["SecretAccessKey"].GetString();
  const std::string session_token = out["Credentials"]["SessionToken"].GetString();
  const std::string session_id = out["Credentials"]["AccessKeyId"].GetString();
  for (Region& r : regions_)
    ASSERT_TRUE(Eventually([&] { return Authenticate(r, session_id, session_secret, session_token).ok(); })) << r.name;
  ASSERT_TRUE(Eventually([&] { return Authenticate(west(), bob.id, bob.secret).ok(); }));
  for (Region& r : regions_)
    ASSERT_TRUE(Eventually([&] {
      return r.directory->VerifyMfaCode(serial, "bob", TotpCode(*seed, clock_.NowSeconds())).ok();
    })) << r.name;

  // Each region's copy of each secret opens with that region's root key and no other's.
  struct Sealed {
    std::string_view table;
    std::string key, member, context;
  };
  const std::vector<Sealed> sealed = {
      {storage::tables::kAccessKeys, bob.id, "wrapped_secret", "iam-access-key-secret:" + bob.id},
      {storage::tables::kStsSessions, session_id, "wrapped_secret", "sts-session-secret:" + session_id},
      {storage::tables::kStsSessions, session_id, "wrapped_token", "sts-session-token:" + session_id},
      {storage::tables::kIamMfaDevices, std::string(kAccount) + "/bobs-phone", "wrapped_seed", "iam-mfa-seed:" + serial}};
  for (const auto& s : sealed) {
    for (Region& r : regions_) {
      auto txn = *r.storage->BeginRead();
      auto row = *txn->Get(s.table, s.key);
      ASSERT_TRUE(row) << r.name << " " << s.table;
      rapidjson::Document d;
      d.Parse(row->c_str());
      ASSERT_TRUE(d.HasMember(s.member.c_str())) << r.name << " " << s.table;
      auto wrapped = Base64Decode(d[s.member.c_str()].GetString());
      ASSERT_TRUE(wrapped);
      for (Region& other : regions_)
        EXPECT_EQ(other.root.Unwrap(*wrapped, s.context).ok(), &other == &r) << r.name << " " << s.table << " " << other.name;
    }
  }

  // And nothing in the clear on any disk (databases and write-ahead logs of all three regions).
  for (auto& r : regions_) r.links.clear();
  const std::string disk = AllFiles();
  ASSERT_GT(disk.size(), 0u);
  for (const std::string& secret : {bob.secret, session_secret, session_token, base32_seed,
                                    std::string(seed->begin(), seed->end()), Base64Encode(*seed)})
    EXPECT_EQ(disk.find(secret), std::string::npos);
}

TEST_F(GlobalIamTest, ARegionAddedLaterReceivesTheWholeIamStateFromTheHome) {
  // A deployment of two regions: eu-west-1 is not part of it yet.
  for (auto& r : regions_) {
    r.links.clear();
    r.to.clear();
  }
  for (auto& r : regions_) Close(r);
  std::filesystem::remove_all(dir_);
  std::filesystem::create_directories(dir_);
  absent_ = {"eu-west-1"};
  Open(home());
  Open(west());
  Link(home());
  Link(west());
  const Key bob = MakeBob();
  const std::string trust = R"({\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::111122223333:root\"},\"Action\":\"sts:AssumeRole\"}]})";
  ASSERT_TRUE(Iam(home(), "CreateRole", R"({"RoleName":"ops","AssumeRolePolicyDocument":")" + trust + "\"}").ok());
  ASSERT_TRUE(Eventually([&] { return Authenticate(west(), bob.id, bob.secret).ok(); }));
  // Deleted before eu-west-1 joins: it never has it.
  ASSERT_TRUE(Iam(home(), "CreateUser", R"({"UserName":"gone"})").ok());
  ASSERT_TRUE(Iam(home(), "DeleteUser", R"({"UserName":"gone"})").ok());

  // Restarted with a third region.
  for (auto& r : regions_) {
    r.links.clear();
    r.to.clear();
  }
  Close(home());
  Close(west());
  absent_.clear();
  for (auto& r : regions_) Open(r);
  EXPECT_FALSE(Authenticate(eu(), bob.id, bob.secret).ok());
  auto sent = SendSnapshotToNewPeers(*home().storage, options_[kHome]);  // as the home's server does at start
  ASSERT_TRUE(sent.ok()) << sent.status().ToString();
  EXPECT_EQ(*sent, 1);
  for (Region* r : {&west(), &eu()}) {  // only the home sends snapshots
    auto none = SendSnapshotToNewPeers(*r->storage, options_[r->name]);
    ASSERT_TRUE(none.ok());
    EXPECT_EQ(*none, 0);
  }
  for (auto& r : regions_) Link(r);

  // eu-west-1 authenticates bob and authorizes him by his policy, with no change made since.
  ASSERT_TRUE(Eventually([&] { return Authenticate(eu(), bob.id, bob.secret).ok(); }));
  EXPECT_TRUE(Allowed(eu(), BobArn(), bob.id, "kms:Encrypt"));
  EXPECT_FALSE(Allowed(eu(), BobArn(), bob.id, "kms:Decrypt"));
  rapidjson::Document role;
  EXPECT_TRUE(Iam(eu(), "GetRole", R"({"RoleName":"ops"})", &role).ok());
  EXPECT_EQ(Iam(eu(), "GetUser", R"({"UserName":"gone"})").type(), "NoSuchEntity");
  // Its copy of bob's secret is wrapped under its own root key: the secret never sat in an outbox.
  EXPECT_EQ(AllFiles().find(bob.secret), std::string::npos);

  // A later restart sends no second snapshot; later changes flow as usual.
  auto again = SendSnapshotToNewPeers(*home().storage, options_[kHome]);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 0);
  ASSERT_TRUE(Iam(home(), "UpdateAccessKey", R"({"UserName":"bob","AccessKeyId":")" + bob.id +
                                                 R"(","Status":"Inactive"})").ok());
  ASSERT_TRUE(Eventually([&] { return !Authenticate(eu(), bob.id, bob.secret).ok(); }));
}

}  // namespace
}  // namespace meridian::iam

