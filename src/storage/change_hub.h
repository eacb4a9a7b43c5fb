// Machinery of the change feed that both backends share (internal to src/storage/; see
// change_feed.h for the contract).
//
//  - ChangeSet: the rows one write transaction wrote, and their wire form (NOTIFY payloads).
//  - ChangeHub: the subscribers of one Storage and the delivery of a ChangeSet to them.
//  - AsyncChangeDelivery: a queue and a thread delivering ChangeSets to a hub after commits
//    (SQLite: the committing thread must not run handlers, which may take locks it holds).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "storage/change_feed.h"

namespace meridian::storage::internal {

class ChangeSet {
 public:
  // A table with more changed rows than this in one transaction is announced as "any row".
  static constexpr size_t kMaxKeysPerTable = 256;
  // Largest payload Encode() produces (PostgreSQL's NOTIFY limit is 8000 bytes).
  static constexpr size_t kMaxPayloadBytes = 7000;

  void Add(std::string_view table, std::string_view key);
  void AddWholeTable(std::string_view table);
  bool empty() const { return tables_.empty(); }
  void clear() { tables_.clear(); }

  // Calls visit(table, key) for every changed row, key nullopt for a whole table.
  template <typename Visit>
  void ForEach(Visit&& visit) const {
    for (const auto& [table, entry] : tables_) {
      if (entry.whole) {
        visit(table, std::optional<std::string>());
        continue;
      }
      for (const auto& key : entry.keys) visit(table, std::optional<std::string>(key));
    }
  }

  // The set as NOTIFY payloads of at most kMaxPayloadBytes: lines "<table> <hex key>" or
  // "<table> *" (any row), joined by '\n'. Only [a-z0-9_ *\n] characters: safe in a SQL literal.
  std::vector<std::string> Encode() const;
  // Adds what a payload Encode() produced announces. A malformed line announces its table as a
  // whole (or is skipped when no table can be read from it): a payload never invalidates less than
  // it should.
  void Decode(std::string_view payload);

 private:
  struct Entry {
    bool whole = false;
    std::set<std::string> keys;
  };
  std::map<std::string, Entry, std::less<>> tables_;
};

class ChangeHub : public ChangeFeed, public std::enable_shared_from_this<ChangeHub> {
 public:
  // Called (outside the hub's locks) on the first Subscribe: a backend starts its delivery thread.
  explicit ChangeHub(std::function<void()> on_first_subscribe = {});

  ChangeSubscription Subscribe(std::string_view table, ChangeHandler handler) override;
  void Unsubscribe(uint64_t id);
  bool HasSubscribers() const;

  // Calls the handlers of every table in `changes` (on the caller's thread).
  void Deliver(const ChangeSet& changes);
  // Calls every handler with nullopt: anything may have changed.
  void DeliverEverythingChanged();

 private:
  struct Subscriber {
    std::string table;
    ChangeHandler handler;
  };
  std::function<void()> on_first_subscribe_;
  // delivery_mu_ is held while handlers run, so Unsubscribe waits for a running handler;
  // mu_ guards the map itself.
  std::mutex delivery_mu_;
  mutable std::mutex mu_;
  std::map<uint64_t, Subscriber> subscribers_;  // guarded by mu_ (and delivery_mu_ to erase)
  uint64_t next_id_ = 1;                        // guarded by mu_
  bool started_ = false;                        // guarded by mu_
};

class AsyncChangeDelivery {
 public:
  explicit AsyncChangeDelivery(std::shared_ptr<ChangeHub> hub) : hub_(std::move(hub)) {}
  ~AsyncChangeDelivery() { Stop(); }

  // Starts the delivery thread (idempotent; not after Stop).
  void Start();
  // Queues `changes` for delivery; dropped when nobody subscribes or after Stop.
  void Publish(ChangeSet changes);
  // Delivers what is queued, then stops the thread.
  void Stop();

 private:
  void Run();

  std::shared_ptr<ChangeHub> hub_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<ChangeSet> queue_;  // guarded by mu_
  bool running_ = false;         // guarded by mu_
  bool stopped_ = false;         // guarded by mu_
  std::thread thread_;
};

}  // namespace meridian::storage::internal
