// Publishing a media file: which file the sources name ("file:<path>"), and the
// pause/resume/seek calls on its playback with the state change they cause.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "media/media.hpp"
#include "parley/proto/result.hpp"
#include "parley/types.hpp"

namespace parley::sdk::call {

[[nodiscard]] bool IsFileSource(const std::string& source);
[[nodiscard]] MediaFileState ToApi(media::FileState s);

/// The file to open for a publish, and which inputs it feeds.
struct FileToOpen {
  std::string path;
  bool feeds_audio = false;
  bool feeds_video = false;
  bool operator==(const FileToOpen&) const = default;
};
/// What a publish of audio (`audio`) and/or camera (`video`) needs opened: nothing
/// when neither of them comes from a file, else the one file (audio and video from
/// files must name the same file: kPublishConfigInvalid). The file feeds every input
/// whose source names it, whichever of them this publish asked for.
Result<std::optional<FileToOpen>> FileFor(const std::string& audio_source, const std::string& video_source, bool audio,
                                          bool video);

/// Runs `op` (Play, Pause, Seek) on `playback`: its error, or the state to report when
/// the call changed it.
Result<std::optional<MediaFileState>> RunFileOp(media::FilePlayback& playback,
                                                const std::function<Status(media::FilePlayback&)>& op);

}  // namespace parley::sdk::call
