#include "audit/search.h"

#include <gtest/gtest.h>

#include "audit/test_util.h"

namespace meridian::audit {
namespace {

class SearchTest : public testing::AuditDirTest {
 protected:
  void SetUp() override {
    AuditDirTest::SetUp();
    auto o = Options();
    o.max_file_bytes = 2500;  // several files
    auto log = OpenLog(o);
    for (int i = 0; i < 20; ++i) {
      AuditRecord r = testing::SampleRecord(i, i % 4 == 0 ? "Decrypt" : "Encrypt");
      if (i % 5 == 0) {
        r.error_code = "AccessDeniedException";
        r.authorization.decision = "ImplicitDeny";
      }
      if (i == 7) r.error_code = "DisabledException";
      ASSERT_TRUE(log->Append(r).ok());
    }
  }
};

TEST_F(SearchTest, TailReturnsTheLastRecordsInOrder) {
  auto tail = TailRecords(dir(), 3);
  ASSERT_TRUE(tail.ok());
  ASSERT_EQ(tail->size(), 3u);
  EXPECT_EQ((*tail)[0].sequence, 18u);
  EXPECT_EQ((*tail)[2].sequence, 20u);
  EXPECT_EQ((*tail)[2].record.request_id, "req-19");
  auto all = TailRecords(dir(), 100);
  EXPECT_EQ(all->size(), 20u);
}

TEST_F(SearchTest, FiltersCombine) {
  RecordFilter f;
  f.principal = "user1";  // last ARN segment
  auto r = SearchRecords(dir(), f);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->size(), 7u);  // i % 3 == 1
  for (const auto& x : *r) EXPECT_EQ(x.record.user_identity.arn, "arn:aws:iam::111122223333:user/user1");
  f.principal = "AKIAEXAMPLE1";
  EXPECT_EQ(SearchRecords(dir(), f)->size(), 7u);
  f.principal = "user";  // not a substring match
  EXPECT_EQ(SearchRecords(dir(), f)->size(), 0u);

  RecordFilter e;
  e.event_name = "Decrypt";
  EXPECT_EQ(SearchRecords(dir(), e)->size(), 5u);
  e.error_code = "AccessDeniedException";
  EXPECT_EQ(SearchRecords(dir(), e)->size(), 1u);  // i == 0 is the only denied Decrypt
  RecordFilter any;
  any.error_code = "*";
  EXPECT_EQ(SearchRecords(dir(), any)->size(), 5u);

  RecordFilter key;
  key.resource = "1234abcd-1";  // key id: last segment of the ARN
  EXPECT_EQ(SearchRecords(dir(), key)->size(), 10u);
  key.resource = "alias/app";  // the requested alias
  EXPECT_EQ(SearchRecords(dir(), key)->size(), 20u);

  RecordFilter since;
  since.since_ms = testing::SampleRecord(15).event_time_ms;
  EXPECT_EQ(SearchRecords(dir(), since)->size(), 5u);
  EXPECT_EQ(SearchRecords(dir(), since, 2)->size(), 2u);
}

TEST_F(SearchTest, FormatsJsonLinesAndATable) {
  auto tail = TailRecords(dir(), 2);
  std::string json = FormatRecordsJson(*tail);
  EXPECT_EQ(std::count(json.begin(), json.end(), '\n'), 2);
  EXPECT_EQ(json.rfind("{\"sequence\":19,", 0), 0u);
  std::string table = FormatRecordsTable(*tail);
  EXPECT_NE(table.find("SEQ"), std::string::npos);
  EXPECT_NE(table.find("kms:Encrypt"), std::string::npos);
  EXPECT_NE(table.find("arn:aws:iam::111122223333:user/user0"), std::string::npos);
  EXPECT_NE(table.find("2 record(s)"), std::string::npos);
}

TEST_F(SearchTest, MissingDirectoryIsAnError) {
  EXPECT_FALSE(TailRecords(dir() + "-nope", 1).ok());
}

}  // namespace
}  // namespace meridian::audit
