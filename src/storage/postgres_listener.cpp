#include "storage/postgres_listener.h"

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <optional>
#include <string_view>

#include "common/log.h"

namespace meridian::storage::internal {
namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kPollInterval = std::chrono::milliseconds(100);
constexpr auto kCampaignInterval = std::chrono::seconds(1);
constexpr auto kMinBackoff = std::chrono::milliseconds(100);
constexpr auto kMaxBackoff = std::chrono::seconds(2);

struct ConnDeleter {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};
using PgConn = std::unique_ptr<PGconn, ConnDeleter>;
struct ResultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};
using PgResult = std::unique_ptr<PGresult, ResultDeleter>;

PgConn Connect(const std::string& conninfo) {
  // Defaults first; the conninfo (expanded in place of dbname) overrides them.
  const char* const keywords[] = {"connect_timeout", "fallback_application_name", "keepalives", "keepalives_idle",
                                  "keepalives_interval", "keepalives_count", "dbname", nullptr};
  const char* const values[] = {"5", "meridian-listener", "1", "5", "2", "3", conninfo.c_str(), nullptr};
  PgConn conn(PQconnectdbParams(keywords, values, /*expand_dbname=*/1));
  if (conn == nullptr || PQstatus(conn.get()) != CONNECTION_OK) return nullptr;
  PQsetNoticeProcessor(conn.get(), [](void*, const char*) {}, nullptr);
  return conn;
}

bool CommandOk(PGconn* conn, const std::string& sql) {
  PgResult result(PQexec(conn, sql.c_str()));
  return result != nullptr && PQresultStatus(result.get()) == PGRES_COMMAND_OK;
}

// "t" / "f" of a one-row boolean query; nullopt on failure.
std::optional<bool> QueryBool(PGconn* conn, const std::string& sql) {
  PgResult result(PQexec(conn, sql.c_str()));
  if (result == nullptr || PQresultStatus(result.get()) != PGRES_TUPLES_OK || PQntuples(result.get()) != 1)
    return std::nullopt;
  return std::string_view(PQgetvalue(result.get(), 0, 0)) == "t";
}

}  // namespace

PostgresListener::PostgresListener(std::string conninfo, std::string channel, int64_t leader_lock_key,
                                   std::shared_ptr<ChangeHub> hub)
    : conninfo_(std::move(conninfo)),
      channel_(std::move(channel)),
      leader_lock_key_(leader_lock_key),
      hub_(std::move(hub)) {}

PostgresListener::~PostgresListener() { Stop(); }

void PostgresListener::Start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { Run(); });
}

void PostgresListener::Campaign() {
  campaigning_ = true;
  Start();
}

void PostgresListener::Stop() {
  std::lock_guard lock(mu_);
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

void PostgresListener::Run() {
  PgConn conn;
  auto backoff = kMinBackoff;
  auto next_campaign = Clock::now();
  bool reported_down = false;
  auto lost = [&] {
    conn.reset();  // closing the session releases the advisory lock
    leader_ = false;
    hub_->DeliverEverythingChanged();
  };
  while (!stopping_) {
    if (conn == nullptr) {
      conn = Connect(conninfo_);
      if (conn == nullptr || !CommandOk(conn.get(), "LISTEN " + channel_)) {
        conn.reset();
        if (!reported_down) log::Error("storage_listener_disconnected", {{"channel", channel_}});
        reported_down = true;
        auto until = Clock::now() + backoff;
        while (!stopping_ && Clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(20));
        backoff = std::min<std::chrono::milliseconds>(backoff * 2, kMaxBackoff);
        continue;
      }
      backoff = kMinBackoff;
      if (reported_down) log::Info("storage_listener_reconnected", {{"channel", channel_}});
      reported_down = false;
      ++connections_;
      // Whatever was announced while no connection listened is lost.
      hub_->DeliverEverythingChanged();
      next_campaign = Clock::now();
    }
    if (campaigning_ && !leader_ && Clock::now() >= next_campaign) {
      next_campaign = Clock::now() + kCampaignInterval;
      std::optional<bool> taken =
          QueryBool(conn.get(), "SELECT pg_try_advisory_lock(" + std::to_string(leader_lock_key_) + ")");
      if (taken.value_or(false)) {
        leader_ = true;
        log::Info("storage_leader", {{"channel", channel_}});
      }
    }
    pollfd fd{PQsocket(conn.get()), POLLIN, 0};
    if (fd.fd < 0) {
      lost();
      continue;
    }
    int ready = ::poll(&fd, 1, static_cast<int>(kPollInterval.count()));
    if (ready < 0 && errno != EINTR) {
      lost();
      continue;
    }
    if (ready > 0 || PQstatus(conn.get()) != CONNECTION_OK) {
      if (PQconsumeInput(conn.get()) == 0 || PQstatus(conn.get()) != CONNECTION_OK) {
        lost();
        continue;
      }
    }
    ChangeSet changes;
    while (PGnotify* notify = PQnotifies(conn.get())) {
      changes.Decode(notify->extra == nullptr ? "" : notify->extra);
      PQfreemem(notify);
    }
    if (!changes.empty()) hub_->Deliver(changes);
  }
  conn.reset();
  leader_ = false;
}

}  // namespace meridian::storage::internal
