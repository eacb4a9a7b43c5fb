// Leadership: which of the processes sharing a region's storage runs its background work.
//
// Background duties (automatic rotation, due deletions, replication outbox delivery) must run
// once per region whichever frontends are alive. Each process asks IsLeader() before a round of
// such work and skips the round when it is not the leader.
//  - PostgreSQL: the leader holds a session-level advisory lock (keyed by the region schema) on
//    its listener connection (the ChangeFeed's). The other processes try to take it every
//    second. When the leader dies, or its connection breaks, PostgreSQL releases the lock and
//    another process takes it within about a second; a process whose listener connection breaks
//    stops being leader at once.
//  - SQLite: the database belongs to one process; it is always the leader.
//
// The lock is a lease held by a live connection, not a fence: a leader cut off from PostgreSQL
// may run one more round before it notices. Background duties therefore stay idempotent and
// transactional (each round re-reads what is due inside its write transaction), so an overlap
// costs a wasted round, never a duplicate effect.
#pragma once

namespace meridian::storage {

class Leadership {
 public:
  virtual ~Leadership() = default;

  // True while this process is the region's leader. The first call starts campaigning (on
  // PostgreSQL it may answer false until the listener has connected). Cheap: reads a flag.
  virtual bool IsLeader() = 0;
};

}  // namespace meridian::storage
