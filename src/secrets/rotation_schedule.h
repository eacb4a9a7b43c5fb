// Rotation schedules: RotationRules as RotateSecret takes them, validated as AWS validates
// them, and the time of the next rotation window.
//
// A schedule is one of
//  - AutomaticallyAfterDays N (1..1000): N days after the previous rotation;
//  - ScheduleExpression "rate(N hours)" (N >= 4) or "rate(N days)" (1..1000): windows start at
//    midnight UTC and every N hours/days after it;
//  - ScheduleExpression "cron(Minutes Hours Day-of-month Month Day-of-week Year)", EventBridge
//    syntax in UTC: lists, ranges, steps, *, ?, month and day names, L (last day of the month)
//    and # (nth weekday of the month); one of the two day fields must be "?".
// Duration ("Nh", 1 to 24 hours) is the length of the rotation window; a window may not run into
// the next UTC day or into the next window.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <rapidjson/document.h>

#include "common/status.h"

namespace meridian::secrets {

struct RotationRules {
  std::optional<int64_t> automatically_after_days;
  std::string schedule_expression;  // empty when not set
  std::string duration;             // empty when not set

  bool empty() const { return !automatically_after_days && schedule_expression.empty() && duration.empty(); }
};

// Reads and validates the RotationRules member (a JSON object). Errors are
// InvalidParameterException (or ValidationException for a member outside its constraints).
Result<RotationRules> ParseRotationRules(const rapidjson::Value& rules);

// The start of the first rotation window after `after_ms` (epoch milliseconds: the last rotation,
// or when rotation was configured). nullopt when the rules hold no schedule, or when a cron
// expression has no match in the next ten years.
std::optional<int64_t> NextRotationWindow(const RotationRules& rules, int64_t after_ms);

}  // namespace meridian::secrets
