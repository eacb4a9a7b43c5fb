#include "iam/sealed_fields.h"

#include "storage/schema.h"

namespace meridian::iam::sealed {

std::string AccessKeySecretContext(std::string_view id) { return "iam-access-key-secret:" + std::string(id); }
std::string SessionSecretContext(std::string_view id) { return "sts-session-secret:" + std::string(id); }
std::string SessionTokenContext(std::string_view id) { return "sts-session-token:" + std::string(id); }
std::string MfaSeedContext(std::string_view serial) { return "iam-mfa-seed:" + std::string(serial); }

std::vector<SealedField> FieldsOf(std::string_view table, std::string_view key, const rapidjson::Value& row) {
  if (table == storage::tables::kAccessKeys) return {{"wrapped_secret", AccessKeySecretContext(key)}};
  if (table == storage::tables::kStsSessions)
    return {{"wrapped_secret", SessionSecretContext(key)}, {"wrapped_token", SessionTokenContext(key)}};
  if (table == storage::tables::kIamMfaDevices) {
    auto serial = row.IsObject() ? row.FindMember("serial") : row.MemberEnd();
    std::string_view s = serial != row.MemberEnd() && serial->value.IsString()
                             ? std::string_view(serial->value.GetString(), serial->value.GetStringLength())
                             : std::string_view();
    return {{"wrapped_seed", MfaSeedContext(s)}};
  }
  return {};
}

}  // namespace meridian::iam::sealed
