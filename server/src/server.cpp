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

// One WebSocket signalling connection. Messages up to max_message_bytes are handed to
// the hub; larger ones up to the hard limit get a 0x0F010003 response; beyond the
// hard limit Beast closes the connection with status 1009 (message too big).
template <class Stream>
class WsSession final : public SignalConnection, public std::enable_shared_from_this<WsSession<Stream>> {
 public:
  WsSession(Stream&& stream, SignalHub& hub, const ServerConfig& config)
      : ws_(std::move(stream)), hub_(hub), config_(config) {}

  void Accept(http::request<http::string_body> req) {
    ws_.read_message_max(std::max<size_t>(config_.max_message_bytes * 4, 1 << 20));
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) { res.set(http::field::server, std::string("parleyd ") + PARLEY_VERSION); }));
    ws_.async_accept(req, [self = this->shared_from_this()](beast::error_code ec) {
      if (ec) return;
      self->id_ = self->hub_.OnOpen(self);
      self->Read();
    });
  }

  void Send(std::string text) override {
    if (closing_) return;
    queue_.push_back(std::move(text));
    if (queue_.size() == 1) Write();
  }

  void Close() override {
    if (closing_) return;
    closing_ = true;
    if (queue_.empty()) DoClose();
  }

 private:
  void Read() {
    ws_.async_read(buffer_, [self = this->shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->Closed();
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
      self->queue_.pop_front();
      if (!self->queue_.empty())
        self->Write();
      else if (self->closing_)
        self->DoClose();
    });
  }

  void DoClose() {
    ws_.async_close(websocket::close_code::normal,
                    [self = this->shared_from_this()](beast::error_code) { self->Closed(); });
  }

  void Closed() {
    if (closed_) return;
    closed_ = true;
    closing_ = true;
    queue_.clear();
    if (id_) hub_.OnClose(id_);
  }

  websocket::stream<Stream> ws_;
  SignalHub& hub_;
  const ServerConfig& config_;
  beast::flat_buffer buffer_;
  std::deque<std::string> queue_;
  uint64_t id_ = 0;
  bool closing_ = false;
  bool closed_ = false;
};

// One HTTP connection: admin API, metrics, static files, or the upgrade to WebSocket.
template <class Stream>
class HttpSession final : public std::enable_shared_from_this<HttpSession<Stream>> {
 public:
  HttpSession(Stream&& stream, Router& router, SignalHub& hub, const ServerConfig& config)
      : stream_(std::move(stream)), router_(router), hub_(hub), config_(config) {}

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
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(30));
    http::async_read(stream_, buffer_, *parser_, [self = this->shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return;
      self->OnRequest(self->parser_->release());
    });
  }

  void OnRequest(http::request<http::string_body> req) {
    if (websocket::is_upgrade(req)) {
      if (req.target() != "/v1/signal") return Reply(req, {404, "application/json", R"({"message":"not found"})", {}});
      beast::get_lowest_layer(stream_).expires_never();
      auto ws = std::make_shared<WsSession<Stream>>(std::move(stream_), hub_, config_);
      ws->Accept(std::move(req));
      return;
    }
    HttpRequest r;
    r.method = std::string(req.method_string());
    r.target = std::string(req.target());
    r.authorization = std::string(req[http::field::authorization]);
    r.admin_key_header = std::string(req["X-Admin-Key"]);
    r.body = std::move(req.body());
    Reply(req, router_.Handle(r));
  }

  void Reply(const http::request<http::string_body>& req, HttpResponse out) {
    auto res =
        std::make_shared<http::response<http::string_body>>(static_cast<http::status>(out.status), req.version());
    res->set(http::field::server, std::string("parleyd ") + PARLEY_VERSION);
    res->set(http::field::content_type, out.content_type);
    for (const auto& [k, v] : out.headers) res->set(k, v);
    res->keep_alive(req.keep_alive());
    if (req.method() != http::verb::head) res->body() = std::move(out.body);
    res->prepare_payload();
    if (req.method() == http::verb::head) res->content_length(out.body.size());
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
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
};

}  // namespace

struct Server::Impl {
  explicit Impl(ServerConfig c) : config(std::move(c)), acceptor(io), signals(io, SIGINT, SIGTERM) {}

  void Accept() {
    acceptor.async_accept(io, [this](beast::error_code ec, tcp::socket socket) {
      if (ec) {
        if (ec != asio::error::operation_aborted) {
          spdlog::warn("accept: {}", ec.message());
          Accept();
        }
        return;
      }
      socket.set_option(tcp::no_delay(true), ec);
      if (ssl_ctx) {
        std::make_shared<HttpSession<TlsStream>>(TlsStream(std::move(socket), *ssl_ctx), *router, *hub, config)
            ->Start();
      } else {
        std::make_shared<HttpSession<PlainStream>>(PlainStream(std::move(socket)), *router, *hub, config)->Start();
      }
      Accept();
    });
  }

  ServerConfig config;
  asio::io_context io{1};
  tcp::acceptor acceptor;
  asio::signal_set signals;
  std::unique_ptr<asio::ssl::context> ssl_ctx;
  std::unique_ptr<AppStore> store;
  Metrics metrics;
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
  std::error_code fec;
  std::filesystem::create_directories(c.data_dir, fec);
  if (fec) return MakeError(Errc::kStorageError, "cannot create data dir " + c.data_dir + ": " + fec.message());
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
  spdlog::info("parleyd {} listening on {}://{}:{} (data {})", PARLEY_VERSION, impl_->ssl_ctx ? "https" : "http",
               c.listen_address, impl_->port, c.data_dir);
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
  if (config.web_root.empty()) {
    // Default: the web/ folder of the source tree this binary was built from.
    config.web_root = PARLEY_DEFAULT_WEB_ROOT;
  }
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
