#include "server.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "auth/app_store.hpp"
#include "http/router.hpp"
#include "metrics.hpp"
#include "sfu/dtls.hpp"
#include "sfu/worker.hpp"
#include "signal/hub.hpp"

namespace parley::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

constexpr size_t kHttpBodyLimit = 1 << 20;
constexpr uint32_t kHttpHeaderLimit = 8 * 1024;
// A client over its send-queue bound gets this long to take the close frame before its
// socket is cut (it is, by then, not reading).
constexpr auto kSlowConsumerGrace = std::chrono::seconds(2);

// Open connections against --max-connections. Owned by the control-plane thread.
struct ConnectionLimits {
  size_t open = 0;
  size_t max = 0;
  Metrics* metrics = nullptr;
};

// One counted connection: held by the HTTP session and moved into the WebSocket
// session it may become, so the count drops when the socket's last owner goes.
class ConnectionSlot {
 public:
  explicit ConnectionSlot(ConnectionLimits& l) : limits_(&l) {
    ++limits_->open;
    limits_->metrics->http_connections_open = limits_->open;
  }
  ConnectionSlot(ConnectionSlot&& o) noexcept : limits_(std::exchange(o.limits_, nullptr)) {}
  ConnectionSlot& operator=(ConnectionSlot&&) = delete;
  ConnectionSlot(const ConnectionSlot&) = delete;
  ~ConnectionSlot() {
    if (!limits_) return;
    --limits_->open;
    limits_->metrics->http_connections_open = limits_->open;
  }

 private:
  ConnectionLimits* limits_;
};

std::string RemoteAddress(const tcp::socket& socket) {
  boost::system::error_code ec;
  auto ep = socket.remote_endpoint(ec);
  return ec ? std::string() : ep.address().to_string();
}

std::string ErrorBody(Errc code, const std::string& message) {
  nlohmann::json j = {
      {"code", static_cast<int32_t>(code)}, {"hex", FormatHex(static_cast<int32_t>(code))}, {"message", message}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// One WebSocket signalling connection. Messages up to max_message_bytes are handed to
// the hub; larger ones up to the hard limit get a 0x0F010003 response; beyond the
// hard limit Beast closes the connection with status 1009 (message too big). What
// waits to be sent is bounded in bytes and messages; a client past the bound is not
// reading, and is closed with 1008 (its session then takes the lost-connection path).
template <class Stream>
class WsSession final : public SignalConnection, public std::enable_shared_from_this<WsSession<Stream>> {
 public:
  WsSession(Stream&& stream, SignalHub& hub, const ServerConfig& config, Metrics& metrics, ConnectionSlot slot)
      : ws_(std::move(stream)),
        hub_(hub),
        config_(config),
        metrics_(metrics),
        slot_(std::move(slot)),
        cut_timer_(ws_.get_executor()) {}

  void Accept(http::request<http::string_body> req) {
    ws_.read_message_max(std::max<size_t>(config_.max_message_bytes * 4, 1 << 20));
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) { res.set(http::field::server, std::string("parleyd ") + PARLEY_VERSION); }));
    ws_.async_accept(req, [self = this->shared_from_this()](beast::error_code ec) {
      if (ec) return;
      self->id_ = self->hub_.OnOpen(self, RemoteAddress(beast::get_lowest_layer(self->ws_).socket()));
      self->Read();
    });
  }

  void Send(std::string text) override {
    if (closing_) return;
    if (queue_.size() + 1 > config_.send_queue_max_messages ||
        queued_bytes_ + text.size() > config_.send_queue_max_bytes)
      return Overflow();
    queued_bytes_ += text.size();
    queue_.push_back(std::move(text));
    if (queue_.size() == 1) Write();
  }

  void Close() override {
    if (closing_) return;
    closing_ = true;
    if (queue_.empty()) DoClose(websocket::close_code::normal, "");
  }

 private:
  void Read() {
    ws_.async_read(buffer_, [self = this->shared_from_this()](beast::error_code ec, size_t) {
      if (ec || self->closed_) return self->Closed();
      if (!self->ws_.got_text()) {
        self->buffer_.consume(self->buffer_.size());
        self->hub_.OnMessage(self->id_, "\x01binary");  // not JSON: answered as malformed
      } else {
        auto data = self->buffer_.data();
        std::string_view text(static_cast<const char*>(data.data()), data.size());
        self->hub_.OnMessage(self->id_, text);
        self->buffer_.consume(self->buffer_.size());
      }
      if (!self->closed_) self->Read();
    });
  }

  void Write() {
    ws_.text(true);
    ws_.async_write(asio::buffer(queue_.front()), [self = this->shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->Closed();
      self->queued_bytes_ -= self->queue_.front().size();
      self->queue_.pop_front();
      if (!self->queue_.empty())
        self->Write();
      else if (self->overflowed_)
        self->DoClose(websocket::close_code::policy_error, "send queue over its bound (0x0F040005)");
      else if (self->closing_)
        self->DoClose(websocket::close_code::normal, "");
    });
  }

  void Overflow() {
    ++metrics_.ws_slow_consumer_closes_total;
    spdlog::warn("signalling connection {}: {} messages / {} bytes unsent, client not reading: closing (1008)", id_,
                 queue_.size(), queued_bytes_);
    closing_ = true;
    overflowed_ = true;
    // Keep only the message being written (its buffer is in use); the rest is dropped now.
    while (queue_.size() > 1) {
      queued_bytes_ -= queue_.back().size();
      queue_.pop_back();
    }
    if (queue_.empty()) DoClose(websocket::close_code::policy_error, "send queue over its bound (0x0F040005)");
    // A client that does not read will not read the close frame either: cut the socket.
    cut_timer_.expires_after(kSlowConsumerGrace);
    cut_timer_.async_wait([self = this->shared_from_this()](const boost::system::error_code& ec) {
      if (ec == asio::error::operation_aborted) return;
      boost::system::error_code ignored;
      auto& socket = beast::get_lowest_layer(self->ws_).socket();
      if (socket.is_open()) socket.close(ignored);
    });
    // The hub hears of it now, not when the socket goes: nothing more is read from this
    // client (messages it already sent are not handled). Posted, because the hub is
    // the caller of Send.
    asio::post(ws_.get_executor(), [self = this->shared_from_this()] { self->Closed(); });
  }

  void DoClose(websocket::close_code code, const char* reason) {
    ws_.async_close(websocket::close_reason(code, reason),
                    [self = this->shared_from_this()](beast::error_code) { self->Closed(); });
  }

  void Closed() {
    if (closed_) return;
    closed_ = true;
    closing_ = true;
    if (!overflowed_) cut_timer_.cancel();  // an overflowed client's socket is still to be cut
    if (id_) hub_.OnClose(id_);
  }

  websocket::stream<Stream> ws_;
  SignalHub& hub_;
  const ServerConfig& config_;
  Metrics& metrics_;
  ConnectionSlot slot_;
  asio::steady_timer cut_timer_;
  beast::flat_buffer buffer_;
  std::deque<std::string> queue_;
  size_t queued_bytes_ = 0;
  uint64_t id_ = 0;
  bool closing_ = false;
  bool closed_ = false;
  bool overflowed_ = false;
};

// One HTTP connection: admin API, metrics, static files, or the upgrade to WebSocket.
// A connection accepted past --max-connections is `busy`: it may ask /healthz, and any
// other request is answered 503 and closed.
template <class Stream>
class HttpSession final : public std::enable_shared_from_this<HttpSession<Stream>> {
 public:
  HttpSession(Stream&& stream, Router& router, SignalHub& hub, const ServerConfig& config, Metrics& metrics,
              ConnectionSlot slot, bool busy)
      : stream_(std::move(stream)),
        router_(router),
        hub_(hub),
        config_(config),
        metrics_(metrics),
        slot_(std::move(slot)),
        busy_(busy) {}

  void Start() {
    if constexpr (std::is_same_v<Stream, TlsStream>) {
      beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(10));
      stream_.async_handshake(asio::ssl::stream_base::server, [self = this->shared_from_this()](beast::error_code ec) {
        if (!ec) self->Read();
      });
    } else {
      Read();
    }
  }

 private:
  void Read() {
    parser_.emplace();
    parser_->body_limit(kHttpBodyLimit);
    parser_->header_limit(kHttpHeaderLimit);
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(busy_ ? 5 : 30));
    http::async_read(stream_, buffer_, *parser_, [self = this->shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->OnReadError(ec);
      self->OnRequest(self->parser_->release());
    });
  }

  // A request that could not be read gets a status when it was the client's fault
  // (RFC 9110 §15.5.1 400, RFC 6585 §5 431, RFC 9110 §15.5.14 413), then the
  // connection closes (its remaining bytes are not a request boundary we can trust).
  void OnReadError(beast::error_code ec) {
    int status = 0;
    std::string why;
    if (ec == http::error::header_limit) {
      status = 431;
      why = "request headers larger than " + std::to_string(kHttpHeaderLimit) + " bytes";
    } else if (ec == http::error::body_limit) {
      status = 413;
      why = "request body larger than " + std::to_string(kHttpBodyLimit) + " bytes";
    } else if (ec.category() == http::make_error_code(http::error::bad_method).category() &&
               ec != http::error::end_of_stream && ec != http::error::partial_message) {
      status = 400;
      why = "malformed HTTP request: " + ec.message();
    }
    if (status == 0) return;  // closed, timed out, reset: nobody to answer
    ++metrics_.http_bad_requests_total;
    auto res = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(status), 11);
    res->set(http::field::server, std::string("parleyd ") + PARLEY_VERSION);
    res->set(http::field::content_type, "application/json");
    res->body() = ErrorBody(Errc::kBadHttpRequest, why);
    res->keep_alive(false);
    res->prepare_payload();
    http::async_write(stream_, *res, [self = this->shared_from_this(), res](beast::error_code e, size_t) {
      beast::get_lowest_layer(self->stream_).socket().shutdown(tcp::socket::shutdown_send, e);
    });
  }

  void OnRequest(http::request<http::string_body> req) {
    std::string_view target(req.target().data(), req.target().size());
    std::string_view path = target.substr(0, target.find('?'));
    if (busy_ && path != "/healthz") {
      HttpResponse busy{503, "application/json", ErrorBody(Errc::kServerBusy, "server at --max-connections"), {}, {}};
      busy.headers["Retry-After"] = "1";
      return Reply(req, std::move(busy), /*close=*/true);
    }
    if (websocket::is_upgrade(req)) {
      if (path != "/v1/signal")
        return Reply(req, {404, "application/json", R"({"message":"not found"})", {}, {}}, false);
      beast::get_lowest_layer(stream_).expires_never();
      auto ws = std::make_shared<WsSession<Stream>>(std::move(stream_), hub_, config_, metrics_, std::move(slot_));
      ws->Accept(std::move(req));
      return;
    }
    HttpRequest r;
    r.method = std::string(req.method_string());
    r.target = std::string(req.target());
    r.authorization = std::string(req[http::field::authorization]);
    r.admin_key_header = std::string(req["X-Admin-Key"]);
    r.body = std::move(req.body());
    HttpResponse out;
    try {
      out = router_.Handle(r);
    } catch (const std::exception& e) {
      // The one catch of the HTTP path: this request fails, the server goes on.
      ++metrics_.http_handler_exceptions_total;
      spdlog::error("http {} {}: {}", r.method, r.target, e.what());
      out = {500, "application/json", ErrorBody(Errc::kInternalError, "internal error"), {}, {}};
    }
    Reply(req, std::move(out), busy_);
  }

  template <class Body>
  void Prepare(http::response<Body>& res, const http::request<http::string_body>& req, const HttpResponse& out,
               bool close) {
    res.set(http::field::server, std::string("parleyd ") + PARLEY_VERSION);
    res.set(http::field::content_type, out.content_type);
    for (const auto& [k, v] : out.headers) res.set(k, v);
    res.keep_alive(req.keep_alive() && !close);
  }

  void Reply(const http::request<http::string_body>& req, HttpResponse out, bool close) {
    if (!out.file.empty() && req.method() == http::verb::get) return ReplyFile(req, std::move(out), close);
    auto res =
        std::make_shared<http::response<http::string_body>>(static_cast<http::status>(out.status), req.version());
    Prepare(*res, req, out, close);
    uint64_t length = out.body.size();
    if (!out.file.empty()) {
      std::error_code fec;
      length = std::filesystem::file_size(out.file, fec);
    }
    if (req.method() != http::verb::head) res->body() = std::move(out.body);
    res->prepare_payload();
    if (req.method() == http::verb::head) res->content_length(length);
    Send(res);
  }

  // Static files are streamed: Beast's file_body reads a few KiB at a time as the
  // socket takes them, so a large file costs neither memory nor a long stall of the
  // one I/O thread.
  void ReplyFile(const http::request<http::string_body>& req, HttpResponse out, bool close) {
    http::file_body::value_type body;
    beast::error_code ec;
    body.open(out.file.c_str(), beast::file_mode::scan, ec);
    if (ec) return Reply(req, {404, "application/json", ErrorBody(Errc::kAdminNotFound, "not found"), {}, {}}, close);
    auto res = std::make_shared<http::response<http::file_body>>(
        std::piecewise_construct, std::make_tuple(std::move(body)), std::make_tuple(http::status::ok, req.version()));
    Prepare(*res, req, out, close);
    res->prepare_payload();
    Send(res);
  }

  template <class Response>
  void Send(const std::shared_ptr<Response>& res) {
    http::async_write(stream_, *res, [self = this->shared_from_this(), res](beast::error_code ec, size_t) {
      if (ec) return;
      if (res->keep_alive())
        self->Read();
      else
        beast::get_lowest_layer(self->stream_).socket().shutdown(tcp::socket::shutdown_send, ec);
    });
  }

  Stream stream_;
  Router& router_;
  SignalHub& hub_;
  const ServerConfig& config_;
  Metrics& metrics_;
  ConnectionSlot slot_;
  bool busy_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
};

}  // namespace

struct Server::Impl {
  explicit Impl(ServerConfig c) : config(std::move(c)), acceptor(io), accept_timer(io), signals(io, SIGINT, SIGTERM) {}

  ~Impl() {
    if (spare_fd >= 0) ::close(spare_fd);
  }

  void Accept() {
    acceptor.async_accept(io, [this](beast::error_code ec, tcp::socket socket) {
      if (ec) return OnAcceptError(ec);
      socket.set_option(tcp::no_delay(true), ec);
      bool busy = limits.open >= limits.max;
      if (busy) ++metrics.http_busy_rejections_total;
      ConnectionSlot slot(limits);
      if (ssl_ctx) {
        std::make_shared<HttpSession<TlsStream>>(TlsStream(std::move(socket), *ssl_ctx), *router, *hub, config, metrics,
                                                 std::move(slot), busy)
            ->Start();
      } else {
        std::make_shared<HttpSession<PlainStream>>(PlainStream(std::move(socket)), *router, *hub, config, metrics,
                                                   std::move(slot), busy)
            ->Start();
      }
      Accept();
    });
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
  std::vector<std::unique_ptr<sfu::MediaWorker>> media;  ///< destroyed after the hub (declared before it)
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
  std::vector<sfu::MediaWorker*> workers;
  if (c.media) {
    auto cert = sfu::DtlsCertificate::Generate();
    if (!cert) return cert.error();
    int n = c.media_workers > 0 ? c.media_workers
                                : static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 8u));
    sfu::WorkerOptions opts{c.media_connect_timeout_ms, c.media_consent_timeout_ms, c.media_loss_permille};
    for (int i = 0; i < n; ++i) {
      uint16_t port = c.media_port ? static_cast<uint16_t>(c.media_port + i) : 0;
      auto worker = sfu::MediaWorker::Create(c.media_address, port, *cert, opts);
      if (!worker) return worker.error();
      (*worker)->Start();
      spdlog::info("media worker {} on udp {}:{}", i, c.media_address, (*worker)->port());
      workers.push_back(worker->get());
      impl_->media.push_back(std::move(*worker));
    }
  }
  if (c.web_root.empty()) c.web_root = DefaultWebRoot();
  if (c.web_root.empty() || !fs::is_directory(c.web_root, fec))
    spdlog::warn("no web root{}: /sdk/, /demo/ and /console/ will answer 404 (pass --web-root DIR)",
                 c.web_root.empty() ? "" : " at " + c.web_root);
  // Connections at most: the descriptor limit less a reserve for the database, media
  // sockets and the spare used to shed connections, unless given.
  rlimit nofile{};
  getrlimit(RLIMIT_NOFILE, &nofile);
  auto fd_budget = nofile.rlim_cur == RLIM_INFINITY ? size_t{1} << 20 : static_cast<size_t>(nofile.rlim_cur);
  impl_->limits.max = c.max_connections > 0 ? static_cast<size_t>(c.max_connections)
                                            : std::max<size_t>(16, fd_budget > 64 ? fd_budget - 64 : 16);
  impl_->spare_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  impl_->metrics.media_workers.assign(workers.begin(), workers.end());
  impl_->hub = std::make_unique<SignalHub>(impl_->io, c, *impl_->store, impl_->metrics, workers);
  impl_->router = std::make_unique<Router>(c, *impl_->store, *impl_->hub, impl_->metrics);

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
