// Streaming encryption of one message: constant memory (one frame of buffered plaintext).
// spec: client-apis/encrypt.md, client-apis/streaming.md
//
//   auto enc = Encryptor::Create(cmm, options);   // obtains materials, builds the header
//   enc->Update(chunk, out);  ...                  // appends ciphertext bytes to `out`
//   enc->Finish(out);                              // final frame and, for signed suites, footer
#pragma once

#include <memory>
#include <optional>

#include "common/bytes.h"
#include "common/status.h"
#include "sdk/materials.h"

namespace meridian::sdk {

struct EncryptOptions {
  CommitmentPolicy commitment_policy = CommitmentPolicy::kRequireEncryptRequireDecrypt;
  const AlgorithmSuite* suite = nullptr;  // nullptr: the policy's default (0x0578)
  uint32_t frame_length = 4096;           // 1 .. 2^32-1
  EncryptionContext encryption_context;
  size_t max_encrypted_data_keys = 0;     // 0 = no limit
  // If set, the plaintext must not exceed this many bytes (and the CMM is told).
  std::optional<uint64_t> plaintext_length_bound;
};

class Encryptor {
 public:
  static Result<std::unique_ptr<Encryptor>> Create(CryptoMaterialsManager& cmm, const EncryptOptions& options);
  ~Encryptor();

  Status Update(ByteView plaintext, Bytes& out);
  Status Finish(Bytes& out);

  const MessageHeader& header() const { return header_; }
  // The full encryption context of the materials (stored + authenticate-only pairs).
  const EncryptionContext& encryption_context() const { return materials_.encryption_context; }
  // Upper bound of the message size for a plaintext of `plaintext_size` bytes (for reserving).
  size_t MaxMessageSize(uint64_t plaintext_size) const;

 private:
  Encryptor();
  Status EmitHeaderIfPending(Bytes& out);
  Status EmitFrame(ByteView plaintext, bool final, Bytes& out);
  void Hash(const Bytes& out, size_t from);

  struct Impl;
  std::unique_ptr<Impl> impl_;
  MessageHeader header_;
  EncryptionMaterials materials_;
  Bytes header_bytes_;
  bool header_emitted_ = false;
  bool finished_ = false;
  bool failed_ = false;
  Bytes partial_;  // < frame_length bytes (or exactly frame_length, awaiting the end of input)
  uint32_t sequence_ = 1;
  uint64_t consumed_ = 0;
  std::optional<uint64_t> bound_;
};

}  // namespace meridian::sdk
