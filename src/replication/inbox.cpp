#include "replication/replication.h"
#include "storage/schema.h"

namespace meridian::replication {
namespace {

std::string AppliedKey(std::string_view source) { return "in/" + std::string(source); }

Result<uint64_t> ReadApplied(storage::Transaction& txn, std::string_view source) {
  MERIDIAN_ASSIGN_OR_RETURN(auto v, txn.Get(storage::tables::kReplicationState, AppliedKey(source)));
  if (!v) return uint64_t{0};
  try {
    return static_cast<uint64_t>(std::stoull(*v));
  } catch (...) {
    return errors::Internal("replication state for " + std::string(source) + " is corrupt");
  }
}

}  // namespace

Inbox::Inbox(storage::Storage& storage) : storage_(storage) {}

void Inbox::Register(std::string kind_prefix, Handler handler, AfterCommit after_commit) {
  routes_[std::move(kind_prefix)] = Route{std::move(handler), std::move(after_commit)};
}

// The route with the longest prefix of `kind`.
const Inbox::Route* Inbox::Find(std::string_view kind) const {
  const Route* best = nullptr;
  size_t best_len = 0;
  for (const auto& [prefix, route] : routes_)
    if (kind.substr(0, prefix.size()) == prefix && (!best || prefix.size() > best_len)) {
      best = &route;
      best_len = prefix.size();
    }
  return best;
}

Result<uint64_t> Inbox::LastApplied(std::string_view source_region) const {
  MERIDIAN_ASSIGN_OR_RETURN(auto txn, storage_.BeginRead());
  return ReadApplied(*txn, source_region);
}

Result<uint64_t> Inbox::Apply(std::string_view source_region, const std::vector<WireEntry>& entries) {
  MERIDIAN_ASSIGN_OR_RETURN(uint64_t applied, LastApplied(source_region));
  for (const WireEntry& e : entries) {
    if (e.sequence <= applied) continue;  // already applied: a retried batch
    if (e.sequence != applied + 1) break;  // a gap: wait for the missing entries
    const Route* route = Find(e.kind);
    if (!route)
      return Status("ReplicationError", "no handler for replicated message kind " + e.kind, 500);
    MERIDIAN_ASSIGN_OR_RETURN(auto txn, storage_.BeginWrite());
    // Re-read under the write lock: another delivery of the same batch may have raced us.
    MERIDIAN_ASSIGN_OR_RETURN(uint64_t current, ReadApplied(*txn, source_region));
    if (e.sequence <= current) {
      applied = current;
      continue;
    }
    if (e.sequence != current + 1) break;
    MERIDIAN_RETURN_IF_ERROR(route->handler(*txn, source_region, e));
    MERIDIAN_RETURN_IF_ERROR(
        txn->Put(storage::tables::kReplicationState, AppliedKey(source_region), std::to_string(e.sequence)));
    MERIDIAN_RETURN_IF_ERROR(txn->Commit());
    if (route->after_commit) route->after_commit(e);
    applied = e.sequence;
  }
  return applied;
}

}  // namespace meridian::replication
