// Pure parts of the DR drill: timeline bucketing, the RPO computation, table / JSON / gnuplot rendering.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "drill/dr_plot.h"
#include "drill/dr_report.h"
#include "drill/timeline.h"

namespace meridian::drill {
namespace {

TEST(BucketTimeline, AlignsBucketsOnTheOriginAndKeepsEmptyOnes) {
  // Origin (the kill) at 10 s. Events before it fall in negative buckets.
  const int64_t origin = 10'000'000;
  std::vector<TimelineEvent> events = {
      {origin - 150'000, Operation::kWrite, true},  // bucket -2 ([-200, -100) ms)
      {origin - 1, Operation::kRead, true},         // bucket -1 (just before the kill)
      {origin - 50'000, Operation::kWrite, false},  // bucket -1
      {origin, Operation::kRead, false},            // bucket 0 starts at the kill itself
      {origin + 350'000, Operation::kWrite, true},  // bucket 3; buckets 1 and 2 are empty
      {origin + 399'999, Operation::kRead, true},   // bucket 3
  };
  auto buckets = BucketTimeline(events, origin, 100);
  ASSERT_EQ(buckets.size(), 6u);
  EXPECT_EQ(buckets[0].start_ms, -200);
  EXPECT_EQ(buckets[0].writes_ok, 1u);
  EXPECT_EQ(buckets[1].start_ms, -100);
  EXPECT_EQ(buckets[1].reads_ok, 1u);
  EXPECT_EQ(buckets[1].failed, 1u);
  EXPECT_EQ(buckets[2].start_ms, 0);
  EXPECT_EQ(buckets[2].succeeded(), 0u);
  EXPECT_EQ(buckets[2].failed, 1u);
  EXPECT_EQ(buckets[3].start_ms, 100);
  EXPECT_EQ(buckets[3].succeeded() + buckets[3].failed, 0u);
  EXPECT_EQ(buckets[4].start_ms, 200);
  EXPECT_EQ(buckets[5].start_ms, 300);
  EXPECT_EQ(buckets[5].writes_ok, 1u);
  EXPECT_EQ(buckets[5].reads_ok, 1u);
  // Outage: buckets 0, 1 and 2 had no success.
  EXPECT_EQ(LongestOutageMs(buckets, 100), 300);
}

TEST(BucketTimeline, NoEventsNoBuckets) {
  EXPECT_TRUE(BucketTimeline({}, 0, 100).empty());
  EXPECT_EQ(LongestOutageMs({}, 100), 0);
}

TEST(BucketTimeline, UnsortedInputAndOtherWidths) {
  std::vector<TimelineEvent> events = {{2'500'000, Operation::kRead, true}, {0, Operation::kWrite, true}};
  auto buckets = BucketTimeline(events, 1'000'000, 1000);
  ASSERT_EQ(buckets.size(), 3u);  // [-1 s, 0), [0, 1 s), [1 s, 2 s)
  EXPECT_EQ(buckets.front().start_ms, -1000);
  EXPECT_EQ(buckets.front().writes_ok, 1u);
  EXPECT_EQ(buckets.back().start_ms, 1000);
  EXPECT_EQ(buckets.back().reads_ok, 1u);
}

TEST(Timeline, RecordsFromSeveralThreadsAndSortsByTime) {
  Timeline timeline;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&timeline, t] {
      for (int i = 0; i < 250; ++i) {
        const int64_t started = timeline.NowUs();
        timeline.Record(t % 2 ? Operation::kRead : Operation::kWrite, i % 5 != 0, started);
      }
    });
  for (auto& t : threads) t.join();
  auto events = timeline.Events();
  ASSERT_EQ(events.size(), 1000u);
  for (size_t i = 1; i < events.size(); ++i) ASSERT_LE(events[i - 1].at_us, events[i].at_us);
  for (const auto& e : events) ASSERT_LE(e.started_us, e.at_us);
  size_t ok = 0;
  for (const auto& e : events) ok += e.ok;
  EXPECT_EQ(ok, 800u);
}

TEST(FirstSuccess, FindsTheFirstSuccessSentAfterATime) {
  std::vector<TimelineEvent> events = {{100, Operation::kWrite, true, 90},
                                       {200, Operation::kWrite, false, 150},
                                       {300, Operation::kRead, true, 250},
                                       {400, Operation::kWrite, true, 350}};
  EXPECT_EQ(FirstSuccessSentAtOrAfter(events, Operation::kWrite, 150), 400);
  EXPECT_EQ(FirstSuccessSentAtOrAfter(events, Operation::kWrite, 90), 100);
  // The write completing at 100 was in flight at 95: it does not show a recovery.
  EXPECT_EQ(FirstSuccessSentAtOrAfter(events, Operation::kWrite, 95), 400);
  EXPECT_EQ(FirstSuccessSentAtOrAfter(events, Operation::kRead, 251), -1);
}

TEST(ComputeRpo, CountsAcknowledgedWritesMissingInB) {
  std::vector<AcknowledgedWrite> acked = {{1, 1'000'000}, {2, 2'000'000}, {3, 2'900'000}, {4, 2'950'000}};
  auto rpo = ComputeRpo(acked, {1, 2, 99}, /*killed_at_us=*/3'000'000);
  EXPECT_EQ(rpo.acknowledged, 4u);
  EXPECT_EQ(rpo.lost, 2u);
  EXPECT_EQ(rpo.lost_record_ids, (std::vector<int64_t>{3, 4}));
  EXPECT_EQ(rpo.window_ms, 100);  // the oldest lost write was acknowledged 100 ms before the kill
}

TEST(ComputeRpo, NothingLost) {
  auto rpo = ComputeRpo({{1, 10}, {2, 20}}, {1, 2}, 30);
  EXPECT_EQ(rpo.lost, 0u);
  EXPECT_EQ(rpo.window_ms, 0);
  EXPECT_TRUE(rpo.lost_record_ids.empty());
  // An acknowledgement seen just after the kill (committed just before it) that B lacks: window 0.
  auto late = ComputeRpo({{1, 10}, {2, 50}}, {1}, 30);
  EXPECT_EQ(late.lost, 1u);
  EXPECT_EQ(late.window_ms, 0);
}

TEST(ComputeRpo, ListsAtMostAFewLostIds) {
  std::vector<AcknowledgedWrite> acked;
  for (int64_t i = 0; i < 500; ++i) acked.push_back({i, i});
  auto rpo = ComputeRpo(acked, {}, 1000);
  EXPECT_EQ(rpo.lost, 500u);
  EXPECT_EQ(rpo.lost_record_ids.size(), RpoFigures::kMaxListedLostIds);
}

DrillReport SampleReport() {
  DrillReport report;
  report.regions = {"us-east-1", "us-west-2"};
  report.duration_s = 3;
  StrategyResult one;
  one.strategy = 1;
  one.name = "one MRK replicated";
  one.completed = true;
  one.rpo = ComputeRpo({{1, 1}, {2, 2}}, {1, 2}, 5);
  one.promotion_ms = 310;
  one.rto_ms = 480;
  one.recovered_without_region_a = true;
  one.decrypt_while_a_down = {2, 2, ""};
  one.timeline = {{-100, 3, 4, 0}, {0, 0, 4, 2}, {100, 2, 5, 0}};
  StrategyResult three;
  three.strategy = 3;
  three.name = "key in A only, ReEncrypt via A";
  three.completed = true;
  three.rto_ms = 5400;
  three.region_a_restored_at_ms = 5000;
  three.decrypt_while_a_down = {2, 0, "connection refused"};
  three.decrypt_after_a_restored = {2, 2, ""};
  three.timeline = {{-100, 3, 4, 0}, {0, 0, 0, 6}};
  StrategyResult broken;
  broken.strategy = 2;
  broken.name = "per-region keys";
  broken.error = "standby did not start";
  report.strategies = {one, three, broken};
  return report;
}

TEST(RenderTable, OneRowPerStrategyWithTheFigures) {
  const std::string table = RenderTable(SampleReport());
  EXPECT_NE(table.find("1 one MRK replicated"), std::string::npos);
  EXPECT_NE(table.find("480"), std::string::npos);
  EXPECT_NE(table.find("0/2"), std::string::npos);  // strategy 3 while A is down
  EXPECT_NE(table.find("+5000 ms"), std::string::npos);
  EXPECT_NE(table.find("YES"), std::string::npos);  // strategy 3 needs region A
  EXPECT_NE(table.find("FAILED: standby did not start"), std::string::npos);
}

TEST(RenderJson, ParsesBackWithEveryFigure) {
  const std::string json = RenderJson(SampleReport());
  rapidjson::Document doc;
  ASSERT_FALSE(doc.Parse(json.c_str()).HasParseError()) << json;
  ASSERT_TRUE(doc["strategies"].IsArray());
  ASSERT_EQ(doc["strategies"].Size(), 3u);
  const auto& one = doc["strategies"][0];
  EXPECT_EQ(one["strategy"].GetInt(), 1);
  EXPECT_TRUE(one["completed"].GetBool());
  EXPECT_EQ(one["rto_ms"].GetInt64(), 480);
  EXPECT_EQ(one["rpo"]["acknowledged_in_a"].GetUint64(), 2u);
  EXPECT_EQ(one["decrypt_in_b_while_a_down"]["decrypted"].GetUint64(), 2u);
  EXPECT_TRUE(one["recovered_without_region_a"].GetBool());
  ASSERT_EQ(one["timeline"].Size(), 3u);
  EXPECT_EQ(one["timeline"][1]["t_ms"].GetInt64(), 0);
  EXPECT_EQ(one["timeline"][1]["failed"].GetUint(), 2u);
  const auto& three = doc["strategies"][1];
  EXPECT_FALSE(three["recovered_without_region_a"].GetBool());
  EXPECT_EQ(three["decrypt_in_b_after_a_restored"]["decrypted"].GetUint64(), 2u);
  EXPECT_STREQ(three["decrypt_in_b_while_a_down"]["first_error"].GetString(), "connection refused");
  EXPECT_STREQ(doc["strategies"][2]["error"].GetString(), "standby did not start");
  EXPECT_STREQ(doc["regions"][0].GetString(), "us-east-1");
}

TEST(Gnuplot, OneDataBlockPerStrategyAndAPlotLineForEach) {
  DrillReport report = SampleReport();
  const std::string data = GnuplotData(report);
  EXPECT_NE(data.find("-0.100 7 3 4 0\n"), std::string::npos) << data;
  EXPECT_NE(data.find("0.000 0 0 0 6\n"), std::string::npos);
  EXPECT_NE(data.find("0 0 0 0 0\n"), std::string::npos);  // the failed strategy keeps its index
  const std::string script = GnuplotScript(report, "/tmp/d.dat", "/tmp/p.png");
  EXPECT_NE(script.find("index 0"), std::string::npos);
  EXPECT_NE(script.find("index 2"), std::string::npos);
  EXPECT_NE(script.find("set output '/tmp/p.png'"), std::string::npos);
  EXPECT_NE(script.find("(RTO 480 ms)"), std::string::npos);
}

TEST(Gnuplot, DrawsAPngWhenGnuplotIsInstalled) {
  if (std::system("command -v gnuplot >/dev/null 2>&1") != 0) GTEST_SKIP() << "gnuplot-nox is not installed";
  const auto dir = std::filesystem::temp_directory_path() / ("dr-plot-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string png = (dir / "timeline.png").string();
  Status st = PlotTimeline(SampleReport(), png);
  ASSERT_TRUE(st.ok()) << st.ToString();
  std::ifstream in(png, std::ios::binary);
  char head[4] = {};
  in.read(head, 4);
  EXPECT_EQ(std::string(head + 1, 3), "PNG");
  EXPECT_FALSE(PlotTimeline(SampleReport(), (dir / "it's.png").string()).ok());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace meridian::drill
