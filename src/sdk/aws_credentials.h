// AWS credentials for the SDK's KMS client, from the usual sources, in this order:
// explicit values, the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN),
// then the shared credentials file (AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials, profile
// AWS_PROFILE or "default").
#pragma once

#include <string>

#include "common/status.h"
#include "sigv4/signer.h"

namespace meridian::sdk {

// `profile` empty: AWS_PROFILE, else "default".
Result<sigv4::Credentials> LoadAwsCredentials(const std::string& profile = "");
// Parses an INI-style credentials file's text for `profile`.
Result<sigv4::Credentials> CredentialsFromIni(const std::string& text, const std::string& profile);

}  // namespace meridian::sdk
