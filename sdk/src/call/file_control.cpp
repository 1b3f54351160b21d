#include "call/file_control.hpp"

namespace parley::sdk::call {

bool IsFileSource(const std::string& source) {
  return source.rfind("file:", 0) == 0;
}

MediaFileState ToApi(media::FileState s) {
  return s == media::FileState::kPlaying  ? MediaFileState::kPlaying
         : s == media::FileState::kPaused ? MediaFileState::kPaused
                                          : MediaFileState::kEnded;
}

Result<std::optional<FileToOpen>> FileFor(const std::string& audio_source, const std::string& video_source, bool audio,
                                          bool video) {
  bool audio_file = IsFileSource(audio_source), video_file = IsFileSource(video_source);
  bool want_audio = audio && audio_file, want_video = video && video_file;
  if (!want_audio && !want_video) return std::optional<FileToOpen>();
  if (audio_file && video_file && audio_source != video_source)
    return MakeError(Errc::kPublishConfigInvalid, "audio and video from files must come from the same file");
  return std::optional<FileToOpen>(
      FileToOpen{(want_audio ? audio_source : video_source).substr(5), audio_file, video_file});
}

Result<std::optional<MediaFileState>> RunFileOp(media::FilePlayback& playback,
                                                const std::function<Status(media::FilePlayback&)>& op) {
  media::FileState before = playback.state();
  if (Status st = op(playback); !st) return st.error();
  if (playback.state() == before) return std::optional<MediaFileState>();
  return std::optional<MediaFileState>(ToApi(playback.state()));
}

}  // namespace parley::sdk::call
