#include "audit/audit_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "audit/durable_file.h"
#include "common/encoding.h"
#include "common/log.h"
#include "common/wake_batch.h"

namespace meridian::audit {
namespace {

// The batch buffer is kept between batches up to this size.
constexpr size_t kMaxKeptBatchBuffer = 1 << 20;

Status IoError(const std::string& what) {
  return Status("AuditIoError", what + ": " + std::strerror(errno), 500);
}

Status WriteAll(int fd, std::string_view data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return IoError("audit log write failed");
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

// eventTime of a serialized record or log line (0 when absent).
int64_t EventTimeOf(std::string_view line) {
  constexpr std::string_view kKey = "\"eventTime\":\"";
  size_t pos = line.find(kKey);
  if (pos == std::string_view::npos) return 0;
  pos += kKey.size();
  size_t end = line.find('"', pos);
  if (end == std::string_view::npos) return 0;
  auto t = ParseEventTime(line.substr(pos, end - pos));
  return t.ok() ? *t : 0;
}

// What recovery needs to know about one log file.
struct FileSummary {
  bool has_records = false;
  uint64_t first_sequence = 0;
  uint64_t last_sequence = 0;
  ChainHash last_hash{};
  int64_t last_event_time_ms = 0;
  int64_t event_time_of_wanted = 0;  // eventTime of the record `wanted` if the file holds it
};

Result<FileSummary> Summarize(const DirectoryFile& file, uint64_t wanted) {
  MERIDIAN_ASSIGN_OR_RETURN(std::string contents, ReadWholeFile(file.path));
  SplitContents split = SplitLines(contents);
  FileSummary s;
  for (std::string_view line : split.lines) {
    LineHeader h;
    if (!ParseLineHeader(line, h))
      return Status("AuditLogDamaged",
                    "a record in " + file.name + " is damaged; run `meridian audit verify` on " + file.path, 500);
    if (!s.has_records) s.first_sequence = h.sequence;
    s.has_records = true;
    if (h.sequence == wanted) s.event_time_of_wanted = EventTimeOf(line);
    s.last_sequence = h.sequence;
  }
  if (s.has_records) {
    s.last_hash = LineHash(split.lines.back());
    s.last_event_time_ms = EventTimeOf(split.lines.back());
  }
  return s;
}

}  // namespace

Status AuditUnavailable(std::string detail) {
  return Status("InternalFailure",
                "The request was refused because its audit record could not be written (" + detail + ").", 500);
}

AuditLog::AuditLog(AuditLogOptions options, AuditSigningKey signing_key)
    : options_(std::move(options)), signing_key_(std::move(signing_key)) {}

Result<std::unique_ptr<AuditLog>> AuditLog::Open(AuditLogOptions options, const crypto::RootKey& root_key) {
  if (options.directory.empty() || options.region.empty())
    return Status("InvalidAuditConfiguration", "the audit log needs a directory and a region", 400);
  if (!options.clock) options.clock = &SystemClock::Instance();
  options.max_batch_records = std::max<size_t>(options.max_batch_records, 1);
  options.max_queue_records = std::max<size_t>(options.max_queue_records, 1);
  options.digest_interval_ms = std::max<int64_t>(options.digest_interval_ms, 1);
  std::error_code ec;
  std::filesystem::create_directories(options.directory, ec);
  if (ec) return Status("AuditIoError", "cannot create " + options.directory + ": " + ec.message(), 500);
  ::chmod(options.directory.c_str(), 0700);
  MERIDIAN_ASSIGN_OR_RETURN(AuditSigningKey key,
                            AuditSigningKey::LoadOrCreate(options.directory, options.region, root_key));
  std::unique_ptr<AuditLog> log(new AuditLog(std::move(options), std::move(key)));
  MERIDIAN_RETURN_IF_ERROR(log->Recover());
  log->next_digest_due_ms_ = log->options_.clock->NowMillis() + log->options_.digest_interval_ms;
  log->writer_ = std::thread([raw = log.get()] { raw->Run(); });
  return log;
}

Status AuditLog::Recover() {
  // The last digest: where the signed part of the chain ends.
  MERIDIAN_ASSIGN_OR_RETURN(auto digests, ListDigestFiles(options_.directory));
  uint64_t last_digested = 0;
  std::string last_digest_head;
  if (!digests.empty()) {
    const DirectoryFile& f = digests.back();
    MERIDIAN_ASSIGN_OR_RETURN(std::string text, ReadWholeFile(f.path));
    auto parsed = ParseDigest(text);
    if (!parsed.ok() || !VerifyDigestSignature(*parsed, public_key()) ||
        parsed->digest.digest_sequence != f.number)
      return Status("AuditLogDamaged",
                    "the last audit digest " + f.path + " does not verify; run `meridian audit verify`", 500);
    digest_sequence_ = parsed->digest.digest_sequence;
    last_digest_signature_ = parsed->digest.signature;
    last_digested = parsed->digest.last_sequence;
    last_digest_head = parsed->digest.chain_head_hash;
  }

  // The chain head: the last complete record, searching files from the newest.
  MERIDIAN_ASSIGN_OR_RETURN(auto files, ListLogFiles(options_.directory));
  if (!files.empty()) file_number_ = files.back().number;
  bool head_found = false;
  std::vector<DigestFileRange> undigested;
  for (auto it = files.rbegin(); it != files.rend(); ++it) {
    MERIDIAN_ASSIGN_OR_RETURN(FileSummary s, Summarize(*it, last_digested + 1));
    if (!s.has_records) continue;
    if (!head_found) {
      head_found = true;
      next_sequence_ = s.last_sequence + 1;
      head_hash_ = s.last_hash;
      last_event_time_ms_ = s.last_event_time_ms;
    }
    if (s.last_sequence > last_digested)
      undigested.insert(undigested.begin(),
                        {it->name, std::max(s.first_sequence, last_digested + 1), s.last_sequence});
    if (s.event_time_of_wanted) first_undigested_time_ms_ = s.event_time_of_wanted;
    if (s.first_sequence <= last_digested + 1) break;
  }
  const uint64_t head = next_sequence_ - 1;
  if (last_digested > head)
    return Status("AuditLogDamaged",
                  "the last audit digest names records up to " + std::to_string(last_digested) +
                      " but the log ends at " + std::to_string(head) +
                      " (records were removed); run `meridian audit verify`",
                  500);
  if (last_digested == head && last_digested > 0 &&
      HexEncode(ByteView(head_hash_.data(), head_hash_.size())) != last_digest_head)
    return Status("AuditLogDamaged",
                  "the last audit record does not match the last digest; run `meridian audit verify`", 500);
  first_undigested_ = last_digested + 1;
  undigested_files_ = std::move(undigested);
  last_sequence_ = head;
  return Status::Ok();
}

AuditLog::~AuditLog() { (void)Close(); }

Status AuditLog::Append(AuditRecord record, uint64_t* sequence) {
  struct Waiter {
    std::mutex m;
    std::condition_variable cv;
    bool done = false;
    Status status;
    uint64_t sequence = 0;
  } waiter;
  AppendAsync(std::move(record), [&waiter](const Status& st, uint64_t seq) {
    std::lock_guard<std::mutex> lk(waiter.m);
    waiter.status = st;
    waiter.sequence = seq;
    waiter.done = true;
    waiter.cv.notify_one();
  });
  std::unique_lock<std::mutex> lk(waiter.m);
  waiter.cv.wait(lk, [&] { return waiter.done; });
  if (sequence) *sequence = waiter.sequence;
  return waiter.status;
}

void AuditLog::AppendAsync(AuditRecord record, Completion done) {
  if (record.event_time_ms == 0) record.event_time_ms = options_.clock->NowMillis();
  if (record.event_id.empty()) record.event_id = NewEventId();
  if (record.aws_region.empty()) record.aws_region = options_.region;
  Pending p{SerializeRecord(record), record.event_time_ms, std::move(done)};

  std::unique_lock<std::mutex> lk(mu_);
  const bool fail_closed = options_.failure_policy == FailurePolicy::kFailClosed;
  if (fail_closed)
    space_cv_.wait(lk, [&] { return stopping_ || queue_.size() < options_.max_queue_records; });
  if (stopping_ || queue_.size() >= options_.max_queue_records) {
    lk.unlock();
    if (fail_closed) {
      records_failed_.fetch_add(1);
      p.done(AuditUnavailable("the audit log is closed"), 0);
    } else {
      records_dropped_.fetch_add(1);
      p.done(Status::Ok(), 0);
    }
    return;
  }
  queue_.push_back(std::move(p));
  if (queue_.size() == 1) work_cv_.notify_one();
}

Status AuditLog::WriteDigestNow() {
  std::unique_lock<std::mutex> lk(mu_);
  if (stopping_) return Status("AuditLogClosed", "the audit log is closed", 500);
  const uint64_t ticket = ++digest_requested_;
  work_cv_.notify_one();
  digest_cv_.wait(lk, [&] { return digest_completed_ >= ticket; });
  return digest_status_;
}

Status AuditLog::Close() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (closed_) return final_status_;
    closed_ = true;
    stopping_ = true;
  }
  work_cv_.notify_all();
  space_cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  std::lock_guard<std::mutex> lk(mu_);
  return final_status_;
}

Status AuditLog::Health() const {
  if (!healthy_.load()) return AuditUnavailable("the last write to the audit log failed");
  std::lock_guard<std::mutex> lk(mu_);
  if (stopping_) return AuditUnavailable("the audit log is closed");
  return Status::Ok();
}

AuditLogStats AuditLog::stats() const {
  AuditLogStats s;
  s.records_written = records_written_.load();
  s.batches = batches_.load();
  s.largest_batch = largest_batch_.load();
  s.bytes_written = bytes_written_.load();
  s.records_failed = records_failed_.load();
  s.records_dropped = records_dropped_.load();
  s.digests_written = digests_written_.load();
  s.digest_failures = digest_failures_.load();
  s.last_sequence = last_sequence_.load();
  s.syncs = syncs_.load();
  return s;
}

void AuditLog::Run() {
  std::vector<Pending> batch;
  for (;;) {
    bool stop = false;
    uint64_t digest_ticket = 0;
    {
      std::unique_lock<std::mutex> lk(mu_);
      for (;;) {
        if (!queue_.empty() || stopping_ || digest_requested_ > digest_completed_) break;
        int64_t remaining = next_digest_due_ms_ - options_.clock->NowMillis();
        if (remaining <= 0 || SyncDue()) break;
        int64_t wait_ms = std::clamp<int64_t>(remaining, 1, 1000);
        if (unsynced_) wait_ms = std::min<int64_t>(wait_ms, std::max<int64_t>(options_.sync_interval_ms, 1));
        work_cv_.wait_for(lk, std::chrono::milliseconds(wait_ms));
      }
      const size_t n = std::min(queue_.size(), options_.max_batch_records);
      batch.clear();
      batch.reserve(n);
      for (size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      stop = stopping_ && queue_.empty();
      digest_ticket = digest_requested_;
    }
    space_cv_.notify_all();
    if (!batch.empty()) WriteBatch(batch);
    if (SyncDue()) (void)SyncFile();

    const bool requested = digest_ticket > digest_completed_;
    if (stop || requested || options_.clock->NowMillis() >= next_digest_due_ms_) {
      // Every record completed so far is durable, so the digest covers all of them.
      Status st = WriteDigest();
      next_digest_due_ms_ = options_.clock->NowMillis() + options_.digest_interval_ms;
      std::lock_guard<std::mutex> lk(mu_);
      if (requested) {
        digest_completed_ = digest_ticket;
        digest_status_ = st;
        digest_cv_.notify_all();
      }
      if (stop) {
        final_status_ = st;
        digest_completed_ = digest_requested_;
        digest_cv_.notify_all();
      }
    }
    if (stop) return;
  }
}

Status AuditLog::EnsureFile() {
  const int64_t now = options_.clock->NowMillis();
  if (fd_ >= 0 && (file_size_ >= options_.max_file_bytes || now - file_opened_ms_ >= options_.max_file_age_ms)) {
    (void)SyncFile();  // a failure closes the file itself
    if (fd_ < 0) return EnsureFile();
    ::close(fd_);
    fd_ = -1;
  }
  if (fd_ >= 0) return Status::Ok();
  for (int attempt = 0; attempt < 100; ++attempt) {
    const uint32_t number = file_number_ + 1;
    const std::string path = (std::filesystem::path(options_.directory) / LogFileName(number)).string();
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0 && errno == EEXIST) {
      file_number_ = number;
      continue;
    }
    if (fd < 0) return IoError("cannot create audit log file " + path);
    // The new name must be durable before records in it are acknowledged.
    if (Status st = SyncDirectory(options_.directory); !st.ok()) {
      ::close(fd);
      return st;
    }
    fd_ = fd;
    file_number_ = number;
    file_name_ = LogFileName(number);
    file_size_ = 0;
    file_opened_ms_ = now;
    return Status::Ok();
  }
  return Status("AuditIoError", "cannot find a free audit log file name in " + options_.directory, 500);
}

void AuditLog::Fail(std::vector<Pending>& batch, const Status& error) {
  healthy_.store(false);
  log::Error("audit_write_failed", {{"directory", options_.directory}, {"error", error.ToString()}});
  const bool fail_closed = options_.failure_policy == FailurePolicy::kFailClosed;
  (fail_closed ? records_failed_ : records_dropped_).fetch_add(batch.size());
  const Status reported = fail_closed ? AuditUnavailable(error.message()) : Status::Ok();
  WakeBatch wakes;
  for (Pending& p : batch) p.done(reported, 0);
}

void AuditLog::WriteBatch(std::vector<Pending>& batch) {
  if (poisoned_) {
    Fail(batch, Status("AuditIoError", "an earlier failed write could not be rolled back; reopen the audit log", 500));
    return;
  }
  if (Status st = EnsureFile(); !st.ok()) {
    Fail(batch, st);
    return;
  }
  std::string& buffer = batch_buffer_;  // reused: no allocation per batch once it has grown
  buffer.clear();
  size_t body_bytes = 0;
  for (const Pending& p : batch) body_bytes += p.body.size();
  buffer.reserve(body_bytes + batch.size() * 112);
  ChainHash hash = head_hash_;
  uint64_t sequence = next_sequence_;
  for (const Pending& p : batch) {
    const size_t start = buffer.size();
    AppendLogLine(buffer, sequence++, hash, p.body);
    hash = LineHash(std::string_view(buffer).substr(start));
    buffer.push_back('\n');
  }

  Status st = WriteAll(fd_, buffer);
  const bool synced_mode = options_.durability == Durability::kSynced;
  if (st.ok() && synced_mode) {
    if (::fdatasync(fd_) != 0)
      st = IoError("audit log fdatasync failed");
    else
      syncs_.fetch_add(1);
  }
  if (!st.ok()) {
    // Roll the file back to its last durable record and continue in a new file next time.
    if (::ftruncate(fd_, static_cast<off_t>(file_size_)) != 0 || ::fdatasync(fd_) != 0) poisoned_ = true;
    ::close(fd_);
    fd_ = -1;
    Fail(batch, st);
    return;
  }

  const uint64_t first = next_sequence_;
  const uint64_t last = sequence - 1;
  if (!undigested_files_.empty() && undigested_files_.back().file == file_name_)
    undigested_files_.back().last_sequence = last;
  else
    undigested_files_.push_back({file_name_, first, last});
  if (first_undigested_ == first) first_undigested_time_ms_ = batch.front().event_time_ms;
  last_event_time_ms_ = batch.back().event_time_ms;
  head_hash_ = hash;
  next_sequence_ = sequence;
  file_size_ += buffer.size();

  healthy_.store(true);
  if (!synced_mode) unsynced_ = true;  // in the page cache: survives kill -9, synced soon
  records_written_.fetch_add(batch.size());
  batches_.fetch_add(1);
  bytes_written_.fetch_add(buffer.size());
  last_sequence_.store(last);
  uint64_t largest = largest_batch_.load();
  while (batch.size() > largest && !largest_batch_.compare_exchange_weak(largest, batch.size())) {
  }
  if (buffer.capacity() > kMaxKeptBatchBuffer) std::string().swap(buffer);  // a rare huge batch

  // Completions hand responses to I/O threads: wake each of them once for the whole batch.
  WakeBatch wakes;
  uint64_t seq = first;
  for (Pending& p : batch) p.done(Status::Ok(), seq++);
}

bool AuditLog::SyncDue() const {
  return unsynced_ &&
         std::chrono::steady_clock::now() - last_sync_ >= std::chrono::milliseconds(options_.sync_interval_ms);
}

Status AuditLog::SyncFile() {
  if (!unsynced_ || fd_ < 0) return Status::Ok();
  unsynced_ = false;
  last_sync_ = std::chrono::steady_clock::now();
  if (::fdatasync(fd_) == 0) {
    syncs_.fetch_add(1);
    return Status::Ok();
  }
  // The records were acknowledged already: they stay (no rollback); continue in a new file.
  Status st = IoError("audit log fdatasync failed");
  healthy_.store(false);
  log::Error("audit_sync_failed", {{"directory", options_.directory}, {"error", st.ToString()}});
  ::close(fd_);
  fd_ = -1;
  return st;
}

Status AuditLog::WriteDigest() {
  // A digest only signs synced records.
  if (Status st = SyncFile(); !st.ok()) {
    digest_failures_.fetch_add(1);
    return st;
  }
  const uint64_t head = next_sequence_ - 1;
  if (head < first_undigested_) return Status::Ok();  // nothing new to sign
  Digest d;
  d.region = options_.region;
  d.digest_sequence = digest_sequence_ + 1;
  d.digest_time_ms = options_.clock->NowMillis();
  d.first_event_time_ms = first_undigested_time_ms_;
  d.last_event_time_ms = last_event_time_ms_;
  d.first_sequence = first_undigested_;
  d.last_sequence = head;
  d.chain_head_hash = HexEncode(ByteView(head_hash_.data(), head_hash_.size()));
  d.files = undigested_files_;
  d.previous_digest_signature = last_digest_signature_;
  auto text = SignDigest(d, signing_key_);
  Status st = text.ok() ? WriteFileDurably(
                              (std::filesystem::path(options_.directory) / DigestFileName(d.digest_sequence)).string(),
                              *text, 0644)
                        : text.status();
  if (!st.ok()) {
    digest_failures_.fetch_add(1);
    log::Error("audit_digest_failed", {{"directory", options_.directory}, {"error", st.ToString()}});
    return st;
  }
  digest_sequence_ = d.digest_sequence;
  last_digest_signature_ = d.signature;
  first_undigested_ = head + 1;
  first_undigested_time_ms_ = 0;
  undigested_files_.clear();
  digests_written_.fetch_add(1);
  return Status::Ok();
}

}  // namespace meridian::audit
