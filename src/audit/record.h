// AuditRecord: one API call as the audit trail records it, in the shape of a CloudTrail event.
//
// One request (allowed or denied, authenticated or not) gives exactly one record. A record holds
// no plaintext, key material, secret value, password or signature: requestParameters and
// responseElements must come from the redaction functions in audit/redaction.h (they keep only
// allow-listed members). Serialization is deterministic (fixed member order, no whitespace, no
// newline), so one record is one JSON line; the log prefixes it with its chain fields
// (see audit/log_format.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace meridian::audit {

// eventSource values.
inline constexpr std::string_view kKmsEventSource = "kms.amazonaws.com";
inline constexpr std::string_view kSecretsManagerEventSource = "secretsmanager.amazonaws.com";
inline constexpr std::string_view kIamEventSource = "iam.amazonaws.com";
inline constexpr std::string_view kStsEventSource = "sts.amazonaws.com";

// resources[].type values.
inline constexpr std::string_view kKmsKeyResourceType = "AWS::KMS::Key";
inline constexpr std::string_view kSecretResourceType = "AWS::SecretsManager::Secret";

struct SessionContext {
  bool present = false;          // serialized only when true (temporary credentials)
  bool mfa_authenticated = false;
  int64_t creation_time_ms = 0;  // when the session's credentials were issued (0: unknown)
  std::string issuer_arn;        // the role or user that issued the session
  std::string source_identity;
};

struct UserIdentity {
  // "IAMUser", "AssumedRole", "Root", "AWSService" (replication peers), or "Unknown" for a
  // request that could not be authenticated.
  std::string type = "Unknown";
  std::string principal_id;
  std::string arn;
  std::string account_id;
  std::string access_key_id;  // the access key id only, never the secret
  SessionContext session_context;
};

struct ResourceRef {
  std::string arn;
  std::string type;        // kKmsKeyResourceType, kSecretResourceType, ...
  std::string account_id;  // "" when unknown
};

// The authorization step's answer. decision: "Allow", "Deny" (an explicit Deny statement),
// "ImplicitDeny" (no statement allowed it) or "NotEvaluated" (the request failed before
// authorization, e.g. a bad signature).
struct AuthorizationDecision {
  std::string decision = "NotEvaluated";
  std::string matched_statement;  // the deciding statement (Sid or a locator), "" if none
  std::string policy;             // which policy held it: "key-policy", "identity-policy", "grant:<id>", ...
};

struct AuditRecord {
  std::string event_version = "1.08";
  int64_t event_time_ms = 0;  // 0: the log stamps the time it accepts the record
  std::string event_source;   // kKmsEventSource, ...
  std::string event_name;     // "Encrypt"
  std::string aws_region;
  std::string source_ip_address;
  std::string vpc_endpoint_id;  // the listener's endpoint id, "" when it has none
  std::string user_agent;
  UserIdentity user_identity;
  // JSON objects from audit/redaction.h; "" serializes as null.
  std::string request_parameters;
  std::string response_elements;
  std::vector<ResourceRef> resources;
  std::string error_code;  // "" on success
  std::string error_message;
  std::string request_id;
  std::string event_id;  // "" : the log assigns a random UUID
  bool read_only = false;
  std::string event_type = "AwsApiCall";  // "AwsServiceEvent" for replication traffic
  std::string recipient_account_id;
  AuthorizationDecision authorization;
  // Free-form context (CloudTrail's additionalEventData), e.g. {"peerRegion": "eu-west-1"}.
  std::vector<std::pair<std::string, std::string>> additional_event_data;
};

// One JSON object, no whitespace or newline; members in a fixed order.
std::string SerializeRecord(const AuditRecord& record);

// Parses a record (or a log line: the chain members are ignored). requestParameters and
// responseElements come back as their JSON text.
Result<AuditRecord> ParseRecord(std::string_view json);

// True for calls CloudTrail marks readOnly: Describe*, Get*, List*, the cryptographic
// operations that change no state (Encrypt, Decrypt, GenerateDataKey*, Sign, ...).
bool IsReadOnlyEvent(std::string_view event_name);

// A random UUID v4 ("3f2a...-...."), from the per-thread pool (crypto/random_pool.h).
std::string NewEventId();

// CloudTrail's time format, "2024-05-01T12:00:00Z" (UTC, seconds).
std::string FormatEventTime(int64_t epoch_millis);
// Accepts "2024-05-01T12:00:00Z", "2024-05-01T12:00:00.123Z", "2024-05-01" (midnight UTC).
Result<int64_t> ParseEventTime(std::string_view text);

}  // namespace meridian::audit
