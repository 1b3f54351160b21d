/* libparley C ABI: opaque engine handles, callbacks with user data, and every call
 * guarded — a null or destroyed handle returns PARLEY_ERR_INVALID_STATE instead of
 * crashing, and no C++ exception crosses this boundary. Codes are the catalog's
 * (parley/parley_errors.h, docs/errors.md). Callbacks run on the engine's event
 * thread, except the frame callbacks, which run on a media thread. */
#ifndef PARLEY_H_
#define PARLEY_H_

#include <stddef.h>
#include <stdint.h>

#include "parley/parley_errors.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct parley_engine parley_engine;

enum { PARLEY_TRACK_AUDIO = 0, PARLEY_TRACK_CAMERA = 1, PARLEY_TRACK_SCREEN = 2 };
/* Which layer of a simulcast camera to receive (RtcEngine::SetRemoteVideoStreamType). */
enum { PARLEY_VIDEO_STREAM_BIG = 0, PARLEY_VIDEO_STREAM_SMALL = 1, PARLEY_VIDEO_STREAM_AUTO = 2 };
/* How a data message is sent (flags, or'ed), and the data connection's states. */
enum { PARLEY_DATA_TEXT = 1, PARLEY_DATA_UNRELIABLE = 2, PARLEY_DATA_UNORDERED = 4 };
enum {
  PARLEY_DATA_CHANNEL_CLOSED = 0,
  PARLEY_DATA_CHANNEL_CONNECTING = 1,
  PARLEY_DATA_CHANNEL_OPEN = 2,
  PARLEY_DATA_CHANNEL_FAILED = 3
};

/* Where the time to the first remote picture goes (on_startup_phase). */
enum {
  PARLEY_PHASE_JOINED = 0,
  PARLEY_PHASE_PUBLISH_ANSWERED = 1,
  PARLEY_PHASE_SUBSCRIBE_OFFERED = 2,
  PARLEY_PHASE_SUBSCRIBE_ANSWERED = 3,
  PARLEY_PHASE_ICE_CONNECTED = 4,
  PARLEY_PHASE_DTLS_CONNECTED = 5,
  PARLEY_PHASE_FIRST_RTP = 6,
  PARLEY_PHASE_FIRST_FRAME = 7
};
enum { PARLEY_CODEC_VP8 = 0, PARLEY_CODEC_H264 = 1 };
enum { PARLEY_ROLE_BROADCASTER = 0, PARLEY_ROLE_AUDIENCE = 1 };
enum {
  PARLEY_STATUS_DISCONNECTED = 0,
  PARLEY_STATUS_CONNECTING = 1,
  PARLEY_STATUS_CONNECTED = 2,
  PARLEY_STATUS_RECONNECTING = 3,
  PARLEY_STATUS_FAILED = 4
};
enum { PARLEY_FILE_PLAYING = 0, PARLEY_FILE_PAUSED = 1, PARLEY_FILE_ENDED = 2 };
/* The accompaniment's states (on_audio_accompany_state). */
enum {
  PARLEY_ACCOMPANY_STARTED = 0,
  PARLEY_ACCOMPANY_STOPPED = 1,
  PARLEY_ACCOMPANY_PAUSED = 2,
  PARLEY_ACCOMPANY_RESUMED = 3,
  PARLEY_ACCOMPANY_ENDED = 4,
  PARLEY_ACCOMPANY_FAILED = 5
};
enum { PARLEY_DEVICE_MICROPHONE = 0, PARLEY_DEVICE_SPEAKER = 1, PARLEY_DEVICE_CAMERA = 2 };
/* Network quality of one direction (on_network_quality), ARTC's scale: 0..5 grow
 * worse, 6 is "not measured yet". */
enum {
  PARLEY_QUALITY_EXCELLENT = 0,
  PARLEY_QUALITY_GOOD = 1,
  PARLEY_QUALITY_POOR = 2,
  PARLEY_QUALITY_BAD = 3,
  PARLEY_QUALITY_VERY_BAD = 4,
  PARLEY_QUALITY_DOWN = 5,
  PARLEY_QUALITY_UNKNOWN = 6
};
/* What gives way first when the network cannot carry the configured video. */
enum {
  PARLEY_DEGRADATION_MAINTAIN_FRAMERATE = 0,  /* keep fluency: smaller picture first (the default) */
  PARLEY_DEGRADATION_MAINTAIN_RESOLUTION = 1, /* keep clarity: lower frame rate first */
  PARLEY_DEGRADATION_BALANCED = 2             /* some of each, in turn */
};

/* Published audio (parley_engine_set_audio_profile); ARTC's numbers. */
enum {
  PARLEY_AUDIO_PROFILE_LOW_QUALITY = 0,              /* mono, narrowband, 12 kbps */
  PARLEY_AUDIO_PROFILE_BASIC_QUALITY = 1,            /* mono, wideband, 24 kbps */
  PARLEY_AUDIO_PROFILE_HIGH_QUALITY = 2,             /* mono, fullband, 32 kbps (the default) */
  PARLEY_AUDIO_PROFILE_STEREO_HIGH_QUALITY = 3,      /* stereo, fullband, 64 kbps */
  PARLEY_AUDIO_PROFILE_SUPER_HIGH_QUALITY = 4,       /* mono, fullband, 96 kbps */
  PARLEY_AUDIO_PROFILE_STEREO_SUPER_HIGH_QUALITY = 5 /* stereo, fullband, 128 kbps */
};
enum {
  PARLEY_AUDIO_SCENARIO_SPEECH = 0, /* voice coding, DTX, noise suppression and gain control */
  PARLEY_AUDIO_SCENARIO_MUSIC = 1   /* general-audio coding, no DTX, no noise suppression or gain control */
};

typedef struct parley_engine_config {
  const char* server_url;               /* "ws://host:port/v1/signal" or "http://host:port" (required) */
  const char* audio_source;             /* "test:tone[:Hz]", "test:silence", "null"; NULL = "test:tone" */
  const char* video_source;             /* "test:pattern", "test:bars", "null"; NULL = "test:pattern" */
  int width, height, fps, bitrate_kbps; /* 0 = defaults (640x360, 30 fps, 800 kbps) */
  int no_auto_publish;                  /* nonzero: do not publish on join */
  int no_auto_subscribe;                /* nonzero: do not subscribe to others */
  /* Added in 0.1 (zero / NULL = default): */
  int codec;                 /* PARLEY_CODEC_VP8 (default) or PARLEY_CODEC_H264 */
  const char* audio_playout; /* "null" (default), "auto", "device", "device:<sink>" */
  const char* record_dir;    /* record every received stream there (see EngineConfig) */
  int reconnect_timeout_ms;  /* 0 = 10000; negative: never reconnect */
  /* Added after 0.1.0 (zero = default): */
  int degradation_preference; /* PARLEY_DEGRADATION_*; others: PARLEY_ERR_PUBLISH_CONFIG_INVALID */
  /* A device microphone's processing, each on unless set nonzero: */
  int no_echo_cancellation, no_noise_suppression, no_auto_gain_control;
} parley_engine_config;

/* What a last-mile probe measured (on_last_mile_result). */
typedef struct parley_last_mile_result {
  int state; /* 1 complete, 2 incomplete, 3 unavailable */
  int rtt_ms;
  int up_loss_percent, up_jitter_ms, up_bandwidth_kbps;
  int down_loss_percent, down_jitter_ms, down_bandwidth_kbps;
} parley_last_mile_result;

typedef struct parley_callbacks {
  void* user_data;
  void (*on_join_result)(void* user_data, int32_t result, const char* channel_id, const char* user_id, int elapsed_ms);
  void (*on_leave_result)(void* user_data, int32_t result);
  void (*on_remote_user_online)(void* user_data, const char* user_id);
  void (*on_remote_user_offline)(void* user_data, const char* user_id, const char* reason);
  void (*on_error)(void* user_data, int32_t code, const char* message);
  void (*on_warning)(void* user_data, int32_t code, const char* message);
  /* I420, tightly packed; valid only during the call. */
  void (*on_remote_video_frame)(void* user_data, const char* user_id, int track, int width, int height,
                                int64_t timestamp_us, const uint8_t* data, size_t size);
  /* Interleaved S16; valid only during the call. */
  void (*on_remote_audio_frame)(void* user_data, const char* user_id, int sample_rate, int channels, size_t samples,
                                const int16_t* data);
  /* Added in 0.1: */
  void (*on_connection_status)(void* user_data, int status); /* PARLEY_STATUS_* */
  void (*on_remote_track)(void* user_data, const char* user_id, int track, int available);
  void (*on_publish_state)(void* user_data, int track, int published);
  void (*on_media_file_progress)(void* user_data, int64_t position_ms, int64_t duration_ms);
  void (*on_media_file_state)(void* user_data, int state); /* PARLEY_FILE_* */
  void (*on_recording_started)(void* user_data, const char* user_id, int track, const char* path);
  void (*on_bye)(void* user_data, const char* reason);
  /* Added after 0.1.0: a user's network quality changed (user_id "" is the local user);
   * up and down are PARLEY_QUALITY_*. */
  void (*on_network_quality)(void* user_data, const char* user_id, int up, int down);
  /* Added after 0.1.0: a message from another member (direct: to this user alone). */
  void (*on_message)(void* user_data, const char* from_user_id, const char* data, int direct);
  /* Added after 0.1.0: a remote user's display name or role (PARLEY_ROLE_*) changed. */
  void (*on_remote_user_updated)(void* user_data, const char* user_id, const char* user_name);
  void (*on_remote_role_changed)(void* user_data, const char* user_id, int role);
  /* Added after 0.1.0: a remote publisher's stopped media flows again. */
  void (*on_remote_stream_resumed)(void* user_data, const char* user_id);
  /* Added after 0.1.0: the call's token expires soon (Unix seconds) / has expired (the
   * session is removed in remove_in_ms unless parley_engine_refresh_token comes first). */
  void (*on_token_will_expire)(void* user_data, int64_t expires_at);
  void (*on_token_expired)(void* user_data, int64_t remove_in_ms);
  /* Added after 0.1.0: volumes (0..255) of `count` users; user_ids[i] "" is the local
   * microphone. Every interval set with parley_engine_enable_volume_indication. */
  void (*on_volume_indication)(void* user_data, const char* const* user_ids, const int* volumes, size_t count);
  /* The answer to parley_engine_take_snapshot: result 0 (the image is at path) or
   * PARLEY_ERR_SNAPSHOT_FAILED; user_id "" is the local camera. */
  void (*on_snapshot)(void* user_data, const char* user_id, int track, const char* path, int32_t result);
  /* A device (PARLEY_DEVICE_*) was added (added nonzero) to or removed from the system;
   * as RtcEngine's OnDeviceStateChanged. */
  void (*on_device_state)(void* user_data, int kind, const char* id, const char* name, int added);
  /* Every 200 ms while parley_engine_start_audio_capture_test runs: 0..255. */
  void (*on_audio_capture_test_level)(void* user_data, int volume);
  /* The accompaniment's state changed (PARLEY_ACCOMPANY_*; code nonzero with FAILED). */
  void (*on_audio_accompany_state)(void* user_data, int state, int32_t code);
  /* A last-mile probe ended: code 0 with quality (0..6, ARTC's scale) and result, or
   * why nothing was measured (quality 6, result zeros). */
  void (*on_last_mile_result)(void* user_data, int32_t code, int quality, const parley_last_mile_result* result);
  /* Added after 0.1.0: a data message from another member (PARLEY_DATA_* flags: how it
   * was sent), and the data connection's state (PARLEY_DATA_CHANNEL_*). */
  void (*on_data_message)(void* user_data, const char* from_user_id, const uint8_t* data, size_t size, int flags);
  void (*on_data_channel_state)(void* user_data, int state);
  /* Added after 0.1.0: the call reached a startup phase (PARLEY_PHASE_*), elapsed_ms
   * after parley_join_channel; each phase once per join. */
  void (*on_startup_phase)(void* user_data, int phase, int elapsed_ms);
} parley_callbacks;

/* A last-mile probe (as RtcEngine::StartLastMileDetect). */
typedef struct parley_last_mile_config {
  int probe_uplink, probe_downlink;                 /* nonzero: measured */
  int expected_uplink_kbps, expected_downlink_kbps; /* 100..10000 */
} parley_last_mile_config;

/* An audio file mixed into the published microphone (as RtcEngine::StartAudioAccompany). */
typedef struct parley_accompany_config {
  int local_play;  /* nonzero: heard through the local playout too */
  int replace_mic; /* nonzero: the microphone is not sent while the file plays */
  int loop_cycles; /* 1..; -1 for ever */
  int64_t start_position_ms;
  int publish_volume; /* 0..100 */
  int playout_volume; /* 0..100 */
} parley_accompany_config;

/* Creates an engine into *out. Errors: PARLEY_ERR_INVALID_AUTH_INFO for a missing
 * config/server_url/out, PARLEY_ERR_INIT_MISSING_PLUGIN, PARLEY_ERR_INIT_MEDIA_ENGINE_FAILED. */
int32_t parley_engine_create(const parley_engine_config* config, parley_engine** out);
/* Leaves if needed and frees the engine; the handle is dead afterwards (calls on it
 * return PARLEY_ERR_INVALID_STATE). NULL is ignored. */
void parley_engine_destroy(parley_engine* engine);
/* Copies the callbacks (any may be NULL). */
int32_t parley_engine_set_callbacks(parley_engine* engine, const parley_callbacks* callbacks);
/* Classic AuthInfo; the result arrives in on_join_result. nonce may be NULL or "". */
int32_t parley_engine_join(parley_engine* engine, const char* app_id, const char* channel_id, const char* user_id,
                           const char* nonce, int64_t timestamp, const char* token, const char* user_name);
/* A single-parameter token. */
int32_t parley_engine_join_token(parley_engine* engine, const char* token, const char* user_name);
int32_t parley_engine_leave(parley_engine* engine);
/* 1 in a call, 0 not, negative never. */
int parley_engine_is_in_call(parley_engine* engine);
int32_t parley_engine_publish_audio(parley_engine* engine, int enable);
int32_t parley_engine_publish_video(parley_engine* engine, int enable);
int32_t parley_engine_subscribe(parley_engine* engine, const char* user_id);
int32_t parley_engine_unsubscribe(parley_engine* engine, const char* user_id);
/* Some tracks only: `tracks` holds `count` PARLEY_TRACK_* values. */
int32_t parley_engine_subscribe_tracks(parley_engine* engine, const char* user_id, const int* tracks, size_t count);
int32_t parley_engine_unsubscribe_tracks(parley_engine* engine, const char* user_id, const int* tracks, size_t count);
int32_t parley_engine_mute_mic(parley_engine* engine, int mute);
int32_t parley_engine_mute_camera(parley_engine* engine, int mute);
/* A message (UTF-8, at most 4096 bytes) to the whole channel (to_user_id NULL or "")
 * or to one member; errors as RtcEngine::SendMessage. */
int32_t parley_engine_send_message(parley_engine* engine, const char* to_user_id, const char* data);
/* Data messages (RtcEngine::EnableDataMessages / SendDataMessage): enable nonzero opens
 * the data connection in a call (and at every join); a message of `size` bytes goes to
 * the channel (to_user_id NULL or "") or one member, flags PARLEY_DATA_* (0: bytes,
 * reliable, ordered). Errors as RtcEngine's. */
int32_t parley_engine_enable_data_messages(parley_engine* engine, int enable);
int32_t parley_engine_send_data_message(parley_engine* engine, const char* to_user_id, const void* data, size_t size,
                                        int flags);
/* The PARLEY_VIDEO_STREAM_* layer of user_id's simulcast camera to receive; user_id NULL
 * sets the default for every user without a type of their own. Errors as RtcEngine's. */
int32_t parley_engine_set_remote_video_stream_type(parley_engine* engine, const char* user_id, int type);
/* Dual stream (RtcEngine::EnableDualStreamMode; on by default): nonzero publishes the
 * camera as two layers, its own size and 320 px wide at 15 fps; zero as one stream. */
int32_t parley_engine_enable_dual_stream(parley_engine* engine, int enabled);
/* Volume indication every interval_ms (0 off; 100..60000), smoothed by smooth (0..9). */
int32_t parley_engine_enable_volume_indication(parley_engine* engine, int interval_ms, int smooth);
/* Playout volume 0..400 (100 as received) of everything, or of one remote user; and
 * one remote user's playout muted (nonzero) or not. Errors as RtcEngine's. */
int32_t parley_engine_set_playout_volume(parley_engine* engine, int volume);
/* PARLEY_AUDIO_PROFILE_* and PARLEY_AUDIO_SCENARIO_*, before joining or during a call
 * (as RtcEngine::SetAudioProfile); other values: PARLEY_ERR_PUBLISH_CONFIG_INVALID. */
int32_t parley_engine_set_audio_profile(parley_engine* engine, int profile, int scenario);
/* The next frame of a video track (PARLEY_TRACK_CAMERA / _SCREEN) of user_id (NULL or
 * "": the local camera) to path (.png, .jpg, .jpeg); the answer is on_snapshot. At
 * once: PARLEY_ERR_INVALID_FIELD, PARLEY_ERR_NOT_IN_CHANNEL (as RtcEngine::TakeSnapshot). */
int32_t parley_engine_take_snapshot(parley_engine* engine, const char* user_id, int track, const char* path);
/* Where published audio and camera video come from and remote audio goes, before or
 * during a call (ids as the config's; as RtcEngine::SetRecordingDevice and friends:
 * in place during a call where the media allows). */
int32_t parley_engine_set_recording_device(parley_engine* engine, const char* source);
int32_t parley_engine_set_camera_device(parley_engine* engine, const char* source);
int32_t parley_engine_set_playout_device(parley_engine* engine, const char* playout);
/* Device checks (as RtcEngine::StartAudioCaptureTest and friends): NULL or "" is the
 * configured microphone or speaker. */
int32_t parley_engine_start_audio_capture_test(parley_engine* engine, const char* source);
int32_t parley_engine_stop_audio_capture_test(parley_engine* engine);
int32_t parley_engine_start_audio_playout_test(parley_engine* engine, const char* playout);
int32_t parley_engine_stop_audio_playout_test(parley_engine* engine);
/* The accompaniment (as RtcEngine's): config NULL plays once, locally too, at full
 * volume. The getters write milliseconds (-1: none) to *out_ms. */
int32_t parley_engine_start_audio_accompany(parley_engine* engine, const char* path,
                                            const parley_accompany_config* config);
int32_t parley_engine_stop_audio_accompany(parley_engine* engine);
int32_t parley_engine_pause_audio_accompany(parley_engine* engine);
int32_t parley_engine_resume_audio_accompany(parley_engine* engine);
int32_t parley_engine_set_audio_accompany_volume(parley_engine* engine, int volume);
int32_t parley_engine_set_audio_accompany_publish_volume(parley_engine* engine, int volume);
int32_t parley_engine_set_audio_accompany_playout_volume(parley_engine* engine, int volume);
int32_t parley_engine_set_audio_accompany_position(parley_engine* engine, int64_t position_ms);
int32_t parley_engine_get_audio_accompany_duration(parley_engine* engine, int64_t* out_ms);
int32_t parley_engine_get_audio_accompany_position(parley_engine* engine, int64_t* out_ms);
/* A last-mile probe before joining with an access token (or an ARTC single-parameter
 * token); config NULL probes both directions at 1000 kbit/s. The result arrives in
 * on_last_mile_result. */
int32_t parley_engine_start_last_mile_detect(parley_engine* engine, const char* token,
                                             const parley_last_mile_config* config);
int32_t parley_engine_stop_last_mile_detect(parley_engine* engine);
int32_t parley_engine_set_remote_audio_volume(parley_engine* engine, const char* user_id, int volume);
int32_t parley_engine_mute_remote_audio_playing(parley_engine* engine, const char* user_id, int mute);
/* A new token (an access token or an ARTC single-parameter token) for the call in
 * progress; errors as RtcEngine::RefreshAuthInfo. */
int32_t parley_engine_refresh_token(parley_engine* engine, const char* token);
/* X11 screen (window_id 0) or one window; display NULL = $DISPLAY; sizes 0 = 1280x720 at 15 fps, 1500 kbps. */
int32_t parley_engine_start_screen_share(parley_engine* engine, const char* display, uint64_t window_id, int width,
                                         int height, int fps, int bitrate_kbps);
/* The screen share with every choice (as RtcEngine::StartScreenShare): a region
 * (region_width 0: all of it) and what the speakers play mixed into the audio track
 * (share_audio nonzero; audio_source NULL or "": the default output's monitor, or
 * "device:<pulse source>"). Zero sizes, fps and bitrate take the defaults. */
typedef struct parley_screen_share_config {
  const char* display;
  uint64_t window_id;
  int width, height, fps, bitrate_kbps;
  int region_x, region_y, region_width, region_height;
  int share_audio;
  const char* audio_source;
} parley_screen_share_config;
int32_t parley_engine_start_screen_share_with(parley_engine* engine, const parley_screen_share_config* config);
int32_t parley_engine_stop_screen_share(parley_engine* engine);
/* audio_source "external": interleaved S16; PARLEY_ERR_EXTERNAL_AUDIO_BUFFER_FULL when pushed faster than
 * real time (wait ~20 ms and push again; push at most 40 ms at once). */
int32_t parley_engine_push_audio(parley_engine* engine, const int16_t* pcm, size_t samples, int sample_rate,
                                 int channels);
/* video_source "external": one tightly packed I420 frame. */
int32_t parley_engine_push_video(parley_engine* engine, const uint8_t* i420, size_t size, int width, int height);
int32_t parley_engine_pause_media_file(parley_engine* engine);
int32_t parley_engine_resume_media_file(parley_engine* engine);
int32_t parley_engine_seek_media_file(parley_engine* engine, int64_t position_ms);
/* Render into an X11 window (0 stops). */
int32_t parley_engine_set_remote_canvas(parley_engine* engine, const char* user_id, int track, uint64_t window);
int32_t parley_engine_set_local_canvas(parley_engine* engine, uint64_t window);
/* The camera shown in the local canvas before it is published (as RtcEngine::StartPreview). */
int32_t parley_engine_start_preview(parley_engine* engine);
int32_t parley_engine_stop_preview(parley_engine* engine);

/* Calls `fn` for each device of a kind (PARLEY_DEVICE_*), then returns how many there were. */
int parley_enumerate_devices(int kind, void (*fn)(void* user_data, const char* id, const char* name, int is_default),
                             void* user_data);

/* What a screen share can capture on X display `display` (NULL or "": $DISPLAY): `fn`
 * for each screen (kind PARLEY_SCREEN_SOURCE_SCREEN, id its number) and each shown,
 * named top-level window (PARLEY_SCREEN_SOURCE_WINDOW, id its window id); returns how
 * many there were. */
enum { PARLEY_SCREEN_SOURCE_SCREEN = 0, PARLEY_SCREEN_SOURCE_WINDOW = 1 };
int parley_enumerate_screen_sources(const char* display,
                                    void (*fn)(void* user_data, int kind, uint64_t id, const char* title, int x, int y,
                                               int width, int height),
                                    void* user_data);

/* H5-compatible mode (on by default: browsers and native clients share channels; 0 joins
 * native-only channels). Set it while no engine exists; else 10501
 * (PARLEY_ERR_H5_COMPATIBLE_MODE_CONFIG). */
int32_t parley_set_h5_compatible_mode(int enable);
const char* parley_sdk_version(void);

#ifdef __cplusplus
}
#endif

#endif /* PARLEY_H_ */
