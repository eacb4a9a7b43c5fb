// ChangeFeed: committed changes to storage, announced to every process sharing the database.
//
// Several frontends of one region may share one PostgreSQL database; each keeps caches (unwrapped
// key material, compiled policies, credentials) that a change committed by another frontend makes
// stale. Every write transaction records the (table, key) of each row it writes (Put, Insert,
// Delete) and announces them when it commits:
//  - PostgreSQL: NOTIFY on the region schema's channel inside the committing transaction, so only
//    committed changes are announced, and after the commit; each process has one listener
//    connection (its own thread) that LISTENs and hands the announcements to the subscribers.
//  - SQLite: the same announcements, delivered in process (its own thread) after the commit.
// Either way a process also hears its own changes, so one code path serves both backends.
//
// Invariants:
//  - A handler is called only after the change it announces has committed, never for a change
//    that did not commit.
//  - Delivery is asynchronous (on the feed's thread), in commit order per process, and may
//    repeat; a handler only drops cached state, so repeats are harmless.
//  - When announcements may have been lost (the listener lost its connection: a PostgreSQL
//    restart or failover), every handler is called with `key` = nullopt ("anything in the table
//    may have changed") when the connection is lost and again once it is re-established. A
//    transaction that writes very many rows of a table is announced the same way.
//
// Handlers must be quick, must not wait for storage, and must not Subscribe or drop a
// ChangeSubscription (they run while the feed holds its subscriber lock).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace meridian::storage {

// Called with the key of a changed row of the subscribed table, or nullopt when any row of it may
// have changed.
using ChangeHandler = std::function<void(const std::optional<std::string>& key)>;

namespace internal {
class ChangeHub;
}

// A handler's registration. Destroying (or Reset()ting) it unsubscribes; once that returns the
// handler is not running and will not run again. Move-only; may outlive the Storage.
class ChangeSubscription {
 public:
  ChangeSubscription() = default;
  ChangeSubscription(std::weak_ptr<internal::ChangeHub> hub, uint64_t id) : hub_(std::move(hub)), id_(id) {}
  ChangeSubscription(ChangeSubscription&& other) noexcept;
  ChangeSubscription& operator=(ChangeSubscription&& other) noexcept;
  ChangeSubscription(const ChangeSubscription&) = delete;
  ChangeSubscription& operator=(const ChangeSubscription&) = delete;
  ~ChangeSubscription() { Reset(); }

  void Reset();
  bool active() const { return id_ != 0; }

 private:
  std::weak_ptr<internal::ChangeHub> hub_;
  uint64_t id_ = 0;
};

class ChangeFeed {
 public:
  virtual ~ChangeFeed() = default;

  // Calls `handler` for every committed change to a row of `table` (a table of schema.h) made
  // through any Storage sharing this database, this process's own included.
  virtual ChangeSubscription Subscribe(std::string_view table, ChangeHandler handler) = 0;
};

}  // namespace meridian::storage
