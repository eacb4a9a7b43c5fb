// Signed digests: periodic, signed statements of how far the hash chain reached.
//
// A digest names a contiguous range of records (firstSequence..lastSequence, and the log files
// holding them), the chain head (LineHash of record lastSequence), and the signature of the
// previous digest, so digests form their own chain: removing, reordering or replacing one breaks
// the link of the next. It is signed with the region's audit signing key (Ed25519).
//
// File format (digest-NNNNNN.json, one JSON object and '\n'): the members in a fixed order with
// "signature" last. The signed message is "meridian-audit-digest-v1\n" followed by the file's
// bytes up to (not including) ',"signature":' and then '}' -- i.e. the same object without its
// signature member, byte for byte as written.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "audit/signing_key.h"
#include "common/bytes.h"
#include "common/status.h"

namespace meridian::audit {

struct DigestFileRange {
  std::string file;  // "audit-000003.jsonl"
  uint64_t first_sequence = 0;
  uint64_t last_sequence = 0;
};

struct Digest {
  int version = 1;
  std::string region;
  uint64_t digest_sequence = 0;  // 1, 2, ... ; equals the NNNNNN of its file name
  int64_t digest_time_ms = 0;    // when it was written
  int64_t first_event_time_ms = 0;
  int64_t last_event_time_ms = 0;
  uint64_t first_sequence = 0;
  uint64_t last_sequence = 0;
  std::string chain_head_hash;  // lower-case hex LineHash of record last_sequence
  std::vector<DigestFileRange> files;
  std::string previous_digest_signature;  // base64; "" for digest 1
  std::string signature_algorithm = "Ed25519";
  std::string public_key_fingerprint;  // AuditPublicKey::Fingerprint of the signer
  std::string signature;               // base64
};

// Fills digest.signature (and the key fingerprint) and returns the file contents.
Result<std::string> SignDigest(Digest& digest, const AuditSigningKey& key);

struct ParsedDigest {
  Digest digest;
  std::string signed_message;  // what the signature covers
  Bytes signature;
};
// Parses a digest file. An error when it is not a digest this code wrote (malformed JSON, missing
// members, anything after the signature).
Result<ParsedDigest> ParseDigest(std::string_view text);

bool VerifyDigestSignature(const ParsedDigest& digest, const AuditPublicKey& key);

}  // namespace meridian::audit
