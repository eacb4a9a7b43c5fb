// Redaction of request and response members for the audit trail.
//
// The audit trail must never hold plaintext, key material, secret values, passwords, tokens or
// signatures. Redaction is an ALLOW-LIST: for each service (by eventSource) every member that may
// be recorded is named with its shape (scalar, string map, string list, nested object, list of
// objects); any member not named is dropped, so a field added to an API later is left out rather
// than leaked. Nested objects have their own allow-lists (e.g. IAM AccessKey keeps AccessKeyId and
// Status, never SecretAccessKey).
//
// Deliberately NOT recorded, by service:
//   KMS: Plaintext, CiphertextBlob (not secret, but up to 6 KiB per call and it adds nothing the
//        keyId and encryption context do not already say), PublicKey, PrivateKeyPlaintext,
//        PrivateKeyCiphertextBlob, Message, Signature, Mac, GrantToken(s) (bearer tokens),
//        ImportToken, EncryptedKeyMaterial, Recipient, CiphertextForRecipient, SharedSecret.
//   Secrets Manager: SecretString, SecretBinary, RandomPassword, SecretValues.
//   IAM: SecretAccessKey, Password, NewPassword, OldPassword, Base32StringSeed, QRCodePNG,
//        AuthenticationCode1, AuthenticationCode2.
//   STS: Credentials.SecretAccessKey, Credentials.SessionToken, TokenCode, SAMLAssertion,
//        WebIdentityToken.
// Recorded as CloudTrail does: key ids/ARNs, aliases, encryption context (it is authenticated
// data, not secret), algorithms, key specs, policies, descriptions, tags, grant constraints.
//
// Member names are written in CloudTrail's camelCase ("KeyId" -> "keyId"); the keys of string
// maps (encryption context, VersionIdsToStages) are kept verbatim. Strings longer than 64 KiB
// are dropped.
#pragma once

#include <string>
#include <string_view>

#include <rapidjson/document.h>

namespace meridian::audit {

// The allow-listed members of `message` (a request's parameters or a response object) as a
// JSON object text, or "" (recorded as null) when nothing is kept, `message` is not an object,
// or `event_source` is not a known service. IAM and STS speak the Query protocol: pass their
// parameters as a JSON object of the same member names (nested members as objects/arrays).
std::string RedactMessage(std::string_view event_source, const rapidjson::Value& message);

// Wipes every string of a parsed message in place (OPENSSL_cleanse): call before the document is
// freed when it may hold plaintext, data keys, secret access keys, session tokens or MFA seeds.
void WipeStrings(rapidjson::Value& message);

// The same for a message given as JSON text (a request or response body). A body that does not
// parse gives "".
std::string RedactMessageJson(std::string_view event_source, std::string_view json);

// Whether the allow-list of `event_source` names a top-level member `name` (as sent, "KeyId"):
// false for every member RedactMessage drops at the top level.
bool IsRecordedMember(std::string_view event_source, std::string_view name);

}  // namespace meridian::audit
