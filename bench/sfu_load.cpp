// sfu_load: how many subscribers one SFU core serves, Parley and Janus side by side.
//
// Lightweight WebRTC clients in one process: each is a UDP socket that does what a
// browser does on the wire (ICE checks as the controlling agent, the DTLS client
// handshake, SRTP) with the server's own STUN/DTLS/SRTP code in the client role.
// Publishers replay real media encoded once with GStreamer (VP8 640x360 ~770 kbit/s,
// Opus 32 kbit/s) at its own pace; subscribers count every packet, check sequence
// continuity per SSRC, and decrypt one packet in four to read the send time the
// publisher wrote into the payload's last 8 bytes (CLOCK_REALTIME), against the
// kernel's receive timestamp: the latency the SFU adds (plus one loopback hop).
// Payloads are forwarded untouched by both SFUs; headers are not (Parley rewrites
// the extensions), which is why the time rides in the payload.
//
// Shapes: livestream (1 publisher, audio + video → N subscribers), audio (1 speaker →
// N listeners), meeting (M participants, each publishing audio + video and
// subscribing to every other). N (or M) steps up until loss passes 1 % or the last
// step. Per step: forwarded packets/s, server CPU (from /proc) and CPU-seconds per
// million packets, loss, added latency p50/p99, server RSS per subscriber stream.
// Server pinned to one core (parleyd with one media worker; Janus with one event
// loop), the generator to another. Parley then Janus in one invocation.
//
//   sfu_load [--shape livestream|audio|meeting] [--steps 50,100,200] [--servers parley,janus]
//            [--warm-s 3] [--measure-s 5] [--profile gcm|cm] [--out DIR] [--short]
//            [--parleyd PATH] [--server-cpu 0|0,1] [--client-cpu 1] [--media-workers 1] [--spread-at 0]
//            [--transport udp|tcp]
//
// --transport tcp: the subscribers connect over ICE-TCP (RFC 6544/4571, to the passive
// candidate on the worker's port) instead of UDP; publishers stay on UDP. Parley only.
//
// With --media-workers 2 --spread-at K (and --server-cpu 0,1) one channel's subscribers
// beyond K on its worker go to the other worker (parleyd --media-spread-at): "thr %" is
// the busiest server thread, the share of a core the fan-out needs from any one worker.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <openssl/ssl.h>

#include "parley/proto/token.hpp"
#include "proc_stats.hpp"
#include "sfu/dtls.hpp"
#include "sfu/rtp.hpp"
#include "sfu/send_batch.hpp"
#include "sfu/srtp.hpp"
#include "sfu/stun.hpp"
#include "sfu/webrtc_transport.hpp"

extern char** environ;

namespace {

using parley::bench::CpuSeconds;
using parley::bench::Pin;
using parley::bench::RssKb;
using parley::bench::ThreadCpuSeconds;

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace fs = std::filesystem;
using tcp = asio::ip::tcp;
using nlohmann::json;
using Bytes = std::vector<uint8_t>;
using namespace parley::sfu;

struct Options {
  std::string shape = "livestream";
  std::vector<int> steps = {50, 100, 200, 400, 700, 1000, 1400, 1600};
  std::vector<std::string> servers = {"parley", "janus"};
  int warm_s = 3, measure_s = 5;
  std::string profile = "gcm";
  std::string out = "build/sfu-load";
  std::string parleyd = PARLEYD_DEFAULT_PATH;
  std::string janus = "/usr/bin/janus";
  std::string server_cpus = "0";  ///< taskset's list: "0", or "0,1" for two media workers
  int client_cpu = 1;
  int media_workers = 1, spread_at = 0;  ///< parleyd's --media-workers and --media-spread-at
  bool short_run = false;
  std::string transport = "udp";  ///< the subscribers' path: udp, or tcp (ICE-TCP, RFC 4571 frames)
};

/// Subscribers connect over ICE-TCP (--transport tcp); publishers stay on UDP.
bool g_tcp_subscribers = false;

int64_t RealtimeNs() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return ts.tv_sec * 1'000'000'000LL + ts.tv_nsec;
}
int64_t MonoUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string RandomToken(size_t n) {
  static std::mt19937_64 rng(std::random_device{}());
  static const char kChars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::string s(n, 'a');
  for (auto& c : s) c = kChars[rng() % (sizeof kChars - 1)];
  return s;
}

// ---- /proc ----

/// UDP receive-buffer overflows on this machine (/proc/net/snmp): packets the
/// generator's own sockets dropped, told apart from what the server lost.
long UdpRcvbufErrors() {
  std::ifstream in("/proc/net/snmp");
  std::string head, values;
  while (std::getline(in, head) && std::getline(in, values)) {
    if (head.rfind("Udp:", 0) != 0) continue;
    std::istringstream h(head), v(values);
    std::string name, value;
    while (h >> name && v >> value)
      if (name == "RcvbufErrors") return std::stol(value);
  }
  return 0;
}

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  auto k = static_cast<size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5);
  std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
  return v[k];
}

// ---- the media: encoded once with GStreamer, replayed ----

struct MediaPacket {
  Bytes rtp;
  int64_t offset_us;  // from the start of the loop
  bool video;
};
struct Media {
  std::vector<MediaPacket> packets;  // audio and video merged by time
  int64_t loop_us = 10'000'000;
};

std::vector<Bytes> ReadStream(const fs::path& file) {  // RFC 4571 framing
  std::ifstream in(file, std::ios::binary);
  Bytes d((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<Bytes> out;
  for (size_t i = 0; i + 2 <= d.size();) {
    size_t n = static_cast<size_t>(d[i]) << 8 | d[i + 1];
    if (i + 2 + n > d.size()) break;
    out.emplace_back(d.begin() + static_cast<long>(i + 2), d.begin() + static_cast<long>(i + 2 + n));
    i += 2 + n;
  }
  return out;
}

Media LoadMedia(const fs::path& dir) {
  fs::create_directories(dir);
  const fs::path video = dir / "vp8-640x360.rtp", audio = dir / "opus.rtp";
  if (!fs::exists(video) || !fs::exists(audio)) {
    std::printf("encoding the media once with GStreamer into %s\n", dir.c_str());
    std::string v =
        "gst-launch-1.0 -q videotestsrc num-buffers=300 pattern=smpte horizontal-speed=4 ! "
        "video/x-raw,width=640,height=360,framerate=30/1 ! vp8enc target-bitrate=800000 deadline=1 "
        "cpu-used=4 keyframe-max-dist=60 end-usage=cbr ! rtpvp8pay mtu=1200 pt=96 picture-id-mode=15-bit "
        "! rtpstreampay ! filesink location=" +
        video.string() + ".part";
    std::string a =
        "gst-launch-1.0 -q audiotestsrc num-buffers=500 wave=ticks samplesperbuffer=960 ! "
        "audio/x-raw,rate=48000,channels=1 ! opusenc bitrate=32000 frame-size=20 ! rtpopuspay pt=111 ! "
        "rtpstreampay ! filesink location=" +
        audio.string() + ".part";
    if (std::system(v.c_str()) != 0 || std::system(a.c_str()) != 0) {
      std::fprintf(stderr, "gst-launch-1.0 failed to encode the media\n");
      std::exit(1);
    }
    fs::rename(video.string() + ".part", video);
    fs::rename(audio.string() + ".part", audio);
  }
  Media m;
  for (bool is_video : {true, false}) {
    auto stream = ReadStream(is_video ? video : audio);
    if (stream.empty()) continue;
    uint32_t ts0 = Load32(stream.front().data() + 4);
    double rate = is_video ? 90'000.0 : 48'000.0;
    for (auto& p : stream) {
      auto ts = static_cast<int64_t>(static_cast<uint32_t>(Load32(p.data() + 4) - ts0));
      m.packets.push_back({std::move(p), static_cast<int64_t>(static_cast<double>(ts) * 1e6 / rate), is_video});
    }
  }
  std::stable_sort(m.packets.begin(), m.packets.end(),
                   [](const auto& a, const auto& b) { return a.offset_us < b.offset_us; });
  return m;
}

// ---- SDP ----

struct Section {
  std::string kind, mid, direction = "sendrecv";
  bool rejected = false;
  int pt = -1;
  std::vector<std::string> codec_lines;  // a=rtpmap / a=fmtp of pt
  std::vector<uint32_t> ssrcs;
};
struct RemoteSdp {
  std::string ufrag, pwd, fingerprint, ip;
  int port = 0, tcp_port = 0;  ///< the server's UDP candidate and passive TCP one
  std::vector<Section> sections;
};

RemoteSdp ParseSdp(const std::string& sdp) {
  RemoteSdp r;
  std::istringstream in(sdp);
  Section* cur = nullptr;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto value = [&](const char* prefix) { return line.substr(std::strlen(prefix)); };
    if (line.rfind("m=", 0) == 0) {
      r.sections.emplace_back();
      cur = &r.sections.back();
      std::istringstream m(line.substr(2));
      std::string port, proto, fmt;
      m >> cur->kind >> port >> proto >> fmt;
      cur->rejected = port == "0";
      if (!fmt.empty() && std::isdigit(static_cast<unsigned char>(fmt[0]))) cur->pt = std::stoi(fmt);
    } else if (line.rfind("a=ice-ufrag:", 0) == 0 && r.ufrag.empty()) {
      r.ufrag = value("a=ice-ufrag:");
    } else if (line.rfind("a=ice-pwd:", 0) == 0 && r.pwd.empty()) {
      r.pwd = value("a=ice-pwd:");
    } else if (line.rfind("a=fingerprint:sha-256 ", 0) == 0 && r.fingerprint.empty()) {
      r.fingerprint = value("a=fingerprint:sha-256 ");
    } else if (line.rfind("a=candidate:", 0) == 0) {
      std::istringstream c(line);
      std::string foundation, component, transport, priority, ip, port, typ, type;
      c >> foundation >> component >> transport >> priority >> ip >> port >> typ >> type;
      if (component != "1" || ip.find(':') != std::string::npos) continue;
      if ((transport == "udp" || transport == "UDP") && r.port == 0) {
        r.ip = ip;
        r.port = std::stoi(port);
      } else if ((transport == "tcp" || transport == "TCP") && r.tcp_port == 0) {
        r.tcp_port = std::stoi(port);
      }
    } else if (cur && line.rfind("a=mid:", 0) == 0) {
      cur->mid = value("a=mid:");
    } else if (cur && (line == "a=sendonly" || line == "a=recvonly" || line == "a=inactive" || line == "a=sendrecv")) {
      cur->direction = line.substr(2);
    } else if (cur && cur->pt >= 0 &&
               (line.rfind("a=rtpmap:" + std::to_string(cur->pt) + " ", 0) == 0 ||
                line.rfind("a=fmtp:" + std::to_string(cur->pt) + " ", 0) == 0)) {
      cur->codec_lines.push_back(line);
    } else if (cur && line.rfind("a=ssrc:", 0) == 0) {
      uint32_t ssrc = static_cast<uint32_t>(std::stoul(value("a=ssrc:")));
      if (std::find(cur->ssrcs.begin(), cur->ssrcs.end(), ssrc) == cur->ssrcs.end()) cur->ssrcs.push_back(ssrc);
    }
  }
  return r;
}

// ---- one client transport ----

struct SsrcTrack {
  uint16_t last = 0;
  bool started = false;
};

struct Peer {
  int fd = -1;
  bool tcp = false;             ///< over ICE-TCP: fd is a TCP connection carrying RFC 4571 frames
  std::vector<uint8_t> stream;  ///< TCP bytes read, not yet a whole frame
  std::string ufrag = RandomToken(8), pwd = RandomToken(24);
  bool publisher = false, video = true;
  RemoteSdp remote;
  sockaddr_storage to{};  // the server's candidate (IPv4)
  enum class State : uint8_t { kWaiting, kIce, kDtls, kUp, kFailed } state = State::kWaiting;
  std::unique_ptr<DtlsTransport> dtls;
  std::unique_ptr<SrtpSession> out, in;
  int64_t next_check_us = 0, next_dtls_us = 0;
  SrtpProfile negotiated = SrtpProfile::kAeadAes128Gcm;
  // publishing
  uint32_t audio_ssrc = 0, video_ssrc = 0;
  uint16_t audio_seq = 0, video_seq = 0;
  size_t cursor = 0;
  int64_t start_us = 0, loops = 0;
  // Counters the loop writes and the main thread reads at window edges.
  std::atomic<uint64_t> sent{0}, received{0}, gaps{0};
  // subscribing
  std::map<uint32_t, SsrcTrack> tracks;
  uint64_t sample = 0;
};

std::shared_ptr<DtlsCertificate> g_cert;

int OpenSocket() {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  int buf = 1 << 20, on = 1;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
  return fd;
}

uint16_t LocalPort(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(a.sin_port);
}

std::string SessionHeader() {
  return "v=0\r\no=- " + std::to_string(std::random_device{}()) + " 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n";
}
std::string TransportLines(const Peer& p) {
  return "a=ice-ufrag:" + p.ufrag + "\r\na=ice-pwd:" + p.pwd + "\r\na=fingerprint:sha-256 " + g_cert->fingerprint() +
         "\r\na=setup:active\r\na=rtcp-mux\r\n";
}
std::string Candidate(const Peer& p) {
  return "a=candidate:1 1 udp 2130706431 127.0.0.1 " + std::to_string(LocalPort(p.fd)) +
         " typ host\r\na=end-of-candidates\r\n";
}

/// What a browser would offer to publish: audio (and video), sendonly, SSRCs named.
std::string PublishOffer(const Peer& p) {
  std::string s = SessionHeader() + (p.video ? "a=group:BUNDLE 0 1\r\n" : "a=group:BUNDLE 0\r\n");
  s += "a=msid-semantic: WMS load\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\n" + TransportLines(p) +
       Candidate(p) +
       "a=mid:0\r\na=sendonly\r\na=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n"
       "a=msid:load load-audio\r\na=ssrc:" +
       std::to_string(p.audio_ssrc) + " cname:load\r\n";
  if (p.video)
    s += "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\n" + TransportLines(p) +
         "a=mid:1\r\na=sendonly\r\na=rtpmap:96 VP8/90000\r\na=msid:load load-video\r\na=ssrc:" +
         std::to_string(p.video_ssrc) + " cname:load\r\n";
  return s;
}

/// The answer to a server's subscribe offer: every section received on its first codec.
std::string SubscribeAnswer(const Peer& p, const RemoteSdp& offer) {
  std::string s = SessionHeader() + "a=group:BUNDLE";
  for (const auto& sec : offer.sections)
    if (!sec.rejected) s += " " + sec.mid;
  s += "\r\na=msid-semantic: WMS\r\n";
  bool first = true;
  for (const auto& sec : offer.sections) {
    bool take = !sec.rejected && sec.pt >= 0 && sec.kind != "application";
    s += "m=" + sec.kind + (take ? " 9 " : " 0 ") +
         (sec.kind == "application" ? "UDP/DTLS/SCTP webrtc-datachannel"
                                    : "UDP/TLS/RTP/SAVPF " + std::to_string(std::max(sec.pt, 0))) +
         "\r\nc=IN IP4 0.0.0.0\r\n" + TransportLines(p);
    if (first) s += Candidate(p);
    first = false;
    s += "a=mid:" + sec.mid + "\r\n";
    s += take ? (sec.direction == "inactive" ? "a=inactive\r\n" : "a=recvonly\r\n") : "a=inactive\r\n";
    if (take)
      for (const auto& l : sec.codec_lines) s += l + "\r\n";
  }
  return s;
}

// ---- the media loop: every transport's ICE, DTLS and SRTP, publishing and counting ----

struct WindowStats {
  std::vector<double> latency_us;
};

class MediaLoop {
 public:
  explicit MediaLoop(const Media& media) : media_(media) { epoll_ = epoll_create1(EPOLL_CLOEXEC); }
  ~MediaLoop() { close(epoll_); }

  /// From any thread: the peer's remote description is known; connect it.
  void Add(std::shared_ptr<Peer> p) {
    std::lock_guard lock(mu_);
    incoming_.push_back(std::move(p));
  }
  /// Runs until `stop` is set.
  void Run(const std::atomic<bool>& stop) {
    std::vector<epoll_event> ev(256);
    while (!stop.load(std::memory_order_relaxed)) {
      TakeIncoming();
      int64_t now = MonoUs();
      Publish(now);
      Timers(now);
      int64_t wait_us = std::max<int64_t>(0, next_due_us_ - MonoUs());
      int n = epoll_wait(epoll_, ev.data(), static_cast<int>(ev.size()),
                         static_cast<int>(std::min<int64_t>(wait_us / 1000, 5)));
      for (int i = 0; i < n; ++i) Drain(*static_cast<Peer*>(ev[static_cast<size_t>(i)].data.ptr));
    }
  }

  /// Counters: the loop thread writes, Snapshot() reads under the lock.
  WindowStats TakeWindow() {
    std::lock_guard lock(stats_mu_);
    WindowStats w = std::move(window_);
    window_ = {};
    return w;
  }
  size_t Connected() const { return connected_.load(); }
  size_t Failed() const { return failed_.load(); }
  std::string Profiles() const {
    std::lock_guard lock(stats_mu_);
    return profiles_;
  }

 private:
  void TakeIncoming() {
    std::vector<std::shared_ptr<Peer>> take;
    {
      std::lock_guard lock(mu_);
      take.swap(incoming_);
    }
    for (auto& p : take) {
      auto* to = reinterpret_cast<sockaddr_in*>(&p->to);
      inet_pton(AF_INET, p->remote.ip.empty() ? "127.0.0.1" : p->remote.ip.c_str(), &to->sin_addr);
      to->sin_family = AF_INET;
      to->sin_port = htons(static_cast<uint16_t>(p->remote.port));
      if (p->tcp && !ConnectTcp(*p)) {
        Fail(*p);
        continue;
      }
      epoll_event e{};
      e.events = EPOLLIN;
      e.data.ptr = p.get();
      epoll_ctl(epoll_, EPOLL_CTL_ADD, p->fd, &e);
      p->state = Peer::State::kIce;
      p->next_check_us = 0;
      peers_.push_back(std::move(p));
    }
  }

  // The active side of ICE-TCP: a connection to the server's passive candidate.
  static bool ConnectTcp(Peer& p) {
    sockaddr_in a = *reinterpret_cast<const sockaddr_in*>(&p.to);
    a.sin_port = htons(static_cast<uint16_t>(p.remote.tcp_port));
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    // Each from an address of its own (127.1.x.y): distinct clients, as the server's
    // bound on one address's unanswered connections (16) expects of a burst of joins.
    static uint32_t next_host = 1;
    sockaddr_in self{};
    self.sin_family = AF_INET;
    self.sin_addr.s_addr = htonl(0x7F010000u | (next_host++ & 0xFFFFu));
    (void)bind(fd, reinterpret_cast<sockaddr*>(&self), sizeof self);
    if (p.remote.tcp_port == 0 || connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      std::fprintf(stderr, "ICE-TCP: cannot connect to port %d: %s\n", p.remote.tcp_port, strerror(errno));
      close(fd);
      return false;
    }
    int one = 1, buf = 1 << 20;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    close(p.fd);
    p.fd = fd;
    return true;
  }

  void SendTo(Peer& p, std::span<const uint8_t> d) {
    if (p.tcp) {  // one RFC 4571 frame (what a subscriber sends is small: checks, DTLS)
      uint8_t framed[2 + 1600];
      if (d.size() > 1600) return;
      framed[0] = static_cast<uint8_t>(d.size() >> 8);
      framed[1] = static_cast<uint8_t>(d.size());
      std::memcpy(framed + 2, d.data(), d.size());
      (void)send(p.fd, framed, 2 + d.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      return;
    }
    (void)sendto(p.fd, d.data(), d.size(), 0, reinterpret_cast<const sockaddr*>(&p.to), sizeof(sockaddr_in));
  }

  void Check(Peer& p) {
    std::array<uint8_t, 12> tx{};
    for (auto& b : tx) b = static_cast<uint8_t>(rng_());
    Bytes req(512);
    req.resize(
        WriteStunBindingRequest(req, tx, p.remote.ufrag + ":" + p.ufrag, p.remote.pwd, 2130706431, rng_(), true));
    SendTo(p, req);
  }

  void Timers(int64_t now) {
    if (now < next_timer_us_) return;
    next_timer_us_ = now + 20'000;
    for (auto& pp : peers_) {
      Peer& p = *pp;
      if (p.state == Peer::State::kFailed) continue;
      if (now >= p.next_check_us) {  // checks until answered, then consent every 5 s
        Check(p);
        p.next_check_us = now + (p.state == Peer::State::kIce ? 200'000 : 5'000'000);
      }
      if (p.state == Peer::State::kDtls && now >= p.next_dtls_us) {
        (void)p.dtls->HandleTimeout();
        p.next_dtls_us = now + 50'000;
        if (p.dtls->state() == DtlsTransport::State::kFailed) Fail(p);
      }
    }
    next_due_us_ = std::min(next_due_us_, next_timer_us_);
  }

  void Fail(Peer& p) {
    if (p.state == Peer::State::kFailed) return;
    p.state = Peer::State::kFailed;
    failed_.fetch_add(1);
  }

  // ICE-TCP: what the connection holds, deframed (the receive time is read here: a TCP
  // socket has no per-datagram kernel timestamp).
  void DrainTcp(Peer& p) {
    uint8_t buf[65536];
    for (;;) {
      ssize_t n = recv(p.fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n <= 0) {
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) Fail(p);
        return;
      }
      const int64_t rx_ns = RealtimeNs();
      p.stream.insert(p.stream.end(), buf, buf + n);
      size_t at = 0;
      while (p.stream.size() - at >= 2) {
        const size_t len = static_cast<size_t>(p.stream[at]) << 8 | p.stream[at + 1];
        if (p.stream.size() - at < 2 + len) break;
        Handle(p, std::span<uint8_t>(p.stream.data() + at + 2, len), rx_ns);
        at += 2 + len;
      }
      p.stream.erase(p.stream.begin(), p.stream.begin() + static_cast<std::ptrdiff_t>(at));
    }
  }

  void Drain(Peer& p) {
    if (p.tcp) return DrainTcp(p);
    constexpr size_t kBatch = 32;
    std::array<std::array<uint8_t, 1600>, kBatch> bufs;
    std::array<iovec, kBatch> iov{};
    std::array<mmsghdr, kBatch> msgs{};
    std::array<std::array<char, 64>, kBatch> ctrl;
    for (;;) {
      for (size_t i = 0; i < kBatch; ++i) {
        iov[i] = {bufs[i].data(), bufs[i].size()};
        msgs[i] = {};
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        msgs[i].msg_hdr.msg_control = ctrl[i].data();
        msgs[i].msg_hdr.msg_controllen = ctrl[i].size();
      }
      int n = recvmmsg(p.fd, msgs.data(), kBatch, MSG_DONTWAIT, nullptr);
      if (n <= 0) return;
      for (int i = 0; i < n; ++i) {
        auto& m = msgs[static_cast<size_t>(i)];
        int64_t rx_ns = 0;
        for (cmsghdr* c = CMSG_FIRSTHDR(&m.msg_hdr); c; c = CMSG_NXTHDR(&m.msg_hdr, c))
          if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_TIMESTAMPNS) {
            timespec ts{};
            std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
            rx_ns = ts.tv_sec * 1'000'000'000LL + ts.tv_nsec;
          }
        Handle(p, std::span<uint8_t>(bufs[static_cast<size_t>(i)].data(), m.msg_len), rx_ns);
      }
      if (static_cast<size_t>(n) < kBatch) return;
    }
  }

  void Handle(Peer& p, std::span<uint8_t> d, int64_t rx_ns) {
    switch (Classify(d)) {
      case PacketClass::kStun: {
        auto m = ParseStun(d);
        if (!m) break;
        if (m->type == 0x0001) {  // the server checks us too (a full ICE agent, or keepalives)
          uint8_t out[128];
          size_t n = WriteStunBindingSuccess(out, m->transaction_id, p.to, p.pwd);
          if (n) SendTo(p, {out, n});
          break;
        }
        if (m->type != 0x0101) break;
        if (p.state == Peer::State::kIce) {  // our check answered: the path is open
          p.state = Peer::State::kDtls;
          p.next_check_us = MonoUs() + 5'000'000;
          Peer* self = &p;
          p.dtls = std::make_unique<DtlsTransport>(g_cert, DtlsTransport::Role::kClient, p.remote.fingerprint,
                                                   [this, self](std::span<const uint8_t> out) { SendTo(*self, out); });
          p.dtls->Start();
          p.next_dtls_us = MonoUs() + 50'000;
        }
        break;
      }
      case PacketClass::kDtls:
        if (p.state != Peer::State::kDtls) break;
        p.dtls->Feed(d);
        if (p.dtls->state() == DtlsTransport::State::kConnected) {
          const auto& k = p.dtls->keys();
          p.out = *SrtpSession::Create(k.profile, k.local_master, SrtpSession::Direction::kOutbound);
          p.in = *SrtpSession::Create(k.profile, k.remote_master, SrtpSession::Direction::kInbound);
          p.negotiated = k.profile;
          p.state = Peer::State::kUp;
          p.start_us = MonoUs() + 20'000;
          connected_.fetch_add(1);
          std::lock_guard lock(stats_mu_);
          if (profiles_.find(Name(k.profile)) == std::string::npos)
            profiles_ += (profiles_.empty() ? "" : ",") + std::string(Name(k.profile));
        } else if (p.dtls->state() == DtlsTransport::State::kFailed) {
          std::fprintf(stderr, "DTLS failed: %s\n", p.dtls->failure().c_str());
          Fail(p);
        }
        break;
      case PacketClass::kRtp:
        if (p.state == Peer::State::kUp && !p.publisher) Received(p, d, rx_ns);
        break;
      default: break;  // RTCP: reports and feedback, not needed by a load client
    }
  }

  void Received(Peer& p, std::span<uint8_t> d, int64_t rx_ns) {
    if (d.size() < 12) return;
    uint32_t ssrc = Load32(d.data() + 8);
    uint16_t seq = Load16(d.data() + 2);
    auto& t = p.tracks[ssrc];
    if (t.started) {
      auto delta = static_cast<int16_t>(static_cast<uint16_t>(seq - t.last));
      if (delta > 1) p.gaps.fetch_add(static_cast<uint64_t>(delta - 1), std::memory_order_relaxed);
      if (delta > 0) t.last = seq;  // reordered or repeated: no new gap
    } else {
      t.started = true;
      t.last = seq;
    }
    p.received.fetch_add(1, std::memory_order_relaxed);
    if ((++p.sample & 3) != 0) return;
    std::lock_guard lock(stats_mu_);
    // One in four: decrypt and read the publisher's send time from the payload's tail.
    Bytes copy(d.begin(), d.end());
    size_t n = p.in->UnprotectRtp(copy.data(), copy.size());
    auto v = n ? ParseRtp(std::span<uint8_t>(copy.data(), n)) : std::nullopt;
    if (!v || v->payload_length < 12) return;
    const uint8_t* tail = copy.data() + v->payload_offset + v->payload_length - 8;
    auto tx_ns = static_cast<int64_t>(static_cast<uint64_t>(Load32(tail)) << 32 | Load32(tail + 4));
    if (rx_ns && tx_ns > 0 && rx_ns > tx_ns && rx_ns - tx_ns < 10'000'000'000LL &&
        window_.latency_us.size() < 2'000'000)
      window_.latency_us.push_back(static_cast<double>(rx_ns - tx_ns) / 1000.0);
  }

  void Publish(int64_t now) {
    next_due_us_ = now + 5'000;
    const auto& pk = media_.packets;
    if (pk.empty()) return;
    for (auto& pp : peers_) {
      Peer& p = *pp;
      if (!p.publisher || p.state != Peer::State::kUp || now < p.start_us) continue;
      uint64_t sent = 0;
      for (;;) {
        const auto& m = pk[p.cursor];
        int64_t due = p.start_us + p.loops * media_.loop_us + m.offset_us;
        if (due > now) {
          next_due_us_ = std::min(next_due_us_, due);
          break;
        }
        if (!m.video || p.video) {
          uint8_t* slot = batch_.Slot();
          std::memcpy(slot, m.rtp.data(), m.rtp.size());
          auto v = ParseRtp(std::span<uint8_t>(slot, m.rtp.size()));
          if (v) {
            uint32_t ts = v->timestamp + static_cast<uint32_t>(p.loops * (m.video ? 900'000 : 480'000));
            v->SetSsrc(m.video ? p.video_ssrc : p.audio_ssrc);
            v->SetSequence(m.video ? p.video_seq++ : p.audio_seq++);
            v->SetTimestamp(ts);
            if (v->payload_length >= 12) {  // the send time, in place of the payload's last 8 bytes
              uint8_t* tail = slot + v->payload_offset + v->payload_length - 8;
              auto ns = static_cast<uint64_t>(RealtimeNs());
              Store32(tail, static_cast<uint32_t>(ns >> 32));
              Store32(tail + 4, static_cast<uint32_t>(ns));
            }
            if (size_t n = p.out->ProtectRtp(slot, m.rtp.size(), kSlotBytes)) {
              batch_.Queue(n, p.to);
              ++sent;
            }
          }
        }
        if (++p.cursor == pk.size()) {
          p.cursor = 0;
          ++p.loops;
        }
        if (batch_.full()) (void)batch_.Flush(p.fd);
      }
      (void)batch_.Flush(p.fd);
      p.sent.fetch_add(sent, std::memory_order_relaxed);
    }
  }

  const Media& media_;
  SendBatch batch_{kSlotBytes};  // one publisher's packets at a time, one sendmmsg per 32
  int epoll_;
  std::mutex mu_;
  std::vector<std::shared_ptr<Peer>> incoming_, peers_;
  mutable std::mutex stats_mu_;
  WindowStats window_;
  std::string profiles_;
  std::atomic<size_t> connected_{0}, failed_{0};
  int64_t next_due_us_ = 0, next_timer_us_ = 0;
  std::mt19937_64 rng_{42};
};

// ---- servers ----

struct Server {
  virtual ~Server() = default;
  virtual std::string name() const = 0;
  virtual pid_t pid() const = 0;
  /// A publisher: audio and, with video, VP8.
  virtual std::shared_ptr<Peer> AddPublisher(const std::string& who, bool video) = 0;
  /// `who` subscribes to every publisher in `from`; returns, for each of them, the
  /// transport that carries it (Parley: one per session, reused by later
  /// subscriptions; Janus: one per feed).
  virtual std::vector<std::shared_ptr<Peer>> AddSubscriber(const std::string& who,
                                                           const std::vector<std::shared_ptr<Peer>>& from) = 0;
};

int FreeTcpPort() {  // a port nobody listens on now (Janus takes its HTTP port from config)
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

pid_t Spawn(const std::vector<std::string>& args, const std::string& log) {
  std::vector<std::string> a = args;
  std::vector<char*> c;
  for (auto& s : a) c.push_back(s.data());
  c.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, c[0], &fa, nullptr, c.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  return rc == 0 ? pid : 0;
}

void Stop(pid_t pid) {
  if (pid <= 0) return;
  kill(pid, SIGTERM);
  for (int i = 0; i < 100; ++i) {
    if (waitpid(pid, nullptr, WNOHANG) == pid) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
}

/// One HTTP exchange on a kept-alive connection.
class HttpConn {
 public:
  HttpConn(int port) : stream_(io_) {
    stream_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
  }
  json Call(http::verb verb, const std::string& target, const std::string& body, const std::string& bearer = "") {
    http::request<http::string_body> req(verb, target, 11);
    req.set(http::field::host, "127.0.0.1");
    req.keep_alive(true);
    if (!bearer.empty()) req.set(http::field::authorization, "Bearer " + bearer);
    if (verb != http::verb::get) {
      req.set(http::field::content_type, "application/json");
      req.body() = body;
      req.prepare_payload();
    }
    http::write(stream_, req);
    beast::flat_buffer b;
    http::response<http::string_body> res;
    http::read(stream_, b, res);
    return json::parse(res.body(), nullptr, false);
  }

 private:
  asio::io_context io_;
  beast::tcp_stream stream_;
};

// Parley: a WebSocket session per client, requests answered in order.
class ParleyServer : public Server {
 public:
  ParleyServer(const Options& o, const fs::path& dir) {
    std::string port_file = (dir / "port").string(), key = "sfu-load-bench-admin-key";
    pid_ = Spawn({"/usr/bin/taskset",
                  "-c",
                  o.server_cpus,
                  o.parleyd,
                  "--port",
                  "0",
                  "--data",
                  dir.string(),
                  "--port-file",
                  port_file,
                  "--admin-key",
                  key,
                  "--log-level",
                  "warn",
                  "--media-workers",
                  std::to_string(o.media_workers),
                  "--media-spread-at",
                  std::to_string(o.spread_at),
                  "--heartbeat-interval-ms",
                  "3600000",
                  "--media-address",
                  "127.0.0.1",
                  "--usage-flush-ms",
                  "60000"},
                 (dir / "parleyd.log").string());
    for (int i = 0; i < 500 && !port_; ++i) {
      std::ifstream in(port_file);
      in >> port_;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (!port_) throw std::runtime_error("parleyd did not start (see " + (dir / "parleyd.log").string() + ")");
    HttpConn admin(port_);
    json app = admin.Call(http::verb::post, "/v1/admin/apps", R"({"name":"sfu-load"})", key);
    app_id_ = app.value("appId", "");
    app_key_ = app.value("appKey", "");
  }
  ~ParleyServer() override {
    clients_.clear();
    Stop(pid_);
  }
  std::string name() const override { return "parley"; }
  pid_t pid() const override { return pid_; }

  std::shared_ptr<Peer> AddPublisher(const std::string& who, bool video) override {
    auto c = Join(who, "broadcaster");
    auto p = std::make_shared<Peer>();
    p->fd = OpenSocket();
    p->publisher = true;
    p->video = video;
    p->audio_ssrc = 0x10000000u + static_cast<uint32_t>(clients_.size()) * 2;
    p->video_ssrc = p->audio_ssrc + 1;
    json tracks = video ? json::array({"audio", "camera"}) : json::array({"audio"});
    json r = c->Call({{"type", "publish"}, {"tracks", tracks}, {"sdp", PublishOffer(*p)}});
    if (r.value("code", -1) != 0) throw std::runtime_error("publish refused: " + r.dump());
    p->remote = ParseSdp(r["data"].value("sdp", ""));
    user_of_[p.get()] = who;
    return p;
  }

  std::vector<std::shared_ptr<Peer>> AddSubscriber(const std::string& who,
                                                   const std::vector<std::shared_ptr<Peer>>& from) override {
    auto it = sessions_.find(who);
    auto c = it != sessions_.end() ? it->second : Join(who, "audience");
    std::string offer;
    for (const auto& pub : from) {
      json r = c->Call({{"type", "subscribe"}, {"userId", user_of_[pub.get()]}});
      if (r.value("code", -1) != 0) throw std::runtime_error("subscribe refused: " + r.dump());
      offer = r["data"].value("sdp", "");
    }
    // One subscribe connection per session: a later offer is answered with the same
    // credentials and fingerprint, on the transport the loop already runs.
    auto& p = subscriber_of_[who];
    bool fresh = !p;
    if (fresh) {
      p = std::make_shared<Peer>();
      p->fd = OpenSocket();
      p->tcp = g_tcp_subscribers;
    }
    RemoteSdp remote = ParseSdp(offer);
    if (fresh) p->remote = remote;
    json r = c->Call({{"type", "subscribeAnswer"}, {"sdp", SubscribeAnswer(*p, remote)}});
    if (r.value("code", -1) != 0) throw std::runtime_error("subscribeAnswer refused: " + r.dump());
    return std::vector<std::shared_ptr<Peer>>(from.size(), p);
  }

 private:
  class Ws {
   public:
    explicit Ws(int port) : ws_(io_) {
      beast::get_lowest_layer(ws_).connect(
          tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
      ws_.handshake("127.0.0.1", "/v1/signal");
    }
    /// A request and its response; notifications in between are read and dropped.
    json Call(json msg) {
      int64_t id = next_id_++;
      msg["id"] = id;
      ws_.write(asio::buffer(msg.dump()));
      for (;;) {
        beast::flat_buffer b;
        ws_.read(b);
        std::string s = beast::buffers_to_string(b.data());
        if (s.find("\"response\"") == std::string::npos) continue;
        json m = json::parse(s, nullptr, false);
        if (m.is_object() && m.value("type", "") == "response" && m.value("id", int64_t{-1}) == id) return m;
      }
    }
    /// Reads what is waiting without blocking (notifications pile up otherwise).
    void Drain() {
      auto& sock = beast::get_lowest_layer(ws_).socket();
      boost::system::error_code ec;
      while (sock.available(ec) > 0 && !ec) {
        beast::flat_buffer b;
        ws_.read(b, ec);
        if (ec) return;
      }
    }

   private:
    asio::io_context io_;
    websocket::stream<beast::tcp_stream> ws_;
    int64_t next_id_ = 1;
  };

  std::shared_ptr<Ws> Join(const std::string& who, const std::string& role) {
    for (auto& [name, ws] : sessions_) ws->Drain();
    auto c = std::make_shared<Ws>(port_);
    int64_t exp = time(nullptr) + 3600;
    json r = c->Call({{"type", "join"},
                      {"token", parley::MintAccessToken({app_id_, "load", who, "", "", exp, 0}, app_key_)},
                      {"profile", "interactive-live"},
                      {"role", role},
                      {"userName", who}});
    if (r.value("code", -1) != 0) throw std::runtime_error("join refused: " + r.dump());
    sessions_[who] = c;
    clients_.push_back(c);
    return c;
  }

  pid_t pid_ = 0;
  int port_ = 0;
  std::string app_id_, app_key_;
  std::vector<std::shared_ptr<Ws>> clients_;
  std::map<std::string, std::shared_ptr<Ws>> sessions_;
  std::map<Peer*, std::string> user_of_;
  std::map<std::string, std::shared_ptr<Peer>> subscriber_of_;
};

// Janus VideoRoom through its HTTP API: a Janus session per client, a handle per
// publisher or subscribed feed (Janus subscribes one feed per connection here).
class JanusServer : public Server {
 public:
  JanusServer(const Options& o, const fs::path& dir) {
    const fs::path shim = dir / "lo_unflag.so";
    const fs::path etc = dir / "janus-etc", lib = dir / "janus-lib";
    fs::create_directories(etc);
    for (const char* sub : {"plugins", "transports", "events", "loggers"}) fs::create_directories(lib / sub);
    const fs::path sys = "/usr/lib/x86_64-linux-gnu/janus";
    fs::create_symlink(sys / "plugins/libjanus_videoroom.so", lib / "plugins/libjanus_videoroom.so");
    fs::create_symlink(sys / "transports/libjanus_http.so", lib / "transports/libjanus_http.so");
    port_ = FreeTcpPort();
    std::ofstream(etc / "janus.jcfg")
        << "general: {\n configs_folder = \"" << etc.string() << "\"\n plugins_folder = \""
        << (lib / "plugins").string() << "\"\n transports_folder = \"" << (lib / "transports").string()
        << "\"\n events_folder = \"" << (lib / "events").string() << "\"\n loggers_folder = \""
        << (lib / "loggers").string()
        << "\"\n debug_level = 3\n interface = \"127.0.0.1\"\n session_timeout = 0\n event_loops = 1\n}\n"
        << "certificates: {\n}\nmedia: {\n ipv6 = false\n rtp_port_range = \"30000-60000\"\n}\n"
        << "nat: {\n ice_lite = true\n nice_debug = false\n ice_enforce_list = \"127.0.0.1\"\n ignore_mdns = true\n}\n"
        << "plugins: {\n}\ntransports: {\n}\nloggers: {\n}\nevents: {\n}\n";
    std::ofstream(etc / "janus.transport.http.jcfg")
        << "general: {\n json = \"plain\"\n base_path = \"/janus\"\n http = true\n port = " << port_
        << "\n ip = \"127.0.0.1\"\n https = false\n}\nadmin: {\n admin_http = false\n admin_https = false\n}\n"
        << "cors: {\n}\n";
    std::ofstream(etc / "janus.plugin.videoroom.jcfg") << "general: {\n}\n";
    // The shim that lets Janus see 127.0.0.1 (it skips loopback interfaces).
    std::ofstream(dir / "lo_unflag.c")
        << "#define _GNU_SOURCE\n#include <dlfcn.h>\n#include <ifaddrs.h>\n#include <net/if.h>\n"
           "int getifaddrs(struct ifaddrs **ifap) {\n"
           "  static int (*real)(struct ifaddrs **) = 0;\n"
           "  if (!real) real = (int (*)(struct ifaddrs **))dlsym(RTLD_NEXT, \"getifaddrs\");\n"
           "  int r = real(ifap);\n"
           "  if (r == 0) for (struct ifaddrs *i = *ifap; i; i = i->ifa_next) i->ifa_flags &= ~IFF_LOOPBACK;\n"
           "  return r;\n}\n";
    std::string cc = "cc -shared -fPIC -O2 " + (dir / "lo_unflag.c").string() + " -o " + shim.string() + " -ldl";
    if (std::system(cc.c_str()) != 0) throw std::runtime_error("cannot build the loopback shim");
    std::string preload = "LD_PRELOAD=" + shim.string();
    pid_ = Spawn({"/usr/bin/env", preload, "/usr/bin/taskset", "-c", o.server_cpus, o.janus, "-F", etc.string(), "-C",
                  (etc / "janus.jcfg").string()},
                 (dir / "janus.log").string());
    for (int i = 0; i < 100; ++i) {
      try {
        HttpConn c(port_);
        json r = c.Call(http::verb::post, "/janus", R"({"janus":"create","transaction":"probe"})");
        if (r.value("janus", "") == "success") break;
      } catch (const std::exception&) {
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    // The room: as many publishers as the meeting needs, no bitrate cap.
    auto [s, h] = Attach();
    json r = Message(s, h,
                     {{"request", "create"},
                      {"room", kRoom},
                      {"publishers", 1000},
                      {"bitrate", 0},
                      {"audiocodec", "opus"},
                      {"videocodec", "vp8"},
                      {"notify_joining", false}},
                     nullptr);
    if (r.value("janus", "") != "success") throw std::runtime_error("janus room create failed: " + r.dump());
  }
  ~JanusServer() override {
    http_.reset();
    Stop(pid_);
  }
  std::string name() const override { return "janus"; }
  pid_t pid() const override { return pid_; }

  std::shared_ptr<Peer> AddPublisher(const std::string& who, bool video) override {
    auto [s, h] = Attach();
    json r = Message(s, h, {{"request", "join"}, {"ptype", "publisher"}, {"room", kRoom}, {"display", who}}, nullptr);
    json joined = WaitEvent(s, [](const json& e) { return e.contains("plugindata"); });
    uint64_t feed = joined["plugindata"]["data"].value("id", uint64_t{0});
    auto p = std::make_shared<Peer>();
    p->fd = OpenSocket();
    p->publisher = true;
    p->video = video;
    p->audio_ssrc = 0x20000000u + static_cast<uint32_t>(feeds_.size()) * 2;
    p->video_ssrc = p->audio_ssrc + 1;
    Message(s, h, {{"request", "publish"}, {"audio", true}, {"video", video}},
            json{{"type", "offer"}, {"sdp", PublishOffer(*p)}});
    json answer = WaitEvent(s, [](const json& e) { return e.contains("jsep"); });
    p->remote = ParseSdp(answer["jsep"].value("sdp", ""));
    feeds_[p.get()] = feed;
    return p;
  }

  std::vector<std::shared_ptr<Peer>> AddSubscriber(const std::string&,
                                                   const std::vector<std::shared_ptr<Peer>>& from) override {
    std::vector<std::shared_ptr<Peer>> out;
    for (const auto& pub : from) {
      auto [s, h] = Attach();
      Message(s, h, {{"request", "join"}, {"ptype", "subscriber"}, {"room", kRoom}, {"feed", feeds_[pub.get()]}},
              nullptr);
      json offer = WaitEvent(s, [](const json& e) { return e.contains("jsep"); });
      auto p = std::make_shared<Peer>();
      p->fd = OpenSocket();
      p->remote = ParseSdp(offer["jsep"].value("sdp", ""));
      Message(s, h, {{"request", "start"}, {"room", kRoom}},
              json{{"type", "answer"}, {"sdp", SubscribeAnswer(*p, p->remote)}});
      out.push_back(p);
    }
    return out;
  }

 private:
  static constexpr int kRoom = 4242;
  HttpConn& Conn() {
    if (!http_) http_ = std::make_unique<HttpConn>(port_);
    return *http_;
  }
  std::pair<uint64_t, uint64_t> Attach() {
    json s = Conn().Call(http::verb::post, "/janus", R"({"janus":"create","transaction":"c"})");
    uint64_t session = s["data"].value("id", uint64_t{0});
    json h = Conn().Call(http::verb::post, "/janus/" + std::to_string(session),
                         R"({"janus":"attach","plugin":"janus.plugin.videoroom","transaction":"a"})");
    return {session, h["data"].value("id", uint64_t{0})};
  }
  json Message(uint64_t s, uint64_t h, json body, json jsep) {
    json m = {{"janus", "message"}, {"transaction", RandomToken(8)}, {"body", std::move(body)}};
    if (!jsep.is_null()) m["jsep"] = std::move(jsep);
    return Conn().Call(http::verb::post, "/janus/" + std::to_string(s) + "/" + std::to_string(h), m.dump());
  }
  json WaitEvent(uint64_t s, const std::function<bool(const json&)>& want) {
    for (int i = 0; i < 50; ++i) {
      json e = Conn().Call(http::verb::get, "/janus/" + std::to_string(s) + "?maxev=1", "");
      if (e.value("janus", "") == "event" && want(e)) return e;
    }
    throw std::runtime_error("janus: the expected event never came");
  }

  pid_t pid_ = 0;
  int port_ = 0;
  std::unique_ptr<HttpConn> http_;
  std::map<Peer*, uint64_t> feeds_;
};

// ---- a run: one server, the shape stepped up ----

struct Row {
  std::string server, profiles;
  int step = 0, streams = 0, connected = 0, failed = 0, silent = 0;
  double pps = 0, cpu = 0, cpu_s_per_mpkt = 0, loss = 0, p50 = 0, p99 = 0, rss_kb_per_stream = 0;
  double busiest = 0;  ///< the busiest server thread's CPU %
  long rcvbuf_errors = 0;
};

std::vector<Row> RunServer(const Options& o, const std::string& which, const Media& media, const fs::path& dir) {
  std::vector<Row> rows;
  fs::create_directories(dir);
  std::unique_ptr<Server> server;
  try {
    if (which == "parley")
      server = std::make_unique<ParleyServer>(o, dir);
    else
      server = std::make_unique<JanusServer>(o, dir);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s did not start: %s\n", which.c_str(), e.what());
    return rows;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  long rss0 = RssKb(server->pid());
  MediaLoop loop(media);
  std::atomic<bool> stop{false};
  std::thread media_thread([&] {
    Pin(o.client_cpu);
    loop.Run(stop);
  });
  bool video = o.shape != "audio";
  std::vector<std::shared_ptr<Peer>> publishers;
  std::map<Peer*, std::vector<Peer*>> sources;  // subscriber transport -> the publishers it takes
  std::vector<std::shared_ptr<Peer>> subscribers;
  size_t expected_peers = 0;
  int streams = 0, subscriber_id = 0;
  std::map<size_t, std::set<size_t>> subscribed;  // meeting: who already takes whom
  auto wait_connected = [&] {
    for (int i = 0; i < 600 && loop.Connected() + loop.Failed() < expected_peers; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  };
  auto subscribe = [&](const std::string& who, const std::vector<std::shared_ptr<Peer>>& from) {
    auto carriers = server->AddSubscriber(who, from);
    for (size_t k = 0; k < carriers.size() && k < from.size(); ++k) {
      Peer* c = carriers[k].get();
      if (!sources.count(c)) {
        subscribers.push_back(carriers[k]);
        loop.Add(carriers[k]);
        ++expected_peers;
      }
      sources[c].push_back(from[k].get());
      ++streams;
    }
  };
  for (int step : o.steps) {
    Row row;
    row.server = which;
    row.step = step;
    try {
      if (o.shape == "meeting") {  // step = participants; each subscribes to every other
        while (static_cast<int>(publishers.size()) < step) {
          auto p = server->AddPublisher("m" + std::to_string(publishers.size()), true);
          publishers.push_back(p);
          loop.Add(p);
          ++expected_peers;
        }
        wait_connected();
        for (size_t i = 0; i < publishers.size(); ++i) {
          std::vector<std::shared_ptr<Peer>> others;
          for (size_t j = 0; j < publishers.size(); ++j)
            if (j != i && subscribed[i].insert(j).second) others.push_back(publishers[j]);
          if (!others.empty()) subscribe("m" + std::to_string(i), others);
        }
      } else {  // step = subscribers of the one publisher
        if (publishers.empty()) {
          auto p = server->AddPublisher("speaker", video);
          publishers.push_back(p);
          loop.Add(p);
          ++expected_peers;
          wait_connected();
        }
        while (streams < step) subscribe("s" + std::to_string(subscriber_id++), publishers);
      }
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s: setting up step %d failed: %s\n", which.c_str(), step, e.what());
      break;
    }
    wait_connected();
    std::this_thread::sleep_for(std::chrono::seconds(o.warm_s));
    // The window: counters at both edges. A subscriber transport that received nothing
    // lost everything its publishers sent in the window.
    struct Edge {
      std::map<Peer*, uint64_t> sent, received, gaps;
    };
    auto edge = [&] {
      Edge e;
      for (auto& p : publishers) e.sent[p.get()] = p->sent.load();
      for (auto& p : subscribers) {
        e.received[p.get()] = p->received.load();
        e.gaps[p.get()] = p->gaps.load();
      }
      return e;
    };
    (void)loop.TakeWindow();
    Edge e0 = edge();
    double cpu0 = CpuSeconds(server->pid());
    const auto threads0 = ThreadCpuSeconds(server->pid());
    long drops0 = UdpRcvbufErrors();
    auto t0 = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(std::chrono::seconds(o.measure_s));
    WindowStats w = loop.TakeWindow();
    Edge e1 = edge();
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    double cpu = CpuSeconds(server->pid()) - cpu0;
    for (const auto& [tid, s1] : ThreadCpuSeconds(server->pid())) {
      double s0 = 0;
      for (const auto& [t, v] : threads0)
        if (t == tid) s0 = v;
      row.busiest = std::max(row.busiest, 100.0 * (s1 - s0) / secs);
    }
    uint64_t received = 0, lost = 0;
    for (auto& p : subscribers) {
      uint64_t r = e1.received[p.get()] - e0.received[p.get()];
      received += r;
      lost += e1.gaps[p.get()] - e0.gaps[p.get()];
      if (r == 0) {
        ++row.silent;
        for (Peer* src : sources[p.get()]) lost += e1.sent[src] - e0.sent[src];
      }
    }
    row.streams = streams;
    row.connected = static_cast<int>(loop.Connected());
    row.failed = static_cast<int>(loop.Failed());
    row.profiles = loop.Profiles();
    row.pps = static_cast<double>(received) / secs;
    row.cpu = 100.0 * cpu / secs;
    row.cpu_s_per_mpkt = received ? cpu / (static_cast<double>(received) / 1e6) : 0;
    row.loss = received + lost ? 100.0 * static_cast<double>(lost) / static_cast<double>(received + lost) : 100.0;
    row.p50 = Percentile(w.latency_us, 50);
    row.p99 = Percentile(w.latency_us, 99);
    row.rss_kb_per_stream = streams ? static_cast<double>(RssKb(server->pid()) - rss0) / streams : 0;
    row.rcvbuf_errors = UdpRcvbufErrors() - drops0;
    std::printf("%-7s %6d %8d %7d/%-4d %10.0f %7.1f %7.1f %9.2f %7.2f %7d %8.0f %8.0f %9.1f %8ld  %s\n", which.c_str(),
                step, row.streams, row.connected, row.failed, row.pps, row.cpu, row.busiest, row.cpu_s_per_mpkt,
                row.loss, row.silent, row.p50, row.p99, row.rss_kb_per_stream, row.rcvbuf_errors, row.profiles.c_str());
    std::fflush(stdout);
    rows.push_back(row);
    // Past a core (the busiest thread's: a media worker): the next step says nothing more.
    if (row.loss > 1.0 || row.busiest > 98.0) break;
  }
  stop = true;
  media_thread.join();
  return rows;
}

void WriteCsvAndPlot(const Options& o, const std::vector<Row>& rows) {
  const fs::path csv = fs::path(o.out) / ("sfu-load-" + o.shape + ".csv");
  std::ofstream out(csv);
  out << "server,step,streams,connected,failed,forwarded_pps,server_cpu_pct,cpu_s_per_mpkt,loss_pct,seq_loss_pct,"
         "latency_p50_us,latency_p99_us,rss_kb_per_stream,client_rcvbuf_errors,srtp\n";
  for (const auto& r : rows)
    out << r.server << "," << r.step << "," << r.streams << "," << r.connected << "," << r.failed << "," << r.pps << ","
        << r.cpu << "," << r.cpu_s_per_mpkt << "," << r.loss << "," << r.silent << "," << r.p50 << "," << r.p99 << ","
        << r.rss_kb_per_stream << "," << r.rcvbuf_errors << "," << r.profiles << "\n";
  out.close();
  std::printf("wrote %s\n", csv.c_str());
  if (access("/usr/bin/gnuplot", X_OK) != 0) return;
  const fs::path png = fs::path(o.out) / ("sfu-load-" + o.shape + ".png"), gp = fs::path(o.out) / "sfu-load.gp";
  std::string names;  // the servers with rows, for the plots' series
  for (const auto& r : rows)
    if (names.find(r.server) == std::string::npos) names += (names.empty() ? "" : " ") + r.server;
  std::ofstream g(gp);
  g << "set terminal pngcairo size 900,560 font 'DejaVu Sans,10'\nset output '" << png.string() << "'\n"
    << "set datafile separator ','\nset multiplot layout 2,1 title 'sfu\\_load: " << o.shape
    << " (server on one core)'\nset grid\nset key left top\n"
    << "set ylabel 'server CPU %'\nset yrange [0:105]\n"
    << "plot for [s in '" << names << "'] '" << csv.string()
    << "' using 3:(strcol(1) eq s ? $7 : 1/0) with linespoints title s\n"
    << "set ylabel 'loss %'\nset xlabel 'subscriber streams'\nset yrange [0:*]\n"
    << "plot for [s in '" << names << "'] '" << csv.string()
    << "' using 3:(strcol(1) eq s ? $9 : 1/0) with linespoints title s\nunset multiplot\n";
  g.close();
  if (std::system(("/usr/bin/gnuplot " + gp.string() + " 2>/dev/null").c_str()) == 0)
    std::printf("wrote %s\n", png.c_str());
}

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string x; std::getline(in, x, ',');)
    if (!x.empty()) out.push_back(x);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", k.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (k == "--shape")
      o.shape = next();
    else if (k == "--steps") {
      o.steps.clear();
      for (auto& s : Split(next())) o.steps.push_back(std::stoi(s));
    } else if (k == "--servers")
      o.servers = Split(next());
    else if (k == "--warm-s")
      o.warm_s = std::stoi(next());
    else if (k == "--measure-s")
      o.measure_s = std::stoi(next());
    else if (k == "--profile")
      o.profile = next();
    else if (k == "--out")
      o.out = next();
    else if (k == "--parleyd")
      o.parleyd = next();
    else if (k == "--janus")
      o.janus = next();
    else if (k == "--server-cpu")
      o.server_cpus = next();
    else if (k == "--media-workers")
      o.media_workers = std::stoi(next());
    else if (k == "--spread-at")
      o.spread_at = std::stoi(next());
    else if (k == "--client-cpu")
      o.client_cpu = std::stoi(next());
    else if (k == "--short")
      o.short_run = true;
    else if (k == "--transport")
      o.transport = next();
    else {
      std::fprintf(stderr,
                   "usage: sfu_load [--shape livestream|audio|meeting] [--steps a,b,c] [--servers parley,janus]\n"
                   "                [--warm-s 3] [--measure-s 5] [--profile gcm|cm] [--out DIR] [--short]\n"
                   "                [--parleyd PATH] [--janus PATH] [--server-cpu 0|0,1] [--client-cpu 1]\n"
                   "                [--media-workers 1] [--spread-at 0] [--transport udp|tcp]\n");
      return 2;
    }
  }
  if (o.shape != "livestream" && o.shape != "audio" && o.shape != "meeting") {
    std::fprintf(stderr, "--shape is livestream, audio or meeting\n");
    return 2;
  }
  if (o.transport != "udp" && o.transport != "tcp") {
    std::fprintf(stderr, "--transport is udp or tcp\n");
    return 2;
  }
  g_tcp_subscribers = o.transport == "tcp";
  if (g_tcp_subscribers && std::find(o.servers.begin(), o.servers.end(), "janus") != o.servers.end()) {
    std::fprintf(stderr, "--transport tcp: Parley alone (the Janus configuration here offers no ICE-TCP)\n");
    o.servers.erase(std::remove(o.servers.begin(), o.servers.end(), "janus"), o.servers.end());
  }
  if (o.short_run) {  // the CI smoke: it runs, clients connect, packets flow
    o.steps = o.shape == "meeting" ? std::vector<int>{3} : std::vector<int>{4};
    o.warm_s = 1;
    o.measure_s = 2;
  }
  if (std::find(o.servers.begin(), o.servers.end(), "janus") != o.servers.end() && access(o.janus.c_str(), X_OK) != 0) {
    std::fprintf(stderr, "no Janus at %s (Debian package janus): running Parley alone\n", o.janus.c_str());
    o.servers.erase(std::remove(o.servers.begin(), o.servers.end(), "janus"), o.servers.end());
  }
  rlimit nofile{};
  getrlimit(RLIMIT_NOFILE, &nofile);
  nofile.rlim_cur = nofile.rlim_max;
  setrlimit(RLIMIT_NOFILE, &nofile);
  signal(SIGPIPE, SIG_IGN);

  fs::create_directories(o.out);
  Media media = LoadMedia(fs::path(o.out) / "media");
  g_cert = *DtlsCertificate::Generate();
  if (o.profile == "cm") SSL_CTX_set_tlsext_use_srtp(g_cert->client_ctx(), "SRTP_AES128_CM_SHA1_80");
  Pin(o.client_cpu);
  std::printf("sfu_load: %s, steps", o.shape.c_str());
  for (int s : o.steps) std::printf(" %d", s);
  std::printf(
      "; subscribers over %s; server on CPU %s (parleyd: %d media worker%s, spread at %d), generator on CPU %d; "
      "%zu media packets a %.0f s loop\n",
      o.transport.c_str(), o.server_cpus.c_str(), o.media_workers, o.media_workers == 1 ? "" : "s", o.spread_at,
      o.client_cpu, media.packets.size(), static_cast<double>(media.loop_us) / 1e6);
  std::printf("%-7s %6s %8s %12s %10s %7s %7s %9s %7s %7s %8s %8s %9s %8s  %s\n", "server", "step", "streams",
              "conn/fail", "fwd pkt/s", "cpu %", "thr %", "cpu-s/Mp", "loss %", "silent", "p50 us", "p99 us",
              "KiB/strm", "rcvbuf!", "srtp");
  std::vector<Row> all;
  std::map<std::string, double> best;
  for (const auto& s : o.servers) {
    char tmpl[] = "/tmp/sfu-load-XXXXXX";
    fs::path dir = mkdtemp(tmpl);
    auto rows = RunServer(o, s, media, dir / s);
    for (const auto& r : rows) {
      // Packets per second per core at < 0.5 % loss: the rate over the CPU share.
      if (r.loss < 0.5 && r.cpu > 1) best[s] = std::max(best[s], r.pps / (r.cpu / 100.0));
      all.push_back(r);
    }
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  WriteCsvAndPlot(o, all);
  for (const auto& [s, v] : best)
    std::printf("%s: %.0f forwarded packets/s per core-second (at < 0.5 %% loss)\n", s.c_str(), v);
  if (best.count("parley") && best.count("janus") && best["janus"] > 0)
    std::printf("parley / janus: %.2fx\n", best["parley"] / best["janus"]);
  // The exit status: every server ran its steps with every client connected and media
  // reaching every subscriber transport (the short run is CI's smoke test of exactly
  // that; loss is reported, not judged, beyond "something arrived everywhere").
  bool ok = !all.empty();
  for (const auto& s : o.servers) {
    bool ran = false;
    for (const auto& r : all) {
      if (r.server != s) continue;
      ran = true;
      if (r.failed > 0 || r.silent > 0 || r.pps <= 0) ok = false;
    }
    if (!ran) {
      std::fprintf(stderr, "%s: no step completed\n", s.c_str());
      ok = false;
    }
  }
  return ok ? 0 : 1;
}
