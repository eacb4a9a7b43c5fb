#include "iam/totp.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <array>
#include <cstdlib>
#include <memory>

#include "crypto/crypto.h"

namespace meridian::iam {
namespace {

constexpr std::string_view kBase32Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

EVP_MAC* HmacAlgorithm() {
  static EVP_MAC* const mac = [] {
    EVP_MAC* m = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    if (!m) std::abort();
    return m;
  }();
  return mac;
}

struct MacCtxDeleter {
  void operator()(EVP_MAC_CTX* c) const { EVP_MAC_CTX_free(c); }
};

// HMAC-SHA-1 (RFC 2104) of an 8-byte counter, as HOTP defines it.
std::array<uint8_t, 20> HmacSha1(ByteView key, const uint8_t (&message)[8]) {
  thread_local std::unique_ptr<EVP_MAC_CTX, MacCtxDeleter> ctx(EVP_MAC_CTX_new(HmacAlgorithm()));
  static const OSSL_PARAM kParams[] = {
      OSSL_PARAM_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>("SHA1"), 0), OSSL_PARAM_END};
  std::array<uint8_t, 20> out{};
  size_t len = 0;
  static const uint8_t kEmpty = 0;
  if (!ctx || EVP_MAC_init(ctx.get(), key.empty() ? &kEmpty : key.data(), key.size(), kParams) != 1 ||
      EVP_MAC_update(ctx.get(), message, sizeof(message)) != 1 ||
      EVP_MAC_final(ctx.get(), out.data(), &len, out.size()) != 1 || len != out.size())
    std::abort();
  return out;
}

}  // namespace

std::string Base32Encode(ByteView data) {
  std::string out;
  out.reserve((data.size() * 8 + 4) / 5);
  uint32_t buffer = 0;
  int bits = 0;
  for (uint8_t b : data) {
    buffer = (buffer << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out.push_back(kBase32Alphabet[(buffer >> (bits - 5)) & 31]);
      bits -= 5;
    }
  }
  if (bits > 0) out.push_back(kBase32Alphabet[(buffer << (5 - bits)) & 31]);
  return out;
}

std::optional<Bytes> Base32Decode(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  Bytes out;
  out.reserve(text.size() * 5 / 8);
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a';
    else if (c >= '2' && c <= '7') v = c - '2' + 26;
    else return std::nullopt;
    buffer = (buffer << 5) | static_cast<uint32_t>(v);
    bits += 5;
    if (bits >= 8) {
      out.push_back(static_cast<uint8_t>(buffer >> (bits - 8)));
      bits -= 8;
    }
  }
  return out;
}

std::string HotpCode(ByteView seed, uint64_t counter, int digits) {
  if (digits < 6) digits = 6;
  if (digits > 8) digits = 8;
  uint8_t message[8];
  for (int i = 7; i >= 0; --i) {
    message[i] = static_cast<uint8_t>(counter & 0xff);
    counter >>= 8;
  }
  auto mac = HmacSha1(seed, message);
  // Dynamic truncation, RFC 4226 section 5.3.
  const int offset = mac[19] & 0x0f;
  const uint32_t binary = (static_cast<uint32_t>(mac[offset] & 0x7f) << 24) |
                          (static_cast<uint32_t>(mac[offset + 1]) << 16) |
                          (static_cast<uint32_t>(mac[offset + 2]) << 8) | static_cast<uint32_t>(mac[offset + 3]);
  crypto::Cleanse(mac.data(), mac.size());
  uint32_t modulus = 1;
  for (int i = 0; i < digits; ++i) modulus *= 10;
  std::string code = std::to_string(binary % modulus);
  return std::string(static_cast<size_t>(digits) - code.size(), '0') + code;
}

std::string TotpCode(ByteView seed, int64_t epoch_seconds, int digits) {
  return HotpCode(seed, static_cast<uint64_t>(epoch_seconds / kTotpStepSeconds), digits);
}

std::optional<uint64_t> MatchTotp(ByteView seed, std::string_view code, int64_t epoch_seconds, int window) {
  if (code.size() != static_cast<size_t>(kTotpDigits)) return std::nullopt;
  const int64_t step = epoch_seconds / kTotpStepSeconds;
  std::optional<uint64_t> found;
  // Every candidate is computed and compared, so timing does not tell which step matched.
  for (int64_t s = step - window; s <= step + window; ++s) {
    if (s < 0) continue;
    std::string expected = HotpCode(seed, static_cast<uint64_t>(s), kTotpDigits);
    if (crypto::ConstantTimeEquals(AsBytes(expected), AsBytes(code)) && !found) found = static_cast<uint64_t>(s);
  }
  return found;
}

}  // namespace meridian::iam
