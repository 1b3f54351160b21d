#include "signal_client.hpp"

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <thread>

namespace parley::sdk {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// Handlers hold a plain Impl*: the I/O thread is the only one that runs them and it is
// joined before the Impl goes, and handlers still queued then are destroyed with the
// io_context unrun. (Handlers holding a shared_ptr to the Impl that owns their
// io_context made a cycle: a SignalClient destroyed with a read still queued leaked.)
struct SignalClient::Impl {
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
  websocket::stream<beast::tcp_stream> ws{io};
  beast::flat_buffer buffer;
  std::thread thread;
  std::atomic<bool> open{false};
  bool closing = false;
  std::deque<std::string> outbox;
  struct Pending {
    ReplyFn reply;
    std::unique_ptr<asio::steady_timer> timer;
  };
  std::map<int64_t, Pending> pending;
  int64_t next_id = 1;
  NotifyFn on_notify;
  ClosedFn on_closed;

  void ReadLoop() {
    ws.async_read(buffer, [self = this](beast::error_code ec, size_t) {
      if (ec) return self->Fail(ec == websocket::error::closed ? "closed by the server" : ec.message());
      std::string text = beast::buffers_to_string(self->buffer.data());
      self->buffer.consume(self->buffer.size());
      try {  // the I/O thread's one catch: a message we cannot handle is dropped
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
      reply(code, m.value("message", ""), m.contains("data") ? m["data"] : Json());
      return;
    }
    if (on_notify) on_notify(m);
  }

  void Write() {
    if (outbox.empty() || !open) return;
    ws.text(true);
    ws.async_write(asio::buffer(outbox.front()), [self = this](beast::error_code ec, size_t) {
      if (ec) return self->Fail(ec.message());
      self->outbox.pop_front();
      if (!self->outbox.empty()) self->Write();
    });
  }

  void Fail(const std::string& why) {
    if (!open.exchange(false)) return;
    beast::error_code ec;
    beast::get_lowest_layer(ws).socket().close(ec);
    auto waiting = std::move(pending);
    pending.clear();
    for (auto& [id, p] : waiting) {
      p.timer->cancel();
      p.reply(static_cast<int32_t>(Errc::kSignalRequestError), "signalling connection lost: " + why, Json());
    }
    if (!closing && on_closed) on_closed(why);
  }
};

/// One Connect: the steps and the deadline race on the I/O thread; the first to finish
/// answers the caller.
struct SignalClient::ConnectAttempt {
  explicit ConnectAttempt(asio::io_context& io) : resolver(io), deadline(io) {}
  tcp::resolver resolver;
  asio::steady_timer deadline;
  std::promise<beast::error_code> done;
  bool finished = false;  ///< I/O thread only
  void Finish(beast::error_code ec) {
    if (finished) return;
    finished = true;
    deadline.cancel();
    done.set_value(ec);
  }
};

SignalClient::SignalClient(NotifyFn on_notify, ClosedFn on_closed) : impl_(std::make_unique<Impl>()) {
  impl_->on_notify = std::move(on_notify);
  impl_->on_closed = std::move(on_closed);
  impl_->thread = std::thread([im = impl_.get()] { im->io.run(); });
}

SignalClient::~SignalClient() {
  Close();
  impl_->work.reset();
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
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

Status SignalClient::Connect(const std::string& url, std::chrono::milliseconds timeout) {
  // ws://host:port/path (http:// accepted: the same port serves both).
  std::string rest = url;
  for (const char* scheme : {"ws://", "http://"})
    if (rest.rfind(scheme, 0) == 0) rest = rest.substr(std::char_traits<char>::length(scheme));
  if (rest.rfind("wss://", 0) == 0 || rest.rfind("https://", 0) == 0)
    return MakeError(Errc::kSignalRequestError, "TLS (wss://) is not supported by this SDK build yet: " + url);
  auto slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  std::string path = slash == std::string::npos ? "/v1/signal" : rest.substr(slash);
  if (path == "/") path = "/v1/signal";
  auto colon = hostport.rfind(':');
  if (hostport.empty() || colon == std::string::npos)
    return MakeError(Errc::kSignalRequestError, "server URL needs host:port: " + url);
  std::string host = hostport.substr(0, colon), port = hostport.substr(colon + 1);
  if (!host.empty() && host.front() == '[') host = host.substr(1, host.size() - 2);
  // Resolve, connect and upgrade asynchronously on the I/O thread, under one deadline.
  // The steps' own timeouts do not cover everything (a synchronous connect to a
  // black-holed address waits for the kernel's SYN retries, about two minutes; a
  // resolver's lookup cannot be cut short), so a timer ends the attempt at the
  // deadline whichever step is running, and whatever finishes later finds it over.
  auto attempt = std::make_shared<ConnectAttempt>(impl_->io);
  auto fut = attempt->done.get_future();
  asio::post(impl_->io, [im = impl_.get(), attempt, host, port, path, hostport, timeout] {
    attempt->deadline.expires_after(timeout);
    attempt->deadline.async_wait([im, attempt](beast::error_code ec) {
      if (ec) return;  // cancelled: the attempt finished first
      attempt->resolver.cancel();
      beast::error_code ignored;
      beast::get_lowest_layer(im->ws).socket().close(ignored);
      attempt->Finish(beast::error::timeout);
    });
    attempt->resolver.async_resolve(
        host, port, [im, attempt, path, hostport, timeout](beast::error_code ec, tcp::resolver::results_type results) {
          if (attempt->finished) return;
          if (ec) return attempt->Finish(ec);
          auto& layer = beast::get_lowest_layer(im->ws);
          layer.expires_after(timeout);
          layer.async_connect(results,
                              [im, attempt, path, hostport](beast::error_code connect_ec, const tcp::endpoint&) {
                                if (attempt->finished) return;
                                if (connect_ec) return attempt->Finish(connect_ec);
                                im->ws.async_handshake(hostport, path, [im, attempt](beast::error_code handshake_ec) {
                                  if (attempt->finished) return;
                                  beast::get_lowest_layer(im->ws).expires_never();
                                  if (!handshake_ec) {
                                    im->ws.read_message_max(16 << 20);
                                    im->open = true;
                                    im->ReadLoop();
                                  }
                                  attempt->Finish(handshake_ec);
                                });
                              });
        });
  });
  beast::error_code ec = fut.get();
  if (ec == beast::error::timeout)
    return MakeError(Errc::kSignalRequestError,
                     "cannot connect to " + url + ": no answer within " + std::to_string(timeout.count()) + " ms");
  if (ec) return MakeError(Errc::kSignalRequestError, "cannot connect to " + url + ": " + ec.message());
  return {};
}

void SignalClient::Request(const std::string& type, Json fields, Errc timeout_code, std::chrono::milliseconds timeout,
                           ReplyFn reply) {
  asio::post(impl_->io, [im = impl_.get(), type, fields = std::move(fields), timeout_code, timeout,
                         reply = std::move(reply)]() mutable {
    if (!im->open) {
      reply(static_cast<int32_t>(Errc::kSignalRequestError), "not connected to the server", Json());
      return;
    }
    int64_t id = im->next_id++;
    fields["type"] = type;
    fields["id"] = id;
    auto timer = std::make_unique<asio::steady_timer>(im->io, timeout);
    timer->async_wait([im, id, timeout_code, type](beast::error_code ec) {
      if (ec) return;
      auto it = im->pending.find(id);
      if (it == im->pending.end()) return;
      auto r = std::move(it->second.reply);
      im->pending.erase(it);
      r(static_cast<int32_t>(timeout_code), type + " timed out", Json());
    });
    im->pending[id] = {std::move(reply), std::move(timer)};
    im->outbox.push_back(fields.dump());
    if (im->outbox.size() == 1) im->Write();
  });
}

void SignalClient::Close() {
  auto close = [im = impl_.get()] {
    im->closing = true;
    if (im->open) im->Fail("closed by the client");
  };
  // On the I/O thread (a callback) it runs here; from any other it waits, so the
  // caller knows no callback follows.
  if (impl_->thread.get_id() == std::this_thread::get_id()) return close();
  std::promise<void> done;
  auto fut = done.get_future();
  asio::post(impl_->io, [&close, &done] {
    close();
    done.set_value();
  });
  fut.wait();
}

bool SignalClient::connected() const {
  return impl_->open;
}

}  // namespace parley::sdk
