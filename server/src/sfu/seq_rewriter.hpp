// Sequence numbers and timestamps of one forwarded stream (one route: a published
// track as one subscriber receives it). The subscriber must see one continuous
// stream although the publisher's numbers start anywhere and start again whenever it
// restarts with a new SSRC (a renegotiation, a camera switch, a reconnect).
#pragma once

#include <cstdint>

namespace parley::sfu {

/// Worker-thread only; plain value (routes are moved between publisher transports
/// with their numbering state). Output = input + offset, modulo 2^16 / 2^32.
class SeqRewriter {
 public:
  struct Out {
    uint16_t seq = 0;
    uint32_t ts = 0;
  };

  /// `first_seq` is the first sequence number the subscriber will see and
  /// `first_rtx_seq` the first of its RTX stream; both random (RFC 3550 §5.1), never
  /// derived from the SSRC: a stream that comes back on an SSRC its subscriber has seen
  /// must not replay its numbers, or the subscriber's SRTP replay check drops it
  /// (RFC 3711 §3.3.2).
  SeqRewriter(uint16_t first_seq, uint16_t first_rtx_seq) : seq_offset_(first_seq), rtx_seq_(first_rtx_seq) {}

  /// Call for each input packet before Apply. On the first packet it maps that
  /// packet's number to `first_seq`. When the input SSRC changes it continues right
  /// after the highest number sent, one frame (`frame_ts_gap`: 3000 for 30 fps video
  /// at 90 kHz, 960 for 20 ms of 48 kHz audio) after the last timestamp sent, so the
  /// subscriber's jitter buffer and decoder see no jump.
  void OnInput(uint32_t ssrc, uint16_t seq, uint32_t ts, uint32_t frame_ts_gap);
  /// An input packet was not sent (video to the subscriber paused): the next one that
  /// is continues right after the highest number sent, so the subscriber sees no gap
  /// to NACK. Timestamps keep their offset: the stream went on in real time.
  void Skipped() { rebase_ = sent_any_; }
  /// The numbers an input packet goes out with.
  [[nodiscard]] Out Apply(uint16_t seq, uint32_t ts) const {
    return {static_cast<uint16_t>(seq + seq_offset_), ts + ts_offset_};
  }
  /// An input timestamp as the subscriber sees it (for rewritten SRs).
  [[nodiscard]] uint32_t ApplyTimestamp(uint32_t ts) const { return ts + ts_offset_; }
  /// A packet went out on the media SSRC with these numbers. Only a newer number
  /// moves the highest sent: a retransmission (older) must not, or a restart would
  /// continue from the wrong place and collide with numbers already used.
  void OnSent(Out out);
  /// Whether `out_seq` went out under the current sequence offset, so that InputSeq
  /// finds its packet. Numbers sent before a pause (Skipped) do not: after the rebase
  /// they would name other packets of the same stream, and a late NACK for one must get
  /// nothing rather than the wrong packet. Numbers sent before an input SSRC change do
  /// not either (a simulcast layer switch: the new layer's ring holds its own earlier
  /// packets on the same SSRC).
  [[nodiscard]] bool Current(uint16_t out_seq) const {
    return !rebased_ || static_cast<uint16_t>(out_seq - rebase_seq_) < 0x8000;  // at or after it (RFC 1982)
  }
  /// The input sequence number of an output one (to find a NACKed packet).
  [[nodiscard]] uint16_t InputSeq(uint16_t out_seq) const { return static_cast<uint16_t>(out_seq - seq_offset_); }
  /// The next sequence number of the RTX stream (RFC 4588 §4: its own numbering).
  uint16_t NextRtxSeq() { return rtx_seq_++; }

  /// Whether any input arrived (before that, nothing can be retransmitted).
  [[nodiscard]] bool started() const { return started_; }
  /// The timestamp of the newest packet sent on the media SSRC (a probe's, which has no
  /// media of its own).
  [[nodiscard]] uint32_t last_timestamp() const { return last_out_ts_; }
  /// The input SSRC the offsets are for.
  [[nodiscard]] uint32_t input_ssrc() const { return last_in_ssrc_; }

 private:
  bool started_ = false;
  uint32_t last_in_ssrc_ = 0;
  uint16_t seq_offset_ = 0;
  uint32_t ts_offset_ = 0;
  bool sent_any_ = false;
  bool rebase_ = false;   ///< Skipped since the last sent input
  bool rebased_ = false;  ///< the offset moved at rebase_seq_, the first number after a pause
  uint16_t rebase_seq_ = 0;
  uint16_t last_out_seq_ = 0;
  uint32_t last_out_ts_ = 0;
  uint16_t rtx_seq_ = 0;
};

}  // namespace parley::sfu
