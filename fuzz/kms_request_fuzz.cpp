// Fuzzes the KMS request path below the transport: arbitrary bytes as a JSON request body for
// Decrypt and Encrypt (which exercises JSON parsing, base64 decoding, the ciphertext blob parser
// and the encryption-context reader). Must never crash, leak or hang.
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "common/aws_json.h"
#include "crypto/crypto.h"
#include "crypto/root_key.h"
#include "kms/ciphertext_blob.h"
#include "kms/kms.h"
#include "storage/storage.h"

namespace {

struct Fixture {
  std::string dir = std::filesystem::temp_directory_path() / ("kms-fuzz-" + std::to_string(::getpid()));
  std::unique_ptr<meridian::storage::Storage> storage;
  meridian::crypto::RootKey root = meridian::crypto::RootKey::FromBytes(meridian::crypto::RandomBytes(32));
  std::unique_ptr<meridian::kms::KmsService> kms;
  meridian::kms::Caller caller{"111122223333", "arn:aws:iam::111122223333:root", "AKIDFUZZ"};
  Fixture() {
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    storage = std::move(*meridian::storage::OpenSqlite(dir + "/kms.db"));
    kms = std::make_unique<meridian::kms::KmsService>(meridian::kms::KmsOptions::SingleRegion("us-east-1", "111122223333"),
                                                      *storage, root);
    auto req = meridian::ParseJsonObject("{}");
    rapidjson::StringBuffer sb;
    meridian::JsonWriter w(sb);
    (void)kms->Handle("CreateKey", *req, caller, w);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture fixture;
  (void)meridian::kms::ParseCiphertextBlob(meridian::ByteView(data, size));
  auto req = meridian::ParseJsonObject(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!req.ok()) return 0;
  for (const char* op : {"Decrypt", "Encrypt", "GenerateDataKey", "DescribeKey"}) {
    rapidjson::StringBuffer sb;
    meridian::JsonWriter w(sb);
    (void)fixture.kms->Handle(op, *req, fixture.caller, w);
  }
  return 0;
}
