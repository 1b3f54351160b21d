#include "sfu/payload_check.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace parley::sfu {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes Cat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

TEST(PayloadCheck, FormatsFollowTheNegotiatedCodecName) {
  EXPECT_EQ(PayloadFormatOf("opus"), PayloadFormat::kOpus);
  EXPECT_EQ(PayloadFormatOf("OPUS"), PayloadFormat::kOpus);
  EXPECT_EQ(PayloadFormatOf("VP8"), PayloadFormat::kVp8);
  EXPECT_EQ(PayloadFormatOf("h264"), PayloadFormat::kH264);
  EXPECT_EQ(PayloadFormatOf("AV1"), PayloadFormat::kUnchecked);
  EXPECT_TRUE(PayloadWellFormed(PayloadFormat::kUnchecked, {}));
}

// RFC 6716 §3.4: R1 to R7, and at most 120 ms in a packet.
TEST(PayloadCheck, OpusFramingIsChecked) {
  const uint8_t silk20 = 0x08, celt20 = 0xF8;        // configs 1 (SILK NB 20 ms), 31 (CELT FB 20 ms)
  EXPECT_FALSE(OpusPacketWellFormed(Bytes{}));       // R1
  EXPECT_TRUE(OpusPacketWellFormed(Bytes{silk20}));  // one empty frame (DTX)
  EXPECT_TRUE(OpusPacketWellFormed(Cat({celt20}, Bytes(1275, 1))));
  EXPECT_FALSE(OpusPacketWellFormed(Cat({celt20}, Bytes(1276, 1))));  // R2
  // Code 1: two frames of equal size.
  EXPECT_TRUE(OpusPacketWellFormed(Bytes{celt20 | 1, 1, 2, 3, 4}));
  EXPECT_FALSE(OpusPacketWellFormed(Bytes{celt20 | 1, 1, 2, 3}));  // R3
  // Code 2: the first frame's length is coded and must fit (R4).
  EXPECT_TRUE(OpusPacketWellFormed(Bytes{celt20 | 2, 2, 9, 9, 7}));
  EXPECT_FALSE(OpusPacketWellFormed(Bytes{celt20 | 2, 10, 9, 9}));
  EXPECT_FALSE(OpusPacketWellFormed(Bytes{celt20 | 2, 252}));                       // a two-byte length cut short
  EXPECT_TRUE(OpusPacketWellFormed(Cat({celt20 | 2, 252, 1}, Bytes(256 + 3, 0))));  // 4 * 1 + 252
  // Code 3, CBR: M frames of equal size, at most 120 ms.
  EXPECT_TRUE(OpusPacketWellFormed(Bytes{celt20 | 3, 3, 1, 2, 3}));
  EXPECT_FALSE(OpusPacketWellFormed(Bytes{celt20 | 3, 3, 1, 2}));  // R6
  EXPECT_FALSE(OpusPacketWellFormed(Bytes{celt20 | 3, 0}));        // R5: no frame
  EXPECT_TRUE(OpusPacketWellFormed(Bytes{celt20 | 3, 6}));         // 6 x 20 ms
  EXPECT_FALSE(OpusPacketWellFormed(Bytes{celt20 | 3, 7}));        // 140 ms
  EXPECT_FALSE(OpusPacketWellFormed(Bytes{0x18 | 3, 3}));          // 3 x 60 ms (SILK)
  EXPECT_FALSE(OpusPacketWellFormed(Bytes{celt20 | 3}));           // no count byte
  // Padding: its length is coded in bytes of up to 255 (meaning 254 and more to come).
  EXPECT_TRUE(OpusPacketWellFormed(Bytes{celt20 | 3, 0x40 | 2, 3, 1, 2, 0, 0, 0}));
  EXPECT_FALSE(OpusPacketWellFormed(Bytes{celt20 | 3, 0x40 | 2, 255, 1, 2}));
  EXPECT_FALSE(OpusPacketWellFormed(Bytes{celt20 | 3, 0x40 | 1, 255}));
  // Code 3, VBR: M - 1 lengths, the last frame takes the rest (R7).
  EXPECT_TRUE(OpusPacketWellFormed(Bytes{celt20 | 3, 0x80 | 2, 3, 1, 1, 1, 2, 2}));
  EXPECT_FALSE(OpusPacketWellFormed(Bytes{celt20 | 3, 0x80 | 2, 200, 1, 1}));
  EXPECT_FALSE(OpusPacketWellFormed(Bytes{celt20 | 3, 0x80 | 3, 1}));  // the second length is missing
}

Bytes Vp8Key(uint16_t width, uint16_t height) {
  return {0x50,
          0x02,
          0x00,
          0x9D,
          0x01,
          0x2A,
          static_cast<uint8_t>(width),
          static_cast<uint8_t>(width >> 8),
          static_cast<uint8_t>(height),
          static_cast<uint8_t>(height >> 8),
          0xAA};
}

// RFC 7741 §4.2 descriptors; RFC 6386 §9.1 keyframe headers.
TEST(PayloadCheck, Vp8DescriptorAndKeyframeHeaderAreChecked) {
  EXPECT_TRUE(Vp8PayloadWellFormed(Cat({0x10}, Vp8Key(640, 480))));
  EXPECT_TRUE(Vp8PayloadWellFormed(Cat({0x10}, Vp8Key(4096, 2304))));
  EXPECT_FALSE(Vp8PayloadWellFormed(Cat({0x10}, Vp8Key(0, 480))));
  EXPECT_FALSE(Vp8PayloadWellFormed(Cat({0x10}, Vp8Key(16383, 16383))));
  EXPECT_FALSE(Vp8PayloadWellFormed(Cat({0x10}, Vp8Key(4100, 100))));   // a side too long
  EXPECT_FALSE(Vp8PayloadWellFormed(Cat({0x10}, Vp8Key(4096, 4096))));  // too large an area
  Bytes wrong_start_code = Cat({0x10}, Vp8Key(640, 480));
  wrong_start_code[5] = 0x02;
  EXPECT_FALSE(Vp8PayloadWellFormed(wrong_start_code));
  EXPECT_FALSE(Vp8PayloadWellFormed(Bytes{0x10, 0x50, 0x02, 0x00, 0x9D}));  // keyframe header cut short
  EXPECT_FALSE(Vp8PayloadWellFormed(Bytes{0x10, 0x0F, 0, 0}));              // version 7
  EXPECT_TRUE(Vp8PayloadWellFormed(Bytes{0x10, 0x01, 0, 0, 5}));            // a delta frame
  EXPECT_FALSE(Vp8PayloadWellFormed(Bytes{0x10, 0x01}));                    // frame tag cut short
  // Extended descriptors: 15-bit PictureID, TL0PICIDX, TID/KEYIDX.
  EXPECT_TRUE(Vp8PayloadWellFormed(Cat({0x90, 0xF0, 0x81, 0x23, 0x07, 0x40}, Vp8Key(320, 240))));
  EXPECT_TRUE(Vp8PayloadWellFormed(Bytes{0x80, 0x80, 0x05, 0xEE}));   // continuation, 7-bit PictureID
  EXPECT_FALSE(Vp8PayloadWellFormed(Bytes{0x90, 0x80}));              // PictureID missing
  EXPECT_FALSE(Vp8PayloadWellFormed(Bytes{0x90, 0x80, 0x81, 0x23}));  // nothing after the descriptor
  EXPECT_FALSE(Vp8PayloadWellFormed(Bytes{0x10}));
  // A continuation (not the start of partition 0) is partition data, not checked further.
  EXPECT_TRUE(Vp8PayloadWellFormed(Bytes{0x00, 0xFF, 0xFF}));
  EXPECT_TRUE(Vp8PayloadWellFormed(Bytes{0x11, 0xFF}));
  EXPECT_TRUE(PayloadWellFormed(PayloadFormat::kVp8, {}));  // padding only
}

// Writes H.264 RBSP bits (with emulation prevention) for the SPS tests.
class BitWriter {
 public:
  void Bits(int n, uint32_t v) {
    for (int i = n - 1; i >= 0; --i) Bit((v >> i) & 1u);
  }
  void Ue(uint32_t v) {
    uint32_t x = v + 1;
    int len = 0;
    while ((x >> len) > 1) ++len;
    Bits(len, 0);
    Bits(len + 1, x);
  }
  void Se(int32_t v) { Ue(v > 0 ? static_cast<uint32_t>(2 * v - 1) : static_cast<uint32_t>(-2 * v)); }
  Bytes Finish() {
    Bit(1);  // rbsp_stop_one_bit
    while (bits_ != 0) Bit(0);
    return out_;
  }

 private:
  void Bit(uint32_t b) {
    cur_ = static_cast<uint8_t>((cur_ << 1) | b);
    if (++bits_ == 8) {
      if (zeros_ >= 2 && cur_ <= 3) {  // emulation prevention (H.264 §7.4.1)
        out_.push_back(3);
        zeros_ = 0;
      }
      out_.push_back(cur_);
      zeros_ = cur_ == 0 ? zeros_ + 1 : 0;
      bits_ = 0;
      cur_ = 0;
    }
  }
  Bytes out_;
  uint8_t cur_ = 0;
  int bits_ = 0;
  int zeros_ = 0;
};

Bytes Sps(uint8_t profile, uint32_t width_mbs, uint32_t height_units, bool frame_mbs_only, bool scaling = false) {
  BitWriter w;
  w.Ue(0);  // seq_parameter_set_id
  if (profile == 100) {
    w.Ue(1);  // 4:2:0
    w.Ue(0);
    w.Ue(0);
    w.Bits(1, 0);
    w.Bits(1, scaling);
    if (scaling)
      for (int i = 0; i < 8; ++i) {
        w.Bits(1, i == 0 || i == 6);
        if (i == 0 || i == 6)
          for (int j = 0; j < (i < 6 ? 16 : 64); ++j) w.Se(j == 0 ? 8 : (j % 2 ? 1 : -1));
      }
  }
  w.Ue(0);  // log2_max_frame_num_minus4
  w.Ue(0);  // pic_order_cnt_type
  w.Ue(2);  // log2_max_pic_order_cnt_lsb_minus4
  w.Ue(1);  // max_num_ref_frames
  w.Bits(1, 0);
  w.Ue(width_mbs - 1);
  w.Ue(height_units - 1);
  w.Bits(1, frame_mbs_only);
  w.Bits(1, 1);  // direct_8x8_inference_flag
  w.Bits(2, 0);  // no cropping, no VUI
  return Cat({0x67, profile, 0x00, 0x1F}, w.Finish());
}

TEST(PayloadCheck, H264SequenceParameterSetsGiveTheirPictureSize) {
  uint32_t width = 0, height = 0;
  ASSERT_TRUE(H264SpsPictureSize(Sps(66, 40, 30, true), &width, &height));
  EXPECT_EQ(width, 640u);
  EXPECT_EQ(height, 480u);
  ASSERT_TRUE(H264SpsPictureSize(Sps(100, 120, 34, false, true), &width, &height));
  EXPECT_EQ(width, 1920u);
  EXPECT_EQ(height, 1088u);  // field coding: map units are pairs of macroblock rows
  // x264's 1280x720 High profile SPS, as sent (with its emulation-prevention bytes).
  const Bytes x264 = {0x67, 0x64, 0x00, 0x1F, 0xAC, 0xD9, 0x40, 0x50, 0x05, 0xBB, 0x01, 0x10, 0x00,
                      0x00, 0x03, 0x00, 0x10, 0x00, 0x00, 0x03, 0x03, 0xC0, 0xF1, 0x83, 0x19, 0x60};
  ASSERT_TRUE(H264SpsPictureSize(x264, &width, &height));
  EXPECT_EQ(width, 1280u);
  EXPECT_EQ(height, 720u);
  Bytes cut = Sps(66, 40, 30, true);
  cut.resize(6);
  EXPECT_FALSE(H264SpsPictureSize(cut, &width, &height));
  EXPECT_FALSE(H264SpsPictureSize(Bytes{0x68, 0x42, 0, 0x1F, 0x80}, &width, &height));  // a PPS
}

TEST(PayloadCheck, H264PacketsFollowPacketizationModeOne) {
  const Bytes idr = {0x65, 0x88, 0x84, 0x00};
  EXPECT_TRUE(H264PayloadWellFormed(idr));
  EXPECT_TRUE(H264PayloadWellFormed(Sps(66, 80, 45, true)));     // 1280 x 720
  EXPECT_FALSE(H264PayloadWellFormed(Sps(66, 512, 288, true)));  // 8192 x 4608
  EXPECT_FALSE(H264PayloadWellFormed(Sps(66, 257, 10, true)));   // 4112 wide
  EXPECT_FALSE(H264PayloadWellFormed(Bytes{0xE5, 0x88}));        // forbidden bit
  for (int type : {0, 25, 26, 27, 29, 30, 31})                   // not in mode 1
    EXPECT_FALSE(H264PayloadWellFormed(Bytes{static_cast<uint8_t>(0x60 | type), 1, 2, 3})) << type;
  // STAP-A: sizes must cover the packet exactly, each unit well-formed.
  Bytes sps = Sps(66, 40, 30, true);
  Bytes stap = {0x78, 0x00, static_cast<uint8_t>(sps.size())};
  stap = Cat(Cat(stap, sps), {0x00, 0x04, 0x68, 0xCE, 0x38, 0x80});
  EXPECT_TRUE(H264PayloadWellFormed(stap));
  Bytes overrun = stap;
  overrun.pop_back();
  EXPECT_FALSE(H264PayloadWellFormed(overrun));
  EXPECT_FALSE(H264PayloadWellFormed(Bytes{0x78, 0x00, 0x00}));           // an empty unit
  EXPECT_FALSE(H264PayloadWellFormed(Bytes{0x78, 0x00, 0x02, 0x78, 1}));  // nested aggregate
  EXPECT_FALSE(H264PayloadWellFormed(Bytes{0x78}));
  Bytes big_sps = Sps(66, 512, 288, true);
  Bytes stap_big = Cat({0x78, 0x00, static_cast<uint8_t>(big_sps.size())}, big_sps);
  EXPECT_FALSE(H264PayloadWellFormed(stap_big));
  // FU-A: a start, middle or end fragment of a slice; never both start and end, never a
  // parameter set, reserved bit clear.
  EXPECT_TRUE(H264PayloadWellFormed(Bytes{0x7C, 0x85, 1, 2}));
  EXPECT_TRUE(H264PayloadWellFormed(Bytes{0x7C, 0x05, 1}));
  EXPECT_TRUE(H264PayloadWellFormed(Bytes{0x7C, 0x45, 1}));
  EXPECT_FALSE(H264PayloadWellFormed(Bytes{0x7C, 0xC5, 1}));
  EXPECT_FALSE(H264PayloadWellFormed(Bytes{0x7C, 0xA5, 1}));
  EXPECT_FALSE(H264PayloadWellFormed(Bytes{0x7C, 0x87, 1}));
  EXPECT_FALSE(H264PayloadWellFormed(Bytes{0x7C, 0x80, 1}));
  EXPECT_FALSE(H264PayloadWellFormed(Bytes{0x7C, 0x85}));
  EXPECT_TRUE(PayloadWellFormed(PayloadFormat::kH264, {}));
}

}  // namespace
}  // namespace parley::sfu
