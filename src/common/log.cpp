#include "common/log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace meridian::log {
namespace {

spdlog::logger& Logger() {
  static std::shared_ptr<spdlog::logger> logger = [] {
    auto l = spdlog::stderr_logger_mt("meridian");
    // The message is a JSON fragment (already escaped); spdlog supplies time and level.
    l->set_pattern("{\"time\":\"%Y-%m-%dT%H:%M:%S.%eZ\",\"level\":\"%l\",%v}", spdlog::pattern_time_type::utc);
    l->flush_on(spdlog::level::info);
    return l;
  }();
  return *logger;
}

spdlog::level::level_enum ToSpd(Level l) {
  switch (l) {
    case Level::kDebug: return spdlog::level::debug;
    case Level::kInfo: return spdlog::level::info;
    case Level::kWarn: return spdlog::level::warn;
    case Level::kError: return spdlog::level::err;
  }
  return spdlog::level::info;
}

}  // namespace

void Write(Level level, std::string_view event, std::initializer_list<Field> fields) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  // Write "event":..., "k":"v" pairs without the enclosing braces.
  w.StartObject();
  w.Key("event");
  w.String(event.data(), static_cast<rapidjson::SizeType>(event.size()));
  for (const auto& [k, v] : fields) {
    w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
    w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
  }
  w.EndObject();
  std::string_view body(sb.GetString() + 1, sb.GetSize() - 2);
  Logger().log(ToSpd(level), "{}", body);
}

}  // namespace meridian::log
