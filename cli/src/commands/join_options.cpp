// parley join's command line: every option, bound to JoinOptions, and the checks
// CLI11 makes before the command runs.
#include <fmt/core.h>

#include <memory>

#include "commands/common.hpp"
#include "commands/join_options.hpp"
#include "commands/join_words.hpp"

namespace parley::cli {

void RegisterJoinCommand(CLI::App& app, Runner* runner) {
  auto o = std::make_shared<JoinOptions>();
  auto* cmd = app.add_subcommand("join", "Join a channel as a real client (libparley + GStreamer test media)");
  AddServerOptions(cmd, false);
  cmd->add_option("--token", o->token, "An access token (parley token; carries app, channel, user and expiry)");
  cmd->add_option("--app-id", Globals().app_id, "AppId, with --app-key: a token is minted here (env PARLEY_APP_ID)");
  cmd->add_option("--app-key", Globals().app_key,
                  "AppKey, for testing only: never put it in a real client (env PARLEY_APP_KEY)");
  cmd->add_option("--channel", o->channel, "Channel id");
  cmd->add_option("--user", o->user, "User id");
  cmd->add_option("--user-name", o->user_name, "Display name (default: the user id)");
  cmd->add_option("--nonce", o->nonce, "Nonce for a minted token");
  cmd->add_option("--role", o->role, "broadcaster or audience")->check(CLI::IsMember(RoleNames()));
  cmd->add_option("--profile", o->profile, "communication or interactive-live")->check(CLI::IsMember(ProfileNames()));
  cmd->add_option("--publish", o->publish, "What to publish: any of audio,video,screen (empty: nothing)")
      ->capture_default_str();
  cmd->add_option("--screen-display", o->screen_display, "X display to share with --publish screen (default $DISPLAY)");
  cmd->add_option("--screen-window", o->screen_window, "X window id to share instead of the whole screen");
  cmd->add_option("--screen-region", o->screen_region, "X,Y,WxH: share that region of the screen or window")
      ->check([](const std::string& v) { return ParseRegion(v, nullptr) ? "" : "expected X,Y,WxH, e.g. 0,0,640x360"; });
  cmd->add_flag("--screen-audio", o->screen_audio, "Share what the speakers play (PulseAudio monitor) with the screen");
  cmd->add_option("--record", o->record_dir,
                  "Write every received stream to DIR (Opus .ogg, VP8 .webm, H.264 .mkv; finished on leave)");
  cmd->add_option("--speaker", o->speaker, "Play received audio: null, auto, device or device:<PulseAudio sink>")
      ->capture_default_str();
  cmd->add_option("--source", o->source,
                  "test (tone + pattern), file:PATH (a wav/mp3/mp4/mkv/webm file's audio and video), "
                  "device[:ID] (camera /dev/videoN via v4l2, microphone via PulseAudio)");
  cmd->add_option("--audio-source", o->audio_source, "test:tone, test:tone:<Hz>, test:silence")->capture_default_str();
  cmd->add_option("--video-source", o->video_source, "test:pattern or test:bars")->capture_default_str();
  cmd->add_option("--ice-address", o->ice_addresses,
                  "A local address media may use (repeatable; default: 127.0.0.1 for a server on loopback, else every "
                  "local address)");
  cmd->add_flag("--relay-only", o->relay_only,
                "Media only through the TURN relays the server hands out (the server's --turn-url)");
  cmd->add_option("--codec", o->codec, "vp8 or h264")->check(CLI::IsMember({"vp8", "h264"}));
  cmd->add_option("--degradation", o->degradation,
                  "What gives way first on a weak network: fluency (smaller picture; the camera's default), "
                  "clarity (lower frame rate; the screen's default) or balanced")
      ->check(CLI::IsMember({"fluency", "clarity", "balanced"}));
  cmd->add_option("--width", o->width, "Video width")->capture_default_str();
  cmd->add_option("--height", o->height, "Video height")->capture_default_str();
  cmd->add_option("--fps", o->fps, "Video frame rate")->capture_default_str();
  cmd->add_option("--bitrate", o->bitrate_kbps, "Video bitrate, kbps")->capture_default_str();
  cmd->add_flag("--no-subscribe", o->no_subscribe, "Do not subscribe to anyone");
  cmd->add_option("--video-stream", o->video_stream,
                  "Which layer of others' dual-stream cameras to receive: big, small or auto (default)")
      ->check(CLI::IsMember({"big", "small", "auto"}));
  cmd->add_flag("--dual-stream,!--no-dual-stream", o->dual_stream,
                "Publish the camera as two layers, its own size and a small one (320 px wide, 15 fps), for "
                "subscribers that ask for it (the default; the server pauses a layer nobody watches), or as one");
  cmd->add_flag("--no-audio-processing", o->no_audio_processing,
                "A device microphone without echo cancellation, noise suppression and gain control");
  cmd->add_option("--audio", o->audio_profile,
                  "Audio profile: low, basic, high (mono 12/24/32 kbps), stereo-high, "
                  "super-high, stereo-super-high (64/96/128 kbps)")
      ->check(CLI::IsMember(AudioProfileNames()));
  cmd->add_flag("--music", o->music, "Music: general-audio Opus, no DTX, no noise suppression or gain control");
  cmd->add_option("--accompany", o->accompany, "An audio file (wav, mp3, ogg …) mixed into the published microphone");
  cmd->add_option("--accompany-loops", o->accompany_loops, "How many times the --accompany file plays (-1: for ever)")
      ->check(CLI::Range(-1, 1000000))
      ->capture_default_str();
  cmd->add_option("--message", o->messages,
                  "A message to send once joined (repeatable; \"@USER text\" goes to that user alone)");
  cmd->add_option("--token-ttl", o->token_ttl,
                  "Seconds a token minted here from --app-key is valid; it is renewed before it expires")
      ->check(CLI::Range(int64_t{10}, int64_t{48} * 3600))
      ->capture_default_str();
  cmd->add_flag("--data", o->data, "Open the data connection and print the data messages that arrive");
  cmd->add_option("--data-message", o->data_messages,
                  "A data message (text, reliable and ordered) to send once the data connection opens "
                  "(repeatable; \"@USER text\" goes to that user alone; implies --data)");
  cmd->add_flag("--chat", o->chat, "Send each line typed on standard input as a message (\"@USER text\": to one user)");
  cmd->add_flag("--h5,!--no-h5", o->h5,
                "H5-compatible mode (the default): share the channel with browsers; --no-h5 joins a native-only "
                "channel");
  cmd->add_option("--log-level", o->log_level, "The SDK's own log: trace, debug, info, warn, error, off")
      ->capture_default_str();
  cmd->add_option("--duration", o->duration, "Leave after this many seconds (default: until Ctrl-C)");
  AddJsonFlag(cmd, "One JSON event per line");
  cmd->callback([o, runner] {
    *runner = [o] {
      const GlobalOptions& g = Globals();
      if (o->token.empty() && (g.app_id.empty() || g.app_key.empty() || o->channel.empty() || o->user.empty())) {
        fmt::print(stderr,
                   "parley join: give --token, or --channel and --user with --app-id and --app-key (or "
                   "PARLEY_APP_ID and PARLEY_APP_KEY)\n");
        return kExitUsage;
      }
      return RunJoin(*o);
    };
  });
}

}  // namespace parley::cli
