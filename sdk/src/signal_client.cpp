#include "signal_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <deque>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include "log.hpp"
#include "parley/proto/envelope.hpp"

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
  explicit Impl(asio::io_context& context) : io(context), ws(std::make_unique<Ws>(context)) {}
  asio::io_context& io;
  using Ws = websocket::stream<beast::tcp_stream>;
  std::unique_ptr<Ws> ws;  ///< replaced by the connection that won the Connect
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
    ws->async_read(buffer, [self = shared_from_this()](beast::error_code ec, size_t) {
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
    ws->text(true);
    ws->async_write(asio::buffer(outbox.front()), [self = shared_from_this()](beast::error_code ec, size_t) {
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
    beast::get_lowest_layer(*ws).close();
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

/// Signalling is a thin, interactive stream: small messages, each waited for. No
/// Nagle delay behind an unacknowledged segment, and linear retransmission timeouts
/// while fewer than four segments are in flight (Linux backs off exponentially
/// otherwise: through heavy loss one request lost twice waited 600 ms more, three
/// times 1.4 s more, and heartbeats timed out).
static void TuneForSignalling(tcp::socket& socket) {
  beast::error_code ec;
  socket.set_option(tcp::no_delay(true), ec);
  int one = 1;
  (void)::setsockopt(socket.native_handle(), IPPROTO_TCP, TCP_THIN_LINEAR_TIMEOUTS, &one, sizeof one);
}

/// One Connect: the steps and the deadline race on the loop; the first to finish
/// answers the caller, and whatever finishes later finds the attempt over.
///
/// While no connection is up, a new one (TCP handshake, then the WebSocket upgrade)
/// starts every kTryEvery, the earlier ones still trying; the first whose upgrade
/// completes is the client's connection and the others are closed. Through heavy loss
/// one connection alone often misses a 10 s bound: a lost SYN waits 1 s or more, and
/// once a SYN was retransmitted Linux starts the connection's data retransmissions at
/// 3 s (RFC 6298 §5.7), so a lost upgrade request waits 3 s, then 6 s. A later
/// connection whose SYN got through at once measured the round trip and repairs its
/// losses in a fraction of a second. Every half second: at 30 % loss each way a
/// handshake gets through about every other try, and tries a second apart made a join
/// take 4 s when three in a row were lost.
struct SignalClient::ConnectAttempt {
  static constexpr std::chrono::milliseconds kTryEvery{500};
  static constexpr size_t kMostTries = 20;
  ConnectAttempt(asio::io_context& io, std::string target, std::chrono::milliseconds bound, ConnectFn fn)
      : resolver(io), deadline(io), next_try(io), url(std::move(target)), timeout(bound), done(std::move(fn)) {}
  tcp::resolver resolver;
  asio::steady_timer deadline;
  asio::steady_timer next_try;
  tcp::resolver::results_type endpoints;
  std::vector<std::shared_ptr<Impl::Ws>> tries;  ///< connections under way
  size_t started = 0;
  std::string url, path, hostport;
  std::chrono::milliseconds timeout;
  ConnectFn done;
  bool finished = false;

  void CloseTries() {
    next_try.cancel();
    for (auto& t : tries) beast::get_lowest_layer(*t).close();
    tries.clear();
  }

  /// Starts one more connection, and schedules the next.
  static void Try(const std::shared_ptr<Impl>& im, const std::shared_ptr<ConnectAttempt>& attempt) {
    auto ws = std::make_shared<Impl::Ws>(im->io);
    attempt->tries.push_back(ws);
    const size_t n = ++attempt->started;  // which try this is, for the log
    beast::get_lowest_layer(*ws).async_connect(
        attempt->endpoints, [im, attempt, ws, n](beast::error_code ec, const tcp::endpoint&) {
          if (attempt->finished || ec == asio::error::operation_aborted) return;
          if (ec) return attempt->Finish(*im, ec);  // refused: the server is not there
          TuneForSignalling(beast::get_lowest_layer(*ws).socket());
          Log().debug("parley: signalling connection {} of {} is open; upgrading", n, attempt->started);
          ws->async_handshake(attempt->hostport, attempt->path, [im, attempt, ws, n](beast::error_code handshake_ec) {
            if (attempt->finished || handshake_ec == asio::error::operation_aborted) return;
            if (handshake_ec) return attempt->Finish(*im, handshake_ec);  // the server answered, and not yes
            Log().debug("parley: signalling connection {} of {} upgraded", n, attempt->started);
            std::erase(attempt->tries, ws);
            attempt->CloseTries();
            im->ws = std::make_unique<Impl::Ws>(std::move(*ws));
            im->ws->read_message_max(16 << 20);
            im->open = true;
            im->ReadLoop();
            attempt->Finish(*im, {});
          });
        });
    if (attempt->started >= kMostTries) return;
    attempt->next_try.expires_after(kTryEvery);
    attempt->next_try.async_wait([im, attempt](beast::error_code ec) {
      if (ec || attempt->finished) return;
      Try(im, attempt);
    });
  }

  void Finish(Impl& im, beast::error_code ec) {
    if (finished) return;
    finished = true;
    deadline.cancel();
    resolver.cancel();
    CloseTries();
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
    beast::get_lowest_layer(*im->ws).close();
    attempt->Finish(*im, beast::error::timeout);
  });
  attempt->path = path;
  attempt->hostport = hostport;
  attempt->resolver.async_resolve(host, port,
                                  [im = impl_, attempt](beast::error_code ec, tcp::resolver::results_type results) {
                                    if (attempt->finished) return;
                                    if (ec) return attempt->Finish(*im, ec);
                                    attempt->endpoints = std::move(results);
                                    ConnectAttempt::Try(im, attempt);
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
  // A string the application gave (a user name, a message) may not be UTF-8: what
  // cannot be encoded is replaced instead of throwing on the engine thread.
  im.outbox.push_back(proto::DumpSafe(fields));
  if (im.outbox.size() == 1) im.Write();
}

void SignalClient::Close() {
  Impl& im = *impl_;
  if (im.closing) return;
  im.closing = true;
  if (auto attempt = im.attempt) {
    beast::get_lowest_layer(*im.ws).close();
    attempt->Finish(im, asio::error::operation_aborted);
  }
  im.Fail("closed by the client");
}

bool SignalClient::connected() const {
  return impl_->open;
}

}  // namespace parley::sdk
