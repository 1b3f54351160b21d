#include "call/data_messages.hpp"

#include <algorithm>
#include <string_view>

#include "parley/proto/envelope.hpp"
#include "parley/proto/errc.hpp"

namespace parley::sdk::call {
namespace {

constexpr uint8_t kSeparator = ':';  // between the user id and the payload

int32_t CodeOf(Errc e) {
  return static_cast<int32_t>(e);
}

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

bool SendBucket::Allows(double n, int64_t now_us) {
  if (last_us_ >= 0 && now_us > last_us_)
    tokens_ = std::min(rate_, tokens_ + rate_ * static_cast<double>(now_us - last_us_) / 1e6);
  if (last_us_ < 0 || now_us > last_us_) last_us_ = now_us;
  return tokens_ >= n;
}

DataMessages::DataMessages(Host& host, media::MediaFactory& media, boost::asio::io_context& io)
    : host_(host), media_(media), reopen_(io) {}

void DataMessages::Enable(bool on) {
  enabled_ = on;
  if (!on) {
    Close();
  } else if (host_.InCall() && state() != DataChannelState::kOpen && state() != DataChannelState::kConnecting) {
    Open();
  }
}

void DataMessages::Joined() {
  if (enabled_) Open();
}

void DataMessages::Ended() {
  Close();
}

DataChannelState DataMessages::state() const {
  std::lock_guard<std::mutex> lock(mu_);
  return state_;
}

void DataMessages::Close() {
  Drop();
  SetState(DataChannelState::kClosed);
}

void DataMessages::Drop() {
  reopen_.cancel();
  std::shared_ptr<media::DataConnection> old;
  {
    std::lock_guard<std::mutex> lock(mu_);
    old = std::move(conn_);
  }
  ++generation_;
  old.reset();  // outside mu_: its callbacks may be waiting for it
}

void DataMessages::SetState(DataChannelState s) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (state_ == s) return;
    state_ = s;
  }
  host_.DataState(s);
}

void DataMessages::Open() {
  Drop();
  const uint64_t gen = generation_;
  media::DataCallbacks cb;
  // GStreamer threads: the envelope is taken apart there, the rest goes to the engine.
  cb.message = [this, gen](int channel, bool text, std::vector<uint8_t> bytes) {
    auto at = std::find(bytes.begin(), bytes.end(), kSeparator);
    if (at == bytes.end() || channel < 0 || channel > 3) return;  // not an envelope: not the server's
    std::string from(bytes.begin(), at);
    std::vector<uint8_t> payload(at + 1, bytes.end());
    DataMessageOptions o{text, channel < 2, channel % 2 == 0};
    host_.PostToEngine([this, gen, from = std::move(from), payload = std::move(payload), o] {
      if (gen == generation_) host_.DataMessage(from, payload, o);
    });
  };
  cb.state = [this, gen](bool open) {
    host_.PostToEngine([this, gen, open] {
      if (gen != generation_) return;
      if (open) {
        reopen_.cancel();
        SetState(DataChannelState::kOpen);
      } else {
        Lost(gen, "a data channel closed");
      }
    });
  };
  auto made = media_.CreateDataConnection(host_.Ice(media::IceUse::kData), std::move(cb));
  if (!made) return Lost(gen, made.error().What());
  std::shared_ptr<media::DataConnection> conn = std::move(*made);
  {
    std::lock_guard<std::mutex> lock(mu_);
    conn_ = conn;
  }
  SetState(DataChannelState::kConnecting);
  reopen_.expires_after(kOpenWithin);  // an answer lost on a link that dropped, or a path that never forms
  reopen_.async_wait([this, gen](const boost::system::error_code& ec) {
    if (!ec && gen == generation_ && state() == DataChannelState::kConnecting)
      Lost(gen, "the data connection did not open within 10 s");
  });
  conn->CreateOffer([this, gen, conn](Result<std::string> offer) {
    if (gen != generation_) return;
    if (!offer) return Lost(gen, offer.error().What());
    host_.AskOpenData(*offer, [this, gen, conn](int32_t code, const std::string& m, const std::string& answer) {
      if (gen != generation_) return;
      if (code) return Lost(gen, "openData refused: " + m);
      conn->SetAnswer(answer, [this, gen](Status st) {
        if (gen == generation_ && !st) Lost(gen, st.error().What());
      });
    });
  });
}

void DataMessages::Lost(uint64_t generation, const std::string& why) {
  if (generation != generation_) return;
  Drop();
  SetState(DataChannelState::kFailed);
  host_.DataError(CodeOf(Errc::kDataChannelFailed), why);
  if (!enabled_ || !host_.InCall()) return;
  const uint64_t gen = generation_;
  reopen_.expires_after(kReopenAfter);
  reopen_.async_wait([this, gen](const boost::system::error_code& ec) {
    if (!ec && gen == generation_ && enabled_ && host_.InCall()) Open();
  });
}

int32_t DataMessages::Send(const std::string& to, const void* data, size_t size, const DataMessageOptions& options) {
  if (size > kMaxPayload) return CodeOf(Errc::kDataMessageTooLarge);
  if (size > 0 && !data) return CodeOf(Errc::kInvalidField);
  const auto* bytes = static_cast<const uint8_t*>(data);
  if (options.text) {
    std::string_view s(reinterpret_cast<const char*>(bytes), size);
    if (!proto::IsUtf8(s) || s.find('\0') != std::string_view::npos) return CodeOf(Errc::kInvalidField);
  }
  if (!to.empty() && !host_.IsMember(to)) return CodeOf(Errc::kDataUserNotInChannel);
  std::shared_ptr<media::DataConnection> conn;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (state_ != DataChannelState::kOpen || !conn_) return CodeOf(Errc::kDataChannelNotOpen);
    const int64_t now = NowUs();
    const bool room = messages_.Allows(1, now);
    if (!bytes_.Allows(static_cast<double>(size), now) || !room) return CodeOf(Errc::kDataMessageRateLimited);
    messages_.Spend(1);
    bytes_.Spend(static_cast<double>(size));
    conn = conn_;
  }
  std::vector<uint8_t> envelope(to.begin(), to.end());
  envelope.reserve(to.size() + 1 + size);
  envelope.push_back(kSeparator);
  if (size) envelope.insert(envelope.end(), bytes, bytes + size);
  const int channel = (options.reliable ? 0 : 2) + (options.ordered ? 0 : 1);
  return conn->Send(channel, options.text, envelope) ? 0 : CodeOf(Errc::kDataChannelNotOpen);
}

}  // namespace parley::sdk::call
