// Error kinds the SDK reports. Each is a Status whose type names the failure class, so callers
// (and the CLI) can tell a wrong key from a tampered message from a policy violation.
#pragma once

#include <string>

#include "common/status.h"

namespace meridian::sdk::errors {

// The bytes are not a well-formed message (or were truncated / have trailing bytes).
inline Status BadMessage(std::string m) { return {"MalformedMessage", std::move(m)}; }
// An authentication tag, the key commitment or the signature did not verify.
inline Status Tampered(std::string m) { return {"AuthenticationFailed", std::move(m)}; }
inline Status CommitmentMismatch(std::string m) { return {"KeyCommitmentMismatch", std::move(m)}; }
// No keyring could decrypt any encrypted data key (wrong key).
inline Status NoDataKey(std::string m) { return {"NoDecryptableDataKey", std::move(m)}; }
inline Status TooManyEdks(std::string m) { return {"TooManyEncryptedDataKeys", std::move(m)}; }
inline Status Policy(std::string m) { return {"CommitmentPolicyViolation", std::move(m)}; }
inline Status Context(std::string m) { return {"EncryptionContextMismatch", std::move(m)}; }
inline Status InvalidArgument(std::string m) { return {"InvalidArgument", std::move(m)}; }
inline Status Crypto(std::string m) { return {"CryptoFailure", std::move(m), 500}; }
inline Status State(std::string m) { return {"InvalidState", std::move(m)}; }

}  // namespace meridian::sdk::errors
