// The three key strategies of seed 000 for data written in region A and read in region B, as
// keyrings over two KMS regions (any KMS endpoint: Meridian's region processes, or AWS).
//
//   kMultiRegionKey (1)  one multi-Region key (MRK) created in A and replicated to B. A encrypts
//       with an MRK-aware strict keyring on the A key; B decrypts locally with an MRK-aware
//       discovery keyring on B's client (B's replica, no call to A). The same key material lives
//       in both regions: whoever holds it in A reads everything in B.
//   kPerRegionMultiKeyring (2)  one single-region key per region; A encrypts with a multi-keyring
//       (generator: A's key, child: B's key), so every message carries a data key wrapped under
//       each region's key; B decrypts with a strict keyring on its own key, no call to A. Key
//       material never leaves its region; writing needs both regions' KMS reachable.
//   kRegionAOnlyReEncrypt (3)  one single-region key in A only (plus B's own key as the
//       destination of recovery). B cannot decrypt A's messages alone: it reads them through A's
//       KMS (DecryptThroughA) or migrates them with ReEncryptRecordForB, which needs A's KMS
//       too. While A's KMS is down, A's data is unreadable in B: this is the strategy's price.
//
// Keyrings are immutable and thread-safe (the KMS clients are). Nothing here touches a database.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "drill/encrypted_records.h"
#include "sdk/http_client.h"
#include "sdk/kms_client.h"
#include "sdk/materials.h"
#include "sigv4/signer.h"

namespace meridian::drill {

enum class KeyStrategy { kMultiRegionKey = 1, kPerRegionMultiKeyring = 2, kRegionAOnlyReEncrypt = 3 };

inline constexpr KeyStrategy kAllKeyStrategies[] = {KeyStrategy::kMultiRegionKey, KeyStrategy::kPerRegionMultiKeyring,
                                                    KeyStrategy::kRegionAOnlyReEncrypt};

// "mrk", "multi-keyring", "reencrypt".
std::string_view KeyStrategyName(KeyStrategy strategy);
// Accepts the names above and "1", "2", "3"; ValidationException otherwise.
Result<KeyStrategy> ParseKeyStrategy(std::string_view text);

// Two KMS regions and the credentials to call both.
struct TwoRegionKms {
  std::string region_a;    // e.g. "us-east-1" (writer, the region that fails in the drill)
  std::string endpoint_a;  // e.g. "http://127.0.0.1:4567"
  std::string region_b;    // e.g. "eu-west-1" (reader, survives)
  std::string endpoint_b;
  sigv4::Credentials credentials;
  sdk::HttpOptions http;  // timeout: keep it short in a drill (a dead region must fail fast)
};

// The keys one strategy uses (key ARNs).
struct StrategyKeys {
  KeyStrategy strategy = KeyStrategy::kMultiRegionKey;
  std::string account_id;
  // (1) the MRK primary in A; (2) A's key; (3) A's key (the only one that encrypts A's data).
  std::string key_a_arn;
  // (1) the MRK replica in B (same key id, B's region); (2) B's key; (3) B's key, destination of
  // ReEncryptRecordForB and key of records written in B after failover.
  std::string key_b_arn;
};

// Creates the strategy's keys through KMS CreateKey (and ReplicateKey for (1), then waits up to
// `replica_timeout` until the replica is Enabled in B). `description` tags the keys.
Result<StrategyKeys> CreateStrategyKeys(KeyStrategy strategy, const TwoRegionKms& kms, std::string_view description,
                                        std::chrono::seconds replica_timeout = std::chrono::seconds(30));

class StrategyKeyrings {
 public:
  // Builds the KMS clients (one per region) and the keyrings; makes no call.
  static Result<StrategyKeyrings> Create(const StrategyKeys& keys, const TwoRegionKms& kms);

  KeyStrategy strategy() const { return keys_.strategy; }
  const StrategyKeys& keys() const { return keys_; }

  // How region A encrypts: (1) MRK-aware strict keyring on key_a; (2) multi-keyring, generator
  // key_a, child key_b; (3) strict keyring on key_a.
  std::shared_ptr<const sdk::Keyring> EncryptInA() const { return encrypt_in_a_; }
  // How region B decrypts using region B's KMS only: (1) MRK-aware discovery keyring on B's
  // client (filter: the keys' account); (2) strict keyring on key_b; (3) strict keyring on key_b,
  // which opens only what was written or re-encrypted for B (A's messages fail: no B data key).
  std::shared_ptr<const sdk::Keyring> DecryptInB() const { return decrypt_in_b_; }
  // How region B writes after failover, with A down: (1) MRK-aware strict keyring on the replica
  // key_b (A's replica decrypts these when A returns); (2) strict keyring on key_b alone (A cannot
  // read these until re-encrypted: the multi-keyring would fail while A's KMS is down); (3) the
  // same as (2).
  std::shared_ptr<const sdk::Keyring> EncryptInB() const { return encrypt_in_b_; }
  // (3) region B reading A's messages through A's KMS (strict keyring on key_a, A's client): fails
  // while A's KMS is unreachable. For (1) and (2) the same keyring works too (it is A's key).
  std::shared_ptr<const sdk::Keyring> DecryptThroughA() const { return decrypt_through_a_; }

  std::shared_ptr<sdk::KmsClient> kms_a() const { return kms_a_; }
  std::shared_ptr<sdk::KmsClient> kms_b() const { return kms_b_; }

 private:
  StrategyKeys keys_;
  std::shared_ptr<sdk::KmsClient> kms_a_, kms_b_;
  std::shared_ptr<const sdk::Keyring> encrypt_in_a_, decrypt_in_b_, encrypt_in_b_, decrypt_through_a_;
};

// Strategy (3)'s recovery of one record for region B: opens it through A (DecryptThroughA, so it
// needs A's KMS) and seals it again under EncryptInB (key_b), same id, tenant and contexts. KMS
// ReEncrypt itself cannot do this step: its destination key must live in the region called, and
// a per-region key never leaves its region; so the data key passes through this process, which
// is exactly the exposure and the cost (two KMS calls per field, A required) the strategy pays.
Result<SealedRecord> ReEncryptRecordForB(const SealedRecord& sealed, std::string_view table,
                                         const StrategyKeyrings& keyrings);

// The replica ARN of an MRK in another region (same key id): arn:aws:kms:<region>:<acct>:key/mrk-..
Result<std::string> ArnInRegion(std::string_view key_arn, std::string_view region);

}  // namespace meridian::drill
