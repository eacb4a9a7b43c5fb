#include "storage/storage_spec.h"

#include <regex>

namespace meridian::storage {
namespace {

bool IsPostgresUri(std::string_view spec) {
  return spec.starts_with("postgres://") || spec.starts_with("postgresql://");
}

}  // namespace

Result<StorageSpec> StorageSpec::Parse(std::string_view spec, const std::string& default_sqlite_path) {
  StorageSpec parsed;
  if (spec.empty() || spec == "sqlite") {
    parsed.location = default_sqlite_path;
  } else if (spec.starts_with("sqlite:")) {
    parsed.location = std::string(spec.substr(7));
  } else if (IsPostgresUri(spec)) {
    parsed.backend = Backend::kPostgres;
    parsed.location = std::string(spec);
  } else if (spec.starts_with("postgres:")) {
    parsed.backend = Backend::kPostgres;
    parsed.location = std::string(spec.substr(9));
  }
  if (parsed.location.empty()) {
    return errors::Validation("storage: '" + StorageSpec{Backend::kPostgres, std::string(spec)}.Redacted() +
                              "' is not a storage location; use \"sqlite\", \"sqlite:PATH\", "
                              "\"postgres://...\" (a libpq URI) or \"postgres:key=value ...\" (a libpq conninfo)");
  }
  return parsed;
}

std::string StorageSpec::Redacted() const {
  if (backend == Backend::kSqlite) return "sqlite:" + location;
  // URI: postgres://user:PASSWORD@host..., and ?password=... / &password=...; conninfo:
  // password=VALUE or password='quoted value'.
  static const std::regex kUriPassword(R"(^([a-z][a-z0-9+.-]*://[^:@/?]*:)[^@/?]*@)");
  static const std::regex kParamPassword(R"(([?&]password=)[^&]*)");
  static const std::regex kConninfoPassword(R"((\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|\S+))");
  std::string text = location;
  text = std::regex_replace(text, kUriPassword, "$1***@");
  text = std::regex_replace(text, kParamPassword, "$1***");
  if (text.find("://") == std::string::npos) {
    text = std::regex_replace(text, kConninfoPassword, "$1***");
    return "postgres:" + text;
  }
  return text;
}

Result<std::unique_ptr<Storage>> OpenStorage(const StorageSpec& spec) {
  return spec.backend == StorageSpec::Backend::kSqlite ? OpenSqlite(spec.location) : OpenPostgres(spec.location);
}

}  // namespace meridian::storage
