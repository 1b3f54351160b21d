// An HTTP connection of parleyd: the admin API, metrics and static files through the
// Router, or the upgrade to a WebSocket signalling session.
#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <optional>

#include "config.hpp"
#include "http/connection.hpp"
#include "http/router.hpp"
#include "http/ws_session.hpp"
#include "signal/hub.hpp"

namespace parley::server::conn {

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

}  // namespace parley::server::conn
