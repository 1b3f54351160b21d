// webrtcbin as both connections use it: made per ../shared/notes/webrtc-on-loopback.md
// (max-bundle, no UPnP, ICE restricted to the configured local addresses), its SDP
// operations (each wait bounded, promise.hpp) and its statistics (never waited for).
#pragma once

#ifndef GST_USE_UNSTABLE_API
#define GST_USE_UNSTABLE_API
#endif
#include <gst/gst.h>
#include <gst/webrtc/webrtc.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "impl/gst/gst_ptr.hpp"
#include "media/media.hpp"
#include "parley/proto/result.hpp"

namespace parley::sdk::gst {

/// A new (floating) webrtcbin, bundled, with ICE restricted to `ice.addresses`, the
/// TURN and STUN servers of `ice.servers` added (relayed candidates), and only relayed
/// candidates used when `ice.relay_only`; nullptr when the element is missing.
GstElement* MakeWebrtc(const media::IceSetup& ice);

/// One ICE server URL of a join answer (turn:host[:port][?transport=udp|tcp],
/// turns:..., stun:...) in the form webrtcbin takes (turn://user:pass@host:port...,
/// turns://..., stun://host:port), the username and credential escaped; "" for a URL
/// that is not one of those (a host with characters a host cannot have, a bad port).
std::string WebrtcbinIceUri(std::string_view url, std::string_view username, std::string_view credential);

/// set-remote-description (or -local) with SDP text. kInvalidSdp when the text does
/// not parse or webrtcbin refuses it; kMediaConnectionCreateFailed after 5 s without
/// an answer, which leaves the connection unusable (the caller drops it).
Status SetDescription(GstElement* webrtc, const char* signal, GstWebRTCSDPType type, const std::string& text);

/// The mid of the transceiver behind one of webrtcbin's pads; empty before negotiation
/// gave it one.
std::string MidOf(GstPad* pad);

/// The indexes (m-lines, from 0) of the sections of `sdp` that offer generic NACK
/// feedback (a line a=rtcp-fb:<pt> nack, not "nack pli"): the streams the other side
/// repairs with retransmissions.
std::set<unsigned> SectionsWithNack(std::string_view sdp);
/// The indexes of the sections of `sdp` that offer redundant audio (a=rtpmap:<pt>
/// red/...; RFC 2198).
std::set<unsigned> SectionsWithRed(std::string_view sdp);

/// How many earlier packets back the redundant copy in each RED packet is: 2, so that
/// with Opus in-band FEC (which carries the one before) a packet is lost only when it
/// and the next two are (2.7 % of packets at 30 % random loss instead of 9 %).
inline constexpr unsigned kRedDistance = 2;

/// Redundancy on webrtcbin's RED encoders (one per sent stream). webrtcbin 1.22 sends
/// RED without a redundant block, and gives an encoder its payload type only once the
/// answer took RED for its stream, at a moment of its own (when the answer is applied
/// or when its stream's sender is built); an encoder without one passes packets
/// through, and with a distance would wrap them in RED numbered 0. So a probe on each
/// encoder's input applies the wanted distance to the encoders that have a payload
/// type, packet by packet. A probe on each one's output also puts the audio level
/// (RFC 6464, one-byte form) back: the encoder drops the header extensions of what it
/// wraps, and the level meta the packet keeps (GstAudioLevelMeta: the level element
/// attaches it; the encoder, payloader and RED encoder carry it along) says it again.
class RedControl {
 public:
  /// Watches every RED encoder inside `webrtc` (created with its streams, before the
  /// answer); the probes keep the result alive.
  static std::shared_ptr<RedControl> Attach(GstElement* webrtc, int audio_level_id);
  /// Any thread; applied from the next packet on.
  void SetDistance(unsigned distance) { distance_.store(distance, std::memory_order_relaxed); }

 private:
  struct Hold;  // a probe's hold on the control, handed over with release/acquire
  static GstPadProbeReturn OnInput(GstPad* pad, GstPadProbeInfo* info, gpointer data);
  static GstPadProbeReturn OnOutput(GstPad* pad, GstPadProbeInfo* info, gpointer data);
  std::atomic<unsigned> distance_{0};
  int level_id_ = 0;
};

/// Takes the repairs a remote offer offers: retransmissions on the sections that offer
/// NACK, and RED (RFC 2198) where it is offered. webrtcbin 1.22 makes the transceiver
/// of a remote offer's new section only while it writes the answer, and reads its
/// do-nack and fec-type right after: so this watches webrtcbin's new transceivers
/// (on-new-transceiver, on webrtcbin's thread) and sets them for those at such an
/// m-line; transceivers made by earlier offers are set at once. With do-nack, webrtcbin
/// answers with NACK (and RTX when offered), and the jitter buffer it makes for each
/// stream of the section asks again for what is lost. With fec-type ulp-red it answers
/// with RED, and its RED decoder, ahead of the jitter buffer, rebuilds a lost packet
/// from the redundant copy in a later one.
class ReceiveRepair {
 public:
  /// Connects to `webrtc`; the connection owns the result and frees it with webrtcbin.
  static ReceiveRepair* Watch(GstElement* webrtc);
  /// The remote offer about to be answered (before create-answer).
  void Offer(GstElement* webrtc, std::string_view sdp);
  /// How many transceivers were set to ask for retransmissions, and to take RED, so far.
  [[nodiscard]] int nack_on() const { return nack_on_.load(std::memory_order_relaxed); }
  [[nodiscard]] int red_on() const { return red_on_.load(std::memory_order_relaxed); }

 private:
  ReceiveRepair() = default;
  static void OnNewTransceiver(GstElement* webrtc, GstWebRTCRTPTransceiver* trans, gpointer self);
  void TurnOn(GstWebRTCRTPTransceiver* trans);

  std::mutex mu_;
  std::set<unsigned> nack_, red_;  ///< sections of the offer being answered
  std::atomic<int> nack_on_{0}, red_on_{0};
};

/// create-offer / create-answer, then set-local-description; the SDP text. An answer
/// says a=setup:passive (webrtcbin writes active): the server, offering actpass, is then
/// the DTLS client and paces the handshake with its 200 ms flight timer. webrtcbin's
/// own, as client, is OpenSSL's 1 s doubling to 60 s, which through heavy loss leaves
/// a subscribe connection without media for many seconds.
Result<std::string> CreateLocal(GstElement* webrtc, bool offer);

/// Rewrites every a=setup:active of `sdp` to passive; how many it rewrites.
int MakeDtlsPassive(GstSDPMessage* sdp);

/// Takes the transport-wide sequence number in `answer` wherever `offer` offered it
/// (same id), which webrtcbin's answers leave out: the server then numbers what it
/// sends, webrtcbin's RTP session reports each packet's arrival (transport-cc
/// feedback), and the server estimates this client's downstream from the reports. How
/// many sections it added the extension to.
int AcceptTransportCc(GstSDPMessage* answer, const GstSDPMessage* offer);

/// Sums a get-stats reply (a structure of per-object structures, RTCStats types).
media::RtpTotals SumStats(const GstStructure* reply);

/// How long a connection's statistics may take: after it, nothing was measured.
inline constexpr std::chrono::milliseconds kStatsBound{1000};

/// A connection's get-stats requests, none of them waited for: webrtcbin replies on
/// its own thread and the bound fires on the system clock's, so the engine thread
/// never blocks on statistics. Each request ends once, with the summed reply or, when
/// none came within the bound (or the requests were closed), with empty totals; its
/// `done` then runs through `post`, never inline.
class StatsRequests {
 public:
  StatsRequests(media::Post post, std::chrono::milliseconds bound);
  /// Ends what is still asked (empty totals, posted now); nothing is posted after.
  ~StatsRequests();
  StatsRequests(const StatsRequests&) = delete;
  StatsRequests& operator=(const StatsRequests&) = delete;

  /// Asks webrtcbin `webrtc` for its statistics. The engine thread.
  void Collect(GstElement* webrtc, std::function<void(media::RtpTotals)> done);
  /// The same with the promise handed to `emit`, which passes it on (webrtcbin's
  /// get-stats) or, in a test, replies to it at any time from any thread.
  void Ask(const std::function<void(GstPromise*)>& emit, std::function<void(media::RtpTotals)> done);

  /// What the requests, their replies and their bounds share (webrtc.cpp).
  struct Shared;

 private:
  std::shared_ptr<Shared> shared_;
  std::chrono::milliseconds bound_;
};

}  // namespace parley::sdk::gst
