#include "replication/peer_link.h"

#include <algorithm>

#include "crypto/crypto.h"

namespace meridian::replication {
namespace {

constexpr size_t kBatchSize = 256;
constexpr auto kMinBackoff = std::chrono::milliseconds(100);
constexpr auto kMaxBackoff = std::chrono::milliseconds(5000);
constexpr auto kIdlePoll = std::chrono::milliseconds(1000);

}  // namespace

PeerLink::PeerLink(std::string local_region, std::string peer_region, Outbox& outbox,
                   std::unique_ptr<Transport> transport, std::map<std::string, Expander, std::less<>> expanders,
                   const Clock& clock)
    : local_region_(std::move(local_region)),
      peer_region_(std::move(peer_region)),
      outbox_(outbox),
      transport_(std::move(transport)),
      expanders_(std::move(expanders)),
      clock_(clock) {
  state_.peer = peer_region_;
}

PeerLink::~PeerLink() { Stop(); }

void PeerLink::Start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { Run(); });
}

void PeerLink::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void PeerLink::Wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

PeerLinkState PeerLink::State() const {
  PeerLinkState s;
  {
    std::lock_guard lock(mu_);
    s = state_;
  }
  if (auto stats = outbox_.Stats(peer_region_); stats.ok()) {
    s.pending = stats->pending;
    s.lag_ms = stats->pending ? std::max<int64_t>(0, clock_.NowMillis() - stats->oldest_enqueued_ms) : 0;
  }
  return s;
}

Result<bool> PeerLink::DeliverOnce() {
  if (gate_ && !gate_()) return false;  // another frontend delivers
  MERIDIAN_ASSIGN_OR_RETURN(auto entries, outbox_.Peek(peer_region_, kBatchSize));
  if (entries.empty()) return false;
  std::vector<WireEntry> wire;
  wire.reserve(entries.size());
  for (const auto& e : entries) {
    std::string payload = e.message.payload;
    for (const auto& [prefix, expand] : expanders_) {
      if (e.message.kind.compare(0, prefix.size(), prefix) != 0) continue;
      MERIDIAN_ASSIGN_OR_RETURN(payload, expand(e.message));
      break;
    }
    wire.push_back({e.sequence, e.message.kind, std::move(payload)});
  }
  std::string body = EncodeBatch(local_region_, wire);
  for (auto& w : wire) crypto::Cleanse(w.payload);  // may hold expanded key material
  auto response = transport_->Post(kReplicationPath, body);
  crypto::Cleanse(body);
  DeliveryReport report;
  if (observer_) {
    report.peer = peer_region_;
    report.first_sequence = entries.front().sequence;
    report.last_sequence = entries.back().sequence;
    for (const auto& e : entries)
      if (std::find(report.kinds.begin(), report.kinds.end(), e.message.kind) == report.kinds.end())
        report.kinds.push_back(e.message.kind);
  }
  auto applied_or = response.ok() ? DecodeAck(*response) : Result<uint64_t>(response.status());
  if (observer_) {
    report.status = applied_or.status();
    report.applied_through = applied_or.ok() ? *applied_or : 0;
    observer_(report);
  }
  if (!applied_or.ok()) return applied_or.status();
  uint64_t applied = *applied_or;
  if (applied > 0) MERIDIAN_RETURN_IF_ERROR(outbox_.Acknowledge(peer_region_, applied));
  std::lock_guard lock(mu_);
  state_.acknowledged = std::max(state_.acknowledged, applied);
  state_.delivered_entries += entries.size();
  // The peer applied less than we sent: it is missing earlier entries or failed one; back off.
  if (applied < entries.back().sequence)
    return Status("ReplicationError", "peer " + peer_region_ + " applied through " + std::to_string(applied) +
                                          " of " + std::to_string(entries.back().sequence), 502);
  return true;
}

void PeerLink::Run() {
  auto backoff = kMinBackoff;
  std::unique_lock lock(mu_);
  while (!stopping_) {
    lock.unlock();
    auto delivered = DeliverOnce();
    lock.lock();
    if (stopping_) break;
    if (!delivered.ok()) {
      state_.connected = false;
      state_.failures++;
      state_.last_error = delivered.status().message();
      cv_.wait_for(lock, backoff, [this] { return stopping_; });
      backoff = std::min(backoff * 2, kMaxBackoff);
      continue;
    }
    state_.connected = true;
    state_.last_error.clear();
    backoff = kMinBackoff;
    if (*delivered) continue;  // more may be waiting
    cv_.wait_for(lock, kIdlePoll, [this] { return stopping_ || woken_; });
    woken_ = false;
  }
}

}  // namespace meridian::replication
