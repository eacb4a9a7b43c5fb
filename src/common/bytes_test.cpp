#include "common/bytes.h"

#include <gtest/gtest.h>

namespace meridian {
namespace {

TEST(ByteReader, ReadsBigEndianAndStopsAtEnd) {
  Bytes data = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07};
  ByteReader r(data);
  uint8_t a;
  uint16_t b;
  uint32_t c;
  ASSERT_TRUE(r.ReadU8(a));
  ASSERT_TRUE(r.ReadU16(b));
  ASSERT_TRUE(r.ReadU32(c));
  EXPECT_EQ(a, 0x01);
  EXPECT_EQ(b, 0x0203);
  EXPECT_EQ(c, 0x04050607u);
  EXPECT_TRUE(r.AtEnd());
  EXPECT_FALSE(r.ReadU8(a));
  EXPECT_FALSE(r.ok());
}

TEST(ByteReader, OversizedLengthFailsWithoutOverflow) {
  Bytes data = {0xAA, 0xBB};
  ByteReader r(data);
  ByteView v;
  EXPECT_FALSE(r.ReadView(SIZE_MAX, v));
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(ByteWriter, WritesBigEndian) {
  ByteWriter w;
  w.WriteU16(0x0102);
  w.WriteU32(0x03040506);
  w.Write(std::string_view("xy"));
  EXPECT_EQ(w.bytes(), (Bytes{1, 2, 3, 4, 5, 6, 'x', 'y'}));
}

}  // namespace
}  // namespace meridian
