#include "secrets/random_password.h"

#include <array>
#include <string_view>
#include <vector>

#include "secrets/errors.h"

namespace meridian::secrets {
namespace {

constexpr std::string_view kLowercase = "abcdefghijklmnopqrstuvwxyz";
constexpr std::string_view kUppercase = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
constexpr std::string_view kDigits = "0123456789";
constexpr std::string_view kPunctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

// Draws indexes in [0, n) uniformly, refilling a random buffer as needed.
class UniformIndex {
 public:
  explicit UniformIndex(size_t n) : n_(n), limit_(static_cast<uint32_t>((0x10000u / n) * n)) {}
  ~UniformIndex() { crypto::Cleanse(buf_.data(), buf_.size()); }
  size_t Next() {
    while (true) {
      if (pos_ + 2 > buf_.size()) {
        crypto::RandomFill(buf_);
        pos_ = 0;
      }
      uint32_t v = (static_cast<uint32_t>(buf_[pos_]) << 8) | buf_[pos_ + 1];
      pos_ += 2;
      if (v < limit_) return v % n_;
    }
  }

 private:
  size_t n_;
  uint32_t limit_;
  std::array<uint8_t, 256> buf_{};
  size_t pos_ = 256;
};

}  // namespace

Result<crypto::SecureBytes> GenerateRandomPassword(const PasswordOptions& o) {
  if (o.length < 1 || o.length > kMaxPasswordLength)
    return err::InvalidParameter("PasswordLength must be between 1 and 4096.");
  auto allowed = [&](char c) { return o.exclude_characters.find(c) == std::string::npos; };
  // The character types in play, each reduced by ExcludeCharacters.
  std::vector<std::string> types;
  for (auto [set, excluded] : {std::pair{kLowercase, o.exclude_lowercase}, std::pair{kUppercase, o.exclude_uppercase},
                               std::pair{kDigits, o.exclude_numbers}, std::pair{kPunctuation, o.exclude_punctuation}}) {
    if (excluded) continue;
    std::string chars;
    for (char c : set)
      if (allowed(c)) chars.push_back(c);
    if (!chars.empty()) types.push_back(std::move(chars));
  }
  std::string pool;
  for (const auto& t : types) pool += t;
  if (o.include_space && allowed(' ')) pool.push_back(' ');
  if (pool.empty())
    return err::InvalidParameter("The password can't be generated because every character type is excluded.");
  if (o.require_each_included_type && static_cast<size_t>(o.length) < types.size())
    return err::InvalidParameter("Password length is too short based on the required types.");

  UniformIndex pick(pool.size());
  crypto::SecureBytes out(static_cast<size_t>(o.length));
  while (true) {
    for (size_t i = 0; i < out.size(); ++i) out.data()[i] = static_cast<uint8_t>(pool[pick.Next()]);
    if (!o.require_each_included_type) return out;
    bool every_type = true;
    for (const auto& t : types) {
      bool found = false;
      for (size_t i = 0; i < out.size() && !found; ++i) found = t.find(static_cast<char>(out.data()[i])) != std::string::npos;
      every_type = every_type && found;
    }
    if (every_type) return out;
  }
}

}  // namespace meridian::secrets
