#include "signal_client.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <deque>
#include <map>
#include <utility>

namespace parley::sdk {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// Handlers queued on the loop hold a shared_ptr to the Impl, so the SignalClient may
// go (a callback may destroy it) while its operations are still finishing: they end
// with the closed socket's error and release the Impl. Handlers never run again once
// the loop is destroyed, and destroying them releases it too.
struct SignalClient::Impl : std::enable_shared_from_this<Impl> {
  explicit Impl(asio::io_context& context) : io(context), ws(context) {}
  asio::io_context& io;
  websocket::stream<beast::tcp_stream> ws;
  beast::flat_buffer buffer;
  bool open = false;
  bool closing = false;
  std::shared_ptr<ConnectAttempt> attempt;  ///< the Connect on its way
  std::deque<std::string> outbox;
  struct Pending {
    ReplyFn reply;
    std::unique_ptr<asio::steady_timer> timer;
  };
  std::map<int64_t, Pending> pending;
  int64_t next_id = 1;
  NotifyFn on_notify;
  ClosedFn on_closed;

  /// Every callback goes through the loop's queue: the caller's state may not survive
  /// the callback, and the order of causes is the order of callbacks.
  void Deliver(std::function<void()> fn) { asio::post(io, std::move(fn)); }
  void DeliverReply(ReplyFn reply, int32_t code, std::string message, Json data) {
    Deliver([reply = std::move(reply), code, message = std::move(message), data = std::move(data)] {
      reply(code, message, data);
    });
  }

  void ReadLoop() {
    ws.async_read(buffer, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->Fail(ec == websocket::error::closed ? "closed by the server" : ec.message());
      if (self->closing) return;  // read before the Close: nobody listens any more
      std::string text = beast::buffers_to_string(self->buffer.data());
      self->buffer.consume(self->buffer.size());
      try {  // a message we cannot handle is dropped
        self->Dispatch(text);
      } catch (const std::exception&) {
      }
      self->ReadLoop();
    });
  }

  void Dispatch(const std::string& text) {
    Json m = Json::parse(text, nullptr, false);
    if (m.is_discarded() || !m.is_object()) return;
    if (m.value("type", "") == "response") {
      if (!m.contains("id") || !m["id"].is_number_integer()) return;
      auto it = pending.find(m["id"].get<int64_t>());
      if (it == pending.end()) return;
      auto reply = std::move(it->second.reply);
      it->second.timer->cancel();
      pending.erase(it);
      int32_t code = m.value("code", 0);
      DeliverReply(std::move(reply), code, m.value("message", ""), m.contains("data") ? m["data"] : Json());
      return;
    }
    if (on_notify) Deliver([self = shared_from_this(), m = std::move(m)] { self->on_notify(m); });
  }

  void Write() {
    if (outbox.empty() || !open) return;
    ws.text(true);
    ws.async_write(asio::buffer(outbox.front()), [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->Fail(ec.message());
      // Failed (closed) after this write had completed: Fail kept only this message.
      if (!self->open) return;
      self->outbox.pop_front();
      if (!self->outbox.empty()) self->Write();
    });
  }

  void Fail(const std::string& why) {
    if (!open) return;
    open = false;
    beast::get_lowest_layer(ws).close();
    // The front message may be the buffer of a write still in flight (its handler has
    // yet to run): it must outlive that write. The rest is never sent.
    if (!outbox.empty()) outbox.erase(outbox.begin() + 1, outbox.end());
    auto waiting = std::move(pending);
    pending.clear();
    for (auto& [id, p] : waiting) {
      p.timer->cancel();
      DeliverReply(std::move(p.reply), static_cast<int32_t>(Errc::kSignalRequestError),
                   "signalling connection lost: " + why, Json());
    }
    if (!closing && on_closed) Deliver([self = shared_from_this(), why] { self->on_closed(why); });
  }
};

/// One Connect: the steps and the deadline race on the loop; the first to finish
/// answers the caller, and whatever finishes later finds the attempt over.
struct SignalClient::ConnectAttempt {
  ConnectAttempt(asio::io_context& io, std::string target, std::chrono::milliseconds bound, ConnectFn fn)
      : resolver(io), deadline(io), url(std::move(target)), timeout(bound), done(std::move(fn)) {}
  tcp::resolver resolver;
  asio::steady_timer deadline;
  std::string url;
  std::chrono::milliseconds timeout;
  ConnectFn done;
  bool finished = false;

  void Finish(Impl& im, beast::error_code ec) {
    if (finished) return;
    finished = true;
    deadline.cancel();
    resolver.cancel();
    if (im.attempt.get() == this) im.attempt.reset();
    Status st;
    if (ec == beast::error::timeout)
      st = MakeError(Errc::kSignalRequestError,
                     "cannot connect to " + url + ": no answer within " + std::to_string(timeout.count()) + " ms");
    else if (ec)
      st = MakeError(Errc::kSignalRequestError, "cannot connect to " + url + ": " + ec.message());
    im.Deliver([done = std::move(done), st] { done(st); });
  }
};

SignalClient::SignalClient(asio::io_context& io, NotifyFn on_notify, ClosedFn on_closed)
    : impl_(std::make_shared<Impl>(io)) {
  impl_->on_notify = std::move(on_notify);
  impl_->on_closed = std::move(on_closed);
}

SignalClient::~SignalClient() {
  Close();
}

std::string SignalUrlHost(const std::string& url) {
  std::string rest = url;
  for (const char* scheme : {"ws://", "http://", "wss://", "https://"})
    if (rest.rfind(scheme, 0) == 0) rest = rest.substr(std::char_traits<char>::length(scheme));
  std::string hostport = rest.substr(0, rest.find('/'));
  if (!hostport.empty() && hostport.front() == '[') return hostport.substr(1, hostport.find(']') - 1);
  return hostport.substr(0, hostport.find(':'));
}

bool IsLoopbackHost(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

std::vector<std::string> DefaultIceAddresses(const std::string& server_url) {
  if (IsLoopbackHost(SignalUrlHost(server_url))) return {"127.0.0.1"};
  return {};
}

void SignalClient::Connect(const std::string& url, std::chrono::milliseconds timeout, ConnectFn done) {
  auto refuse = [this, &done](std::string message) {
    impl_->Deliver([done = std::move(done), message = std::move(message)] {
      done(MakeError(Errc::kSignalRequestError, message));
    });
  };
  if (impl_->attempt || impl_->open || impl_->closing) return refuse("one connection per signalling client");
  // ws://host:port/path (http:// accepted: the same port serves both).
  std::string rest = url;
  for (const char* scheme : {"ws://", "http://"})
    if (rest.rfind(scheme, 0) == 0) rest = rest.substr(std::char_traits<char>::length(scheme));
  if (rest.rfind("wss://", 0) == 0 || rest.rfind("https://", 0) == 0)
    return refuse("TLS (wss://) is not supported by this SDK build yet: " + url);
  auto slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  std::string path = slash == std::string::npos ? "/v1/signal" : rest.substr(slash);
  if (path == "/") path = "/v1/signal";
  auto colon = hostport.rfind(':');
  if (hostport.empty() || colon == std::string::npos) return refuse("server URL needs host:port: " + url);
  std::string host = hostport.substr(0, colon), port = hostport.substr(colon + 1);
  if (!host.empty() && host.front() == '[') host = host.substr(1, host.size() - 2);
  // Resolve, connect and upgrade asynchronously, under one deadline. The steps' own
  // timeouts do not cover everything (a resolver's lookup cannot be cut short), so a
  // timer ends the attempt at the deadline whichever step is running.
  auto attempt = std::make_shared<ConnectAttempt>(impl_->io, url, timeout, std::move(done));
  impl_->attempt = attempt;
  attempt->deadline.expires_after(timeout);
  attempt->deadline.async_wait([im = impl_, attempt](beast::error_code ec) {
    if (ec || attempt->finished) return;  // cancelled: the attempt finished first
    beast::get_lowest_layer(im->ws).close();
    attempt->Finish(*im, beast::error::timeout);
  });
  attempt->resolver.async_resolve(
      host, port,
      [im = impl_, attempt, path, hostport, timeout](beast::error_code ec, tcp::resolver::results_type results) {
        if (attempt->finished) return;
        if (ec) return attempt->Finish(*im, ec);
        auto& layer = beast::get_lowest_layer(im->ws);
        layer.expires_after(timeout);
        layer.async_connect(results, [im, attempt, path, hostport](beast::error_code connect_ec, const tcp::endpoint&) {
          if (attempt->finished) return;
          if (connect_ec) return attempt->Finish(*im, connect_ec);
          im->ws.async_handshake(hostport, path, [im, attempt](beast::error_code handshake_ec) {
            if (attempt->finished) return;
            beast::get_lowest_layer(im->ws).expires_never();
            if (!handshake_ec) {
              im->ws.read_message_max(16 << 20);
              im->open = true;
              im->ReadLoop();
            }
            attempt->Finish(*im, handshake_ec);
          });
        });
      });
}

void SignalClient::Request(const std::string& type, Json fields, Errc timeout_code, std::chrono::milliseconds timeout,
                           ReplyFn reply) {
  Impl& im = *impl_;
  if (!im.open) {
    im.DeliverReply(std::move(reply), static_cast<int32_t>(Errc::kSignalRequestError), "not connected to the server",
                    Json());
    return;
  }
  int64_t id = im.next_id++;
  fields["type"] = type;
  fields["id"] = id;
  auto timer = std::make_unique<asio::steady_timer>(im.io, timeout);
  timer->async_wait([self = impl_, id, timeout_code, type](beast::error_code ec) {
    if (ec) return;
    auto it = self->pending.find(id);
    if (it == self->pending.end()) return;
    auto r = std::move(it->second.reply);
    self->pending.erase(it);
    self->DeliverReply(std::move(r), static_cast<int32_t>(timeout_code), type + " timed out", Json());
  });
  im.pending[id] = {std::move(reply), std::move(timer)};
  im.outbox.push_back(fields.dump());
  if (im.outbox.size() == 1) im.Write();
}

void SignalClient::Close() {
  Impl& im = *impl_;
  if (im.closing) return;
  im.closing = true;
  if (auto attempt = im.attempt) {
    beast::get_lowest_layer(im.ws).close();
    attempt->Finish(im, asio::error::operation_aborted);
  }
  im.Fail("closed by the client");
}

bool SignalClient::connected() const {
  return impl_->open;
}

}  // namespace parley::sdk
