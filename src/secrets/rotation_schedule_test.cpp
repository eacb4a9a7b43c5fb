// Rotation rules: validation and the next rotation window.
#include "secrets/rotation_schedule.h"

#include <gtest/gtest.h>

namespace meridian::secrets {
namespace {

constexpr int64_t kMinute = 60LL * 1000;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kDay = 24 * kHour;
// 2024-02-28T10:30:00Z, a Wednesday, in a leap year.
constexpr int64_t kWed = 1709116200000;
constexpr int64_t kWedMidnight = kWed - 10 * kHour - 30 * kMinute;

Result<RotationRules> Parse(const std::string& json) {
  rapidjson::Document d;
  d.Parse(json.c_str());
  return ParseRotationRules(d);
}

int64_t Next(const std::string& json, int64_t after) {
  auto rules = Parse(json);
  EXPECT_TRUE(rules.ok()) << json << ": " << rules.status().ToString();
  if (!rules.ok()) return -1;
  return NextRotationWindow(*rules, after).value_or(-1);
}

TEST(RotationSchedule, DaysAndRatesStartAtMidnightOrOnTheHour) {
  EXPECT_EQ(Next(R"({"AutomaticallyAfterDays":30})", kWed), kWedMidnight + 30 * kDay);
  EXPECT_EQ(Next(R"j({"ScheduleExpression":"rate(10 days)"})j", kWed), kWedMidnight + 10 * kDay);
  EXPECT_EQ(Next(R"j({"ScheduleExpression":"rate(1 day)"})j", kWed), kWedMidnight + kDay);
  EXPECT_EQ(Next(R"j({"ScheduleExpression":"rate(6 hours)"})j", kWed), kWedMidnight + 16 * kHour);
  auto none = Parse(R"({"Duration":"2h"})");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(NextRotationWindow(*none, kWed).has_value());
}

TEST(RotationSchedule, CronExpressions) {
  // Every day at 16:00.
  EXPECT_EQ(Next(R"j({"ScheduleExpression":"cron(0 16 * * ? *)"})j", kWed), kWedMidnight + 16 * kHour);
  EXPECT_EQ(Next(R"j({"ScheduleExpression":"cron(0 8 * * ? *)"})j", kWed), kWedMidnight + kDay + 8 * kHour);
  // Weekdays at 08:15 from Friday evening: Monday.
  const int64_t friday_evening = kWedMidnight + 2 * kDay + 20 * kHour;
  EXPECT_EQ(Next(R"j({"ScheduleExpression":"cron(15 8 ? * MON-FRI *)"})j", friday_evening),
            kWedMidnight + 5 * kDay + 8 * kHour + 15 * kMinute);
  EXPECT_EQ(Next(R"j({"ScheduleExpression":"cron(15 8 ? * 2-6 *)"})j", friday_evening),
            kWedMidnight + 5 * kDay + 8 * kHour + 15 * kMinute);
  // Last day of the month: 2024-02-29 (leap year).
  EXPECT_EQ(Next(R"j({"ScheduleExpression":"cron(0 1 L * ? *)"})j", kWed), kWedMidnight + kDay + kHour);
  // First Monday of the month: 2024-03-04.
  EXPECT_EQ(Next(R"j({"ScheduleExpression":"cron(0 0 ? * MON#1 *)"})j", kWed), kWedMidnight + 5 * kDay);
  // The 1st and 15th, in March only: 2024-03-01.
  EXPECT_EQ(Next(R"j({"ScheduleExpression":"cron(0 0 1,15 MAR ? *)"})j", kWed), kWedMidnight + 2 * kDay);
  // Every 4 hours from 02:00: 14:00 today.
  EXPECT_EQ(Next(R"j({"ScheduleExpression":"cron(0 2/4 * * ? *)"})j", kWed), kWedMidnight + 14 * kHour);
  // A year that has passed never matches.
  auto past = Parse(R"j({"ScheduleExpression":"cron(0 0 1 1 ? 2020)"})j");
  ASSERT_TRUE(past.ok());
  EXPECT_FALSE(NextRotationWindow(*past, kWed).has_value());
}

TEST(RotationSchedule, InvalidRulesAreRefused) {
  for (const char* bad : {
           R"j({"AutomaticallyAfterDays":5,"ScheduleExpression":"rate(5 days)"})j",
           R"j({"ScheduleExpression":"rate(3 hours)"})j", R"j({"ScheduleExpression":"rate(0 days)"})j",
           R"j({"ScheduleExpression":"rate(2 day)"})j", R"j({"ScheduleExpression":"rate(1 hours)"})j",
           R"j({"ScheduleExpression":"rate(10 weeks)"})j", R"j({"ScheduleExpression":"rate(10days)"})j",
           R"j({"ScheduleExpression":"cron(0 16 * * * *)"})j", R"j({"ScheduleExpression":"cron(0 16 ? * ? *)"})j",
           R"j({"ScheduleExpression":"cron(60 16 * * ? *)"})j", R"j({"ScheduleExpression":"cron(0 16 32 * ? *)"})j",
           R"j({"ScheduleExpression":"cron(0 16 * 13 ? *)"})j", R"j({"ScheduleExpression":"cron(0 16 ? * 8 *)"})j",
           R"j({"ScheduleExpression":"cron(0 16 ? * MON#6 *)"})j", R"j({"ScheduleExpression":"cron(0 16 5-1 * ? *)"})j",
           R"j({"ScheduleExpression":"cron(0 16 * * ? 1969)"})j", R"j({"ScheduleExpression":"cron(0 16 * * ?)"})j",
           R"({"ScheduleExpression":"cron(0 16 * * ? *"})", R"j({"ScheduleExpression":"cron(a b c d e f)"})j",
           R"j({"ScheduleExpression":"cron(0 23 * * ? *)","Duration":"2h"})j",
           R"j({"ScheduleExpression":"cron(0 1,2 * * ? *)","Duration":"2h"})j",
           R"j({"ScheduleExpression":"rate(4 hours)","Duration":"5h"})j", R"({"Duration":"0h"})",
           R"({"Duration":"25h"})", R"({"Duration":"3m"})"}) {
    auto r = Parse(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().type(), "InvalidParameterException") << bad;
    }
  }
  EXPECT_EQ(Parse(R"({"AutomaticallyAfterDays":0})").status().type(), "ValidationException");
  EXPECT_EQ(Parse(R"({"Duration":"1234h"})").status().type(), "ValidationException");
  EXPECT_EQ(Parse(R"({"ScheduleExpression":5})").status().type(), "SerializationException");
  EXPECT_EQ(Parse(R"([])").status().type(), "SerializationException");
  EXPECT_TRUE(Parse(R"j({"ScheduleExpression":"cron(0 22 * * ? *)","Duration":"2h"})j").ok());
  EXPECT_TRUE(Parse(R"j({"ScheduleExpression":"cron(0 0,12 * * ? *)","Duration":"12h"})j").ok());
  EXPECT_TRUE(Parse(R"j({"ScheduleExpression":"rate(10 days)","Duration":"24h"})j").ok());
}

}  // namespace
}  // namespace meridian::secrets
