#include "call/accompany.hpp"

#include <utility>

namespace parley::sdk::call {

bool ValidAccompanyConfig(const AudioAccompanyConfig& c) {
  auto volume = [](int v) { return v >= 0 && v <= 100; };
  return volume(c.publish_volume) && volume(c.playout_volume) && (c.loop_cycles >= 1 || c.loop_cycles == -1) &&
         c.start_position_ms >= 0;
}

void AccompanyControl::Tell(AudioAccompanyState state, int32_t code) {
  listener_.Notify([state, code](EngineEventListener& l) { l.OnAudioAccompanyStateChanged(state, code); });
}

void AccompanyControl::Drop() {
  std::shared_ptr<media::Accompaniment> gone;
  {
    std::lock_guard<std::mutex> lock(mu_);
    gone = std::move(playing_);
  }
  ++gen_;
  paused_ = false;
  gone.reset();  // outside the lock: its threads stop
}

void AccompanyControl::Start(const std::string& path, const AudioAccompanyConfig& c) {
  Drop();  // one at a time: the mix has one writer
  media::AccompanyOptions o;
  o.path = path;
  o.playout = config_.audio_playout;
  o.local_play = c.local_play;
  o.replace_mic = c.replace_mic;
  o.loop_cycles = c.loop_cycles;
  o.start_ms = c.start_position_ms;
  o.publish_volume = publish_volume_ = c.publish_volume;
  o.playout_volume = playout_volume_ = c.playout_volume;
  const uint64_t gen = gen_;
  auto a = media_.StartAccompaniment(
      o,
      [this, gen] {
        listener_.Post([this, gen] {
          if (gen != gen_) return;
          Drop();
          active_ = false;
          Tell(AudioAccompanyState::kEnded);
        });
      },
      [this, gen](int32_t code, const std::string& m) {
        listener_.Post([this, gen, code, m] {
          if (gen != gen_) return;
          Drop();
          active_ = false;
          Tell(AudioAccompanyState::kFailed, code);
          listener_.Error(code, m);
        });
      });
  if (!a) {
    active_ = false;
    Tell(AudioAccompanyState::kFailed, a.error().value());
    listener_.Error(a.error().value(), a.error().message);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    playing_ = std::move(*a);
  }
  active_ = true;
  Tell(AudioAccompanyState::kStarted);
}

void AccompanyControl::Stop() {
  const bool had = static_cast<bool>(playing_);
  Drop();
  active_ = false;
  if (had) Tell(AudioAccompanyState::kStopped);
}

void AccompanyControl::Pause() {
  if (!playing_ || paused_) return;
  if (Status st = playing_->Pause(); !st) return listener_.Error(st.error().value(), st.error().message);
  paused_ = true;
  Tell(AudioAccompanyState::kPaused);
}

void AccompanyControl::Resume() {
  if (!playing_ || !paused_) return;
  if (Status st = playing_->Resume(); !st) return listener_.Error(st.error().value(), st.error().message);
  paused_ = false;
  Tell(AudioAccompanyState::kResumed);
}

void AccompanyControl::Seek(int64_t position_ms) {
  if (!playing_) return;
  if (Status st = playing_->Seek(position_ms); !st) listener_.Error(st.error().value(), st.error().message);
}

void AccompanyControl::SetVolumes(int publish, int playout) {
  if (publish >= 0) publish_volume_ = publish;
  if (playout >= 0) playout_volume_ = playout;
  if (playing_) playing_->SetVolumes(publish_volume_, playout_volume_);
}

int64_t AccompanyControl::PositionMs() const {
  std::lock_guard<std::mutex> lock(mu_);
  return playing_ ? playing_->PositionMs() : -1;
}

int64_t AccompanyControl::DurationMs() const {
  std::lock_guard<std::mutex> lock(mu_);
  return playing_ ? playing_->DurationMs() : -1;
}

}  // namespace parley::sdk::call
