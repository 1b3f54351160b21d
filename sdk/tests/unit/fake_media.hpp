// A media seam for tests: connections that record what the call asked of them and
// answer on the test's io_context (posted, never inline, as the seam promises), with
// the answers a test chooses. What each connection saw lives in a log shared with the
// fake, so a test can read it after the call has dropped the connection.
#pragma once

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "media/media.hpp"

namespace parley::sdk::testing {

class FakeMedia final : public media::MediaFactory {
 public:
  struct PublisherLog {
    media::PublishOptions options;
    int offers = 0;
    std::vector<std::string> answers;  ///< SDP given to SetAnswer
    bool attached = false;             ///< AttachInputs was called
    bool alive = true;                 ///< not destroyed yet
    std::vector<std::pair<TrackKind, bool>> mutes;
    std::vector<std::pair<TrackKind, std::string>> swaps;  ///< SwapSource calls
    std::vector<std::pair<size_t, bool>> layers;           ///< SetCameraLayer calls
  };
  struct SubscriberLog {
    media::SubscribeOptions options;
    media::SubscribeCallbacks callbacks;
    std::vector<std::string> offers;
    int playout_delay_ms = 0;  ///< the last SetPlayoutDelay (0: never called)
    bool alive = true;
  };

  struct DataLog {
    media::DataCallbacks callbacks;  ///< what the connection reports: a test calls them
    int offers = 0;
    std::vector<std::string> answers;
    struct Sent {
      int channel;
      bool text;
      std::string envelope;
    };
    std::vector<Sent> sent;
    bool alive = true;
  };

  explicit FakeMedia(boost::asio::io_context& io) : io_(io) {}

  // What the next operations answer (nullopt: success).
  std::optional<Error> create_publisher_error;
  std::optional<Error> offer_error;      ///< CreateOffer
  std::optional<Error> answer_error;     ///< SetAnswer
  media::RtpTotals publish_totals;       ///< what every publish connection's CollectStats reports
  media::RtpTotals subscribe_totals;     ///< and every subscribe connection's
  std::optional<Error> subscribe_error;  ///< ApplyOffer
  std::vector<DeviceInfo> devices;       ///< EnumerateDevices, every kind

  std::optional<Error> data_error;  ///< CreateDataConnection
  std::vector<std::shared_ptr<DataLog>> datas;
  std::vector<std::shared_ptr<PublisherLog>> publishers;
  std::vector<std::shared_ptr<SubscriberLog>> subscribers;

  Result<std::unique_ptr<media::PublishConnection>> CreatePublisher(const media::PublishOptions& options,
                                                                    media::ErrorFn) override {
    if (create_publisher_error) return *create_publisher_error;
    auto log = std::make_shared<PublisherLog>();
    log->options = options;
    publishers.push_back(log);
    return std::unique_ptr<media::PublishConnection>(std::make_unique<Publisher>(*this, log));
  }
  Result<std::unique_ptr<media::SubscribeConnection>> CreateSubscriber(const media::SubscribeOptions& options,
                                                                       media::SubscribeCallbacks callbacks) override {
    auto log = std::make_shared<SubscriberLog>();
    log->options = options;
    log->callbacks = std::move(callbacks);
    subscribers.push_back(log);
    return std::unique_ptr<media::SubscribeConnection>(std::make_unique<Subscriber>(*this, log));
  }
  Result<std::unique_ptr<media::FilePlayback>> OpenFile(const std::string& path, bool, bool, std::function<void()>,
                                                        media::ErrorFn) override {
    return MakeError(Errc::kPublishConfigInvalid, "no files here: " + path);
  }
  /// The accompaniment the call started last: its options, callbacks and the calls on it.
  struct AccompanyLog {
    media::AccompanyOptions options;
    std::function<void()> on_end;
    media::ErrorFn on_error;
    std::vector<std::string> calls;  ///< "pause", "resume", "seek 1000", "volumes 30 40"
    bool alive = true;
  };
  std::optional<Error> accompany_error;  ///< StartAccompaniment
  std::vector<std::shared_ptr<AccompanyLog>> accompaniments;
  Result<std::unique_ptr<media::Accompaniment>> StartAccompaniment(const media::AccompanyOptions& options,
                                                                   std::function<void()> on_end,
                                                                   media::ErrorFn on_error) override {
    if (accompany_error) return *accompany_error;
    auto log = std::make_shared<AccompanyLog>();
    log->options = options;
    log->on_end = std::move(on_end);
    log->on_error = std::move(on_error);
    accompaniments.push_back(log);
    return std::unique_ptr<media::Accompaniment>(std::make_unique<Accompaniment>(log));
  }
  /// The camera previews running now ("<source> <window>"), and what starting one answers.
  std::vector<std::string> previews;
  std::optional<Error> preview_error;
  Result<std::unique_ptr<media::CameraPreview>> StartCameraPreview(const std::string& source, uint64_t window,
                                                                   media::ErrorFn) override {
    if (preview_error) return *preview_error;
    return std::unique_ptr<media::CameraPreview>(
        std::make_unique<Preview>(previews, source + " " + std::to_string(window)));
  }
  std::vector<DeviceInfo> EnumerateDevices(DeviceKind) override { return devices; }
  media::MediaInput& AudioInput() override { return input_; }
  media::MediaInput& VideoInput() override { return input_; }
  void SetPlayoutVolume(int volume) override { playout_volume = volume; }
  void SetUserVolume(const std::string& user_id, int volume) override { user_volume[user_id] = volume; }
  void SetUserMuted(const std::string& user_id, bool muted) override { user_muted[user_id] = muted; }
  void Snapshot(const std::string&, TrackKind, const std::string& path, media::ImageType,
                std::function<void(int32_t, const std::string&)> done) override {
    snapshots.push_back(path);
    done(0, "");
  }
  void CloseSnapshots() override {}
  Status SetPlayout(const std::string& playout) override {
    playouts.push_back(playout);
    return {};
  }
  void WatchDevices(std::function<void(const DeviceInfo&, bool)> changed) override { watch = std::move(changed); }
  Status StartMicrophoneCheck(const std::string& source, std::function<void(int)> level, media::ErrorFn) override {
    mic_check = source;
    check_level = std::move(level);
    return {};
  }
  void StopMicrophoneCheck() override {
    mic_check.clear();
    check_level = nullptr;
  }
  Status StartSpeakerCheck(const std::string& playout, media::ErrorFn) override {
    speaker_check = playout;
    return {};
  }
  void StopSpeakerCheck() override { speaker_check.clear(); }
  std::string mic_check, speaker_check;                ///< what runs ("" none)
  std::function<void(int)> check_level;                ///< the running microphone check's report
  std::vector<std::string> playouts;                   ///< SetPlayout calls
  std::function<void(const DeviceInfo&, bool)> watch;  ///< what WatchDevices was given
  std::optional<Error> swap_error;                     ///< what SwapSource answers
  std::vector<std::string> snapshots;
  int playout_volume = 100;
  std::map<std::string, int> user_volume;
  std::map<std::string, bool> user_muted;

 private:
  class Preview final : public media::CameraPreview {
   public:
    Preview(std::vector<std::string>& running, std::string what) : running_(running), what_(std::move(what)) {
      running_.push_back(what_);
    }
    ~Preview() override { running_.erase(std::find(running_.begin(), running_.end(), what_)); }

   private:
    std::vector<std::string>& running_;
    std::string what_;
  };

  class Accompaniment final : public media::Accompaniment {
   public:
    explicit Accompaniment(std::shared_ptr<AccompanyLog> log) : log_(std::move(log)) {}
    ~Accompaniment() override { log_->alive = false; }
    Status Pause() override { return Note("pause"); }
    Status Resume() override { return Note("resume"); }
    Status Seek(int64_t ms) override { return Note("seek " + std::to_string(ms)); }
    void SetVolumes(int publish, int playout) override {
      log_->calls.push_back("volumes " + std::to_string(publish) + " " + std::to_string(playout));
    }
    [[nodiscard]] int64_t PositionMs() const override { return 1234; }
    [[nodiscard]] int64_t DurationMs() const override { return 5000; }

   private:
    Status Note(const std::string& call) {
      log_->calls.push_back(call);
      return {};
    }
    std::shared_ptr<AccompanyLog> log_;
  };

  class Input final : public media::MediaInput {
   public:
    int32_t PushAudio(const int16_t*, size_t, int, int, bool) override { return 0; }
    int32_t PushVideo(const VideoFrame&, bool) override { return 0; }
  };

  class Data final : public media::DataConnection {
   public:
    Data(FakeMedia& media, std::shared_ptr<DataLog> log) : media_(media), log_(std::move(log)) {}
    ~Data() override { log_->alive = false; }
    void CreateOffer(std::function<void(Result<std::string>)> done) override {
      Result<std::string> offer = "data offer " + std::to_string(++log_->offers);
      boost::asio::post(media_.io_, [done = std::move(done), offer] { done(offer); });
    }
    void SetAnswer(const std::string& sdp, std::function<void(Status)> done) override {
      log_->answers.push_back(sdp);
      boost::asio::post(media_.io_, [done = std::move(done)] { done(Status()); });
    }
    bool Send(int channel, bool text, const std::vector<uint8_t>& bytes) override {
      log_->sent.push_back({channel, text, std::string(bytes.begin(), bytes.end())});
      return true;
    }

   private:
    FakeMedia& media_;
    std::shared_ptr<DataLog> log_;
  };

 public:
  Result<std::unique_ptr<media::DataConnection>> CreateDataConnection(const media::IceSetup&,
                                                                      media::DataCallbacks callbacks) override {
    if (data_error) return *data_error;
    auto log = std::make_shared<DataLog>();
    log->callbacks = std::move(callbacks);
    datas.push_back(log);
    return std::unique_ptr<media::DataConnection>(std::make_unique<Data>(*this, log));
  }

 private:
  class Publisher final : public media::PublishConnection {
   public:
    Publisher(FakeMedia& media, std::shared_ptr<PublisherLog> log) : media_(media), log_(std::move(log)) {}
    ~Publisher() override { log_->alive = false; }
    void CreateOffer(std::function<void(Result<std::string>)> done) override {
      int n = ++log_->offers;
      Result<std::string> offer = media_.offer_error ? Result<std::string>(*media_.offer_error)
                                                     : Result<std::string>("offer " + std::to_string(n));
      boost::asio::post(media_.io_, [done = std::move(done), offer] { done(offer); });
    }
    void SetAnswer(const std::string& sdp, std::function<void(Status)> done) override {
      log_->answers.push_back(sdp);
      Status st = media_.answer_error ? Status(*media_.answer_error) : Status();
      boost::asio::post(media_.io_, [done = std::move(done), st] { done(st); });
    }
    void CollectStats(std::function<void(media::RtpTotals)> done) override {
      boost::asio::post(media_.io_, [done = std::move(done), t = media_.publish_totals] { done(t); });
    }
    void AttachInputs() override { log_->attached = true; }
    void Mute(TrackKind track, bool muted) override { log_->mutes.emplace_back(track, muted); }
    Status SetPreviewWindow(uint64_t) override { return {}; }
    Status SwapSource(TrackKind track, const std::string& source) override {
      log_->swaps.emplace_back(track, source);
      return media_.swap_error ? Status(*media_.swap_error) : Status();
    }
    // As the real one: two camera sections with dual stream and a camera.
    [[nodiscard]] int camera_layers() const override {
      return log_->options.dual_stream && log_->options.video ? 2 : 1;
    }
    void SetCameraLayer(size_t layer, bool active) override { log_->layers.emplace_back(layer, active); }

   private:
    FakeMedia& media_;
    std::shared_ptr<PublisherLog> log_;
  };

  class Subscriber final : public media::SubscribeConnection {
   public:
    Subscriber(FakeMedia& media, std::shared_ptr<SubscriberLog> log) : media_(media), log_(std::move(log)) {}
    ~Subscriber() override { log_->alive = false; }
    void ApplyOffer(const std::string& offer, std::function<void(Result<std::string>)> done) override {
      log_->offers.push_back(offer);
      Result<std::string> answer = media_.subscribe_error ? Result<std::string>(*media_.subscribe_error)
                                                          : Result<std::string>("answer to " + offer);
      boost::asio::post(media_.io_, [done = std::move(done), answer] { done(answer); });
    }
    void CollectStats(std::function<void(media::RtpTotals)> done) override {
      boost::asio::post(media_.io_, [done = std::move(done), t = media_.subscribe_totals] { done(t); });
    }
    void SetWindow(const std::string&, TrackKind, uint64_t) override {}
    void SetPlayoutDelay(int ms) override { log_->playout_delay_ms = ms; }

   private:
    FakeMedia& media_;
    std::shared_ptr<SubscriberLog> log_;
  };

  boost::asio::io_context& io_;
  Input input_;
};

}  // namespace parley::sdk::testing
