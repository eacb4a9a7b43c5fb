#include "storage/change_hub.h"

#include <utility>

namespace meridian::storage {

ChangeSubscription::ChangeSubscription(ChangeSubscription&& other) noexcept
    : hub_(std::move(other.hub_)), id_(std::exchange(other.id_, 0)) {}

ChangeSubscription& ChangeSubscription::operator=(ChangeSubscription&& other) noexcept {
  if (this != &other) {
    Reset();
    hub_ = std::move(other.hub_);
    id_ = std::exchange(other.id_, 0);
  }
  return *this;
}

void ChangeSubscription::Reset() {
  if (id_ == 0) return;
  if (auto hub = hub_.lock()) hub->Unsubscribe(id_);
  hub_.reset();
  id_ = 0;
}

namespace internal {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

std::string Hex(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kHexDigits[c >> 4]);
    out.push_back(kHexDigits[c & 0xf]);
  }
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::optional<std::string> Unhex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = HexValue(hex[i]), lo = HexValue(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi << 4 | lo));
  }
  return out;
}

bool IsTableName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

}  // namespace

void ChangeSet::Add(std::string_view table, std::string_view key) {
  auto it = tables_.find(table);
  if (it == tables_.end()) it = tables_.emplace(std::string(table), Entry{}).first;
  Entry& entry = it->second;
  if (entry.whole) return;
  entry.keys.emplace(key);
  if (entry.keys.size() > kMaxKeysPerTable) {
    entry.whole = true;
    entry.keys.clear();
  }
}

void ChangeSet::AddWholeTable(std::string_view table) {
  auto it = tables_.find(table);
  if (it == tables_.end()) it = tables_.emplace(std::string(table), Entry{}).first;
  it->second.whole = true;
  it->second.keys.clear();
}

std::vector<std::string> ChangeSet::Encode() const {
  std::vector<std::string> payloads;
  std::string current;
  auto append = [&](const std::string& line) {
    if (!current.empty() && current.size() + 1 + line.size() > kMaxPayloadBytes) {
      payloads.push_back(std::move(current));
      current.clear();
    }
    if (!current.empty()) current.push_back('\n');
    current += line;
  };
  for (const auto& [table, entry] : tables_) {
    if (entry.whole) {
      append(table + " *");
      continue;
    }
    for (const auto& key : entry.keys) {
      std::string line = table + " " + Hex(key);
      append(line.size() <= kMaxPayloadBytes ? line : table + " *");  // a huge key: the whole table
    }
  }
  if (!current.empty()) payloads.push_back(std::move(current));
  return payloads;
}

void ChangeSet::Decode(std::string_view payload) {
  while (!payload.empty()) {
    size_t end = payload.find('\n');
    std::string_view line = payload.substr(0, end);
    payload = end == std::string_view::npos ? std::string_view() : payload.substr(end + 1);
    size_t space = line.find(' ');
    std::string_view table = line.substr(0, space);
    if (!IsTableName(table)) continue;
    std::string_view rest = space == std::string_view::npos ? std::string_view() : line.substr(space + 1);
    std::optional<std::string> key =
        space == std::string_view::npos || rest == "*" ? std::nullopt : Unhex(rest);
    if (key) {
      Add(table, *key);
    } else {
      AddWholeTable(table);
    }
  }
}

ChangeHub::ChangeHub(std::function<void()> on_first_subscribe) : on_first_subscribe_(std::move(on_first_subscribe)) {}

ChangeSubscription ChangeHub::Subscribe(std::string_view table, ChangeHandler handler) {
  uint64_t id;
  bool first;
  {
    std::lock_guard lock(mu_);
    id = next_id_++;
    subscribers_.emplace(id, Subscriber{std::string(table), std::move(handler)});
    first = !started_;
    started_ = true;
  }
  if (first && on_first_subscribe_) on_first_subscribe_();
  return ChangeSubscription(weak_from_this(), id);
}

void ChangeHub::Unsubscribe(uint64_t id) {
  std::lock_guard delivery(delivery_mu_);
  std::lock_guard lock(mu_);
  subscribers_.erase(id);
}

bool ChangeHub::HasSubscribers() const {
  std::lock_guard lock(mu_);
  return !subscribers_.empty();
}

void ChangeHub::Deliver(const ChangeSet& changes) {
  std::lock_guard delivery(delivery_mu_);
  // Subscribers are added under mu_ only; erased only under delivery_mu_ too, so the map's
  // entries stay valid while handlers run without mu_.
  std::vector<const Subscriber*> subscribers;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, s] : subscribers_) subscribers.push_back(&s);
  }
  changes.ForEach([&](const std::string& table, const std::optional<std::string>& key) {
    for (const Subscriber* s : subscribers) {
      if (s->table == table) s->handler(key);
    }
  });
}

void ChangeHub::DeliverEverythingChanged() {
  std::lock_guard delivery(delivery_mu_);
  std::vector<const Subscriber*> subscribers;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, s] : subscribers_) subscribers.push_back(&s);
  }
  for (const Subscriber* s : subscribers) s->handler(std::nullopt);
}

void AsyncChangeDelivery::Start() {
  std::lock_guard lock(mu_);
  if (running_ || stopped_) return;
  running_ = true;
  thread_ = std::thread([this] { Run(); });
}

void AsyncChangeDelivery::Publish(ChangeSet changes) {
  if (changes.empty() || !hub_->HasSubscribers()) return;
  {
    std::lock_guard lock(mu_);
    if (!running_ || stopped_) return;
    queue_.push_back(std::move(changes));
  }
  cv_.notify_one();
}

void AsyncChangeDelivery::Stop() {
  {
    std::lock_guard lock(mu_);
    stopped_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
  else if (thread_.joinable()) thread_.detach();
}

void AsyncChangeDelivery::Run() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stopped_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopped, all delivered
    ChangeSet changes = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    hub_->Deliver(changes);
    lock.lock();
  }
}

}  // namespace internal
}  // namespace meridian::storage
