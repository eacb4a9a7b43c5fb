#include "secrets/list_filters.h"

#include <algorithm>
#include <cctype>

#include "secrets/errors.h"
#include "secrets/naming.h"

namespace meridian::secrets {
namespace {

constexpr size_t kMaxFilters = 10;
constexpr size_t kMaxValues = 10;
constexpr size_t kMaxValueLength = 512;

bool ValidValueChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || std::string_view(" :_@/+=.-!").find(c) != std::string_view::npos;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Words of an attribute: split at characters other than letters and digits, and before an
// upper-case letter that follows a lower-case one ("MyDbSecret" -> My, Db, Secret).
std::vector<std::string> Words(std::string_view s) {
  std::vector<std::string> words;
  std::string word;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (!std::isalnum(c)) {
      if (!word.empty()) words.push_back(std::move(word));
      word.clear();
      continue;
    }
    if (std::isupper(c) && !word.empty() && std::islower(static_cast<unsigned char>(word.back()))) {
      words.push_back(std::move(word));
      word.clear();
    }
    word.push_back(static_cast<char>(c));
  }
  if (!word.empty()) words.push_back(std::move(word));
  return words;
}

bool PrefixMatch(std::string_view pattern, std::string_view attribute) { return attribute.rfind(pattern, 0) == 0; }

// Every word of `pattern` (any word, with `any_word`) begins some word of `attribute`
// (case-insensitive). The "all" filter searches for any word: "My_Secret" finds secrets with the
// word my or secret in their name, description or tags (Secrets Manager User Guide, "Find
// secrets").
bool WordMatch(std::string_view pattern, std::string_view attribute, bool any_word) {
  std::vector<std::string> wanted = Words(Lower(pattern));
  if (wanted.empty()) return false;
  std::vector<std::string> have = Words(Lower(attribute));
  auto found = [&](const std::string& w) {
    return std::any_of(have.begin(), have.end(), [&](const std::string& h) { return h.rfind(w, 0) == 0; });
  };
  return any_word ? std::any_of(wanted.begin(), wanted.end(), found) : std::all_of(wanted.begin(), wanted.end(), found);
}

bool FilterMatches(const SecretRecord& s, const SecretFilter& f) {
  const std::string own_region = ArnRegion(s.arn);
  std::vector<std::string_view> attributes;
  bool words = false;
  if (f.key == "name") {
    attributes.push_back(s.name);
  } else if (f.key == "description") {
    if (s.description) attributes.push_back(*s.description);
    words = true;
  } else if (f.key == "tag-key") {
    for (const auto& t : s.tags) attributes.push_back(t.first);
  } else if (f.key == "tag-value") {
    for (const auto& t : s.tags) attributes.push_back(t.second);
  } else if (f.key == "all") {
    attributes.push_back(s.name);
    if (s.description) attributes.push_back(*s.description);
    for (const auto& t : s.tags) {
      attributes.push_back(t.first);
      attributes.push_back(t.second);
    }
    words = true;
  } else if (f.key == "primary-region") {
    // Replicated secrets only: a replica's primary region, or a primary's own.
    if (s.is_replica()) attributes.push_back(s.primary_region);
    else if (!s.replicas.empty()) attributes.push_back(own_region);
  }
  // owning-service: this service holds no service-owned secrets, so no attribute ever matches.
  auto matches = [&](std::string_view pattern) {
    return std::any_of(attributes.begin(), attributes.end(),
                       [&](std::string_view a) {
                         return words ? WordMatch(pattern, a, f.key == "all") : PrefixMatch(pattern, a);
                       });
  };
  return std::any_of(f.values.begin(), f.values.end(), [&](const std::string& v) {
    if (!v.empty() && v[0] == '!') return !matches(std::string_view(v).substr(1));
    return matches(v);
  });
}

}  // namespace

Result<std::vector<SecretFilter>> ParseFilters(const JsonRequest& req) {
  std::vector<SecretFilter> filters;
  const rapidjson::Value* list = req.Get("Filters");
  if (list == nullptr) return filters;
  if (!list->IsArray()) return SerializationError("Member Filters must be a list of {Key, Values}");
  if (list->Size() > kMaxFilters)
    return ValidationError("filters", "Member must have length less than or equal to " + std::to_string(kMaxFilters));
  for (const auto& item : list->GetArray()) {
    if (!item.IsObject()) return SerializationError("Member Filters must be a list of {Key, Values}");
    JsonRequest f(item);
    MERIDIAN_ASSIGN_OR_RETURN(auto key, f.OptEnum("Key", {"description", "name", "tag-key", "tag-value",
                                                          "primary-region", "owning-service", "all"}));
    if (!key) return err::InvalidParameter("Invalid filter key");
    MERIDIAN_ASSIGN_OR_RETURN(auto values, f.OptStringList("Values", kMaxValues, kMaxValueLength));
    if (!values || values->empty()) return err::InvalidParameter("Invalid filter values for key: " + *key);
    for (const auto& v : *values)
      if (!std::all_of(v.begin(), v.end(), ValidValueChar))
        return err::InvalidParameter("Invalid filter value: " + v);
    filters.push_back({std::move(*key), std::move(*values)});
  }
  return filters;
}

bool MatchesFilters(const SecretRecord& secret, const std::vector<SecretFilter>& filters) {
  return std::all_of(filters.begin(), filters.end(), [&](const SecretFilter& f) { return FilterMatches(secret, f); });
}

}  // namespace meridian::secrets
