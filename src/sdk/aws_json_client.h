// One signed AWS JSON 1.1 call: POST <base path> with X-Amz-Target, SigV4 header signature, and
// the error body ({"__type", "message"}) turned into a Status whose type is the error name.
// The one home for this wire step: the SDK's KMS client and the CLI's admin calls use it.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "sdk/http_client.h"
#include "sigv4/signer.h"

namespace meridian::sdk {

// Sends `json` to `endpoint` as operation `target` ("TrentService.Encrypt"), signed by `signer`.
// Returns the response body on HTTP 200; otherwise the AWS error as a Status whose message starts
// with "<label> <operation> failed (HTTP <status>): ".
Result<std::string> CallAwsJson(const HttpEndpoint& endpoint, const sigv4::Signer& signer, std::string_view target,
                                const std::string& json, const HttpOptions& options, std::string_view label);

}  // namespace meridian::sdk
