// PostgresListener: a process's one extra PostgreSQL session, for the change feed and the
// region's leadership (internal to src/storage/; see change_feed.h and leadership.h).
//
// A thread of its own keeps one connection, LISTENs on the region schema's channel and hands
// every notification to the ChangeHub; when asked to campaign it also tries, every second, to
// take the region's session-level advisory lock, and is leader while it holds it.
//
// Connection loss (PostgreSQL restarted, failed over, or the network broke): leadership is given
// up at once (the server releases the lock with the session), every subscriber hears "anything
// may have changed", and the thread reconnects (backing off from 100 ms to 2 s; the multi-host
// conninfo finds the new primary) and, once LISTENing again, says so a second time, since
// notifications sent while it was away are lost. TCP keepalives (unless the conninfo sets its
// own) notice a silent peer within about 10 s.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "storage/change_hub.h"

namespace meridian::storage::internal {

class PostgresListener {
 public:
  PostgresListener(std::string conninfo, std::string channel, int64_t leader_lock_key,
                   std::shared_ptr<ChangeHub> hub);
  ~PostgresListener();  // Stop()s
  PostgresListener(const PostgresListener&) = delete;
  PostgresListener& operator=(const PostgresListener&) = delete;

  // Starts the thread (idempotent).
  void Start();
  // Starts the thread if needed and campaigns for leadership from now on.
  void Campaign();
  bool IsLeader() const { return leader_.load(std::memory_order_acquire); }
  // Number of times the listener has (re)connected and is LISTENing (tests, metrics).
  uint64_t connections() const { return connections_.load(); }
  // Stops the thread and closes the connection (releasing leadership). Idempotent.
  void Stop();

 private:
  void Run();

  const std::string conninfo_;  // may hold a password: never put in a message
  const std::string channel_;
  const int64_t leader_lock_key_;
  std::shared_ptr<ChangeHub> hub_;

  std::mutex mu_;  // guards thread_ start/stop
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> campaigning_{false};
  std::atomic<bool> leader_{false};
  std::atomic<uint64_t> connections_{0};
};

}  // namespace meridian::storage::internal
