// A signalling server for tests: the channels a call opens record its requests, and
// the test answers them, sends notifications or drops the link. Every callback is
// posted to the test's io_context, never run inline, as the signalling seam promises;
// the test runs them with io.poll().
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "signal_channel.hpp"

namespace parley::sdk::testing {

class FakeSignal {
 public:
  using Json = nlohmann::json;

  struct Request {
    std::string type;
    Json fields;
    Errc timeout_code = Errc::kOk;
    std::chrono::milliseconds timeout{0};
    SignalChannel::ReplyFn reply;  ///< empty once answered
    size_t link = 0;               ///< which channel (0: the first the call opened)
  };

  explicit FakeSignal(boost::asio::io_context& io) : io_(io) {}

  /// For the call's MakeSignal.
  std::unique_ptr<SignalChannel> Make(SignalChannel::NotifyFn on_notify, SignalChannel::ClosedFn on_closed) {
    auto link = std::make_shared<Link>();
    link->on_notify = std::move(on_notify);
    link->on_closed = std::move(on_closed);
    links_.push_back(link);
    return std::make_unique<Channel>(*this, link, links_.size() - 1);
  }

  /// Connects fail (the server is unreachable) while this is set.
  bool refuse = false;
  std::vector<Request> requests;  ///< in the order sent, over every channel

  [[nodiscard]] size_t links() const { return links_.size(); }
  [[nodiscard]] bool connected() const { return !links_.empty() && links_.back()->open; }
  [[nodiscard]] bool closed_by_client(size_t link) const { return links_.at(link)->closed_by_client; }

  /// The requests of `type` sent so far.
  [[nodiscard]] std::vector<const Request*> Sent(const std::string& type) const {
    std::vector<const Request*> out;
    for (const auto& r : requests)
      if (r.type == type) out.push_back(&r);
    return out;
  }
  /// Answers the oldest unanswered request of `type` (false: there is none).
  bool Answer(const std::string& type, int32_t code = 0, const Json& data = Json::object(),
              const std::string& message = "") {
    for (auto& r : requests) {
      if (r.type != type || !r.reply) continue;
      boost::asio::post(io_, [reply = std::move(r.reply), code, message, data] { reply(code, message, data); });
      r.reply = nullptr;
      return true;
    }
    return false;
  }
  /// A notification on the newest link.
  void Notify(const Json& note) {
    auto link = links_.back();
    // Read before any drop that follows, so delivered before its close (unless the
    // client closed the link itself).
    boost::asio::post(io_, [link, note] {
      if (!link->closed_by_client) link->on_notify(note);
    });
  }
  /// The newest link drops (not closed by the client): its unanswered requests fail
  /// with kSignalRequestError, then the close is reported.
  void Drop(const std::string& why = "reset") {
    auto link = links_.back();
    Fail(*link);
    boost::asio::post(io_, [link, why] {
      if (!link->closed_by_client) link->on_closed(why);
    });
  }

 private:
  struct Link {
    SignalChannel::NotifyFn on_notify;
    SignalChannel::ClosedFn on_closed;
    bool open = false;
    bool closed_by_client = false;
  };

  class Channel final : public SignalChannel {
   public:
    Channel(FakeSignal& server, std::shared_ptr<Link> link, size_t index)
        : server_(server), link_(std::move(link)), index_(index) {}
    ~Channel() override { Close(); }
    void Connect(const std::string&, std::chrono::milliseconds, ConnectFn done) override {
      Status st = server_.refuse ? Status(MakeError(Errc::kSignalRequestError, "refused")) : Status();
      link_->open = !server_.refuse;
      boost::asio::post(server_.io_, [done = std::move(done), st] { done(st); });
    }
    void Request(const std::string& type, Json fields, Errc timeout_code, std::chrono::milliseconds timeout,
                 ReplyFn reply) override {
      server_.requests.push_back({type, std::move(fields), timeout_code, timeout, std::move(reply), index_});
      if (!link_->open) server_.FailLast();
    }
    void Close() override {
      if (!link_->open) return;
      link_->closed_by_client = true;
      server_.Fail(*link_);
    }
    [[nodiscard]] bool connected() const override { return link_->open; }

   private:
    FakeSignal& server_;
    std::shared_ptr<Link> link_;
    size_t index_;
  };

  void Fail(Link& link) {
    link.open = false;
    size_t index = 0;
    for (; index < links_.size(); ++index)
      if (links_[index].get() == &link) break;
    for (auto& r : requests)
      if (r.link == index && r.reply) {
        boost::asio::post(io_, [reply = std::move(r.reply)] {
          reply(static_cast<int32_t>(Errc::kSignalRequestError), "connection gone", Json());
        });
        r.reply = nullptr;
      }
  }
  void FailLast() {
    auto& r = requests.back();
    boost::asio::post(io_, [reply = std::move(r.reply)] {
      reply(static_cast<int32_t>(Errc::kSignalRequestError), "not connected", Json());
    });
    r.reply = nullptr;
  }

  boost::asio::io_context& io_;
  std::vector<std::shared_ptr<Link>> links_;
};

}  // namespace parley::sdk::testing
