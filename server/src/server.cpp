#include "server.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "auth/app_store.hpp"
#include "http/http_session.hpp"
#include "http/router.hpp"
#include "metrics.hpp"
#include "sfu/dtls.hpp"
#include "sfu/media_plane.hpp"
#include "sfu/port_share.hpp"
#include "sfu/worker.hpp"
#include "signal/hub.hpp"

namespace parley::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using conn::ConnectionLimits;
using conn::ConnectionSlot;
using conn::ErrorBody;
using conn::HttpSession;
using conn::PlainStream;
using conn::TlsStream;

/// Signalling is a thin stream: a few small messages in flight, each waited for. Linux
/// backs a lost segment off exponentially (RTO 200 ms, 400, 800, 1.6 s...), so through
/// heavy loss one reply lost twice arrives seconds late and heartbeats time out. With
/// linear timeouts the kernel keeps retrying at the base RTO while fewer than four
/// segments are in flight (up to six times), and backs off as usual on a bulk transfer.
void ThinStream(tcp::socket& socket) {
  int one = 1;
  (void)::setsockopt(socket.native_handle(), IPPROTO_TCP, TCP_THIN_LINEAR_TIMEOUTS, &one, sizeof one);
}

}  // namespace

struct Server::Impl {
  explicit Impl(ServerConfig c) : config(std::move(c)), acceptor(io), accept_timer(io), signals(io, SIGINT, SIGTERM) {}

  ~Impl() {
    if (spare_fd >= 0) ::close(spare_fd);
    // Every worker stops before any goes: in one-port mode they post to each other.
    for (auto& w : media) w->Stop();
  }

  void Accept() {
    acceptor.async_accept(io, [this](beast::error_code ec, tcp::socket socket) {
      if (ec) return OnAcceptError(ec);
      socket.set_option(tcp::no_delay(true), ec);
      bool busy = limits.open >= limits.max;
      ConnectionSlot slot(limits);
      if (config.one_port && config.media_ice_tcp) {
        Sniff(std::make_shared<Opening>(std::move(socket), std::move(slot), busy, io));
      } else {
        StartHttp(std::move(socket), std::move(slot), busy);
      }
      Accept();
    });
  }

  void StartHttp(tcp::socket socket, ConnectionSlot slot, bool busy) {
    if (busy) ++metrics.http_busy_rejections_total;
    ThinStream(socket);
    if (ssl_ctx) {
      std::make_shared<HttpSession<TlsStream>>(TlsStream(std::move(socket), *ssl_ctx), *router, *hub, config, metrics,
                                               std::move(slot), busy)
          ->Start();
    } else {
      std::make_shared<HttpSession<PlainStream>>(PlainStream(std::move(socket)), *router, *hub, config, metrics,
                                                 std::move(slot), busy)
          ->Start();
    }
  }

  // One-port mode: a connection whose first bytes are not yet told apart
  // (sfu/port_share.hpp). They are peeked, never read: whichever side takes the
  // connection reads it from its first byte.
  struct Opening {
    Opening(tcp::socket s, ConnectionSlot sl, bool b, asio::io_context& io)
        : socket(std::move(s)), slot(std::move(sl)), busy(b), timer(io) {}
    tcp::socket socket;
    ConnectionSlot slot;
    bool busy;
    asio::steady_timer timer;
    std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::now() + kOpeningTimeout;
    std::array<uint8_t, 2 + sfu::kMaxDatagram> peek{};
    std::chrono::milliseconds retry{10};  ///< until the next look at a part frame
  };
  // A connection has this long to send enough to be told apart (a client of either kind
  // speaks first, at once).
  static constexpr auto kOpeningTimeout = std::chrono::seconds(5);

  void Sniff(std::shared_ptr<Opening> o) {
    o->timer.expires_at(o->deadline);
    o->timer.async_wait([o](const boost::system::error_code& e) {
      if (!e) o->socket.close();  // silent too long: the wait below ends with an error
    });
    o->socket.async_wait(tcp::socket::wait_read, [this, o](const boost::system::error_code& ec) {
      o->timer.cancel();
      if (!ec) Classify(o);
    });
  }

  void Classify(const std::shared_ptr<Opening>& o) {
    ssize_t n = ::recv(o->socket.native_handle(), o->peek.data(), o->peek.size(), MSG_PEEK | MSG_DONTWAIT);
    if (n <= 0) return;  // closed, or an error: the connection goes with `o`
    auto kind = sfu::ClassifyOpening(std::span<const uint8_t>(o->peek.data(), static_cast<size_t>(n)),
                                     sfu::kMaxDatagram, media.size());
    switch (kind.kind) {
      case sfu::Opening::kSignalling:
        ++metrics.one_port_signalling_total;
        return StartHttp(std::move(o->socket), std::move(o->slot), o->busy);
      case sfu::Opening::kMedia: ++metrics.one_port_media_total; return HandToWorker(*o, kind.worker);
      case sfu::Opening::kRefused: ++metrics.one_port_refused_total; return;  // closed with `o`
      case sfu::Opening::kNeedMore:
        // The rest of a first frame is on its way. What was peeked is still there (the
        // socket stays readable, so waiting for readability would spin): look again
        // after a while, until the deadline.
        if (std::chrono::steady_clock::now() >= o->deadline) {
          ++metrics.one_port_refused_total;
          return;
        }
        // Backing off (10 ms, doubling, at most 640 ms): a client that sends part of a
        // frame and stops costs a dozen looks, not a busy loop.
        o->timer.expires_after(o->retry);
        o->retry = std::min(o->retry * 2, std::chrono::milliseconds(640));
        o->timer.async_wait([this, o](const boost::system::error_code& e) {
          if (!e) Classify(o);
        });
        return;
    }
  }

  // The worker takes its own descriptor of the connection (this one closes with `o`).
  void HandToWorker(Opening& o, size_t worker) {
    sockaddr_storage peer{};
    socklen_t len = sizeof peer;
    if (::getpeername(o.socket.native_handle(), reinterpret_cast<sockaddr*>(&peer), &len) != 0) return;
    struct OwnedFd {
      int fd = -1;
      ~OwnedFd() {
        if (fd >= 0) ::close(fd);  // the worker stopped before it took it
      }
    };
    auto fd = std::make_shared<OwnedFd>();  // (a temporary OwnedFd copied in would close it)
    fd->fd = ::fcntl(o.socket.native_handle(), F_DUPFD_CLOEXEC, 0);
    if (fd->fd < 0) return;
    sfu::MediaWorker* w = media[worker].get();
    w->Post([w, fd, peer] { w->AdoptTcp(std::exchange(fd->fd, -1), peer); });
  }

  // A failing accept returns at once; retrying at once spins a core and floods the
  // log. Back off, log once per interval, and when out of descriptors shed the
  // pending connection with the spare descriptor so its client hears 503, not silence.
  void OnAcceptError(const beast::error_code& ec) {
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
    ++metrics.http_accept_errors_total;
    bool out_of_fds = ec == asio::error::no_descriptors || ec.value() == ENFILE;
    auto now = std::chrono::steady_clock::now();
    if (now - last_accept_log >= std::chrono::seconds(5)) {
      spdlog::warn("accept: {}{} (+{} more since the last report); backing off{}", ec.message(),
                   out_of_fds ? " (raise the file-descriptor limit or lower --max-connections)" : "",
                   accept_errors_unlogged, out_of_fds ? ", shedding connections with 503" : "");
      last_accept_log = now;
      accept_errors_unlogged = 0;
    } else {
      ++accept_errors_unlogged;
    }
    if (out_of_fds) ShedOne();
    accept_timer.expires_after(std::chrono::milliseconds(out_of_fds ? 50 : 10));
    accept_timer.async_wait([this](const boost::system::error_code& e) {
      if (!e) Accept();
    });
  }

  void ShedOne() {
    if (spare_fd < 0) return;
    ::close(spare_fd);
    spare_fd = -1;
    pollfd p{acceptor.native_handle(), POLLIN, 0};
    if (::poll(&p, 1, 0) == 1) {
      int fd = ::accept4(acceptor.native_handle(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd >= 0) {
        static const std::string kBusy = [] {
          std::string body = ErrorBody(Errc::kServerBusy, "server out of file descriptors");
          return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: close\r\n"
                 "Retry-After: 1\r\nContent-Length: " +
                 std::to_string(body.size()) + "\r\n\r\n" + body;
        }();
        (void)!::send(fd, kBusy.data(), kBusy.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
        ::close(fd);
        ++metrics.http_busy_rejections_total;
      }
    }
    spare_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  }

  ServerConfig config;
  asio::io_context io{1};
  tcp::acceptor acceptor;
  asio::steady_timer accept_timer;
  asio::signal_set signals;
  std::unique_ptr<asio::ssl::context> ssl_ctx;
  std::unique_ptr<AppStore> store;
  Metrics metrics;
  ConnectionLimits limits{0, 0, &metrics};
  int spare_fd = -1;  ///< held back for shedding connections when out of descriptors
  std::chrono::steady_clock::time_point last_accept_log{};
  uint64_t accept_errors_unlogged = 0;
  // Declaration order is lifetime order: the workers outlive the media plane, which
  // outlives the hub (its channels' media post to the workers until they close).
  std::vector<std::unique_ptr<sfu::MediaWorker>> media;
  std::unique_ptr<sfu::MediaPlane> plane;
  std::unique_ptr<SignalHub> hub;
  std::unique_ptr<Router> router;
  uint16_t port = 0;
};

Server::Server(ServerConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {}
Server::~Server() = default;

uint16_t Server::Port() const {
  return impl_->port;
}

Status Server::Start() {
  auto& c = impl_->config;
  if (Status s = ResolveAdminKey(c); !s) return s;
  if (Status s = ResolveTurnSecret(c); !s) return s;
  namespace fs = std::filesystem;
  std::error_code fec;
  fs::create_directories(c.data_dir, fec);
  if (fec) return MakeError(Errc::kStorageError, "cannot create data dir " + c.data_dir + ": " + fec.message());
  // The data directory holds the app keys: owner-only, whatever the umask.
  auto perms = fs::status(c.data_dir, fec).permissions();
  if (!fec && (perms & (fs::perms::group_all | fs::perms::others_all)) != fs::perms::none) {
    fs::permissions(c.data_dir, fs::perms::owner_all, fs::perm_options::replace, fec);
    if (fec) spdlog::warn("data dir {} is readable by others and cannot be restricted: {}", c.data_dir, fec.message());
  }
  auto store = AppStore::Open((std::filesystem::path(c.data_dir) / "parley.db").string());
  if (!store) return store.error();
  impl_->store = std::move(*store);
  auto key = impl_->store->EnsureAdminKey(c.admin_key);
  if (!key) return key.error();
  if (!key->empty() && !c.admin_key) {
    // Printed once: only its hash is stored.
    std::cout << "admin key (shown once, store it): " << *key << std::endl;
  }
  if (!c.tls_cert.empty()) {
    auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    boost::system::error_code ec;
    ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                     asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
    ctx->use_certificate_chain_file(c.tls_cert, ec);
    if (!ec) ctx->use_private_key_file(c.tls_key, asio::ssl::context::pem, ec);
    if (ec) return MakeError(Errc::kInvalidField, "TLS: " + ec.message());
    impl_->ssl_ctx = std::move(ctx);
  }
  // The descriptors (the soft limit, as the operator set it), shared: ICE-TCP may hold
  // a quarter of them (at most 1,024 per worker), and in one-port mode the sockets
  // connected to clients another quarter (media_fds); connections the rest, less a
  // reserve for the database, media sockets and the spare used to shed connections.
  rlimit nofile{};
  getrlimit(RLIMIT_NOFILE, &nofile);
  auto fd_budget = nofile.rlim_cur == RLIM_INFINITY ? size_t{1} << 20 : static_cast<size_t>(nofile.rlim_cur);
  size_t media_fds = 0;
  std::vector<sfu::MediaWorker*> workers;
  if (c.media) {
    auto cert = sfu::DtlsCertificate::Generate();
    if (!cert) return cert.error();
    int n = c.media_workers > 0 ? c.media_workers
                                : static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 8u));
    sfu::WorkerOptions opts{c.media_connect_timeout_ms, c.media_consent_timeout_ms,
                            c.media_loss_permille,      {},
                            c.media_video_pacing,       c.media_ice_tcp};
    opts.dual_stack = !c.media_address6.empty();
    opts.tcp_limits.max_links = std::clamp<size_t>(fd_budget / 4 / static_cast<size_t>(n), 16, 1024);
    if (c.media_ice_tcp) media_fds = opts.tcp_limits.max_links * static_cast<size_t>(n);
    opts.share_port = c.one_port;
    opts.shared_by = static_cast<size_t>(n);
    uint16_t shared_port = c.media_port;
    if (c.one_port && n > 1) {
      // The workers bind the port with SO_REUSEPORT, which any process of this user could
      // join too: it must be free first (and, for --media-port 0, one the kernel gives a
      // socket that shares nothing). A socket without the option tells.
      sfu::WorkerOptions alone;
      alone.ice_tcp = false;
      alone.dual_stack = opts.dual_stack;
      auto probe = sfu::MediaWorker::Create(c.media_address, c.media_port, *cert, alone);
      if (!probe) return probe.error();
      shared_port = (*probe)->port();
      // A quarter of the descriptors for the sockets connected to clients (shared_port.cpp).
      opts.max_peer_sockets = std::clamp<size_t>(fd_budget / 4 / static_cast<size_t>(n), 16, 4096);
      media_fds += opts.max_peer_sockets * static_cast<size_t>(n);
    }
    for (int i = 0; i < n; ++i) {
      // One port: every worker binds the same one; else worker i binds --media-port + i.
      uint16_t port = c.one_port ? shared_port : c.media_port ? static_cast<uint16_t>(c.media_port + i) : 0;
      auto worker = sfu::MediaWorker::Create(c.media_address, port, *cert, opts);
      if (!worker) return worker.error();
      spdlog::info("media worker {} on udp {}:{}{}", i, c.media_address, (*worker)->port(),
                   c.one_port ? " (shared)" : "");
      workers.push_back(worker->get());
      impl_->media.push_back(std::move(*worker));
    }
    for (size_t i = 0; i < workers.size(); ++i) {
      if (c.one_port) workers[i]->SharePortWith(workers, i);
      workers[i]->Start();
    }
  }
  if (c.web_root.empty()) c.web_root = DefaultWebRoot();
  if (c.web_root.empty() || !fs::is_directory(c.web_root, fec))
    spdlog::warn("no web root{}: /sdk/, /demo/ and /console/ will answer 404 (pass --web-root DIR)",
                 c.web_root.empty() ? "" : " at " + c.web_root);
  // Connections at most (unless given): the budget above less the media workers' share.
  const size_t for_connections = fd_budget > 64 + media_fds ? fd_budget - 64 - media_fds : 16;
  impl_->limits.max =
      c.max_connections > 0 ? static_cast<size_t>(c.max_connections) : std::max<size_t>(16, for_connections);
  impl_->spare_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  impl_->metrics.media_workers.assign(workers.begin(), workers.end());
  impl_->plane = std::make_unique<sfu::MediaPlane>(workers, c.media_address);
  impl_->plane->set_spread_at(static_cast<size_t>(c.media_spread_at));
  impl_->plane->set_address6(c.media_address6);
  impl_->hub = std::make_unique<SignalHub>(impl_->io, c, *impl_->store, impl_->metrics, impl_->plane.get());
  impl_->router = std::make_unique<Router>(c, *impl_->store, impl_->hub->admin(), impl_->metrics);

  boost::system::error_code ec;
  auto addr = asio::ip::make_address(c.listen_address, ec);
  if (ec) return MakeError(Errc::kInvalidField, "bad --listen address " + c.listen_address);
  tcp::endpoint ep(addr, c.port);
  auto& acc = impl_->acceptor;
  acc.open(ep.protocol(), ec);
  if (!ec) acc.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acc.bind(ep, ec);
  if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return MakeError(Errc::kInternalError,
                     "cannot listen on " + c.listen_address + ":" + std::to_string(c.port) + ": " + ec.message());
  impl_->port = acc.local_endpoint().port();
  if (c.one_port && c.media_ice_tcp) {
    impl_->plane->set_tcp_port(impl_->port);  // ICE-TCP comes here
    if (c.listen_address != "0.0.0.0" && c.listen_address != "::" && c.listen_address != c.media_address)
      spdlog::warn("--one-port: ICE-TCP candidates name {}:{}, but signalling listens on {} only (--listen)",
                   c.media_address, impl_->port, c.listen_address);
  }
  if (!c.port_file.empty()) {
    std::string tmp = c.port_file + ".tmp";
    std::ofstream(tmp) << impl_->port << "\n";
    std::filesystem::rename(tmp, c.port_file, fec);  // atomic: readers never see half a number
  }
  spdlog::info("parleyd {} listening on {}://{}:{} (data {}, admin key from {}, web root {}, at most {} connections)",
               PARLEY_VERSION, impl_->ssl_ctx ? "https" : "http", c.listen_address, impl_->port, c.data_dir,
               c.admin_key_source, c.web_root.empty() ? "none" : c.web_root, impl_->limits.max);
  // Where things are, as URLs to click (a wildcard listen address is shown as loopback).
  std::string host = c.listen_address == "0.0.0.0"                     ? "127.0.0.1"
                     : c.listen_address == "::"                        ? "[::1]"
                     : c.listen_address.find(':') != std::string::npos ? "[" + c.listen_address + "]"
                                                                       : c.listen_address;
  std::string base = std::string(impl_->ssl_ctx ? "https" : "http") + "://" + host + ":" + std::to_string(impl_->port);
  std::string ws = std::string(impl_->ssl_ctx ? "wss" : "ws") + "://" + host + ":" + std::to_string(impl_->port);
  spdlog::info("  console     {}/console/  (sign in with the admin key from {})", base, c.admin_key_source);
  spdlog::info("  demo        {}/demo/  (join with a token: parley token ...)", base);
  spdlog::info("  signalling  {}/v1/signal", ws);
  spdlog::info("  admin API   {}/v1/admin/  metrics {}/metrics  health {}/healthz", base, base, base);
  impl_->hub->Start();
  impl_->Accept();
  impl_->signals.async_wait([this](const boost::system::error_code& e, int sig) {
    if (e) return;
    spdlog::info("signal {}: stopping", sig);
    Stop();
  });
  return {};
}

void Server::Run() {
  impl_->io.run();
}

void Server::Stop() {
  asio::post(impl_->io, [this] {
    boost::system::error_code ec;
    impl_->acceptor.close(ec);
    impl_->accept_timer.cancel();
    impl_->signals.cancel(ec);
    impl_->hub->Stop();
    // Let the close frames go out, then end the loop.
    auto t = std::make_shared<asio::steady_timer>(impl_->io, std::chrono::milliseconds(200));
    t->async_wait([this, t](const boost::system::error_code&) { impl_->io.stop(); });
  });
}

int RunServerMain(int argc, char** argv, const char* program) {
  ServerConfig config;
  CLI::App app{"parleyd: the Parley server (signalling, apps and tokens, channels, admin API)", program};
  app.set_version_flag("--version", std::string("parleyd ") + PARLEY_VERSION);
  AddServerOptions(app, config);
  app.footer(
      "HTTP routes: /v1/signal (WebSocket signalling, docs/protocol.md), /v1/admin/... (admin API,\n"
      "Authorization: Bearer <admin key>), /metrics (Prometheus), /healthz, and static files from --web-root.");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  auto fail = [](const Error& e) {
    std::cerr << "parleyd: error " << FormatHex(e.value()) << " " << e.What() << "\n";
    return 1;
  };
  if (Status s = ApplyConfigFile(app, config); !s) return fail(s.error());
  if (Status s = Validate(config); !s) return fail(s.error());
  auto level = spdlog::level::from_str(config.log_level);
  spdlog::set_level(level);
  try {
    Server server(config);
    if (Status s = server.Start(); !s) return fail(s.error());
    server.Run();
  } catch (const std::exception& e) {
    std::cerr << program << ": internal error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace parley::server
