// Byte buffers and bounds-checked readers/writers for every parser of untrusted bytes.
//
// ByteReader never reads past the end of its input: each Read* returns false (and leaves the
// reader in a failed state) instead. Parsers check ok() once at the end or after each step.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace meridian {

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;

inline ByteView AsBytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
inline std::string_view AsString(ByteView b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}
inline Bytes ToBytes(std::string_view s) { return Bytes(s.begin(), s.end()); }

class ByteReader {
 public:
  explicit ByteReader(ByteView data) : data_(data) {}

  bool ok() const { return ok_; }
  size_t remaining() const { return ok_ ? data_.size() - pos_ : 0; }
  size_t position() const { return pos_; }
  bool AtEnd() const { return ok_ && pos_ == data_.size(); }

  bool ReadU8(uint8_t& out) { return ReadBigEndian(out, 1); }
  bool ReadU16(uint16_t& out) { return ReadBigEndian(out, 2); }
  bool ReadU32(uint32_t& out) { return ReadBigEndian(out, 4); }
  bool ReadU64(uint64_t& out) { return ReadBigEndian(out, 8); }

  // Returns a view of the next n bytes (valid while the underlying buffer lives).
  bool ReadView(size_t n, ByteView& out) {
    if (!Require(n)) return false;
    out = data_.subspan(pos_, n);
    pos_ += n;
    return true;
  }
  bool ReadBytes(size_t n, Bytes& out) {
    ByteView v;
    if (!ReadView(n, v)) return false;
    out.assign(v.begin(), v.end());
    return true;
  }
  bool Skip(size_t n) {
    if (!Require(n)) return false;
    pos_ += n;
    return true;
  }
  // The rest of the input.
  ByteView Rest() const { return ok_ ? data_.subspan(pos_) : ByteView(); }

 private:
  bool Require(size_t n) {
    if (!ok_ || n > data_.size() - pos_) {
      ok_ = false;
      return false;
    }
    return true;
  }
  template <typename T>
  bool ReadBigEndian(T& out, size_t n) {
    if (!Require(n)) return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v = (v << 8) | data_[pos_ + i];
    out = static_cast<T>(v);
    pos_ += n;
    return true;
  }

  ByteView data_;
  size_t pos_ = 0;
  bool ok_ = true;
};

class ByteWriter {
 public:
  ByteWriter() = default;
  explicit ByteWriter(size_t reserve) { out_.reserve(reserve); }

  void WriteU8(uint8_t v) { out_.push_back(v); }
  void WriteU16(uint16_t v) { WriteBigEndian(v, 2); }
  void WriteU32(uint32_t v) { WriteBigEndian(v, 4); }
  void WriteU64(uint64_t v) { WriteBigEndian(v, 8); }
  void Write(ByteView b) { out_.insert(out_.end(), b.begin(), b.end()); }
  void Write(std::string_view s) { Write(AsBytes(s)); }

  const Bytes& bytes() const { return out_; }
  Bytes Take() { return std::move(out_); }
  size_t size() const { return out_.size(); }

 private:
  void WriteBigEndian(uint64_t v, size_t n) {
    for (size_t i = n; i-- > 0;) out_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  Bytes out_;
};

}  // namespace meridian
