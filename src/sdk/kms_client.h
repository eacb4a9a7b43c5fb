// A small AWS KMS client (JSON 1.1 protocol over HTTP(S), SigV4-signed) for the KMS keyrings.
// Talks to any KMS endpoint: Meridian, AWS, or another implementation.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"
#include "crypto/crypto.h"
#include "sdk/encryption_context.h"
#include "sdk/http_client.h"
#include "sigv4/signer.h"

namespace meridian::sdk {

struct KmsClientConfig {
  std::string region;    // signing region, e.g. "us-east-1"
  std::string endpoint;  // e.g. "https://kms.us-east-1.amazonaws.com" or "http://127.0.0.1:8080"
  sigv4::Credentials credentials;
  HttpOptions http;
};

struct KmsDataKey {
  crypto::SecureBytes plaintext;
  Bytes ciphertext_blob;
  std::string key_id;  // ARN of the key that encrypted it
};

class KmsClient {
 public:
  static Result<std::shared_ptr<KmsClient>> Create(KmsClientConfig config);

  const std::string& region() const { return region_; }

  Result<KmsDataKey> GenerateDataKey(const std::string& key_id, size_t number_of_bytes,
                                     const EncryptionContext& ec, const std::vector<std::string>& grant_tokens);
  // Returns the ciphertext blob and the key ARN.
  Result<KmsDataKey> Encrypt(const std::string& key_id, ByteView plaintext, const EncryptionContext& ec,
                             const std::vector<std::string>& grant_tokens);
  // `key_id` may be empty (symmetric ciphertexts name their key).
  Result<KmsDataKey> Decrypt(const std::string& key_id, ByteView ciphertext_blob, const EncryptionContext& ec,
                             const std::vector<std::string>& grant_tokens);
  // Any KMS operation: sends `json` as the request body; returns the response body, or the error
  // as a Status whose type is the KMS error name (`__type`).
  Result<std::string> Call(const std::string& operation, const std::string& json);

  KmsClient(KmsClientConfig config, HttpEndpoint endpoint);

 private:
  std::string region_;
  HttpEndpoint endpoint_;
  HttpOptions http_;
  sigv4::Signer signer_;
};

}  // namespace meridian::sdk
