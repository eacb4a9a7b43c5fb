// Grant tokens: what CreateGrant returns so that a grant can be named (RetireGrant) or used
// before it is known everywhere. Meridian is strongly consistent within a region, so a grant is
// usable the moment CreateGrant commits; a token only identifies its grant. It is not a secret
// and grants nothing by itself (AWS KMS Developer Guide, "Using a grant token").
//
// Format: base64 of
//   "MGT" | version (1 byte, = 1) | key id length (1 byte) | key id | grant id (32 bytes) | nonce (16 bytes)
// Every CreateGrant call returns a fresh token (a new nonce), also when Name makes it return an
// existing grant; all tokens of one grant are interchangeable.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace meridian::kms {

struct GrantTokenView {
  std::string key_id;
  std::string grant_id;  // 64 lowercase hex digits
};

// A new token for the grant (`grant_id` must satisfy LooksLikeGrantId).
std::string NewGrantToken(std::string_view key_id, std::string_view grant_id);
// The grant a token names, or nullopt if `token` is not a well-formed Meridian grant token.
std::optional<GrantTokenView> ParseGrantToken(std::string_view token);

}  // namespace meridian::kms
