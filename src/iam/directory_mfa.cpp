// Directory: virtual MFA devices (TOTP seeds wrapped under the root key).
#include <algorithm>

#include "common/encoding.h"
#include "iam/directory.h"
#include "iam/directory_impl.h"
#include "iam/directory_records.h"
#include "iam/errors.h"
#include "iam/sealed_fields.h"
#include "iam/totp.h"
#include "storage/schema.h"

namespace meridian::iam {
namespace {

constexpr size_t kSeedBytes = 20;  // 160 bits, RFC 4226's recommended HMAC-SHA-1 key size

std::string SeedContext(const std::string& serial) { return sealed::MfaSeedContext(serial); }

Status NoSuchDevice(const std::string& serial) {
  return errors::NoSuchEntity("VirtualMFADevice with serial number " + serial + " doesn't exist.");
}

struct StoredDevice {
  MfaDevice device;
  std::string wrapped_seed_b64;
  std::string key;
};

Result<StoredDevice> LoadDevice(storage::Transaction& txn, const std::string& serial) {
  auto arn = records::ParseIamArn(serial);
  if (!arn || arn->type != "mfa") return NoSuchDevice(serial);
  StoredDevice out;
  out.key = records::MfaKey(arn->account, arn->name);
  MERIDIAN_ASSIGN_OR_RETURN(auto value, txn.Get(storage::tables::kIamMfaDevices, out.key));
  if (!value) return NoSuchDevice(serial);
  MERIDIAN_ASSIGN_OR_RETURN(out.device, records::DecodeMfa(*value, &out.wrapped_seed_b64));
  if (out.device.serial_number != serial) return NoSuchDevice(serial);
  return out;
}

Result<crypto::SecureBytes> UnwrapSeed(const crypto::RootKey& root_key, const StoredDevice& d) {
  auto wrapped = Base64Decode(d.wrapped_seed_b64);
  if (!wrapped) return errors::ServiceFailure("stored MFA device " + d.device.serial_number + " is corrupt");
  return root_key.Unwrap(*wrapped, SeedContext(d.device.serial_number));
}

Status InvalidCodeFormat(const std::string& member, const std::string& code) {
  return errors::ValidationError("1 validation error detected: Value '" + code + "' at '" + member +
                                 "' failed to satisfy constraint: Member must satisfy regular expression pattern: "
                                 "[\\d]+");
}

bool IsSixDigits(const std::string& code) {
  return code.size() == 6 && std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

Result<NewVirtualMfaDevice> Directory::CreateVirtualMfaDevice(const std::string& account, const std::string& name,
                                                              const std::string& path, const std::vector<Tag>& tags) {
  MERIDIAN_RETURN_IF_ERROR(records::CheckName("virtualMFADeviceName", name, 226));
  MERIDIAN_RETURN_IF_ERROR(records::CheckPath("path", path));
  MERIDIAN_RETURN_IF_ERROR(records::CheckTags(tags));
  NewVirtualMfaDevice out;
  out.device.account_id = account;
  out.device.name = name;
  out.device.path = path;
  out.device.serial_number = "arn:" + partition_ + ":iam::" + account + ":mfa" + path + name;
  out.device.tags = tags;
  crypto::SecureBytes seed = crypto::RandomSecret(kSeedBytes);
  out.base32_seed = Base32Encode(seed.view());
  const std::string wrapped = Base64Encode(root_key_.Wrap(seed.view(), SeedContext(out.device.serial_number)));
  MERIDIAN_ASSIGN_OR_RETURN(auto txn, BeginChange("CreateVirtualMFADevice", ChangeScope::kGlobal));
  const std::string key = records::MfaKey(account, name);
  MERIDIAN_ASSIGN_OR_RETURN(auto existing, txn->Get(storage::tables::kIamMfaDevices, key));
  if (existing) return errors::EntityAlreadyExists("MFADevice entity at the same path and name already exists.");
  MERIDIAN_RETURN_IF_ERROR(txn->Put(storage::tables::kIamMfaDevices, key, records::EncodeMfa(out.device, wrapped)));
  MERIDIAN_RETURN_IF_ERROR(txn->Commit());
  return out;
}

Status Directory::EnableMfaDevice(const std::string& account, const std::string& user, const std::string& serial_number,
                                  const std::string& code1, const std::string& code2) {
  if (!IsSixDigits(code1)) return InvalidCodeFormat("authenticationCode1", code1);
  if (!IsSixDigits(code2)) return InvalidCodeFormat("authenticationCode2", code2);
  MERIDIAN_ASSIGN_OR_RETURN(auto txn, BeginChange("EnableMFADevice", ChangeScope::kGlobal));
  MERIDIAN_ASSIGN_OR_RETURN(auto stored, LoadDevice(*txn, serial_number));
  if (stored.device.account_id != account) return NoSuchDevice(serial_number);
  Entity u;
  {
    auto value = txn->Get(storage::tables::kIamPrincipals, records::EntityKey(EntityKind::kUser, account, user));
    if (!value.ok()) return value.status();
    if (!*value) return errors::NoSuchEntity("The user with name " + user + " cannot be found.");
    MERIDIAN_ASSIGN_OR_RETURN(u, records::DecodeEntity(**value));
  }
  if (!stored.device.user_name.empty()) return errors::EntityAlreadyExists("MFA Device is already in use.");
  MERIDIAN_ASSIGN_OR_RETURN(auto seed, UnwrapSeed(root_key_, stored));
  // Two consecutive codes: code1 for step s and code2 for step s+1, with s+1 within one step of
  // now (the user reads code1, waits for the next one, then submits both).
  const int64_t now = clock_.NowSeconds();
  const int64_t current = now / kTotpStepSeconds;
  bool ok = false;
  for (int64_t second = current - 1; second <= current + 1 && !ok; ++second) {
    if (second < 1) continue;
    const bool first_ok = crypto::ConstantTimeEquals(
        AsBytes(HotpCode(seed.view(), static_cast<uint64_t>(second - 1))), AsBytes(code1));
    const bool second_ok = crypto::ConstantTimeEquals(
        AsBytes(HotpCode(seed.view(), static_cast<uint64_t>(second))), AsBytes(code2));
    ok = first_ok && second_ok;
  }
  if (!ok) return errors::InvalidAuthenticationCode("Authentication code for device is not valid.");
  stored.device.user_name = u.name;
  stored.device.enable_date = now;
  u.mfa_serials.push_back(serial_number);
  MERIDIAN_RETURN_IF_ERROR(txn->Put(storage::tables::kIamMfaDevices, stored.key,
                                    records::EncodeMfa(stored.device, stored.wrapped_seed_b64)));
  MERIDIAN_RETURN_IF_ERROR(
      txn->Put(storage::tables::kIamPrincipals, records::EntityKey(EntityKind::kUser, account, u.name), records::EncodeEntity(u)));
  MERIDIAN_RETURN_IF_ERROR(txn->Commit());
  impl_->Changed();
  return Status::Ok();
}

Status Directory::DeactivateMfaDevice(const std::string& account, const std::string& user,
                                      const std::string& serial_number) {
  MERIDIAN_ASSIGN_OR_RETURN(auto txn, BeginChange("DeactivateMFADevice", ChangeScope::kGlobal));
  MERIDIAN_ASSIGN_OR_RETURN(auto stored, LoadDevice(*txn, serial_number));
  if (stored.device.account_id != account) return NoSuchDevice(serial_number);
  std::string owner = stored.device.user_name;
  if (owner.empty() || (!user.empty() && records::Lower(owner) != records::Lower(user)))
    return errors::NoSuchEntity("MFA Device with serial number " + serial_number + " is not enabled for user " +
                                (user.empty() ? owner : user) + ".");
  auto value = txn->Get(storage::tables::kIamPrincipals, records::EntityKey(EntityKind::kUser, account, owner));
  if (!value.ok()) return value.status();
  if (*value) {
    MERIDIAN_ASSIGN_OR_RETURN(auto u, records::DecodeEntity(**value));
    std::erase(u.mfa_serials, serial_number);
    MERIDIAN_RETURN_IF_ERROR(txn->Put(storage::tables::kIamPrincipals,
                                      records::EntityKey(EntityKind::kUser, account, u.name), records::EncodeEntity(u)));
  }
  stored.device.user_name.clear();
  stored.device.enable_date = 0;
  MERIDIAN_RETURN_IF_ERROR(txn->Put(storage::tables::kIamMfaDevices, stored.key,
                                    records::EncodeMfa(stored.device, stored.wrapped_seed_b64)));
  MERIDIAN_RETURN_IF_ERROR(txn->Commit());
  impl_->Changed();
  return Status::Ok();
}

Status Directory::DeleteVirtualMfaDevice(const std::string& serial_number) {
  MERIDIAN_ASSIGN_OR_RETURN(auto txn, BeginChange("DeleteVirtualMFADevice", ChangeScope::kGlobal));
  MERIDIAN_ASSIGN_OR_RETURN(auto stored, LoadDevice(*txn, serial_number));
  if (!stored.device.user_name.empty())
    return errors::DeleteConflict("MFA device is still in use by user " + stored.device.user_name +
                                  "; deactivate it first.");
  MERIDIAN_RETURN_IF_ERROR(txn->Delete(storage::tables::kIamMfaDevices, stored.key));
  MERIDIAN_RETURN_IF_ERROR(txn->Commit());
  return Status::Ok();
}

Result<std::vector<MfaDevice>> Directory::ListMfaDevices(const std::string& account, const std::string& user,
                                                         bool include_unassigned) {
  MERIDIAN_ASSIGN_OR_RETURN(auto txn, storage_.BeginRead());
  if (!user.empty()) {
    auto value = txn->Get(storage::tables::kIamPrincipals, records::EntityKey(EntityKind::kUser, account, user));
    if (!value.ok()) return value.status();
    if (!*value) return errors::NoSuchEntity("The user with name " + user + " cannot be found.");
  }
  MERIDIAN_ASSIGN_OR_RETURN(auto rows, txn->Scan(storage::tables::kIamMfaDevices, account + "/"));
  std::vector<MfaDevice> out;
  for (const auto& row : rows) {
    MERIDIAN_ASSIGN_OR_RETURN(auto d, records::DecodeMfa(row.value, nullptr));
    if (user.empty() ? (include_unassigned || !d.user_name.empty())
                     : records::Lower(d.user_name) == records::Lower(user))
      out.push_back(std::move(d));
  }
  return out;
}

Status Directory::VerifyMfaCode(const std::string& serial_number, const std::string& user, const std::string& code) {
  const Status unable = errors::AccessDenied(
      "MultiFactorAuthentication failed, unable to validate MFA code. Please verify your MFA serial number is valid "
      "and associated with this user.");
  MERIDIAN_ASSIGN_OR_RETURN(auto txn, storage_.BeginRead());
  auto stored = LoadDevice(*txn, serial_number);
  if (!stored.ok()) return stored.status().type() == "NoSuchEntity" ? unable : stored.status();
  if (stored->device.user_name.empty() ||
      (!user.empty() && records::Lower(stored->device.user_name) != records::Lower(user)))
    return unable;
  MERIDIAN_ASSIGN_OR_RETURN(auto seed, UnwrapSeed(root_key_, *stored));
  if (!MatchTotp(seed.view(), code, clock_.NowSeconds(), 1))
    return errors::AccessDenied("MultiFactorAuthentication failed with invalid MFA one time pass code.");
  return Status::Ok();
}

}  // namespace meridian::iam
