#include "cli/audit_command.h"

#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "audit/search.h"
#include "audit/verify.h"
#include "common/clock.h"

namespace meridian::cli {
namespace {

// An absolute time or an age ("15m": fifteen minutes ago).
std::optional<int64_t> ParseTimeArgument(const std::string& text, std::string& error) {
  if (!text.empty() && text.size() <= 12 && std::isdigit(static_cast<unsigned char>(text[0]))) {
    size_t digits = 0;
    while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
    const std::string unit = text.substr(digits);
    int64_t scale = 0;
    if (unit == "s") scale = 1000;
    if (unit == "m") scale = 60 * 1000;
    if (unit == "h") scale = 3600 * 1000;
    if (unit == "d") scale = 24 * 3600 * 1000;
    if (scale) return SystemClock::Instance().NowMillis() - std::stoll(text.substr(0, digits)) * scale;
  }
  auto t = audit::ParseEventTime(text);
  if (t.ok()) return *t;
  error = "'" + text + "' is not a time: use 2024-05-01T12:00:00Z, 2024-05-01, or an age like 15m, 2h, 7d";
  return std::nullopt;
}

struct VerifyArgs {
  std::string dir, from, to, public_key, region;
  bool json = false;
};
struct TailArgs {
  std::string dir;
  size_t n = 20;
  bool json = false;
};
struct SearchArgs {
  std::string dir, principal, key, event, error, since, until;
  size_t n = 0;
  bool json = false;
};

int RunVerify(const VerifyArgs& a) {
  audit::VerifyOptions o;
  o.directory = a.dir;
  o.public_key_path = a.public_key;
  o.region = a.region;
  std::string error;
  if (!a.from.empty() && !(o.from_ms = ParseTimeArgument(a.from, error))) {
    std::cerr << "meridian audit verify: " << error << "\n";
    return 2;
  }
  if (!a.to.empty() && !(o.to_ms = ParseTimeArgument(a.to, error))) {
    std::cerr << "meridian audit verify: " << error << "\n";
    return 2;
  }
  auto report = audit::VerifyAuditDirectory(o);
  if (!report.ok()) {
    std::cerr << "meridian audit verify: " << report.status().message() << "\n";
    return 2;
  }
  std::cout << (a.json ? audit::VerifyReportToJson(*report) : audit::VerifyReportToText(*report));
  return report->intact ? 0 : 1;
}

int Print(const Result<std::vector<audit::FoundRecord>>& records, bool json, const char* command) {
  if (!records.ok()) {
    std::cerr << "meridian audit " << command << ": " << records.status().message() << "\n";
    return 1;
  }
  std::cout << (json ? audit::FormatRecordsJson(*records) : audit::FormatRecordsTable(*records));
  return 0;
}

int RunSearch(const SearchArgs& a) {
  audit::RecordFilter f;
  f.principal = a.principal;
  f.resource = a.key;
  f.event_name = a.event;
  f.error_code = a.error;
  std::string error;
  if (!a.since.empty() && !(f.since_ms = ParseTimeArgument(a.since, error))) {
    std::cerr << "meridian audit search: " << error << "\n";
    return 1;
  }
  if (!a.until.empty() && !(f.until_ms = ParseTimeArgument(a.until, error))) {
    std::cerr << "meridian audit search: " << error << "\n";
    return 1;
  }
  return Print(audit::SearchRecords(a.dir, f, a.n), a.json, "search");
}

}  // namespace

void RegisterAuditCommands(CLI::App& app, int& exit_code) {
  CLI::App* audit = app.add_subcommand("audit", "Verify and search a region's tamper-evident audit trail");
  audit->require_subcommand(1);

  auto verify_args = std::make_shared<VerifyArgs>();
  CLI::App* verify = audit->add_subcommand(
      "verify", "Check the hash chain and every digest signature; report exactly what was altered, removed, "
                "inserted or reordered (exit 0 intact, 1 tampering, 2 error)");
  verify->add_option("--dir", verify_args->dir, "The region's audit directory")->required();
  verify->add_option("--from", verify_args->from, "Only report on records/digests from this time");
  verify->add_option("--to", verify_args->to, "... up to this time");
  verify->add_option("--public-key", verify_args->public_key,
                     "Trusted audit public key (PEM); default: the directory's audit-public-key.pem");
  verify->add_option("--region", verify_args->region, "Expected region of the digests");
  verify->add_flag("--json", verify_args->json, "Print the report as JSON");
  verify->callback([verify_args, &exit_code] { exit_code = RunVerify(*verify_args); });

  auto tail_args = std::make_shared<TailArgs>();
  CLI::App* tail = audit->add_subcommand("tail", "Print the last records");
  tail->add_option("--dir", tail_args->dir, "The region's audit directory")->required();
  tail->add_option("-n", tail_args->n, "How many records (default 20)");
  tail->add_flag("--json", tail_args->json, "Print the stored JSON lines");
  tail->callback([tail_args, &exit_code] {
    exit_code = Print(audit::TailRecords(tail_args->dir, tail_args->n), tail_args->json, "tail");
  });

  auto search_args = std::make_shared<SearchArgs>();
  CLI::App* search = audit->add_subcommand("search", "Print the records matching every given filter");
  search->add_option("--dir", search_args->dir, "The region's audit directory")->required();
  search->add_option("--principal", search_args->principal, "Caller ARN, user/role name, principal id or access key id");
  search->add_option("--key", search_args->key, "Key or secret ARN, key id, alias or secret name");
  search->add_option("--event", search_args->event, "Event name, e.g. Decrypt");
  search->add_option("--error", search_args->error, "Error code, e.g. AccessDeniedException; '*' for any error");
  search->add_option("--since", search_args->since, "From this time (or age: 15m, 2h, 7d)");
  search->add_option("--until", search_args->until, "Up to this time");
  search->add_option("-n", search_args->n, "Only the last N matches");
  search->add_flag("--json", search_args->json, "Print the stored JSON lines");
  search->callback([search_args, &exit_code] { exit_code = RunSearch(*search_args); });
}

}  // namespace meridian::cli
