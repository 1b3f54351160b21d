// What `parley join` shows a person: the network quality as bars and a word, a media
// file's progress as a bar, and the words its options take.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "parley/proto/result.hpp"
#include "parley/types.hpp"

namespace parley::cli {

/// The SDK's quality (0 excellent .. 4 very bad, 5 down, 6 not measured) as a word.
const char* QualityWord(int q);
/// "▮▮▮▮ excellent": bars (more is better) and the word; "— (measuring)" before a grade.
std::string QualityText(int q);
/// "[#########-----------] 0:42 / 1:30" for a published media file ("file 0:42" when
/// its duration is unknown).
std::string ProgressBar(int64_t position_ms, int64_t duration_ms);
/// --degradation's words for the public preference (nullopt: not given).
std::optional<DegradationPreference> ParseDegradation(const std::string& word);
/// The names --role and --profile accept: the protocol's, not a copy of them.
std::vector<std::string> RoleNames();
std::vector<std::string> ProfileNames();
/// --audio's words: low, basic, high, stereo-high, super-high, stereo-super-high.
const std::vector<std::string>& AudioProfileNames();
/// One of AudioProfileNames (else the default, high).
AudioProfile ParseAudioProfile(const std::string& word);
/// --screen-region's "X,Y,WxH" into `c` (when not null); false, `c` untouched, for
/// anything else.
bool ParseRegion(const std::string& text, ScreenShareConfig* c);
/// The join failed: one message that names the cause, the codes, and the fix.
void PrintJoinFailure(const Error& error, const std::string& server);

}  // namespace parley::cli
