// Structured JSON logs on stderr, one object per line:
//   {"time":"2026-11-23T13:50:01.123Z","level":"info","event":"listening","region":"us-east-1",...}
// Callers pass an event name and string fields; values are JSON-escaped here. Never pass key
// material, plaintext, secret values or signatures.
#pragma once

#include <initializer_list>
#include <string_view>
#include <utility>

namespace meridian::log {

enum class Level { kDebug, kInfo, kWarn, kError };

using Field = std::pair<std::string_view, std::string_view>;

void Write(Level level, std::string_view event, std::initializer_list<Field> fields = {});
inline void Info(std::string_view event, std::initializer_list<Field> fields = {}) { Write(Level::kInfo, event, fields); }
inline void Warn(std::string_view event, std::initializer_list<Field> fields = {}) { Write(Level::kWarn, event, fields); }
inline void Error(std::string_view event, std::initializer_list<Field> fields = {}) { Write(Level::kError, event, fields); }

}  // namespace meridian::log
