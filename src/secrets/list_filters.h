// The Filters of ListSecrets and BatchGetSecretValue.
//
// Keys: name, tag-key, tag-value, primary-region, owning-service (prefix match, case-sensitive);
// description and all (word match, not case-sensitive: every word of the value must begin a word
// of one attribute; "all" searches the name, description, tag keys and tag values). A value
// starting with '!' negates: no attribute may match it. Values of one filter are alternatives;
// all filters must match.
#pragma once

#include <string>
#include <vector>

#include "common/aws_json.h"
#include "secrets/secret_record.h"

namespace meridian::secrets {

struct SecretFilter {
  std::string key;
  std::vector<std::string> values;
};

// Reads the Filters member (absent: no filters).
Result<std::vector<SecretFilter>> ParseFilters(const JsonRequest& req);

bool MatchesFilters(const SecretRecord& secret, const std::vector<SecretFilter>& filters);

}  // namespace meridian::secrets
