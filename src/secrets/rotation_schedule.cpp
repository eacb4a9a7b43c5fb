#include "secrets/rotation_schedule.h"

#include <algorithm>
#include <array>
#include <bitset>
#include <cctype>
#include <charconv>
#include <vector>

#include "common/aws_json.h"
#include "secrets/errors.h"

namespace meridian::secrets {
namespace {

constexpr int64_t kMinuteMs = 60 * 1000;
constexpr int64_t kHourMs = 60 * kMinuteMs;
constexpr int64_t kDayMs = 24 * kHourMs;
constexpr int64_t kMaxDays = 1000;
constexpr int64_t kMinRateHours = 4;
constexpr int kSearchDays = 3660;  // how far ahead a cron expression is searched

Status BadSchedule(const std::string& expr, const std::string& why) {
  return err::InvalidParameter("Invalid ScheduleExpression '" + expr + "': " + why);
}

std::optional<int64_t> ParseNumber(std::string_view s) {
  if (s.empty() || s.size() > 9) return std::nullopt;
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t at = s.find(sep, start);
    out.push_back(s.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
    if (at == std::string_view::npos) return out;
    start = at + 1;
  }
}

// ---- civil dates (proleptic Gregorian, UTC) -------------------------------------------------
struct Civil {
  int64_t year;
  int month;  // 1..12
  int day;    // 1..31
};

Civil CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  return {yoe + era * 400 + (m <= 2), m, d};
}

int DaysInMonth(int64_t y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// ---- cron -----------------------------------------------------------------------------------
struct Cron {
  std::bitset<60> minutes;
  std::bitset<24> hours;
  std::bitset<32> days_of_month;  // 1..31
  bool last_day_of_month = false;
  bool any_day_of_month = false;  // "?"
  std::bitset<13> months;         // 1..12
  std::bitset<8> days_of_week;    // 1..7 = SUN..SAT
  std::vector<std::pair<int, int>> nth_weekdays;  // (weekday 1..7, n 1..5) from "d#n"
  bool any_day_of_week = false;   // "?"
  std::bitset<231> years;         // 1970..2200, stored as year - 1970
};

constexpr std::array<std::string_view, 12> kMonthNames = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                                          "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr std::array<std::string_view, 7> kDayNames = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

// A value of a field: a number, or a month/day name where the field has names.
std::optional<int> FieldValue(std::string_view s, const std::array<std::string_view, 12>* months,
                              const std::array<std::string_view, 7>* days) {
  std::string upper(s);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (months)
    for (size_t i = 0; i < months->size(); ++i)
      if ((*months)[i] == upper) return static_cast<int>(i + 1);
  if (days)
    for (size_t i = 0; i < days->size(); ++i)
      if ((*days)[i] == upper) return static_cast<int>(i + 1);
  auto n = ParseNumber(s);
  if (!n) return std::nullopt;
  return static_cast<int>(*n);
}

// Parses one comma-separated field of numbers in [lo, hi]: *, a, a-b, */n, a/n, a-b/n. Calls
// set(v) for each value. Returns false when malformed.
template <typename Set>
bool ParseRanges(std::string_view field, int lo, int hi, const std::array<std::string_view, 12>* months,
                 const std::array<std::string_view, 7>* days, Set&& set) {
  for (std::string_view item : Split(field, ',')) {
    if (item.empty()) return false;
    int step = 1;
    size_t slash = item.find('/');
    if (slash != std::string_view::npos) {
      auto n = ParseNumber(item.substr(slash + 1));
      if (!n || *n < 1 || *n > hi) return false;
      step = static_cast<int>(*n);
      item = item.substr(0, slash);
    }
    int first = lo, last = hi;
    if (item != "*") {
      size_t dash = item.find('-');
      auto a = FieldValue(item.substr(0, dash), months, days);
      if (!a) return false;
      first = *a;
      last = slash != std::string_view::npos ? hi : *a;
      if (dash != std::string_view::npos) {
        auto b = FieldValue(item.substr(dash + 1), months, days);
        if (!b) return false;
        last = *b;
      }
    }
    if (first < lo || last > hi || first > last) return false;
    for (int v = first; v <= last; v += step) set(v);
  }
  return true;
}

Result<Cron> ParseCron(const std::string& expr, std::string_view body) {
  std::vector<std::string_view> fields;
  for (std::string_view f : Split(body, ' '))
    if (!f.empty()) fields.push_back(f);
  if (fields.size() != 6)
    return BadSchedule(expr, "a cron expression has six fields: minutes hours day-of-month month day-of-week year");
  Cron c;
  if (!ParseRanges(fields[0], 0, 59, nullptr, nullptr, [&](int v) { c.minutes.set(v); }))
    return BadSchedule(expr, "the minutes field is not valid");
  if (!ParseRanges(fields[1], 0, 23, nullptr, nullptr, [&](int v) { c.hours.set(v); }))
    return BadSchedule(expr, "the hours field is not valid");
  if (fields[2] == "?") {
    c.any_day_of_month = true;
  } else if (fields[2] == "L") {
    c.last_day_of_month = true;
  } else if (!ParseRanges(fields[2], 1, 31, nullptr, nullptr, [&](int v) { c.days_of_month.set(v); })) {
    return BadSchedule(expr, "the day-of-month field is not valid");
  }
  if (!ParseRanges(fields[3], 1, 12, &kMonthNames, nullptr, [&](int v) { c.months.set(v); }))
    return BadSchedule(expr, "the month field is not valid");
  if (fields[4] == "?") {
    c.any_day_of_week = true;
  } else if (fields[4].find('#') != std::string_view::npos) {
    for (std::string_view item : Split(fields[4], ',')) {
      size_t hash = item.find('#');
      if (hash == std::string_view::npos) return BadSchedule(expr, "the day-of-week field is not valid");
      auto day = FieldValue(item.substr(0, hash), nullptr, &kDayNames);
      auto n = ParseNumber(item.substr(hash + 1));
      if (!day || *day < 1 || *day > 7 || !n || *n < 1 || *n > 5)
        return BadSchedule(expr, "the day-of-week field is not valid");
      c.nth_weekdays.emplace_back(*day, static_cast<int>(*n));
    }
  } else if (!ParseRanges(fields[4], 1, 7, nullptr, &kDayNames, [&](int v) { c.days_of_week.set(v); })) {
    return BadSchedule(expr, "the day-of-week field is not valid");
  }
  if (c.any_day_of_month == c.any_day_of_week)
    return BadSchedule(expr, "one of the day-of-month and day-of-week fields must be '?', and only one");
  if (!ParseRanges(fields[5], 1970, 2199, nullptr, nullptr, [&](int v) { c.years.set(v - 1970); }))
    return BadSchedule(expr, "the year field is not valid");
  return c;
}

bool CronMatchesDay(const Cron& c, const Civil& d, int64_t days_since_epoch) {
  if (d.year < 1970 || d.year > 2199 || !c.years.test(static_cast<size_t>(d.year - 1970))) return false;
  if (!c.months.test(d.month)) return false;
  if (c.any_day_of_week) {
    if (c.last_day_of_month) return d.day == DaysInMonth(d.year, d.month);
    return c.days_of_month.test(d.day);
  }
  const int weekday = static_cast<int>(((days_since_epoch % 7) + 7 + 4) % 7) + 1;  // 1970-01-01 was a Thursday
  if (!c.nth_weekdays.empty()) {
    const int nth = (d.day - 1) / 7 + 1;
    return std::any_of(c.nth_weekdays.begin(), c.nth_weekdays.end(),
                       [&](const auto& p) { return p.first == weekday && p.second == nth; });
  }
  return c.days_of_week.test(weekday);
}

std::optional<int64_t> NextCron(const Cron& c, int64_t after_ms) {
  const int64_t first_day = FloorDiv(after_ms, kDayMs);
  for (int64_t day = first_day; day < first_day + kSearchDays; ++day) {
    if (!CronMatchesDay(c, CivilFromDays(day), day)) continue;
    for (int h = 0; h < 24; ++h) {
      if (!c.hours.test(h)) continue;
      for (int m = 0; m < 60; ++m) {
        if (!c.minutes.test(m)) continue;
        int64_t t = day * kDayMs + h * kHourMs + m * kMinuteMs;
        if (t > after_ms) return t;
      }
    }
  }
  return std::nullopt;
}

// ---- rate -----------------------------------------------------------------------------------
struct Rate {
  int64_t count;
  bool hours;  // else days
};

Result<Rate> ParseRate(const std::string& expr, std::string_view body) {
  std::vector<std::string_view> parts;
  for (std::string_view f : Split(body, ' '))
    if (!f.empty()) parts.push_back(f);
  if (parts.size() != 2) return BadSchedule(expr, "a rate expression is rate(<number> hours|days)");
  auto n = ParseNumber(parts[0]);
  if (!n || *n < 1) return BadSchedule(expr, "the rate must be a positive whole number");
  const bool one = *n == 1;
  Rate r{*n, false};
  if (parts[1] == (one ? "hour" : "hours")) {
    r.hours = true;
  } else if (parts[1] != (one ? "day" : "days")) {
    return BadSchedule(expr, one ? "the unit must be hour or day" : "the unit must be hours or days");
  }
  if (r.hours && r.count < kMinRateHours) return BadSchedule(expr, "you can rotate a secret at most every four hours");
  if ((r.hours && r.count > kMaxDays * 24) || (!r.hours && r.count > kMaxDays))
    return BadSchedule(expr, "the rate must be at most 1000 days");
  return r;
}

// A parsed ScheduleExpression: exactly one of the two.
struct Schedule {
  std::optional<Rate> rate;
  std::optional<Cron> cron;
};

Result<Schedule> ParseSchedule(const std::string& expr) {
  auto body_of = [&](std::string_view prefix) -> std::optional<std::string_view> {
    std::string_view e = expr;
    if (e.size() < prefix.size() + 1 || e.substr(0, prefix.size()) != prefix || e.back() != ')') return std::nullopt;
    return e.substr(prefix.size(), e.size() - prefix.size() - 1);
  };
  Schedule s;
  if (auto body = body_of("rate(")) {
    MERIDIAN_ASSIGN_OR_RETURN(auto rate, ParseRate(expr, *body));
    s.rate = rate;
  } else if (auto cron_body = body_of("cron(")) {
    MERIDIAN_ASSIGN_OR_RETURN(auto cron, ParseCron(expr, *cron_body));
    s.cron = std::move(cron);
  } else {
    return BadSchedule(expr, "it must be a rate() or cron() expression");
  }
  return s;
}

// The window length (hours) may not reach the next UTC day or the next window.
Status CheckDuration(int64_t hours, const std::optional<Schedule>& schedule) {
  auto too_long = [] {
    return err::InvalidParameter(
        "The rotation window (Duration) must not extend into the next UTC day or into the next rotation window.");
  };
  if (!schedule) return Status::Ok();  // a daily schedule: the window starts at midnight
  if (schedule->rate && schedule->rate->hours && hours > schedule->rate->count) return too_long();
  if (schedule->cron) {
    int previous = -1;
    for (int h = 0; h < 24; ++h) {
      if (!schedule->cron->hours.test(h)) continue;
      if (h + hours > 24 || (previous >= 0 && h - previous < hours)) return too_long();
      previous = h;
    }
  }
  return Status::Ok();
}

}  // namespace

Result<RotationRules> ParseRotationRules(const rapidjson::Value& value) {
  if (!value.IsObject()) return SerializationError("Member RotationRules must be a structure");
  JsonRequest req(value);
  RotationRules rules;
  MERIDIAN_ASSIGN_OR_RETURN(rules.automatically_after_days, req.OptInt("AutomaticallyAfterDays", 1, kMaxDays));
  MERIDIAN_ASSIGN_OR_RETURN(auto expr, req.OptString("ScheduleExpression", 1, 256));
  MERIDIAN_ASSIGN_OR_RETURN(auto duration, req.OptString("Duration", 2, 3));
  if (rules.automatically_after_days && expr)
    return err::InvalidParameter("You cannot specify both rotation frequency and schedule expression together.");
  std::optional<Schedule> schedule;
  if (expr) {
    MERIDIAN_ASSIGN_OR_RETURN(auto parsed, ParseSchedule(*expr));
    schedule = std::move(parsed);
    rules.schedule_expression = *expr;
  }
  if (duration) {
    auto hours = duration->back() == 'h' ? ParseNumber(std::string_view(*duration).substr(0, duration->size() - 1))
                                         : std::nullopt;
    if (!hours || *hours < 1 || *hours > 24)
      return err::InvalidParameter("Duration must be a whole number of hours from 1h to 24h, for example 3h.");
    MERIDIAN_RETURN_IF_ERROR(CheckDuration(*hours, schedule));
    rules.duration = *duration;
  }
  return rules;
}

std::optional<int64_t> NextRotationWindow(const RotationRules& rules, int64_t after_ms) {
  const int64_t day_start = FloorDiv(after_ms, kDayMs) * kDayMs;
  if (rules.automatically_after_days) return day_start + *rules.automatically_after_days * kDayMs;
  if (rules.schedule_expression.empty()) return std::nullopt;
  auto schedule = ParseSchedule(rules.schedule_expression);
  if (!schedule.ok()) return std::nullopt;  // stored rules were validated when set
  if (schedule->rate) {
    if (!schedule->rate->hours) return day_start + schedule->rate->count * kDayMs;
    return FloorDiv(after_ms, kHourMs) * kHourMs + schedule->rate->count * kHourMs;
  }
  return NextCron(*schedule->cron, after_ms);
}

}  // namespace meridian::secrets
