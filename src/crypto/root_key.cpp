#include "crypto/root_key.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "common/encoding.h"

namespace meridian::crypto {
namespace {

constexpr uint8_t kWrapVersion = 1;
constexpr char kSealAad[] = "meridian-root-key-file-v1";

Status WriteFileExclusive(const std::string& path, const std::string& content) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return errors::Internal("cannot create root key file " + path + ": " + std::strerror(errno));
  size_t off = 0;
  while (off < content.size()) {
    ssize_t n = ::write(fd, content.data() + off, content.size() - off);
    if (n <= 0) {
      ::close(fd);
      return errors::Internal("cannot write root key file " + path);
    }
    off += static_cast<size_t>(n);
  }
  bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced) return errors::Internal("cannot sync root key file " + path);
  return Status::Ok();
}

}  // namespace

RootKey RootKey::FromBytes(ByteView key) { return RootKey(SecureBytes(key)); }

Result<RootKey> RootKey::CreateSealedFile(const std::string& path, std::string_view passphrase,
                                          const ScryptParams& params) {
  if (passphrase.size() < 8) return errors::Validation("root key passphrase must be at least 8 characters");
  SecureBytes key = RandomSecret(kAesGcmKeySize);
  Bytes salt = RandomBytes(16);
  Bytes iv = RandomBytes(kAesGcmIvSize);
  MERIDIAN_ASSIGN_OR_RETURN(SecureBytes kek, Scrypt(passphrase, salt, params, kAesGcmKeySize));
  Bytes sealed;
  MERIDIAN_RETURN_IF_ERROR(AesGcmSeal(kek.view(), iv, AsBytes(kSealAad), key.view(), sealed));

  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  w.Key("format");
  w.String("meridian-sealed-root-key");
  w.Key("version");
  w.Int(1);
  w.Key("kdf");
  w.String("scrypt");
  w.Key("n");
  w.Uint64(params.n);
  w.Key("r");
  w.Uint(params.r);
  w.Key("p");
  w.Uint(params.p);
  w.Key("salt");
  w.String(Base64Encode(salt).c_str());
  w.Key("iv");
  w.String(Base64Encode(iv).c_str());
  w.Key("sealed_key");
  w.String(Base64Encode(sealed).c_str());
  w.EndObject();
  MERIDIAN_RETURN_IF_ERROR(WriteFileExclusive(path, std::string(sb.GetString()) + "\n"));
  return RootKey(std::move(key));
}

Result<RootKey> RootKey::OpenSealedFile(const std::string& path, std::string_view passphrase) {
  std::ifstream in(path);
  if (!in) return errors::Internal("cannot read root key file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  rapidjson::Document doc;
  doc.Parse(text.c_str(), text.size());
  auto bad = [&] { return errors::Internal("root key file " + path + " is malformed"); };
  if (doc.HasParseError() || !doc.IsObject()) return bad();
  for (const char* k : {"salt", "iv", "sealed_key"})
    if (!doc.HasMember(k) || !doc[k].IsString()) return bad();
  for (const char* k : {"n", "r", "p"})
    if (!doc.HasMember(k) || !doc[k].IsUint64()) return bad();
  auto salt = Base64Decode(doc["salt"].GetString());
  auto iv = Base64Decode(doc["iv"].GetString());
  auto sealed = Base64Decode(doc["sealed_key"].GetString());
  if (!salt || !iv || !sealed) return bad();
  ScryptParams params{doc["n"].GetUint64(), static_cast<uint32_t>(doc["r"].GetUint64()),
                      static_cast<uint32_t>(doc["p"].GetUint64())};
  MERIDIAN_ASSIGN_OR_RETURN(SecureBytes kek, Scrypt(passphrase, *salt, params, kAesGcmKeySize));
  SecureBytes key;
  if (!AesGcmOpen(kek.view(), *iv, AsBytes(kSealAad), *sealed, key) || key.size() != kAesGcmKeySize)
    return Status("InvalidPassphrase",
                  "cannot unseal root key file " + path + ": wrong passphrase or the file was altered", 500);
  return RootKey(std::move(key));
}

Bytes RootKey::Wrap(ByteView secret, std::string_view context) const {
  Bytes out;
  out.reserve(1 + kAesGcmIvSize + secret.size() + kAesGcmTagSize);
  out.push_back(kWrapVersion);
  Bytes iv = RandomBytes(kAesGcmIvSize);
  out.insert(out.end(), iv.begin(), iv.end());
  if (!AesGcmSeal(key_.view(), iv, AsBytes(context), secret, out).ok()) std::abort();
  return out;
}

Result<SecureBytes> RootKey::Unwrap(ByteView wrapped, std::string_view context) const {
  ByteReader r(wrapped);
  uint8_t version = 0;
  ByteView iv;
  if (!r.ReadU8(version) || version != kWrapVersion || !r.ReadView(kAesGcmIvSize, iv))
    return errors::Internal("wrapped key material is malformed");
  SecureBytes out;
  if (!AesGcmOpen(key_.view(), iv, AsBytes(context), r.Rest(), out))
    return errors::Internal("wrapped key material failed authentication under the root key");
  return out;
}

std::string RootKey::Fingerprint() const {
  auto d = HmacSha256(key_.view(), AsBytes("meridian-root-key-fingerprint"));
  return HexEncode(ByteView(d.data(), 8));
}

}  // namespace meridian::crypto
