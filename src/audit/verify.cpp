#include "audit/verify.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <unordered_map>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "audit/digest.h"
#include "audit/log_format.h"
#include "audit/record.h"
#include "audit/signing_key.h"
#include "common/aws_json.h"
#include "common/encoding.h"

namespace meridian::audit {
namespace {

struct HashKey {
  size_t operator()(const ChainHash& h) const {
    size_t v;
    std::memcpy(&v, h.data(), sizeof v);
    return v;
  }
};

// One complete line of a log file.
struct Entry {
  size_t file = 0;  // index into the file list
  size_t line = 0;  // 1-based
  std::string_view bytes;
  bool header_ok = false;
  bool json_ok = false;
  uint64_t sequence = 0;  // as written in the line
  ChainHash previous{};
  ChainHash hash{};
  int64_t time_ms = 0;
  bool consumed = false;       // part of the reconstructed chain
  uint64_t chain_sequence = 0;  // its position in the chain
  bool altered = false;        // reported as altered
};

struct TornTail {
  size_t file;
  size_t line;
  size_t bytes;
};

struct DigestInfo {
  DirectoryFile file;
  bool parsed = false;
  bool signature_ok = false;
  ParsedDigest digest;
};

std::string Range(uint64_t a, uint64_t b) {
  return a == b ? "record " + std::to_string(a) : "records " + std::to_string(a) + ".." + std::to_string(b);
}

class Verifier {
 public:
  Verifier(const VerifyOptions& options, VerifyReport& report) : options_(options), report_(report) {}

  Status Run();

 private:
  Status LoadKey();
  Status LoadLogs();
  Status LoadDigests();
  void WalkChain();
  void CheckOrder();
  void CheckDigests();
  void CheckTail();
  void ApplyTimeRange();

  void Add(FindingKind kind, Severity severity, std::string message, const Entry* at = nullptr,
           uint64_t first = 0, uint64_t last = 0, uint64_t digest = 0) {
    Finding f{kind, severity, "", 0, first, last, digest, std::move(message)};
    if (at) {
      f.file = files_[at->file].name;
      f.line = at->line;
    }
    report_.findings.push_back(std::move(f));
  }
  std::string Where(const Entry& e) const { return files_[e.file].name + ":" + std::to_string(e.line); }
  bool HasSuccessor(const Entry& e) const {
    auto [b, end] = by_previous_.equal_range(e.hash);
    for (auto it = b; it != end; ++it)
      if (entries_[it->second].sequence == e.sequence + 1) return true;
    return false;
  }
  bool HasPredecessor(const Entry& e) const { return by_hash_.count(e.previous) > 0; }

  const VerifyOptions& options_;
  VerifyReport& report_;
  std::optional<AuditPublicKey> key_;
  std::vector<DirectoryFile> files_;
  std::vector<std::string> contents_;
  std::vector<Entry> entries_;  // complete lines, in file order
  std::vector<TornTail> torn_;
  std::vector<size_t> unreadable_;  // entries whose chain members cannot be read
  std::unordered_multimap<ChainHash, size_t, HashKey> by_previous_;
  std::unordered_map<ChainHash, size_t, HashKey> by_hash_;  // first occurrence
  std::multimap<uint64_t, size_t> by_sequence_;
  std::map<uint64_t, size_t> chain_;  // chain sequence -> entry
  uint64_t chain_end_ = 0;
  std::vector<DigestInfo> digests_;
  std::map<uint64_t, ChainHash> signed_heads_;  // lastSequence -> chain head, from verified digests
  uint64_t last_signed_ = 0;
  uint64_t last_signed_digest_ = 0;
};

Status Verifier::LoadKey() {
  std::string path = options_.public_key_path;
  report_.public_key_from_directory = path.empty();
  if (path.empty()) path = (std::filesystem::path(options_.directory) / kPublicKeyFileName).string();
  report_.public_key_path = path;
  auto pem = ReadWholeFile(path);
  if (!pem.ok())
    return Status("AuditPublicKeyMissing", "cannot read the audit public key " + path + ": pass --public-key", 400);
  MERIDIAN_ASSIGN_OR_RETURN(AuditPublicKey key, AuditPublicKey::FromPem(*pem));
  report_.public_key_fingerprint = key.Fingerprint();
  key_ = std::move(key);
  return Status::Ok();
}

Status Verifier::LoadLogs() {
  MERIDIAN_ASSIGN_OR_RETURN(files_, ListLogFiles(options_.directory));
  report_.log_files = files_.size();
  contents_.reserve(files_.size());
  for (size_t f = 0; f < files_.size(); ++f) {
    if (f > 0 && files_[f].number != files_[f - 1].number + 1)
      Add(FindingKind::kLogFileMissing, Severity::kWarning,
          "log file numbering jumps from " + files_[f - 1].name + " to " + files_[f].name +
              ": a file was deleted (any records it held are reported as removed)");
    MERIDIAN_ASSIGN_OR_RETURN(std::string text, ReadWholeFile(files_[f].path));
    contents_.push_back(std::move(text));
  }
  for (size_t f = 0; f < files_.size(); ++f) {
    SplitContents split = SplitLines(contents_[f]);
    for (size_t i = 0; i < split.lines.size(); ++i) {
      Entry e;
      e.file = f;
      e.line = i + 1;
      e.bytes = split.lines[i];
      e.hash = LineHash(e.bytes);
      LineHeader h;
      e.header_ok = ParseLineHeader(e.bytes, h);
      e.sequence = h.sequence;
      e.previous = h.previous;
      rapidjson::Document d;
      d.Parse(e.bytes.data(), e.bytes.size());
      e.json_ok = !d.HasParseError() && d.IsObject();
      if (e.json_ok) {
        auto t = d.FindMember("eventTime");
        if (t != d.MemberEnd() && t->value.IsString())
          if (auto ms = ParseEventTime(t->value.GetString()); ms.ok()) e.time_ms = *ms;
      }
      entries_.push_back(e);
    }
    if (!split.torn_tail.empty()) torn_.push_back({f, split.lines.size() + 1, split.torn_tail.size()});
  }
  for (size_t i = 0; i < entries_.size(); ++i) {
    const Entry& e = entries_[i];
    if (!e.header_ok) {
      unreadable_.push_back(i);
      continue;
    }
    by_previous_.emplace(e.previous, i);
    by_hash_.emplace(e.hash, i);
    by_sequence_.emplace(e.sequence, i);
  }
  report_.records = entries_.size();
  return Status::Ok();
}

// Reconstructs the chain by following hash links from the genesis, and explains every break.
void Verifier::WalkChain() {
  const ChainHash genesis = GenesisHash();
  ChainHash cur_hash = genesis;
  uint64_t cur_seq = 0;
  const Entry* cur = nullptr;  // nullptr: the genesis
  bool cur_altered = false;    // cur's bytes are known to be changed: the next link is expected to fail
  size_t unreadable_used = 0;

  auto accept = [&](size_t idx, uint64_t seq) {
    Entry& e = entries_[idx];
    e.consumed = true;
    e.chain_sequence = seq;
    chain_[seq] = idx;
    cur = &e;
    cur_hash = e.hash;
    cur_seq = seq;
    if (!e.json_ok && !e.altered) {
      e.altered = true;
      Add(FindingKind::kRecordAltered, Severity::kTampering,
          "record " + std::to_string(seq) + " at " + Where(e) + " was altered: it is no longer valid JSON", &e, seq,
          seq);
    }
    cur_altered = e.altered;
  };
  // Best candidate first: one that the next record links to, then the one nearest after cur in
  // file order (so that of two identical lines the one in place is the chain's).
  auto rank = [&](std::vector<size_t>& candidates) {
    const size_t here = cur ? static_cast<size_t>(cur - entries_.data()) : 0;
    auto key = [&](size_t i) {
      const size_t distance = i >= here ? i - here : entries_.size() + i;
      return std::make_pair(HasSuccessor(entries_[i]) ? 0 : 1, distance);
    };
    std::sort(candidates.begin(), candidates.end(), [&](size_t a, size_t c) { return key(a) < key(c); });
  };
  // Unconsumed entries claiming `seq`, best first.
  auto claimants = [&](uint64_t seq) {
    std::vector<size_t> out;
    auto [b, end] = by_sequence_.equal_range(seq);
    for (auto it = b; it != end; ++it)
      if (!entries_[it->second].consumed) out.push_back(it->second);
    rank(out);
    return out;
  };

  for (;;) {
    const uint64_t k = cur_seq + 1;
    // 1. The successor by hash with the right sequence number.
    std::vector<size_t> linked, linked_other_seq;
    {
      auto [b, end] = by_previous_.equal_range(cur_hash);
      for (auto it = b; it != end; ++it) {
        const Entry& e = entries_[it->second];
        if (e.consumed) continue;
        (e.sequence == k ? linked : linked_other_seq).push_back(it->second);
      }
    }
    if (!linked.empty()) {
      rank(linked);
      accept(linked.front(), k);
      continue;
    }
    // 1b. Linked by hash but with another sequence number: its sequence field was changed.
    if (!linked_other_seq.empty()) {
      Entry& e = entries_[linked_other_seq.front()];
      e.altered = true;
      Add(FindingKind::kRecordAltered, Severity::kTampering,
          "record " + std::to_string(k) + " at " + Where(e) + " was altered: its sequence field reads " +
              std::to_string(e.sequence),
          &e, k, k);
      accept(linked_other_seq.front(), k);
      continue;
    }
    // 2. Entries claiming sequence k that do not link to cur.
    std::vector<size_t> ck = claimants(k);
    if (!ck.empty()) {
      Entry& x = entries_[ck.front()];
      if (cur_altered) {
        // The break is the consequence of cur's alteration, already reported.
      } else if (HasSuccessor(x)) {
        // x is genuine (record k+1 links to it), so cur's bytes changed.
        if (cur) {
          Entry& c = entries_[chain_[cur_seq]];
          c.altered = true;
          Add(FindingKind::kRecordAltered, Severity::kTampering,
              "record " + std::to_string(cur_seq) + " at " + Where(c) +
                  " was altered: its hash no longer matches the previousHash stored in record " + std::to_string(k),
              &c, cur_seq, cur_seq);
        } else {
          Add(FindingKind::kRecordAltered, Severity::kTampering,
              "record 1 at " + Where(x) + " was altered: its previousHash is not the genesis hash", &x, 1, 1);
        }
      } else {
        const bool x_is_last = by_sequence_.upper_bound(k) == by_sequence_.end();
        // With nothing after x, a digest that signed cur or x tells which side changed.
        int verdict = 0;  // 1: cur altered, 2: x altered
        if (auto h = signed_heads_.find(cur_seq); cur && h != signed_heads_.end())
          verdict = h->second == cur->hash ? 2 : 1;
        else if (auto hx = signed_heads_.find(k); hx != signed_heads_.end())
          verdict = hx->second == x.hash ? 1 : 2;
        if (x_is_last && verdict == 1) {
          Entry& c = entries_[chain_[cur_seq]];
          c.altered = true;
          Add(FindingKind::kRecordAltered, Severity::kTampering,
              "record " + std::to_string(cur_seq) + " at " + Where(c) +
                  " was altered: its hash matches neither the signed chain head nor the link in record " +
                  std::to_string(k),
              &c, cur_seq, cur_seq);
        } else if (x_is_last && verdict == 0) {
          // Nothing after x to tell which side changed; the digests may (CheckDigests).
          Add(FindingKind::kChainBroken, Severity::kTampering,
              "the link between record " + std::to_string(cur_seq) + " and record " + std::to_string(k) + " at " +
                  Where(x) + " is broken: one of them was altered",
              &x, cur_seq ? cur_seq : k, k);
        } else {
          x.altered = true;
          Add(FindingKind::kRecordAltered, Severity::kTampering,
              "record " + std::to_string(k) + " at " + Where(x) + " was altered: its previousHash does not match record " +
                  std::to_string(cur_seq),
              &x, k, k);
        }
      }
      accept(ck.front(), k);
      continue;
    }
    // 3. Nothing claims k: find the next sequence number present.
    auto next = by_sequence_.upper_bound(cur_seq);
    while (next != by_sequence_.end() && entries_[next->second].consumed) ++next;
    if (next == by_sequence_.end()) break;  // end of the chain
    const uint64_t m = next->first;
    std::vector<size_t> cm = claimants(m);
    Entry& y = entries_[cm.front()];
    // Unreadable lines between cur and y in file order stand for the missing records.
    size_t cur_pos = cur ? static_cast<size_t>(cur - entries_.data()) : 0;
    size_t y_pos = cm.front();
    uint64_t missing = m - k;
    std::vector<size_t> between;
    for (size_t u = unreadable_used; u < unreadable_.size(); ++u)
      if ((cur == nullptr || unreadable_[u] > cur_pos) && unreadable_[u] < y_pos) between.push_back(unreadable_[u]);
    if (!between.empty() && between.size() == missing) {
      for (size_t j = 0; j < between.size(); ++j) {
        Entry& u = entries_[between[j]];
        u.altered = true;
        u.consumed = true;
        u.chain_sequence = k + j;
        chain_[k + j] = between[j];
        Add(FindingKind::kRecordAltered, Severity::kTampering,
            "record " + std::to_string(k + j) + " at " + Where(u) +
                " was altered: its sequence and previousHash members are unreadable",
            &u, k + j, k + j);
      }
      unreadable_used += between.size();
      cur_altered = true;
      cur_seq = m - 1;
      cur = nullptr;
      cur_hash = entries_[between.back()].hash;
      accept(cm.front(), m);
      cur_altered = false;
      continue;
    }
    const bool y_linked = HasSuccessor(y) || m <= last_signed_;
    if (y_linked) {
      Add(FindingKind::kRecordRemoved, Severity::kTampering,
          Range(k, m - 1) + (missing == 1 ? " was" : " were") + " removed: record " + std::to_string(m) + " at " +
              Where(y) + " follows record " + std::to_string(cur_seq),
          &y, k, m - 1);
    } else {
      Add(FindingKind::kChainBroken, Severity::kTampering,
          "record " + std::to_string(m) + " at " + Where(y) + " does not link to record " + std::to_string(cur_seq) +
              ": " + Range(k, m - 1) + " removed, or record " + std::to_string(m) + " inserted",
          &y, k, m);
    }
    cur_altered = false;
    accept(cm.front(), m);
  }
  chain_end_ = cur_seq;

  // Lines that are not part of the chain.
  for (size_t u = unreadable_used; u < unreadable_.size(); ++u) {
    Entry& e = entries_[unreadable_[u]];
    if (e.consumed) continue;
    Add(FindingKind::kRecordAltered, Severity::kTampering,
        "the line at " + Where(e) + " is not a readable record (altered or inserted)", &e);
  }
  std::unordered_map<ChainHash, size_t, HashKey> chain_by_hash;
  for (size_t i = 0; i < entries_.size(); ++i)
    if (entries_[i].consumed) chain_by_hash.emplace(entries_[i].hash, i);
  for (Entry& e : entries_) {
    if (e.consumed || !e.header_ok) continue;
    auto dup = chain_by_hash.find(e.hash);
    if (dup != chain_by_hash.end()) {
      const uint64_t s = entries_[dup->second].chain_sequence;
      Add(FindingKind::kRecordInserted, Severity::kTampering,
          "the line at " + Where(e) + " is an inserted copy of record " + std::to_string(s) + " (" +
              Where(entries_[dup->second]) + ")",
          &e, s, s);
    } else {
      Add(FindingKind::kRecordInserted, Severity::kTampering,
          "the record at " + Where(e) + " (claiming sequence " + std::to_string(e.sequence) +
              ") was inserted: no record of the chain links to it",
          &e, e.sequence, e.sequence);
    }
  }
}

// Chain order must be file order.
void Verifier::CheckOrder() {
  std::vector<const Entry*> chain;
  for (const Entry& e : entries_)
    if (e.consumed) chain.push_back(&e);
  std::vector<uint64_t> sorted;
  for (const Entry* e : chain) sorted.push_back(e->chain_sequence);
  std::sort(sorted.begin(), sorted.end());
  size_t i = 0;
  while (i < chain.size()) {
    if (chain[i]->chain_sequence == sorted[i]) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < chain.size() && chain[j]->chain_sequence != sorted[j]) ++j;
    std::string found;
    for (size_t p = i; p < j && p < i + 16; ++p) found += (p > i ? ", " : "") + std::to_string(chain[p]->chain_sequence);
    if (j - i > 16) found += ", ...";
    Add(FindingKind::kRecordsReordered, Severity::kTampering,
        Range(sorted[i], sorted[j - 1]) + " are out of order starting at " + Where(*chain[i]) + " (found order: " +
            found + ")",
        chain[i], sorted[i], sorted[j - 1]);
    i = j;
  }
}

Status Verifier::LoadDigests() {
  MERIDIAN_ASSIGN_OR_RETURN(auto files, ListDigestFiles(options_.directory));
  report_.digest_files = files.size();
  for (const DirectoryFile& f : files) {
    DigestInfo info;
    info.file = f;
    auto text = ReadWholeFile(f.path);
    if (text.ok()) {
      auto parsed = ParseDigest(*text);
      if (parsed.ok()) {
        info.parsed = true;
        info.digest = std::move(*parsed);
        info.signature_ok = VerifyDigestSignature(info.digest, *key_);
      }
    }
    digests_.push_back(std::move(info));
  }
  return Status::Ok();
}

void Verifier::CheckDigests() {
  std::map<uint64_t, const DigestInfo*> valid;  // by digestSequence
  std::set<uint64_t> occupied;                  // file numbers of digests that are present
  auto add_digest = [&](FindingKind kind, const DigestInfo& d, uint64_t seq, std::string message,
                        uint64_t first = 0, uint64_t last = 0) {
    Finding f{kind, Severity::kTampering, d.file.name, 0, first, last, seq, std::move(message)};
    report_.findings.push_back(std::move(f));
  };
  for (const DigestInfo& d : digests_) {
    occupied.insert(d.file.number);
    if (!d.parsed) {
      add_digest(FindingKind::kDigestAltered, d, d.file.number,
                 "digest file " + d.file.name + " was altered: it is not a well-formed digest");
      continue;
    }
    const Digest& g = d.digest.digest;
    if (!d.signature_ok) {
      std::string why = g.public_key_fingerprint == report_.public_key_fingerprint
                            ? "its signature does not verify"
                            : "its signature does not verify with the trusted public key (it names key " +
                                  g.public_key_fingerprint.substr(0, 16) + "...)";
      add_digest(FindingKind::kDigestAltered, d, d.file.number, "digest file " + d.file.name + " was altered: " + why,
                 g.first_sequence, g.last_sequence);
      continue;
    }
    if (g.digest_sequence != d.file.number) {
      add_digest(FindingKind::kDigestMisplaced, d, g.digest_sequence,
                 "digest file " + d.file.name + " holds digest #" + std::to_string(g.digest_sequence) +
                     ": digest files were swapped, renamed or copied");
    }
    if (!options_.region.empty() && g.region != options_.region)
      add_digest(FindingKind::kDigestWrongRegion, d, g.digest_sequence,
                 "digest #" + std::to_string(g.digest_sequence) + " belongs to region " + g.region + ", not " +
                     options_.region);
    if (report_.region.empty()) report_.region = g.region;
    if (!valid.count(g.digest_sequence)) valid[g.digest_sequence] = &d;
  }

  // Removed digests: sequence numbers below the highest that no file holds.
  uint64_t highest = 0;
  if (!valid.empty()) highest = valid.rbegin()->first;
  if (!occupied.empty()) highest = std::max<uint64_t>(highest, *occupied.rbegin());
  for (uint64_t j = 1; j <= highest; ++j) {
    if (valid.count(j) || occupied.count(j)) continue;
    Finding f{FindingKind::kDigestRemoved, Severity::kTampering, DigestFileName(static_cast<uint32_t>(j)), 0, 0, 0, j,
              "digest #" + std::to_string(j) + " (" + DigestFileName(static_cast<uint32_t>(j)) + ") was removed"};
    report_.findings.push_back(std::move(f));
  }

  for (const auto& [seq, d] : valid) {
    const Digest& g = d->digest.digest;
    // The digest chain.
    if (seq == 1) {
      if (!g.previous_digest_signature.empty() || g.first_sequence != 1)
        add_digest(FindingKind::kDigestChainBroken, *d, seq,
                   "digest #1 does not start the digest chain (it names a previous digest or starts after record 1)");
    } else if (auto prev = valid.find(seq - 1); prev != valid.end()) {
      const Digest& p = prev->second->digest.digest;
      if (g.previous_digest_signature != p.signature)
        add_digest(FindingKind::kDigestChainBroken, *d, seq,
                   "digest #" + std::to_string(seq) + " does not chain to digest #" + std::to_string(seq - 1) +
                       ": its previousDigestSignature differs (a digest was replaced)");
      else if (g.first_sequence != p.last_sequence + 1)
        add_digest(FindingKind::kDigestRangeGap, *d, seq,
                   "digest #" + std::to_string(seq) + " starts at record " + std::to_string(g.first_sequence) +
                       " but digest #" + std::to_string(seq - 1) + " ends at " + std::to_string(p.last_sequence),
                   g.first_sequence, g.last_sequence);
    }
    // The log files it names.
    for (const DigestFileRange& r : g.files) {
      bool present = std::any_of(files_.begin(), files_.end(), [&](const DirectoryFile& f) { return f.name == r.file; });
      if (!present)
        add_digest(FindingKind::kLogFileMissing, *d, seq,
                   "log file " + r.file + " (" + Range(r.first_sequence, r.last_sequence) + "), named by digest #" +
                       std::to_string(seq) + ", is missing",
                   r.first_sequence, r.last_sequence);
    }
    // The signed chain head.
    if (g.last_sequence > last_signed_) {
      last_signed_ = g.last_sequence;
      last_signed_digest_ = seq;
    }
    auto head = chain_.find(g.last_sequence);
    if (head == chain_.end()) continue;  // missing: reported as removed or as a truncated tail
    const Entry& e = entries_[head->second];
    if (HexEncode(ByteView(e.hash.data(), e.hash.size())) == g.chain_head_hash) continue;
    bool explained = false;
    for (auto it = chain_.lower_bound(g.first_sequence); it != chain_.end() && it->first <= g.last_sequence; ++it)
      explained = explained || entries_[it->second].altered;
    if (explained) continue;
    Finding f{FindingKind::kDigestHeadMismatch, Severity::kTampering, files_[e.file].name, e.line, g.first_sequence,
              g.last_sequence, seq,
              "record " + std::to_string(g.last_sequence) + " at " + Where(e) + " is not the chain head signed by digest #" +
                  std::to_string(seq) + ": it was altered, or " + Range(g.first_sequence, g.last_sequence) +
                  " were altered and the hash chain rewritten to hide it"};
    report_.findings.push_back(std::move(f));
  }
}

void Verifier::CheckTail() {
  report_.last_sequence = chain_end_;
  report_.first_sequence = chain_.empty() ? 0 : chain_.begin()->first;
  report_.last_signed_sequence = last_signed_;
  if (last_signed_ > chain_end_) {
    std::string torn;
    if (!torn_.empty() && torn_.back().file + 1 == files_.size())
      torn = " (the last line of " + files_.back().name + " is cut short)";
    Finding f{FindingKind::kTailTruncated, Severity::kTampering, files_.empty() ? "" : files_.back().name, 0,
              chain_end_ + 1, last_signed_, last_signed_digest_,
              "the log was truncated: " + Range(chain_end_ + 1, last_signed_) + ", signed by digest #" +
                  std::to_string(last_signed_digest_) + ", " + (last_signed_ - chain_end_ == 1 ? "is" : "are") +
                  " missing at the end" + torn};
    report_.findings.push_back(std::move(f));
  }
  const bool records_missing = std::any_of(report_.findings.begin(), report_.findings.end(), [](const Finding& f) {
    return f.kind == FindingKind::kRecordRemoved || f.kind == FindingKind::kChainBroken;
  });
  for (const TornTail& t : torn_) {
    const bool last_file = t.file + 1 == files_.size();
    if (last_file && last_signed_ > chain_end_) continue;  // part of the truncation above
    Finding f{FindingKind::kCrashTornTail, Severity::kWarning, files_[t.file].name, t.line, 0, 0, 0,
              "the last line of " + files_[t.file].name + " is incomplete (" + std::to_string(t.bytes) +
                  " bytes without a newline): an append was interrupted by a crash and that record was never "
                  "acknowledged" +
                  (records_missing ? std::string()
                                   : std::string("; not tampering: every record signed by a digest is present")) +
                  (last_file ? "" : ", and the chain continues in the next file")};
    report_.findings.push_back(std::move(f));
  }
  if (chain_end_ > last_signed_) {
    Finding f{FindingKind::kUnsignedTail, Severity::kInfo, "", 0, last_signed_ + 1, chain_end_, 0,
              Range(last_signed_ + 1, chain_end_) +
                  " came after the last digest: their chain is intact, but their removal would not be detectable "
                  "until the next digest"};
    report_.findings.push_back(std::move(f));
  }
}

void Verifier::ApplyTimeRange() {
  if (!options_.from_ms && !options_.to_ms) return;
  const int64_t from = options_.from_ms.value_or(INT64_MIN);
  const int64_t to = options_.to_ms.value_or(INT64_MAX);
  uint64_t first = UINT64_MAX, last = 0, count = 0;
  for (const auto& [seq, idx] : chain_) {
    const int64_t t = entries_[idx].time_ms;
    if (t < from || t > to) continue;
    first = std::min(first, seq);
    last = std::max(last, seq);
    ++count;
  }
  report_.records = count;
  std::map<uint64_t, std::pair<int64_t, int64_t>> digest_times;
  for (const DigestInfo& d : digests_)
    if (d.parsed)
      digest_times[d.digest.digest.digest_sequence] = {d.digest.digest.first_event_time_ms,
                                                       d.digest.digest.last_event_time_ms};
  std::vector<Finding> kept;
  for (Finding& f : report_.findings) {
    bool keep = true;
    if (f.first_sequence) {
      keep = count > 0 && f.last_sequence >= first && f.first_sequence <= last;
      // A gap right after the range's last record still concerns the range.
      keep = keep || (count > 0 && f.first_sequence == last + 1 && f.kind != FindingKind::kUnsignedTail);
    } else if (f.digest_sequence) {
      auto it = digest_times.find(f.digest_sequence);
      keep = it == digest_times.end() || (it->second.second >= from && it->second.first <= to);
    }
    if (keep) kept.push_back(std::move(f));
  }
  report_.findings = std::move(kept);
}

Status Verifier::Run() {
  report_.directory = options_.directory;
  report_.region = options_.region;
  MERIDIAN_RETURN_IF_ERROR(LoadKey());
  MERIDIAN_RETURN_IF_ERROR(LoadLogs());
  MERIDIAN_RETURN_IF_ERROR(LoadDigests());
  // The highest signed sequence is needed while walking (to tell removals from insertions).
  for (const DigestInfo& d : digests_) {
    if (!d.parsed || !d.signature_ok) continue;
    const Digest& g = d.digest.digest;
    last_signed_ = std::max(last_signed_, g.last_sequence);
    auto head = HexDecode(g.chain_head_hash);
    if (head && head->size() == sizeof(ChainHash)) {
      ChainHash h;
      std::copy(head->begin(), head->end(), h.begin());
      signed_heads_[g.last_sequence] = h;
    }
  }
  WalkChain();
  CheckOrder();
  last_signed_ = 0;
  CheckDigests();
  CheckTail();
  ApplyTimeRange();
  std::stable_sort(report_.findings.begin(), report_.findings.end(), [](const Finding& a, const Finding& b) {
    return static_cast<int>(a.severity) < static_cast<int>(b.severity);
  });
  report_.intact = std::none_of(report_.findings.begin(), report_.findings.end(),
                                [](const Finding& f) { return f.severity == Severity::kTampering; });
  return Status::Ok();
}

}  // namespace

std::string_view FindingKindName(FindingKind kind) {
  switch (kind) {
    case FindingKind::kRecordAltered: return "record-altered";
    case FindingKind::kRecordRemoved: return "record-removed";
    case FindingKind::kRecordInserted: return "record-inserted";
    case FindingKind::kRecordsReordered: return "records-reordered";
    case FindingKind::kChainBroken: return "chain-broken";
    case FindingKind::kTailTruncated: return "tail-truncated";
    case FindingKind::kCrashTornTail: return "crash-torn-tail";
    case FindingKind::kUnsignedTail: return "unsigned-tail";
    case FindingKind::kLogFileMissing: return "log-file-missing";
    case FindingKind::kDigestAltered: return "digest-altered";
    case FindingKind::kDigestRemoved: return "digest-removed";
    case FindingKind::kDigestMisplaced: return "digest-misplaced";
    case FindingKind::kDigestChainBroken: return "digest-chain-broken";
    case FindingKind::kDigestRangeGap: return "digest-range-gap";
    case FindingKind::kDigestHeadMismatch: return "digest-head-mismatch";
    case FindingKind::kDigestWrongRegion: return "digest-wrong-region";
  }
  return "unknown";
}

std::string_view SeverityName(Severity severity) {
  switch (severity) {
    case Severity::kTampering: return "tampering";
    case Severity::kWarning: return "warning";
    case Severity::kInfo: return "info";
  }
  return "unknown";
}

Result<VerifyReport> VerifyAuditDirectory(const VerifyOptions& options) {
  VerifyReport report;
  Verifier verifier(options, report);
  MERIDIAN_RETURN_IF_ERROR(verifier.Run());
  return report;
}

std::string VerifyReportToJson(const VerifyReport& r) {
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  w.Key("intact");
  w.Bool(r.intact);
  w.Key("directory");
  w.String(r.directory);
  w.Key("region");
  w.String(r.region);
  w.Key("publicKey");
  w.String(r.public_key_path);
  w.Key("publicKeyFromDirectory");
  w.Bool(r.public_key_from_directory);
  w.Key("publicKeyFingerprint");
  w.String(r.public_key_fingerprint);
  w.Key("logFiles");
  w.Uint64(r.log_files);
  w.Key("digestFiles");
  w.Uint64(r.digest_files);
  w.Key("records");
  w.Uint64(r.records);
  w.Key("firstSequence");
  w.Uint64(r.first_sequence);
  w.Key("lastSequence");
  w.Uint64(r.last_sequence);
  w.Key("lastSignedSequence");
  w.Uint64(r.last_signed_sequence);
  w.Key("findings");
  w.StartArray();
  for (const Finding& f : r.findings) {
    w.StartObject();
    w.Key("kind");
    w.String(std::string(FindingKindName(f.kind)));
    w.Key("severity");
    w.String(std::string(SeverityName(f.severity)));
    if (!f.file.empty()) {
      w.Key("file");
      w.String(f.file);
    }
    if (f.line) {
      w.Key("line");
      w.Uint64(f.line);
    }
    if (f.first_sequence) {
      w.Key("firstSequence");
      w.Uint64(f.first_sequence);
      w.Key("lastSequence");
      w.Uint64(f.last_sequence);
    }
    if (f.digest_sequence) {
      w.Key("digestSequence");
      w.Uint64(f.digest_sequence);
    }
    w.Key("message");
    w.String(f.message);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize()) + "\n";
}

std::string VerifyReportToText(const VerifyReport& r) {
  std::ostringstream out;
  out << "Audit trail " << r.directory << (r.region.empty() ? "" : " (region " + r.region + ")") << "\n";
  out << "  " << r.log_files << " log file(s), " << r.digest_files << " digest(s); chain "
      << (r.last_sequence ? Range(r.first_sequence, r.last_sequence) : std::string("empty")) << ", signed through "
      << (r.last_signed_sequence ? "record " + std::to_string(r.last_signed_sequence) : std::string("nothing yet"))
      << "\n";
  out << "  public key " << r.public_key_path << " (" << r.public_key_fingerprint.substr(0, 16) << "...)";
  if (r.public_key_from_directory)
    out << "\n  note: this is the directory's own copy of the key; pass --public-key with a copy kept elsewhere to "
           "rule out a replaced key";
  out << "\n";
  size_t tampering = std::count_if(r.findings.begin(), r.findings.end(),
                                   [](const Finding& f) { return f.severity == Severity::kTampering; });
  out << (r.intact ? "RESULT: INTACT" : "RESULT: TAMPERING DETECTED (" + std::to_string(tampering) + " finding(s))")
      << "\n";
  for (const Finding& f : r.findings) {
    std::string sev(SeverityName(f.severity));
    for (char& c : sev) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    out << "  [" << sev << "] " << FindingKindName(f.kind);
    if (!f.file.empty()) out << "  " << f.file << (f.line ? ":" + std::to_string(f.line) : "");
    out << "\n      " << f.message << "\n";
  }
  return out.str();
}

}  // namespace meridian::audit
