#include "probe/last_mile.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cmath>
#include <optional>

#include "call/call_link.hpp"
#include "core/network_quality.hpp"
#include "log.hpp"
#include "parley/proto/errc.hpp"
#include "parley/proto/probe_wire.hpp"
#include "signal_client.hpp"

namespace parley::sdk {
namespace {

namespace probe = proto::probe;
using Clock = std::chrono::steady_clock;
using boost::asio::ip::udp;
using call::Code;

constexpr auto kEchoEvery = std::chrono::milliseconds(100);
constexpr auto kPaceEvery = std::chrono::milliseconds(5);
constexpr size_t kDataBytes = 1000;
constexpr int kMaxBurst = 64;  ///< uplink datagrams per pacing step at most

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now().time_since_epoch()).count();
}

int64_t Median(std::vector<int64_t> v) {
  if (v.empty()) return -1;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
  return v[v.size() / 2];
}

int Percent(int64_t lost, int64_t of) {
  if (of <= 0) return 0;
  return static_cast<int>(std::clamp<int64_t>((lost * 100 + of / 2) / of, 0, 100));
}

int Kbps(int64_t bytes, int64_t span_us) {
  return span_us > 0 ? static_cast<int>(bytes * 8 * 1000 / span_us) : 0;
}

std::optional<probe::Cookie> CookieFromHex(const std::string& hex) {
  probe::Cookie c{};
  if (hex.size() != c.size() * 2) return std::nullopt;
  for (size_t i = 0; i < c.size(); ++i) {
    unsigned v = 0;
    for (size_t k = 0; k < 2; ++k) {
      char ch = hex[i * 2 + k];
      unsigned d = ch >= '0' && ch <= '9'   ? static_cast<unsigned>(ch - '0')
                   : ch >= 'a' && ch <= 'f' ? static_cast<unsigned>(ch - 'a' + 10)
                                            : 16u;
      if (d > 15) return std::nullopt;
      v = v * 16 + d;
    }
    c[i] = static_cast<uint8_t>(v);
  }
  return c;
}

}  // namespace

bool ValidLastMileConfig(const LastMileProbeConfig& c) {
  auto rate_ok = [](int kbps) {
    return kbps >= proto::LastMileProbeRequest::kMinKbps && kbps <= proto::LastMileProbeRequest::kMaxKbps;
  };
  return (c.probe_uplink || c.probe_downlink) && (!c.probe_uplink || rate_ok(c.expected_uplink_kbps)) &&
         (!c.probe_downlink || rate_ok(c.expected_downlink_kbps));
}

LastMileOutcome LastMileVerdict(const LastMileMeasured& m) {
  LastMileOutcome out;
  auto& r = out.result;
  if (m.rtts_us.empty()) {
    out.code = Code(Errc::kLastMileProbeFailed);
    out.message = "no probe echo was answered over UDP";
    return out;
  }
  const int64_t rtt_us = Median(m.idle_rtts_us.empty() ? m.rtts_us : m.idle_rtts_us);
  r.rtt_ms = static_cast<int>((rtt_us + 500) / 1000);
  bool complete = true;
  int up_band = kQualityUnknown, down_band = kQualityUnknown;
  if (m.up_asked) {
    complete = complete && m.up_received > 1;
    r.uplink.packet_loss_percent = Percent(m.up_sent - m.up_received, m.up_sent);
    r.uplink.jitter_ms = static_cast<int>(m.up_jitter_us / 1000);
    // The first datagram starts the clock: what came after it, over the span.
    r.uplink.available_bandwidth_kbps = Kbps(m.up_bytes - m.up_packet_bytes, m.up_span_us);
    UplinkSample s;
    s.sent = m.up_sent;
    s.lost = std::max<int64_t>(0, m.up_sent - m.up_received);
    s.rtt_ms = r.rtt_ms;
    s.bandwidth_ratio = static_cast<double>(r.uplink.available_bandwidth_kbps) / m.up_expected_kbps;
    up_band = m.up_received > 1 ? UplinkBand(s) : kQualityDown;
  }
  if (m.down_asked) {
    complete = complete && m.down_received > 1;
    r.downlink.packet_loss_percent = Percent(m.down_expected - m.down_received, m.down_expected);
    r.downlink.jitter_ms = static_cast<int>(m.down_jitter_us / 1000);
    r.downlink.available_bandwidth_kbps = Kbps(m.down_bytes - m.down_first_bytes, m.down_span_us);
    DownlinkSample s;
    s.expecting = true;
    s.received = m.down_received;
    s.lost = std::max<int64_t>(0, m.down_expected - m.down_received);
    s.jitter_ms = r.downlink.jitter_ms;
    s.rtt_ms = r.rtt_ms;
    down_band = m.down_received > 1 ? DownlinkBand(s) : kQualityDown;
    // A downlink carrying clearly less than asked for is a weak one whatever its loss.
    const double ratio = static_cast<double>(r.downlink.available_bandwidth_kbps) / m.down_expected_kbps;
    if (m.down_received > 1 && ratio < 0.5) down_band = WorseQuality(down_band, kQualityBad);
  }
  r.state = complete ? LastMileProbeState::kComplete : LastMileProbeState::kIncomplete;
  out.quality = static_cast<NetworkQuality>(WorseQuality(up_band, down_band));
  return out;
}

struct LastMileProbe::Impl : std::enable_shared_from_this<Impl> {
  enum class Phase { kSignalling, kIdle, kUp, kUpSettle, kDown, kDone };

  Impl(boost::asio::io_context& io_, std::unique_ptr<SignalChannel> signal_, std::string url_,
       proto::JoinCredentials creds_, LastMileProbeConfig config_, DoneFn done_, Timing timing_)
      : io(io_),
        signal(std::move(signal_)),
        url(std::move(url_)),
        creds(std::move(creds_)),
        config(config_),
        done(std::move(done_)),
        timing(timing_),
        socket(io_),
        timer(io_) {
    m.up_asked = config.probe_uplink;
    m.down_asked = config.probe_downlink;
    m.up_expected_kbps = config.expected_uplink_kbps;
    m.down_expected_kbps = config.expected_downlink_kbps;
    m.up_packet_bytes = kDataBytes;
  }

  void Start() {
    signal->Connect(url, timing.connect, [self = shared_from_this()](const Status& st) {
      if (self->phase == Phase::kDone) return;
      if (!st) return self->Finish(st.error().value(), st.error().message);
      self->Ask();
    });
  }

  void Ask() {
    proto::LastMileProbeRequest req;
    req.uplink_kbps = config.probe_uplink ? config.expected_uplink_kbps : 0;
    req.downlink_kbps = config.probe_downlink ? config.expected_downlink_kbps : 0;
    auto fields = creds.ToJson();
    fields.update(req.ToJson());
    signal->Request("lastMileProbe", std::move(fields), Errc::kTimeoutLastMileProbe, timing.request,
                    [self = shared_from_this()](int32_t code, const std::string& message, const nlohmann::json& data) {
                      if (self->phase == Phase::kDone) return;
                      if (code != 0) return self->Finish(code, message);
                      self->Granted(data);
                    });
  }

  void Granted(const nlohmann::json& data) {
    signal->Close();
    std::optional<probe::Cookie> c;
    boost::system::error_code ec;
    boost::asio::ip::address address;
    int port = 0;
    if (data.is_object() && data.value("cookie", nlohmann::json()).is_string()) c = CookieFromHex(data["cookie"]);
    if (data.is_object() && data.value("address", nlohmann::json()).is_string())
      address = boost::asio::ip::make_address(data["address"].get<std::string>(), ec);
    if (data.is_object() && data.value("port", nlohmann::json()).is_number_integer()) port = data["port"].get<int>();
    if (!c || ec || port <= 0 || port > 65535)
      return Finish(Code(Errc::kMalformedMessage), "the server's lastMileProbe reply lacks a cookie, address or port");
    cookie = *c;
    const udp::endpoint to(address, static_cast<uint16_t>(port));
    socket.open(to.protocol(), ec);
    if (!ec) socket.connect(to, ec);
    if (!ec) socket.non_blocking(true, ec);
    if (ec) return Finish(Code(Errc::kLastMileProbeFailed), "cannot open a UDP socket to the server: " + ec.message());
    Log().info("parley: last-mile probe against udp {}:{}", address.to_string(), port);
    phase = Phase::kIdle;
    phase_start = started = Clock::now();
    next_echo = started;
    Receive();
    Step();
  }

  void Receive() {
    socket.async_receive(boost::asio::buffer(rx), [self = shared_from_this()](boost::system::error_code ec, size_t n) {
      if (self->phase == Phase::kDone || ec == boost::asio::error::operation_aborted) return;
      if (!ec) self->Arrived(std::span<const uint8_t>(self->rx.data(), n));
      self->Receive();  // ICMP "refused" and the like end no probe: the answer may still come
    });
  }

  void Arrived(std::span<const uint8_t> bytes) {
    auto d = probe::Parse(bytes);
    if (!d || d->header.cookie != cookie) return;
    const int64_t now = NowUs();
    if (d->header.kind == probe::Kind::kEchoReply) {
      const auto rtt = static_cast<int64_t>(static_cast<uint64_t>(now) - d->reply.echoed_time_us);
      if (rtt < 0 || rtt > 10'000'000) return;  // not an echo of ours
      m.rtts_us.push_back(rtt);
      if (phase == Phase::kIdle) m.idle_rtts_us.push_back(rtt);
      nonce = d->reply.nonce;
      have_nonce = true;
      // The uplink's counters once our last data has surely arrived: an echo sent after it.
      if (up_end_us > 0 && static_cast<int64_t>(d->reply.echoed_time_us) >= up_end_us) {
        const auto& up = d->reply.up;
        m.up_received = up.packets;
        m.up_bytes = static_cast<int64_t>(up.bytes);
        m.up_span_us = static_cast<int64_t>(up.last_us - up.first_us);
        m.up_jitter_us = up.jitter_us;
        up_counted = true;
      }
    } else if (d->header.kind == probe::Kind::kDown) {
      const uint64_t transit = static_cast<uint64_t>(now) - d->header.time_us;  // the clocks differ: only changes count
      if (m.down_received == 0) {
        down_first_us = now;
        m.down_first_bytes = static_cast<int64_t>(d->size);
      } else {
        probe::JitterStep(down_jitter_q4, transit, down_last_transit);
      }
      down_last_transit = transit;
      ++m.down_received;
      m.down_bytes += static_cast<int64_t>(d->size);
      m.down_span_us = now - down_first_us;
      m.down_jitter_us = static_cast<int64_t>(down_jitter_q4 / 16);
      down_highest = std::max<int64_t>(down_highest, d->header.seq);
    }
  }

  void Send(probe::Kind kind, uint32_t seq, size_t size) {
    std::array<uint8_t, probe::kMaxDataBytes> buf{};
    probe::Header h{kind, cookie, seq, static_cast<uint64_t>(NowUs())};
    size_t n = 0;
    if (kind == probe::Kind::kDownStart) {
      n = probe::WriteDownStart(buf, h,
                                {nonce, static_cast<uint32_t>(config.expected_downlink_kbps),
                                 static_cast<uint32_t>(timing.phase.count()), static_cast<uint16_t>(kDataBytes)});
    } else {
      n = probe::WritePadded(buf, h, size);
    }
    boost::system::error_code ec;
    socket.send(boost::asio::buffer(buf.data(), n), 0, ec);  // non-blocking: a full buffer is a loss
    if (!ec && kind == probe::Kind::kUp) ++m.up_sent;
  }

  /// One pacing step: echoes, the phase's data, the phase's end.
  void Step() {
    if (phase == Phase::kDone) return;
    const auto now = Clock::now();
    if (now >= next_echo) {
      Send(probe::Kind::kEcho, echo_seq++, probe::kMinEchoBytes);
      next_echo += kEchoEvery;
    }
    const auto in_phase = now - phase_start;
    switch (phase) {
      case Phase::kIdle:
        if (!have_nonce && now - started >= timing.no_answer) return Finish(0, "");  // the verdict says why
        if (have_nonce && in_phase >= timing.idle) Next();
        break;
      case Phase::kUp: {
        const int64_t due = std::chrono::duration_cast<std::chrono::microseconds>(in_phase).count() *
                            config.expected_uplink_kbps / 8 / 1000 / static_cast<int64_t>(kDataBytes);
        for (int i = 0; i < kMaxBurst && up_seq < due; ++i)
          Send(probe::Kind::kUp, static_cast<uint32_t>(up_seq++), kDataBytes);
        if (in_phase >= timing.phase) {
          phase = Phase::kUpSettle;
          phase_start = now;
          up_end_us = NowUs() + 100'000;  // an echo sent 100 ms after our last data reports it all
        }
        break;
      }
      case Phase::kUpSettle:
        // A capped link's queue may hold the last data (and the echo behind it) a while.
        if ((up_counted && in_phase >= timing.settle) || in_phase >= timing.settle + std::chrono::seconds(3)) Next();
        break;
      case Phase::kDown:
        // The start again if nothing came (it or the first data was lost); the server
        // takes one start only.
        if (m.down_received == 0 && in_phase >= std::chrono::milliseconds(300) * down_starts && down_starts < 3) {
          Send(probe::Kind::kDownStart, down_starts++, 0);
        }
        if (in_phase >= timing.phase + timing.settle) {
          m.down_expected = m.down_received ? down_highest + 1 : 0;
          return Finish(0, "");
        }
        break;
      case Phase::kSignalling:
      case Phase::kDone: break;
    }
    timer.expires_after(kPaceEvery);
    timer.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (!ec) self->Step();
    });
  }

  /// From idle or the uplink's settling to the next direction, or the end.
  void Next() {
    phase_start = Clock::now();
    if (phase == Phase::kIdle && config.probe_uplink) {
      phase = Phase::kUp;
    } else if (phase != Phase::kDown && config.probe_downlink) {
      phase = Phase::kDown;
      Send(probe::Kind::kDownStart, down_starts++, 0);
    } else {
      Finish(0, "");
    }
  }

  /// code 0: the verdict of what was measured.
  void Finish(int32_t code, const std::string& message) {
    if (phase == Phase::kDone) return;
    phase = Phase::kDone;
    LastMileOutcome outcome;
    if (code != 0) {
      outcome.code = code;
      outcome.message = message;
    } else {
      outcome = LastMileVerdict(m);
    }
    Close();
    boost::asio::post(io, [self = shared_from_this(), outcome] {
      if (!self->cancelled && self->done) self->done(outcome);
    });
  }

  void Close() {
    phase = Phase::kDone;
    signal->Close();
    boost::system::error_code ec;
    timer.cancel();
    socket.close(ec);
  }

  boost::asio::io_context& io;
  std::unique_ptr<SignalChannel> signal;
  std::string url;
  proto::JoinCredentials creds;
  LastMileProbeConfig config;
  DoneFn done;
  Timing timing;
  udp::socket socket;
  boost::asio::steady_timer timer;
  std::array<uint8_t, 1500> rx{};
  bool cancelled = false;
  Phase phase = Phase::kSignalling;
  Clock::time_point started, phase_start, next_echo;
  probe::Cookie cookie{};
  probe::Nonce nonce{};
  bool have_nonce = false;
  uint32_t echo_seq = 0;
  int64_t up_seq = 0;
  int64_t up_end_us = 0;  ///< an echo sent at or after this reports the whole uplink
  bool up_counted = false;
  uint32_t down_starts = 0;
  int64_t down_first_us = 0, down_highest = -1;
  uint64_t down_last_transit = 0;
  uint64_t down_jitter_q4 = 0;
  LastMileMeasured m;
};

LastMileProbe::LastMileProbe(boost::asio::io_context& io, std::unique_ptr<SignalChannel> signal, std::string url,
                             proto::JoinCredentials credentials, LastMileProbeConfig config, DoneFn done, Timing timing)
    : impl_(std::make_shared<Impl>(io, std::move(signal), std::move(url), std::move(credentials), config,
                                   std::move(done), timing)) {}

LastMileProbe::~LastMileProbe() {
  impl_->cancelled = true;
  impl_->Close();
}

void LastMileProbe::Start() {
  impl_->Start();
}

int32_t LastMileControl::Start(const proto::JoinCredentials& credentials, const LastMileProbeConfig& config) {
  if (running_.exchange(true)) return Code(Errc::kInvalidState);
  post_([this, credentials, config] {
    auto signal = std::make_unique<SignalClient>(
        io_, [](const nlohmann::json&) {}, [](const std::string&) {});
    probe_ = std::make_unique<LastMileProbe>(io_, std::move(signal), url_, credentials, config,
                                             [this](const LastMileOutcome& o) {
                                               probe_.reset();
                                               running_ = false;
                                               EngineEventListener* l = listener_();
                                               if (!l) return;
                                               if (o.code == 0) l->OnLastMileDetectResult(o.quality);
                                               l->OnLastMileProbeResult(o.code, o.result);
                                             });
    probe_->Start();
  });
  return 0;
}

int32_t LastMileControl::Stop() {
  if (!running_.exchange(false)) return Code(Errc::kInvalidState);
  post_([this] { probe_.reset(); });
  return 0;
}

}  // namespace parley::sdk
