// What an audit record takes from a successful JSON response: its redacted responseElements and
// the resources it names, read in one pass over the response text.
//
// A response may hold plaintext, data keys, ciphertext blobs or secret values, none of which the
// record keeps. Only the top-level members the record can use (those the redaction allow-list
// names, audit/redaction.h, and those InferResources reads, audit/resources.h) are parsed; every
// other member is skipped by a scan over its text, never decoded or copied. The result is exactly
// RedactMessageJson(event_source, json) and InferResources(event_source, context, nullptr, &doc)
// of the whole response parsed.
//
// The scan expects a compact object as RapidJSON's Writer writes it (no whitespace, member names
// without escapes); any other text is parsed whole instead (same result, slower). Every parsed
// copy is wiped before it is freed.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "audit/record.h"
#include "audit/resources.h"

namespace meridian::audit {

struct ResponseAudit {
  std::string response_elements;  // redacted JSON object text, "" for null
  std::vector<ResourceRef> resources;
};

ResponseAudit AuditResponse(std::string_view event_source, const ResourceContext& context, std::string_view json);

}  // namespace meridian::audit
