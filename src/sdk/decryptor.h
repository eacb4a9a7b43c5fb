// Streaming decryption of one message. Memory is bounded by one frame (plus, for signed suites
// without streaming release, the plaintext held back until the signature verifies).
// spec: client-apis/decrypt.md, client-apis/streaming.md
//
//   auto dec = Decryptor::Create(cmm, options);
//   dec->Update(chunk, out); ...   // appends released plaintext to `out`
//   dec->Finish(out);              // fails unless exactly one complete, verified message was read
//
// Unsigned suites release each frame's plaintext once its tag verifies. Signed suites release
// nothing until the footer signature verifies, unless release_unverified_plaintext is set; then
// regular frames are released early (the final frame still waits for the signature), and the
// caller must discard everything if Finish fails.
#pragma once

#include <memory>

#include "common/bytes.h"
#include "common/status.h"
#include "sdk/materials.h"

namespace meridian::sdk {

struct DecryptOptions {
  CommitmentPolicy commitment_policy = CommitmentPolicy::kRequireEncryptRequireDecrypt;
  size_t max_encrypted_data_keys = 0;  // 0 = no limit
  EncryptionContext reproduced_encryption_context;
  bool release_unverified_plaintext = false;
  bool fail_on_signed = false;  // reject signed suites right after parsing the header
};

class Decryptor {
 public:
  static Result<std::unique_ptr<Decryptor>> Create(std::shared_ptr<CryptoMaterialsManager> cmm,
                                                   const DecryptOptions& options);
  ~Decryptor();

  Status Update(ByteView ciphertext, Bytes& plaintext_out);
  Status Finish(Bytes& plaintext_out);

  bool header_verified() const { return state_ != State::kHeader; }
  bool done() const { return state_ == State::kDone; }
  // Valid once header_verified().
  const MessageHeader& header() const { return header_; }
  // The context of the decryption materials: stored pairs plus reproduced authenticate-only pairs.
  const EncryptionContext& encryption_context() const;

 private:
  enum class State { kHeader, kFrames, kNonFramed, kFooter, kDone };
  Decryptor();
  // Processes complete units at the front of `data`; sets `consumed`.
  Status Consume(ByteView data, size_t& consumed, Bytes& out);
  Status OnHeader(ByteView header_bytes);
  Status ReleaseOrHold(size_t from, bool hold, Bytes& out);

  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::shared_ptr<CryptoMaterialsManager> cmm_;
  DecryptOptions options_;
  State state_ = State::kHeader;
  bool failed_ = false;
  MessageHeader header_;
  Bytes pending_;
  uint32_t expected_sequence_ = 1;
  // An incomplete header is re-parsed only once the buffered input has doubled (or at Finish),
  // so a header trickling in byte by byte costs O(n), not O(n^2).
  size_t header_retry_at_ = 0;
};

}  // namespace meridian::sdk
