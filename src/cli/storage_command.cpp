#include "cli/storage_command.h"

#include <iostream>
#include <memory>

#include "storage/storage_copy.h"
#include "storage/storage_spec.h"

namespace meridian::cli {
namespace {

struct MigrateArgs {
  std::string from;
  std::string to;
};

int RunMigrate(const MigrateArgs& a) {
  auto fail = [](const std::string& message) {
    std::cerr << "meridian storage migrate: " << message << "\n";
    return 1;
  };
  // "sqlite" alone names no file here: the spec must say where.
  auto from = storage::StorageSpec::Parse(a.from == "sqlite" ? "" : a.from, "");
  if (!from.ok()) return fail("--from: " + from.status().message());
  auto to = storage::StorageSpec::Parse(a.to == "sqlite" ? "" : a.to, "");
  if (!to.ok()) return fail("--to: " + to.status().message());
  if (from->backend == to->backend && from->location == to->location) return fail("--from and --to name the same store");
  auto source = storage::OpenStorage(*from);
  if (!source.ok()) return fail(from->Redacted() + ": " + source.status().message());
  auto dest = storage::OpenStorage(*to);
  if (!dest.ok()) return fail(to->Redacted() + ": " + dest.status().message());
  auto counts = storage::CopyStorage(**source, **dest);
  if (!counts.ok()) return fail(counts.status().message());
  size_t total = 0;
  for (const auto& [table, rows] : *counts) {
    std::cout << table << " " << rows << "\n";
    total += rows;
  }
  std::cout << "meridian: copied " << total << " rows from " << from->Redacted() << " to " << to->Redacted()
            << " and checked them" << std::endl;
  return 0;
}

}  // namespace

void RegisterStorageCommands(CLI::App& app, int& exit_code) {
  auto* storage = app.add_subcommand("storage", "Region storage tools");
  storage->require_subcommand(1);
  auto args = std::make_shared<MigrateArgs>();
  auto* migrate = storage->add_subcommand(
      "migrate", "Copy every table of a stopped region's store into an empty store (SQLite <-> PostgreSQL)");
  migrate->add_option("--from", args->from, "Source: sqlite:PATH, postgres://... or postgres:conninfo")->required();
  migrate->add_option("--to", args->to, "Destination (empty): sqlite:PATH, postgres://... or postgres:conninfo")
      ->required();
  migrate->callback([args, &exit_code] { exit_code = RunMigrate(*args); });
}

}  // namespace meridian::cli
