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

typedef struct parley_engine_config {
  const char* server_url;               /* "ws://host:port/v1/signal" or "http://host:port" (required) */
  const char* audio_source;             /* "test:tone[:Hz]", "test:silence", "null"; NULL = "test:tone" */
  const char* video_source;             /* "test:pattern", "test:bars", "null"; NULL = "test:pattern" */
  int width, height, fps, bitrate_kbps; /* 0 = defaults (640x360, 30 fps, 800 kbps) */
  int no_auto_publish;                  /* nonzero: do not publish on join */
  int no_auto_subscribe;                /* nonzero: do not subscribe to others */
} parley_engine_config;

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
} parley_callbacks;

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

/* Before the first parley_engine_create; later: 10501 (PARLEY_ERR_H5_COMPATIBLE_MODE_CONFIG). */
int32_t parley_set_h5_compatible_mode(int enable);
const char* parley_sdk_version(void);

#ifdef __cplusplus
}
#endif

#endif /* PARLEY_H_ */
