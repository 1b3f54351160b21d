#include "sfu/seq_rewriter.hpp"

#include "sfu/rtp.hpp"

namespace parley::sfu {

void SeqRewriter::OnInput(uint32_t ssrc, uint16_t seq, uint32_t ts, uint32_t frame_ts_gap) {
  bool rebase = rebase_;
  rebase_ = false;
  if (started_ && ssrc == last_in_ssrc_) {
    if (rebase) {
      rebase_seq_ = static_cast<uint16_t>(last_out_seq_ + 1);
      rebased_ = true;
      seq_offset_ = static_cast<uint16_t>(rebase_seq_ - seq);
    }
    return;
  }
  if (started_) {
    seq_offset_ = static_cast<uint16_t>(last_out_seq_ + 1 - seq);
    ts_offset_ = last_out_ts_ + frame_ts_gap - ts;
    // Numbers sent before the change name the old stream: under the new offset they
    // would find packets of the new one (a simulcast layer's ring holds its packets
    // from before the switch, on the same SSRC), so NACKs for them must find nothing.
    if (sent_any_) {
      rebase_seq_ = static_cast<uint16_t>(last_out_seq_ + 1);
      rebased_ = true;
    }
  } else {
    // Until the first packet seq_offset_ holds the first output number; timestamps
    // pass through (their start is the publisher's random one already).
    seq_offset_ = static_cast<uint16_t>(seq_offset_ - seq);
  }
  started_ = true;
  last_in_ssrc_ = ssrc;
}

void SeqRewriter::OnSent(Out out) {
  if (!sent_any_ || SeqNewer(out.seq, last_out_seq_)) {
    sent_any_ = true;
    last_out_seq_ = out.seq;
    last_out_ts_ = out.ts;
  }
}

}  // namespace parley::sfu
