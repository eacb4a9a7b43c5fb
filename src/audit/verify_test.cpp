// Verification: an untouched log verifies; each kind of tampering is pinpointed.
#include "audit/verify.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "audit/digest.h"
#include "audit/log_format.h"
#include "audit/test_util.h"
#include "common/encoding.h"

namespace meridian::audit {
namespace {

using testing::JoinLines;
using testing::Lines;
using testing::ReadFile;
using testing::SampleRecord;
using testing::WriteFile;

// One line of the log, as the tests edit it.
struct LogLine {
  std::string file;  // path
  std::string text;
};

class VerifyTest : public testing::AuditDirTest {
 protected:
  // 30 records over several files (rotation at 3000 bytes), digests after 10, 20 and 30.
  void SetUp() override {
    AuditDirTest::SetUp();
    auto o = Options();
    o.max_file_bytes = 3000;
    auto log = OpenLog(o);
    for (int i = 1; i <= 30; ++i) {
      ASSERT_TRUE(log->Append(SampleRecord(i, i % 3 ? "Encrypt" : "Decrypt")).ok());
      if (i % 10 == 0 && i < 30) {
        ASSERT_TRUE(log->WriteDigestNow().ok());
      }
    }
    ASSERT_TRUE(log->Close().ok());
    original_pem_ = ReadFile(path(std::string(kPublicKeyFileName)));
  }

  std::vector<DirectoryFile> LogFiles() {
    auto files = ListLogFiles(dir());
    EXPECT_TRUE(files.ok());
    return files.ok() ? std::move(*files) : std::vector<DirectoryFile>{};
  }
  std::vector<LogLine> Load() {
    std::vector<LogLine> out;
    for (const auto& f : LogFiles())
      for (auto& l : Lines(ReadFile(f.path))) out.push_back({f.path, l});
    return out;
  }
  // Writes lines back, each into the file it names (files keep their order).
  void Store(const std::vector<LogLine>& lines) {
    std::map<std::string, std::string> files;
    for (const auto& f : LogFiles()) files[f.path] = "";
    for (const auto& l : lines) files[l.file] += l.text + "\n";
    for (const auto& [p, text] : files) WriteFile(p, text);
  }
  // Index in Load() of the record with this sequence number.
  size_t IndexOf(const std::vector<LogLine>& lines, uint64_t seq) {
    for (size_t i = 0; i < lines.size(); ++i) {
      LineHeader h;
      if (ParseLineHeader(lines[i].text, h) && h.sequence == seq) return i;
    }
    ADD_FAILURE() << "no record " << seq;
    return 0;
  }

  VerifyReport Verify(VerifyOptions o = {}) {
    o.directory = dir();
    auto report = VerifyAuditDirectory(o);
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    return report.ok() ? *report : VerifyReport{};
  }
  static std::vector<Finding> Tampering(const VerifyReport& r) {
    std::vector<Finding> out;
    for (const auto& f : r.findings)
      if (f.severity == Severity::kTampering) out.push_back(f);
    return out;
  }
  // Expects exactly one tampering finding, of `kind`, about records first..last.
  Finding ExpectOnly(const VerifyReport& r, FindingKind kind, uint64_t first, uint64_t last) {
    auto t = Tampering(r);
    EXPECT_FALSE(r.intact);
    EXPECT_EQ(t.size(), 1u) << VerifyReportToText(r);
    if (t.empty()) return {};
    EXPECT_EQ(FindingKindName(t[0].kind), FindingKindName(kind)) << VerifyReportToText(r);
    EXPECT_EQ(t[0].first_sequence, first) << VerifyReportToText(r);
    EXPECT_EQ(t[0].last_sequence, last) << VerifyReportToText(r);
    return t[0];
  }

  std::string original_pem_;
};

TEST_F(VerifyTest, UntouchedLogIsIntact) {
  auto r = Verify();
  EXPECT_TRUE(r.intact) << VerifyReportToText(r);
  EXPECT_TRUE(r.findings.empty()) << VerifyReportToText(r);
  EXPECT_EQ(r.records, 30u);
  EXPECT_EQ(r.last_sequence, 30u);
  EXPECT_EQ(r.last_signed_sequence, 30u);
  EXPECT_EQ(r.digest_files, 3u);
  EXPECT_GE(r.log_files, 5u);
  EXPECT_TRUE(r.public_key_from_directory);
  EXPECT_NE(VerifyReportToText(r).find("RESULT: INTACT"), std::string::npos);
  EXPECT_NE(VerifyReportToJson(r).find("\"intact\":true"), std::string::npos);
}

TEST_F(VerifyTest, EditedByteIsPinpointed) {
  auto lines = Load();
  size_t i = IndexOf(lines, 5);
  size_t pos = lines[i].text.find("\"eventName\":\"") + 14;
  lines[i].text[pos] ^= 0x01;  // "Encrypt" -> "Eocrypt"
  Store(lines);
  Finding f = ExpectOnly(Verify(), FindingKind::kRecordAltered, 5, 5);
  EXPECT_EQ(f.file, std::filesystem::path(lines[i].file).filename().string());
  EXPECT_GT(f.line, 0u);
  EXPECT_EQ(Lines(ReadFile(lines[i].file)).at(f.line - 1), lines[i].text);
}

TEST_F(VerifyTest, EditThatBreaksTheJsonIsPinpointed) {
  auto lines = Load();
  size_t i = IndexOf(lines, 14);
  lines[i].text[lines[i].text.find("\"userAgent\"")] = '#';
  Store(lines);
  ExpectOnly(Verify(), FindingKind::kRecordAltered, 14, 14);
}

TEST_F(VerifyTest, EditedSequenceFieldIsPinpointed) {
  auto lines = Load();
  size_t i = IndexOf(lines, 7);
  lines[i].text.replace(lines[i].text.find("\"sequence\":7"), 12, "\"sequence\":9");
  Store(lines);
  Finding f = ExpectOnly(Verify(), FindingKind::kRecordAltered, 7, 7);
  EXPECT_NE(f.message.find("sequence field reads 9"), std::string::npos) << f.message;
}

TEST_F(VerifyTest, EditedPreviousHashIsPinpointed) {
  auto lines = Load();
  size_t i = IndexOf(lines, 16);
  size_t pos = lines[i].text.find("\"previousHash\":\"") + 16;
  lines[i].text[pos] = lines[i].text[pos] == 'a' ? 'b' : 'a';
  Store(lines);
  ExpectOnly(Verify(), FindingKind::kRecordAltered, 16, 16);
}

TEST_F(VerifyTest, DeletedRecordIsPinpointed) {
  auto lines = Load();
  lines.erase(lines.begin() + IndexOf(lines, 12));
  Store(lines);
  ExpectOnly(Verify(), FindingKind::kRecordRemoved, 12, 12);
}

TEST_F(VerifyTest, DeletedRunOfRecordsIsPinpointed) {
  auto lines = Load();
  size_t i = IndexOf(lines, 21);
  lines.erase(lines.begin() + i, lines.begin() + i + 3);
  Store(lines);
  ExpectOnly(Verify(), FindingKind::kRecordRemoved, 21, 23);
}

TEST_F(VerifyTest, DeletedFirstRecordIsPinpointed) {
  auto lines = Load();
  lines.erase(lines.begin());
  Store(lines);
  ExpectOnly(Verify(), FindingKind::kRecordRemoved, 1, 1);
}

TEST_F(VerifyTest, InsertedForgedRecordIsPinpointed) {
  auto lines = Load();
  size_t i = IndexOf(lines, 13);
  // A plausible forgery: next sequence number, correct link to record 12, fake content.
  std::string forged;
  AppendLogLine(forged, 13, LineHash(lines[i - 1].text), SerializeRecord(SampleRecord(99, "ScheduleKeyDeletion")));
  lines.insert(lines.begin() + i, {lines[i].file, forged});
  Store(lines);
  Finding f = ExpectOnly(Verify(), FindingKind::kRecordInserted, 13, 13);
  EXPECT_NE(f.message.find("inserted"), std::string::npos);
}

TEST_F(VerifyTest, InsertedCopyOfARecordIsPinpointed) {
  auto lines = Load();
  LogLine copy = lines[IndexOf(lines, 7)];
  size_t at = IndexOf(lines, 20);
  copy.file = lines[at].file;
  lines.insert(lines.begin() + at + 1, copy);
  Store(lines);
  Finding f = ExpectOnly(Verify(), FindingKind::kRecordInserted, 7, 7);
  EXPECT_NE(f.message.find("copy of record 7"), std::string::npos) << f.message;
}

TEST_F(VerifyTest, ReorderedRecordsArePinpointed) {
  auto lines = Load();
  size_t a = IndexOf(lines, 8), b = IndexOf(lines, 9);
  std::swap(lines[a].text, lines[b].text);
  Store(lines);
  ExpectOnly(Verify(), FindingKind::kRecordsReordered, 8, 9);
}

TEST_F(VerifyTest, RecordsMovedAcrossFilesArePinpointed) {
  auto lines = Load();
  size_t a = IndexOf(lines, 3), b = IndexOf(lines, 25);
  std::swap(lines[a].text, lines[b].text);
  Store(lines);
  auto r = Verify();
  auto t = Tampering(r);
  ASSERT_FALSE(t.empty());
  for (const auto& f : t) {
    EXPECT_EQ(f.kind, FindingKind::kRecordsReordered) << VerifyReportToText(r);
    EXPECT_GE(f.first_sequence, 3u);
    EXPECT_LE(f.last_sequence, 25u);
  }
}

TEST_F(VerifyTest, TruncatedTailIsTamperingWhenDigestsSignedIt) {
  auto lines = Load();
  lines.resize(lines.size() - 3);
  Store(lines);
  ExpectOnly(Verify(), FindingKind::kTailTruncated, 28, 30);
}

TEST_F(VerifyTest, TailCutMidLineIsTamperingWhenDigestsSignedIt) {
  auto lines = Load();
  const std::string last = lines.back().file;
  std::string text = ReadFile(last);
  WriteFile(last, text.substr(0, text.size() - 40));
  Finding f = ExpectOnly(Verify(), FindingKind::kTailTruncated, 30, 30);
  EXPECT_NE(f.message.find("cut short"), std::string::npos) << f.message;
}

TEST_F(VerifyTest, CrashTornTailAfterTheLastDigestIsReportedAsACrash) {
  // The state after kill -9: records after the last digest, and a half-written line.
  ASSERT_TRUE(std::filesystem::remove(path(DigestFileName(3))));
  auto lines = Load();
  const std::string last = lines.back().file;
  std::string text = ReadFile(last);
  WriteFile(last, text.substr(0, text.size() - 40));
  auto r = Verify();
  EXPECT_TRUE(r.intact) << VerifyReportToText(r);
  bool torn = false, unsigned_tail = false;
  for (const auto& f : r.findings) {
    if (f.kind == FindingKind::kCrashTornTail) {
      torn = true;
      EXPECT_EQ(f.severity, Severity::kWarning);
      EXPECT_NE(f.message.find("crash"), std::string::npos);
      EXPECT_NE(f.message.find("not tampering"), std::string::npos);
    }
    if (f.kind == FindingKind::kUnsignedTail) {
      unsigned_tail = true;
      EXPECT_EQ(f.first_sequence, 21u);
      EXPECT_EQ(f.last_sequence, 29u);
    }
  }
  EXPECT_TRUE(torn) << VerifyReportToText(r);
  EXPECT_TRUE(unsigned_tail) << VerifyReportToText(r);
  EXPECT_EQ(r.last_sequence, 29u);
}

TEST_F(VerifyTest, EditedLastRecordIsCaughtByTheSignedHead) {
  auto lines = Load();
  size_t i = IndexOf(lines, 30);
  lines[i].text[lines[i].text.find("10.0.0.30")] = '9';
  Store(lines);
  auto t = Tampering(Verify());
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].kind, FindingKind::kDigestHeadMismatch);
  EXPECT_EQ(t[0].digest_sequence, 3u);
  EXPECT_EQ(t[0].last_sequence, 30u);
}

TEST_F(VerifyTest, RewrittenChainIsCaughtByTheDigests) {
  // Alter record 5 and recompute every later link, so the chain alone looks fine.
  auto lines = Load();
  size_t i = IndexOf(lines, 5);
  lines[i].text[lines[i].text.find("\"eventName\":\"") + 14] ^= 0x01;
  for (size_t j = i + 1; j < lines.size(); ++j) {
    LineHeader h;
    ASSERT_TRUE(ParseLineHeader(lines[j].text, h));
    std::string body = "{" + lines[j].text.substr(lines[j].text.find(",\"eventVersion\"") + 1);
    std::string rewritten;
    AppendLogLine(rewritten, h.sequence, LineHash(lines[j - 1].text), body);
    lines[j].text = rewritten;
  }
  Store(lines);
  auto r = Verify();
  auto t = Tampering(r);
  ASSERT_FALSE(t.empty());
  EXPECT_EQ(t[0].kind, FindingKind::kDigestHeadMismatch) << VerifyReportToText(r);
  EXPECT_EQ(t[0].digest_sequence, 1u);
  EXPECT_EQ(t[0].first_sequence, 1u);
  EXPECT_EQ(t[0].last_sequence, 10u);
}

TEST_F(VerifyTest, AlteredDigestIsPinpointed) {
  std::string text = ReadFile(path(DigestFileName(2)));
  size_t pos = text.find("\"chainHeadHash\":\"") + 17;
  text[pos] = text[pos] == '0' ? '1' : '0';
  WriteFile(path(DigestFileName(2)), text);
  auto t = Tampering(Verify());
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].kind, FindingKind::kDigestAltered);
  EXPECT_EQ(t[0].file, DigestFileName(2));
}

TEST_F(VerifyTest, SwappedDigestsArePinpointed) {
  std::string d1 = ReadFile(path(DigestFileName(1))), d2 = ReadFile(path(DigestFileName(2)));
  WriteFile(path(DigestFileName(1)), d2);
  WriteFile(path(DigestFileName(2)), d1);
  auto r = Verify();
  auto t = Tampering(r);
  ASSERT_EQ(t.size(), 2u) << VerifyReportToText(r);
  for (const auto& f : t) EXPECT_EQ(f.kind, FindingKind::kDigestMisplaced);
  EXPECT_NE(t[0].file, t[1].file);
}

TEST_F(VerifyTest, RemovedDigestIsPinpointed) {
  ASSERT_TRUE(std::filesystem::remove(path(DigestFileName(2))));
  auto t = Tampering(Verify());
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].kind, FindingKind::kDigestRemoved);
  EXPECT_EQ(t[0].digest_sequence, 2u);
}

TEST_F(VerifyTest, DigestReplacedByOneSignedWithAnotherKey) {
  auto parsed = ParseDigest(ReadFile(path(DigestFileName(2))));
  ASSERT_TRUE(parsed.ok());
  auto forger = AuditSigningKey::Generate();
  ASSERT_TRUE(forger.ok());
  Digest d = parsed->digest;
  d.last_sequence = 19;  // e.g. to hide record 20
  auto text = SignDigest(d, *forger);
  ASSERT_TRUE(text.ok());
  WriteFile(path(DigestFileName(2)), *text);
  auto t = Tampering(Verify());
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].kind, FindingKind::kDigestAltered);
  EXPECT_NE(t[0].message.find("trusted public key"), std::string::npos) << t[0].message;
}

TEST_F(VerifyTest, ATrustedKeyCatchesAReplacedKeyAndResignedDigests) {
  // The attacker rewrites record 4, recomputes the chain, re-signs every digest with a key of
  // their own and replaces the directory's public key.
  auto lines = Load();
  size_t i = IndexOf(lines, 4);
  lines[i].text[lines[i].text.find("10.0.0.4")] = '9';
  for (size_t j = i + 1; j < lines.size(); ++j) {
    LineHeader h;
    ASSERT_TRUE(ParseLineHeader(lines[j].text, h));
    std::string body = "{" + lines[j].text.substr(lines[j].text.find(",\"eventVersion\"") + 1);
    std::string rewritten;
    AppendLogLine(rewritten, h.sequence, LineHash(lines[j - 1].text), body);
    lines[j].text = rewritten;
  }
  Store(lines);
  auto forger = AuditSigningKey::Generate();
  std::string previous_signature;
  for (uint32_t n = 1; n <= 3; ++n) {
    Digest d = ParseDigest(ReadFile(path(DigestFileName(n))))->digest;
    d.chain_head_hash = HexEncode(LineHash(lines[IndexOf(lines, d.last_sequence)].text));
    d.previous_digest_signature = previous_signature;
    auto text = SignDigest(d, *forger);
    previous_signature = d.signature;
    WriteFile(path(DigestFileName(n)), *text);
  }
  WriteFile(path(std::string(kPublicKeyFileName)), forger->public_key().Pem());
  EXPECT_TRUE(Verify().intact);  // the directory is self-consistent ...
  const std::string trusted = (dir_ / "trusted.pem").string();
  WriteFile(trusted, original_pem_);
  VerifyOptions o;
  o.public_key_path = trusted;
  auto r = Verify(o);  // ... but not with the key kept elsewhere
  EXPECT_FALSE(r.intact);
  EXPECT_FALSE(r.public_key_from_directory);
  EXPECT_EQ(Tampering(r).size(), 3u) << VerifyReportToText(r);
}

TEST_F(VerifyTest, DeletedLogFileIsPinpointed) {
  auto files = LogFiles();
  ASSERT_GE(files.size(), 3u);
  auto lines = Lines(ReadFile(files[1].path));
  LineHeader first, last;
  ASSERT_TRUE(ParseLineHeader(lines.front(), first));
  ASSERT_TRUE(ParseLineHeader(lines.back(), last));
  ASSERT_TRUE(std::filesystem::remove(files[1].path));
  auto r = Verify();
  EXPECT_FALSE(r.intact);
  bool removed = false, missing = false;
  for (const auto& f : Tampering(r)) {
    if (f.kind == FindingKind::kRecordRemoved) {
      removed = true;
      EXPECT_EQ(f.first_sequence, first.sequence);
      EXPECT_EQ(f.last_sequence, last.sequence);
    }
    if (f.kind == FindingKind::kLogFileMissing) {
      missing = true;
      EXPECT_NE(f.message.find(files[1].name), std::string::npos);
    }
  }
  EXPECT_TRUE(removed && missing) << VerifyReportToText(r);
}

TEST_F(VerifyTest, TimeRangeLimitsTheReport) {
  auto lines = Load();
  for (uint64_t seq : {5u, 25u}) {
    size_t i = IndexOf(lines, seq);
    lines[i].text[lines[i].text.find("\"eventName\":\"") + 14] ^= 0x01;
  }
  Store(lines);
  EXPECT_EQ(Tampering(Verify()).size(), 2u);
  VerifyOptions o;
  o.from_ms = SampleRecord(20).event_time_ms;
  o.to_ms = SampleRecord(30).event_time_ms;
  auto r = Verify(o);
  auto t = Tampering(r);
  ASSERT_EQ(t.size(), 1u) << VerifyReportToText(r);
  EXPECT_EQ(t[0].first_sequence, 25u);
  EXPECT_EQ(r.records, 11u);
}

TEST_F(VerifyTest, RegionIsChecked) {
  VerifyOptions o;
  o.region = "eu-west-1";
  auto t = Tampering(Verify(o));
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[0].kind, FindingKind::kDigestWrongRegion);
  o.region = "us-east-1";
  EXPECT_TRUE(Verify(o).intact);
}

TEST_F(VerifyTest, MissingPublicKeyIsAnError) {
  std::filesystem::remove(path(std::string(kPublicKeyFileName)));
  VerifyOptions o;
  o.directory = dir();
  EXPECT_FALSE(VerifyAuditDirectory(o).ok());
}

}  // namespace
}  // namespace meridian::audit
