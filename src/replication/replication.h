// Replication between region processes: a durable outbox per peer on the sending side, an
// in-order, exactly-once applier on the receiving side, and the link that moves entries between
// them.
//
//   service (in its write transaction) --Enqueue--> Outbox[peer] --PeerLink--> peer's Inbox
//                                                                         --handler--> peer's service
//
// Invariants:
//  - A message is enqueued in the same storage transaction as the change it describes, so it is
//    durable before the request that caused it is acknowledged, and never exists without it.
//  - Sequence numbers per (source, peer) are dense and increasing. The receiver applies entry n
//    only after n-1, skips entries it has already applied (a retried batch) and applies each
//    entry and its high-water mark in one transaction: nothing is lost or applied twice.
//  - Outbox payloads never hold secrets. A service that must ship secret material registers an
//    Expander, which adds it to the wire payload at send time (from the sender's root-key-wrapped
//    store); the receiver wraps it under its own root key on arrival. The wire is mutual TLS.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "storage/storage.h"

namespace meridian::replication {

struct Message {
  std::string kind;     // "<service>.<Event>", e.g. "kms.ReplicaCreated"
  std::string payload;  // JSON object text
};

struct OutboxEntry {
  uint64_t sequence = 0;
  int64_t enqueued_ms = 0;
  Message message;
};

struct OutboxStats {
  uint64_t pending = 0;
  uint64_t last_enqueued = 0;  // highest sequence ever enqueued
  int64_t oldest_enqueued_ms = 0;  // 0 when nothing is pending
};

class Outbox {
 public:
  explicit Outbox(storage::Storage& storage, const Clock& clock = SystemClock::Instance());

  // Appends `message` to `peer`'s queue inside `txn`; durable when the caller commits.
  Status Enqueue(storage::Transaction& txn, std::string_view peer, const Message& message) const;
  // The oldest undelivered entries for `peer`, in sequence order, at most `max`.
  Result<std::vector<OutboxEntry>> Peek(std::string_view peer, size_t max) const;
  // Removes `peer`'s entries up to and including `sequence` (delivered and applied).
  Status Acknowledge(std::string_view peer, uint64_t sequence) const;
  Result<OutboxStats> Stats(std::string_view peer) const;

 private:
  storage::Storage& storage_;
  const Clock& clock_;
};

// What travels on the wire: the entry, its payload possibly expanded with secret material.
struct WireEntry {
  uint64_t sequence = 0;
  std::string kind;
  std::string payload;
};

class Inbox {
 public:
  // Applies one message inside `txn` (which also records the new high-water mark). A non-OK
  // status rolls the entry back and stops the batch; the sender retries it later.
  using Handler = std::function<Status(storage::Transaction& txn, std::string_view source_region,
                                       const WireEntry& entry)>;

  // Runs after the transaction that applied an entry has committed (e.g. to drop caches).
  using AfterCommit = std::function<void(const WireEntry& entry)>;

  explicit Inbox(storage::Storage& storage);

  // Routes kinds beginning with `kind_prefix` (e.g. "kms.") to `handler`; the longest matching
  // prefix wins. Register before the first Apply.
  void Register(std::string kind_prefix, Handler handler, AfterCommit after_commit = {});

  // Applies `entries` from `source_region` in order. Entries at or below the last applied
  // sequence are skipped; an entry beyond last+1 (a gap) stops the batch. Returns the last
  // applied sequence, which the sender may acknowledge.
  Result<uint64_t> Apply(std::string_view source_region, const std::vector<WireEntry>& entries);
  Result<uint64_t> LastApplied(std::string_view source_region) const;

 private:
  struct Route {
    Handler handler;
    AfterCommit after_commit;
  };
  const Route* Find(std::string_view kind) const;

  storage::Storage& storage_;
  std::map<std::string, Route, std::less<>> routes_;
};

// The batch format on the wire (JSON), shared by the link and the receiving endpoint:
//   request  {"source": "us-east-1", "entries": [{"seq": 1, "kind": "...", "payload": {...}}]}
//   response {"applied_through": 1}
std::string EncodeBatch(std::string_view source_region, const std::vector<WireEntry>& entries);
Status DecodeBatch(std::string_view body, std::string& source_region, std::vector<WireEntry>& entries);
std::string EncodeAck(uint64_t applied_through);
Result<uint64_t> DecodeAck(std::string_view body);

}  // namespace meridian::replication
