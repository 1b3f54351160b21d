// The server's own SRTP/SRTCP: the RFCs' test vectors (RFC 3711 B.2 keystream and B.3
// key derivation, RFC 7714 §16 and §17 packets), libsrtp2 reading what we protect and
// us reading what it protects (both profiles, sequence wrap, reordering,
// retransmission, several SSRCs, RTCP), and what a hostile peer can try: replays, old
// packets, tampering, truncation, packets that do not authenticate creating state,
// and more SSRCs than a session keeps.
#include "sfu/srtp.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "libsrtp_session.hpp"
#include "sfu/rtcp_writer.hpp"
#include "sfu/rtp.hpp"

namespace parley::sfu {
namespace {

using Bytes = std::vector<uint8_t>;
using Dir = SrtpSession::Direction;

Bytes Hex(std::string_view s) {
  Bytes out;
  int hi = -1;
  for (char c : s) {
    int v = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : -1;
    if (v < 0) continue;
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(static_cast<uint8_t>(hi << 4 | v));
      hi = -1;
    }
  }
  return out;
}

Bytes Rtp(uint32_t ssrc, uint16_t seq, size_t payload, uint8_t fill = 0xA5, bool extension = false) {
  Bytes p = {0x80, 96, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  Store16(p.data() + 2, seq);
  Store32(p.data() + 4, seq * 3000u);
  Store32(p.data() + 8, ssrc);
  if (extension) {
    p[0] |= 0x10;
    for (int b : {0xBE, 0xDE, 0x00, 0x01, 0x31, 0x12, 0x34, 0x00}) p.push_back(static_cast<uint8_t>(b));
  }
  for (size_t i = 0; i < payload; ++i) p.push_back(static_cast<uint8_t>(fill + static_cast<uint8_t>(i)));
  return p;
}

/// Protects `plain` with `out` and unprotects with `in`; the result must equal it.
template <typename Out, typename In>
::testing::AssertionResult RoundTrip(Out& out, In& in, const Bytes& plain, bool rtcp = false) {
  Bytes buf(plain.size() + kSrtpMaxOverhead + 8);
  std::copy(plain.begin(), plain.end(), buf.begin());
  size_t n = rtcp ? out.ProtectRtcp(buf.data(), plain.size(), buf.size())
                  : out.ProtectRtp(buf.data(), plain.size(), buf.size());
  if (!n) return ::testing::AssertionFailure() << "protect failed";
  size_t m = rtcp ? in.UnprotectRtcp(buf.data(), n) : in.UnprotectRtp(buf.data(), n);
  if (m != plain.size()) return ::testing::AssertionFailure() << "unprotect gave " << m << " of " << plain.size();
  if (!std::equal(plain.begin(), plain.end(), buf.begin())) return ::testing::AssertionFailure() << "bytes differ";
  return ::testing::AssertionSuccess();
}

TEST(Srtp, KeyDerivationMatchesRfc3711AppendixB3) {
  Bytes key = Hex("E1F97A0D3E018BE0D64FA32C06DE4139");
  Bytes salt = Hex("0EC675AD498AFEEBB6960B3AABE6");
  EXPECT_EQ(SrtpDeriveKey(key, salt, 0, 16), Hex("C61E7A93744F39EE10734AFE3FF7A087"));
  EXPECT_EQ(SrtpDeriveKey(key, salt, 1, 20), Hex("CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4"));
  EXPECT_EQ(SrtpDeriveKey(key, salt, 2, 14), Hex("30CBBC08863D8C85D49DB34A9AE1"));
  EXPECT_TRUE(SrtpDeriveKey(Bytes(15, 0), salt, 0, 16).empty());
}

TEST(Srtp, AesCmKeystreamMatchesRfc3711AppendixB2) {
  // SSRC 0, ROC 0, sequence 0: the packet's payload XOR the keystream from block 0.
  // Zeros in, keystream out; blocks 0xFEFF..0xFF01 need a payload of 0xFF02 blocks.
  SrtpSessionKeys keys{Hex("2B7E151628AED2A6ABF7158809CF4F3C"), Hex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD"), Bytes(20, 7)};
  auto s = *SrtpSession::Create(SrtpProfile::kAes128CmSha1_80, keys, keys, Dir::kOutbound);
  const size_t payload = 0xFF02 * 16;
  Bytes pkt(12 + payload + kSrtpMaxOverhead, 0);
  pkt[0] = 0x80;
  ASSERT_EQ(s->ProtectRtp(pkt.data(), 12 + payload, pkt.size()), 12 + payload + 10);
  auto block = [&](long i) { return Bytes(pkt.begin() + 12 + 16 * i, pkt.begin() + 12 + 16 * (i + 1)); };
  EXPECT_EQ(block(0), Hex("E03EAD0935C95E80E166B16DD92B4EB4"));
  EXPECT_EQ(block(1), Hex("D23513162B02D0F72A43A2FE4A5F97AB"));
  EXPECT_EQ(block(2), Hex("41E95B3BB0A2E8DD477901E4FCA894C0"));
  EXPECT_EQ(block(0xFEFF), Hex("EC8CDF7398607CB0F2D21675EA9EA1E4"));
  EXPECT_EQ(block(0xFF00), Hex("362B7C3C6773516318A077D7FC5073AE"));
  EXPECT_EQ(block(0xFF01), Hex("6A2CC3787889374FBEB4C81B17BA6C44"));
}

// RFC 7714 §16 and §17 give session keys directly.
const SrtpSessionKeys kGcmKeys{Hex("000102030405060708090a0b0c0d0e0f"), Hex("517569642070726f2071756f"), {}};
const Bytes kGcmRtp = Hex(
    "8040f17b 8041f8d3 5501a0b2 47616c6c 69612065 7374206f 6d6e6973 20646976 69736120 696e2070 61727465 73207472 6573");
const Bytes kGcmSrtp = Hex(
    "8040f17b 8041f8d3 5501a0b2 f24de3a3 fb34de6c acba861c 9d7e4bca be633bd5 0d294e6f 42a5f47a 51c7d19b 36de3adf 8833"
    "899d7f27 beb16a91 52cf765e e4390cce");
const Bytes kGcmRtcp =
    Hex("81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930 4c756e61 deadbeef deadbeef deadbeef deadbeef "
        "deadbeef");
const Bytes kGcmSrtcp =
    Hex("81c8000d 4d617273 63e94885 dcdab67c a727d766 2f6b7e99 7ff5c0f7 6c06f32d c676a5f1 730d6fda 4ce09b46 86303ded "
        "0bb9275b c84aa458 96cf4d2f c5abf872 45d9eade 800005d4");
// §17.3: authenticated, not encrypted (E flag clear).
const Bytes kGcmSrtcpTagOnly =
    Hex("81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930 4c756e61 deadbeef deadbeef deadbeef deadbeef "
        "deadbeef 841dd968 3dd78ec9 2ae58790 125f62b3 000005d4");

TEST(Srtp, GcmRtpMatchesRfc7714Section16) {
  auto out = *SrtpSession::Create(SrtpProfile::kAeadAes128Gcm, kGcmKeys, kGcmKeys, Dir::kOutbound);
  Bytes buf = kGcmRtp;
  buf.resize(buf.size() + kSrtpMaxOverhead);
  ASSERT_EQ(out->ProtectRtp(buf.data(), kGcmRtp.size(), buf.size()), kGcmSrtp.size());
  EXPECT_EQ(Bytes(buf.begin(), buf.begin() + static_cast<long>(kGcmSrtp.size())), kGcmSrtp);

  auto in = *SrtpSession::Create(SrtpProfile::kAeadAes128Gcm, kGcmKeys, kGcmKeys, Dir::kInbound);
  buf = kGcmSrtp;
  ASSERT_EQ(in->UnprotectRtp(buf.data(), buf.size()), kGcmRtp.size());
  EXPECT_EQ(Bytes(buf.begin(), buf.begin() + static_cast<long>(kGcmRtp.size())), kGcmRtp);
}

TEST(Srtp, GcmRtcpMatchesRfc7714Section17) {
  auto out = *SrtpSession::Create(SrtpProfile::kAeadAes128Gcm, kGcmKeys, kGcmKeys, Dir::kOutbound);
  Bytes buf(kGcmRtcp.size() + kSrtpMaxOverhead);
  for (uint32_t index = 0; index <= 0x5d4; ++index) {  // the vector's SRTCP index is 0x5d4
    std::copy(kGcmRtcp.begin(), kGcmRtcp.end(), buf.begin());
    ASSERT_EQ(out->ProtectRtcp(buf.data(), kGcmRtcp.size(), buf.size()), kGcmSrtcp.size());
  }
  EXPECT_EQ(buf, kGcmSrtcp);

  auto in = *SrtpSession::Create(SrtpProfile::kAeadAes128Gcm, kGcmKeys, kGcmKeys, Dir::kInbound);
  buf = kGcmSrtcp;
  ASSERT_EQ(in->UnprotectRtcp(buf.data(), buf.size()), kGcmRtcp.size());
  EXPECT_EQ(Bytes(buf.begin(), buf.begin() + static_cast<long>(kGcmRtcp.size())), kGcmRtcp);

  auto in2 = *SrtpSession::Create(SrtpProfile::kAeadAes128Gcm, kGcmKeys, kGcmKeys, Dir::kInbound);
  buf = kGcmSrtcpTagOnly;
  ASSERT_EQ(in2->UnprotectRtcp(buf.data(), buf.size()), kGcmRtcp.size());
  EXPECT_EQ(Bytes(buf.begin(), buf.begin() + static_cast<long>(kGcmRtcp.size())), kGcmRtcp);
  buf = kGcmSrtcpTagOnly;
  buf[20] ^= 1;  // the clear text is authenticated
  auto in3 = *SrtpSession::Create(SrtpProfile::kAeadAes128Gcm, kGcmKeys, kGcmKeys, Dir::kInbound);
  EXPECT_EQ(in3->UnprotectRtcp(buf.data(), buf.size()), 0u);
}

std::string ProfileName(const ::testing::TestParamInfo<SrtpProfile>& p) {
  return p.param == SrtpProfile::kAeadAes128Gcm ? "Gcm" : "Cm";
}

class SrtpInterop : public ::testing::TestWithParam<SrtpProfile> {
 protected:
  Bytes Master() const {
    Bytes m(GetParam() == SrtpProfile::kAeadAes128Gcm ? 28 : 30);
    for (size_t i = 0; i < m.size(); ++i) m[i] = static_cast<uint8_t>(0x11 * i + 3);
    return m;
  }
  std::unique_ptr<SrtpSession> Ours(Dir d) const { return *SrtpSession::Create(GetParam(), Master(), d); }
  std::unique_ptr<LibSrtpSession> Theirs(Dir d) const { return *LibSrtpSession::Create(GetParam(), Master(), d); }

 public:
  /// Sequence numbers across a wrap (the rollover counter moves), with reordering.
  static std::vector<uint16_t> Sequence() {
    std::vector<uint16_t> seqs;
    for (uint32_t s = 65000; s < 65536 + 600; ++s) seqs.push_back(static_cast<uint16_t>(s));
    std::swap(seqs[100], seqs[103]);
    std::swap(seqs[535], seqs[537]);  // across the wrap
    return seqs;
  }
};

/// Two SSRCs through Sequence() (payload sizes, fills and a header extension varying),
/// then 300 SRTCP packets: `out` protects, `in` must read each back exactly.
template <typename Out, typename In>
void Exchange(Out& out, In& in) {
  for (uint16_t seq : SrtpInterop::Sequence())
    for (uint32_t ssrc : {0x1234u, 0xCAFE0001u})
      ASSERT_TRUE(RoundTrip(out, in, Rtp(ssrc, seq, 20 + seq % 1100, static_cast<uint8_t>(seq), seq % 2)))
          << "seq " << seq;
  for (int i = 0; i < 300; ++i) {
    uint8_t rtcp[64];
    size_t len = WritePli(rtcp, 0x1234, 0xCAFE0001);
    ASSERT_TRUE(RoundTrip(out, in, Bytes(rtcp, rtcp + len), true));
  }
}

TEST_P(SrtpInterop, LibsrtpReadsWhatWeProtect) {
  auto ours = Ours(Dir::kOutbound);
  auto theirs = Theirs(Dir::kInbound);
  ASSERT_NO_FATAL_FAILURE(Exchange(*ours, *theirs));
}

TEST_P(SrtpInterop, WeReadWhatLibsrtpProtects) {
  auto theirs = Theirs(Dir::kOutbound);
  auto ours = Ours(Dir::kInbound);
  ASSERT_NO_FATAL_FAILURE(Exchange(*theirs, *ours));
  EXPECT_EQ(ours->streams(), 2u);
}

TEST_P(SrtpInterop, AnIndexIsNeverProtectedTwice) {
  // Sent 65530..65535, 0..9 (ROC 1); 65534 again, even as the same bytes, is refused:
  // two packets under one index would share a keystream (GCM: a nonce).
  auto ours = Ours(Dir::kOutbound);
  for (uint32_t s = 65530; s < 65536 + 10; ++s) {
    Bytes p = Rtp(7, static_cast<uint16_t>(s), 50);
    p.resize(p.size() + kSrtpMaxOverhead);
    ASSERT_GT(ours->ProtectRtp(p.data(), p.size() - kSrtpMaxOverhead, p.size()), 0u) << s;
  }
  for (uint16_t again : {uint16_t{65534}, uint16_t{9}, uint16_t{0}}) {
    Bytes p = Rtp(7, again, 50);
    p.resize(p.size() + kSrtpMaxOverhead);
    EXPECT_EQ(ours->ProtectRtp(p.data(), p.size() - kSrtpMaxOverhead, p.size()), 0u) << again;
  }
  // A number skipped earlier (sent late, out of order) is still new.
  auto late = Ours(Dir::kOutbound);
  auto theirs = Theirs(Dir::kInbound);
  for (uint16_t s : {uint16_t{10}, uint16_t{12}, uint16_t{11}})
    ASSERT_TRUE(RoundTrip(*late, *theirs, Rtp(8, s, 30))) << s;
}

TEST_P(SrtpInterop, AJumpAheadBeforeTheFirstRolloverIsReadAsLibsrtpReadsIt) {
  // 100, then 40000 (more than half the number space ahead while ROC is 0: there is no
  // ROC - 1), then on across the wrap. Both directions against libsrtp.
  std::vector<uint16_t> seqs = {100, 101, 40000, 40001};
  for (uint32_t s = 60000; s < 65536 + 50; s += 97) seqs.push_back(static_cast<uint16_t>(s));
  for (uint16_t s = 50; s < 200; ++s) seqs.push_back(s);
  auto ours_out = Ours(Dir::kOutbound);
  auto theirs_in = Theirs(Dir::kInbound);
  auto theirs_out = Theirs(Dir::kOutbound);
  auto ours_in = Ours(Dir::kInbound);
  for (uint16_t s : seqs) {
    ASSERT_TRUE(RoundTrip(*ours_out, *theirs_in, Rtp(5, s, 60))) << "ours to libsrtp, seq " << s;
    ASSERT_TRUE(RoundTrip(*theirs_out, *ours_in, Rtp(5, s, 60))) << "libsrtp to ours, seq " << s;
  }
}

INSTANTIATE_TEST_SUITE_P(Profiles, SrtpInterop,
                         ::testing::Values(SrtpProfile::kAeadAes128Gcm, SrtpProfile::kAes128CmSha1_80), ProfileName);

class SrtpAttack : public SrtpInterop {
 protected:
  Bytes Protect(SrtpSession& out, const Bytes& plain, bool rtcp = false) {
    Bytes buf(plain.size() + kSrtpMaxOverhead);
    std::copy(plain.begin(), plain.end(), buf.begin());
    size_t n = rtcp ? out.ProtectRtcp(buf.data(), plain.size(), buf.size())
                    : out.ProtectRtp(buf.data(), plain.size(), buf.size());
    buf.resize(n);
    return buf;
  }
};

TEST_P(SrtpAttack, ReplaysAndPacketsOlderThanTheWindowAreRefused) {
  auto out = Ours(Dir::kOutbound);
  auto in = Ours(Dir::kInbound);
  std::vector<Bytes> sent;
  for (uint16_t seq = 1; seq <= 1100; ++seq) sent.push_back(Protect(*out, Rtp(9, seq, 40)));
  // Deliver 1..1100 except 5 and 600; then the replays and the stragglers.
  for (size_t i = 0; i < sent.size(); ++i) {
    if (i == 4 || i == 599) continue;
    Bytes p = sent[i];
    ASSERT_EQ(in->UnprotectRtp(p.data(), p.size()), 52u);
  }
  Bytes p = sent[1099];
  EXPECT_EQ(in->UnprotectRtp(p.data(), p.size()), 0u) << "a replay of the newest";
  p = sent[1000];
  EXPECT_EQ(in->UnprotectRtp(p.data(), p.size()), 0u) << "a replay inside the window";
  p = sent[599];
  EXPECT_EQ(in->UnprotectRtp(p.data(), p.size()), 52u) << "late, inside the window of 1024";
  p = sent[4];
  EXPECT_EQ(in->UnprotectRtp(p.data(), p.size()), 0u) << "1095 behind: older than the window";
  // SRTCP: the same for its index.
  uint8_t rtcp[64];
  size_t len = WritePli(rtcp, 9, 10);
  Bytes first = Protect(*out, Bytes(rtcp, rtcp + len), true);
  Bytes copy = first;
  EXPECT_EQ(in->UnprotectRtcp(first.data(), first.size()), len);
  EXPECT_EQ(in->UnprotectRtcp(copy.data(), copy.size()), 0u);
}

TEST_P(SrtpAttack, TamperedOrTruncatedPacketsAreRefusedAndCreateNothing) {
  auto out = Ours(Dir::kOutbound);
  auto in = Ours(Dir::kInbound);
  Bytes good = Protect(*out, Rtp(0x77, 100, 200, 1, true));
  ASSERT_FALSE(good.empty());
  for (size_t at : {size_t{1}, size_t{3}, size_t{9}, size_t{14}, size_t{30}, good.size() - 1}) {
    Bytes bad = good;
    bad[at] ^= 0x40;
    EXPECT_EQ(in->UnprotectRtp(bad.data(), bad.size()), 0u) << "byte " << at;
  }
  for (size_t cut : {size_t{0}, size_t{5}, size_t{12}, size_t{20}, good.size() - 1}) {
    Bytes bad(good.begin(), good.begin() + static_cast<long>(cut));
    EXPECT_EQ(in->UnprotectRtp(bad.data(), bad.size()), 0u) << "cut to " << cut;
  }
  // An extension length running past the packet.
  Bytes bad = good;
  Store16(bad.data() + 14, 0xFFFF);
  EXPECT_EQ(in->UnprotectRtp(bad.data(), bad.size()), 0u);
  // Random bytes under many SSRCs: nothing authenticates, no state is kept.
  for (uint32_t i = 0; i < 5000; ++i) {
    Bytes junk = Rtp(0xD0000000u + i, static_cast<uint16_t>(i), 64, static_cast<uint8_t>(i));
    EXPECT_EQ(in->UnprotectRtp(junk.data(), junk.size()), 0u);
    EXPECT_EQ(in->UnprotectRtcp(junk.data(), junk.size()), 0u);
  }
  EXPECT_EQ(in->streams(), 0u);
  Bytes p = good;
  EXPECT_EQ(in->UnprotectRtp(p.data(), p.size()), good.size() - (GetParam() == SrtpProfile::kAeadAes128Gcm ? 16 : 10));
  EXPECT_EQ(in->streams(), 1u);
  // The wrong direction does nothing.
  p = good;
  EXPECT_EQ(out->UnprotectRtp(p.data(), p.size()), 0u);
  Bytes plain = Rtp(1, 1, 10);
  plain.resize(plain.size() + kSrtpMaxOverhead);
  EXPECT_EQ(in->ProtectRtp(plain.data(), 22, plain.size()), 0u);
  // No room for the trailer.
  EXPECT_EQ(out->ProtectRtp(plain.data(), 22, 23), 0u);
}

TEST_P(SrtpAttack, ASessionKeepsABoundedNumberOfSsrcs) {
  auto out = Ours(Dir::kOutbound);
  auto in = Ours(Dir::kInbound);
  const uint32_t n = SrtpSession::kMaxInboundStreams + 50;
  for (uint32_t ssrc = 1; ssrc <= n; ++ssrc) {
    Bytes p = Protect(*out, Rtp(ssrc, 1, 10));
    ASSERT_EQ(in->UnprotectRtp(p.data(), p.size()), 22u);
  }
  EXPECT_EQ(out->streams(), n);
  EXPECT_EQ(in->streams(), SrtpSession::kMaxInboundStreams);  // the least recently used forgotten
  // The most recent SSRCs are remembered: a replay of the last one is still refused.
  Bytes p = Protect(*out, Rtp(n, 2, 10));
  Bytes copy = p;
  EXPECT_EQ(in->UnprotectRtp(p.data(), p.size()), 22u);
  EXPECT_EQ(in->UnprotectRtp(copy.data(), copy.size()), 0u);
  // Outbound never forgets a stream (its indices would be used again): a new SSRC past
  // the bound is refused, the known ones go on.
  for (uint32_t ssrc = n + 1; ssrc <= SrtpSession::kMaxOutboundStreams; ++ssrc)
    ASSERT_FALSE(Protect(*out, Rtp(ssrc, 1, 10)).empty());
  EXPECT_TRUE(Protect(*out, Rtp(SrtpSession::kMaxOutboundStreams + 1, 1, 10)).empty());
  EXPECT_FALSE(Protect(*out, Rtp(1, 2, 10)).empty());
}

INSTANTIATE_TEST_SUITE_P(Profiles, SrtpAttack,
                         ::testing::Values(SrtpProfile::kAeadAes128Gcm, SrtpProfile::kAes128CmSha1_80), ProfileName);

TEST(ReplayWindow, SlidesByAnyDistance) {
  ReplayWindow<1024> w;
  using V = ReplayWindow<1024>::Verdict;
  w.Accept(1);
  EXPECT_EQ(w.Check(0), V::kReplayed);
  w.Accept(-70);  // 70 behind
  w.Accept(65);   // now 135 behind
  EXPECT_EQ(w.Check(-135), V::kReplayed);
  EXPECT_EQ(w.Check(-134), V::kNew);
  EXPECT_EQ(w.Check(-65), V::kReplayed);
  w.Accept(1000);
  EXPECT_EQ(w.Check(-1000), V::kReplayed);
  EXPECT_EQ(w.Check(-1023), V::kNew);
  EXPECT_EQ(w.Check(-1024), V::kTooOld);
  w.Accept(5000);
  EXPECT_EQ(w.Check(-1000), V::kNew);
  EXPECT_EQ(w.Check(0), V::kReplayed);
}

}  // namespace
}  // namespace parley::sfu
