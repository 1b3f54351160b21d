/* A client written against parley.h only (C11): joins with the token given on the
 * command line, waits for the other participant's video and audio, checks the
 * guarded calls, and exits 0 when all of it worked.
 *   c_abi_client <server-url> <single-token> <seconds> */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parley/parley.h"

static atomic_int joined = -1;
static atomic_int frames = 0;
static atomic_long audio_samples = 0;
static atomic_int width = 0;

static void on_join(void* ud, int32_t result, const char* ch, const char* user, int ms) {
  (void)ud;
  printf("join result 0x%08X channel %s user %s in %d ms\n", (unsigned)result, ch, user, ms);
  joined = result;
}
static void on_error(void* ud, int32_t code, const char* message) {
  (void)ud;
  printf("error 0x%08X %s\n", (unsigned)code, message);
}
static void on_video(void* ud, const char* user, int track, int w, int h, int64_t ts, const uint8_t* data,
                     size_t size) {
  (void)ud, (void)user, (void)track, (void)h, (void)ts, (void)data;
  if (size >= (size_t)w * (size_t)h) width = w;
  frames++;
}
static void on_audio(void* ud, const char* user, int rate, int ch, size_t samples, const int16_t* data) {
  (void)ud, (void)user, (void)rate, (void)ch, (void)data;
  audio_samples += (long)samples;
}

static atomic_int last_status = -1;
static atomic_int devices_seen = 0;
static void on_status(void* ud, int status) {
  (void)ud;
  last_status = status;
}
static atomic_int local_up = PARLEY_QUALITY_UNKNOWN;
static atomic_int local_down = PARLEY_QUALITY_UNKNOWN;
static void on_quality(void* ud, const char* user, int up, int down) {
  (void)ud;
  if (user[0] != '\0') return; /* a remote user's */
  local_up = up;
  local_down = down;
}
static atomic_int data_state = PARLEY_DATA_CHANNEL_CLOSED;
static atomic_int data_from_alice = 0;
static void on_data_state(void* ud, int state) {
  (void)ud;
  data_state = state;
}
static void on_data_message(void* ud, const char* from, const uint8_t* data, size_t size, int flags) {
  (void)ud;
  if (strcmp(from, "alice") == 0 && size == 4 && memcmp(data, "ping", 4) == 0 && (flags & PARLEY_DATA_TEXT))
    data_from_alice++;
}
static void on_device(void* ud, const char* id, const char* name, int is_default) {
  (void)ud, (void)is_default;
  if (id && *id && name && *name) devices_seen++;
}

static atomic_int accompany_state = -1;
static void on_accompany(void* ud, int state, int32_t code) {
  (void)ud, (void)code;
  accompany_state = state;
}

/* A second of a 1 kHz tone, 48 kHz mono S16 WAV, at `path`; 0 on success. */
static int write_wav(const char* path) {
  FILE* f = fopen(path, "wb");
  if (!f) return -1;
  const uint32_t rate = 48000, samples = 48000, bytes = samples * 2;
  uint8_t h[44] = "RIFF\0\0\0\0WAVEfmt \x10\0\0\0\x01\0\x01\0";
  uint32_t v[] = {36 + bytes, rate, rate * 2};
  memcpy(h + 4, &v[0], 4);
  memcpy(h + 24, &v[1], 4);
  memcpy(h + 28, &v[2], 4);
  h[32] = 2, h[33] = 0, h[34] = 16, h[35] = 0;
  memcpy(h + 36, "data", 4);
  memcpy(h + 40, &bytes, 4);
  fwrite(h, 1, sizeof h, f);
  for (uint32_t i = 0; i < samples; i++) {
    int16_t s = (i % 48) < 24 ? 8000 : -8000; /* a 1 kHz square wave */
    fwrite(&s, 2, 1, f);
  }
  return fclose(f);
}

static void sleep_ms(int ms) {
  struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&t, NULL);
}

int main(int argc, char** argv) {
  if (argc != 4) return 2;
  int failures = 0;
#define CHECK(cond)                                    \
  do {                                                 \
    if (!(cond)) {                                     \
      printf("FAILED: %s (line %d)\n", #cond, __LINE__); \
      failures++;                                      \
    }                                                  \
  } while (0)

  parley_engine* bogus = (parley_engine*)(uintptr_t)0x1234;
  CHECK(parley_engine_leave(bogus) == PARLEY_ERR_INVALID_STATE);
  CHECK(parley_engine_leave(NULL) == PARLEY_ERR_INVALID_STATE);
  parley_engine* e = NULL;
  CHECK(parley_engine_create(NULL, &e) == PARLEY_ERR_INVALID_AUTH_INFO);

  parley_engine_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.server_url = argv[1];
  cfg.audio_source = "test:tone:660";
  cfg.width = 320;
  cfg.height = 240;
  cfg.fps = 15;
  /* A degradation preference that is none of the three is refused. */
  cfg.degradation_preference = 3;
  CHECK(parley_engine_create(&cfg, &e) == PARLEY_ERR_PUBLISH_CONFIG_INVALID);
  cfg.degradation_preference = -1;
  CHECK(parley_engine_create(&cfg, &e) == PARLEY_ERR_PUBLISH_CONFIG_INVALID);
  CHECK(e == NULL);
  cfg.degradation_preference = PARLEY_DEGRADATION_MAINTAIN_RESOLUTION;
  CHECK(parley_engine_create(&cfg, &e) == PARLEY_ERR_OK);
  if (!e) return 1;
  CHECK(parley_set_h5_compatible_mode(1) == PARLEY_ERR_H5_COMPATIBLE_MODE_CONFIG);
  CHECK(parley_engine_set_audio_profile(e, 6, PARLEY_AUDIO_SCENARIO_SPEECH) == PARLEY_ERR_PUBLISH_CONFIG_INVALID);
  CHECK(parley_engine_set_audio_profile(e, PARLEY_AUDIO_PROFILE_LOW_QUALITY, 2) == PARLEY_ERR_PUBLISH_CONFIG_INVALID);
  CHECK(parley_engine_set_audio_profile(NULL, 0, 0) == PARLEY_ERR_INVALID_STATE);
  /* The camera goes as two layers (dual stream) in this call. */
  CHECK(parley_engine_enable_dual_stream(NULL, 1) == PARLEY_ERR_INVALID_STATE);
  CHECK(parley_engine_enable_dual_stream(e, 1) == PARLEY_ERR_OK);
  CHECK(parley_engine_take_snapshot(e, "x", PARLEY_TRACK_AUDIO, "x.png") == PARLEY_ERR_INVALID_FIELD);
  CHECK(parley_engine_take_snapshot(e, "x", PARLEY_TRACK_CAMERA, NULL) == PARLEY_ERR_INVALID_FIELD);
  CHECK(parley_engine_take_snapshot(e, "x", PARLEY_TRACK_CAMERA, "x.png") == PARLEY_ERR_NOT_IN_CHANNEL);
  /* Device choices: the form is checked at once; a valid one before joining is what
   * the call publishes with. */
  CHECK(parley_engine_set_recording_device(e, "test:pattern") == PARLEY_ERR_PUBLISH_CONFIG_INVALID);
  CHECK(parley_engine_set_camera_device(e, NULL) == PARLEY_ERR_PUBLISH_CONFIG_INVALID);
  CHECK(parley_engine_set_playout_device(e, "test:tone") == PARLEY_ERR_PUBLISH_CONFIG_INVALID);
  CHECK(parley_engine_set_recording_device(e, "test:tone:500") == PARLEY_ERR_OK);
  CHECK(parley_engine_set_camera_device(e, "test:bars") == PARLEY_ERR_OK);
  CHECK(parley_engine_set_playout_device(e, "null") == PARLEY_ERR_OK);
  CHECK(parley_engine_start_audio_capture_test(e, "auto") == PARLEY_ERR_PUBLISH_CONFIG_INVALID);
  CHECK(parley_engine_start_audio_playout_test(e, "test:tone") == PARLEY_ERR_PUBLISH_CONFIG_INVALID);
  /* The default profile, set explicitly: the call publishes as before. */
  CHECK(parley_engine_set_audio_profile(e, PARLEY_AUDIO_PROFILE_HIGH_QUALITY, PARLEY_AUDIO_SCENARIO_SPEECH) ==
        PARLEY_ERR_OK);
  parley_callbacks cb;
  memset(&cb, 0, sizeof cb);
  cb.on_join_result = on_join;
  cb.on_error = on_error;
  cb.on_remote_video_frame = on_video;
  cb.on_remote_audio_frame = on_audio;
  cb.on_connection_status = on_status;
  cb.on_network_quality = on_quality;
  cb.on_audio_accompany_state = on_accompany;
  cb.on_data_message = on_data_message;
  cb.on_data_channel_state = on_data_state;
  CHECK(parley_engine_set_callbacks(e, &cb) == PARLEY_ERR_OK);
  /* Devices: at least the synthetic ones; bad kinds and calls out of state are codes. */
  CHECK(parley_enumerate_devices(PARLEY_DEVICE_MICROPHONE, on_device, NULL) >= 3);
  CHECK(devices_seen >= 3);
  CHECK(parley_enumerate_devices(7, on_device, NULL) == 0);
  CHECK(parley_enumerate_screen_sources(":77", NULL, NULL) == 0); /* no X server there */
  CHECK(parley_engine_start_screen_share_with(e, NULL) == PARLEY_ERR_PUBLISH_CONFIG_INVALID);
  {
    parley_screen_share_config sc;
    memset(&sc, 0, sizeof sc);
    sc.region_width = 15; /* odd */
    sc.region_height = 100;
    CHECK(parley_engine_start_screen_share_with(e, &sc) == PARLEY_ERR_PUBLISH_CONFIG_INVALID);
  }
  CHECK(parley_engine_push_audio(e, NULL, 0, 48000, 1) == PARLEY_ERR_PUBLISH_CONFIG_INVALID);
  CHECK(parley_engine_pause_media_file(e) == PARLEY_ERR_PUBLISH_STREAM_NOT_EXIST);
  CHECK(parley_engine_stop_screen_share(e) == PARLEY_ERR_NOT_IN_CHANNEL);
  {
    int bad[2] = {PARLEY_TRACK_AUDIO, 9};
    CHECK(parley_engine_subscribe_tracks(e, "x", bad, 2) == PARLEY_ERR_SUBSCRIBE_CONFIG_INVALID);
  }
  /* AuthInfo with an empty field: refused before any network I/O. */
  CHECK(parley_engine_join(e, "app", "", "u", NULL, 10, "t", "x") == PARLEY_ERR_INVALID_AUTH_INFO);
  CHECK(parley_engine_join_token(e, argv[2], "c-client") == PARLEY_ERR_OK);
  int seconds = atoi(argv[3]);
  int i = 0;
  for (; i < seconds * 10 && (frames < 20 || audio_samples < 48000); i++) sleep_ms(100);
  sleep_ms(2000); /* stay a little so the other side receives us too */
  printf("joined %d frames %d width %d audio %ld samples in call %d\n", joined, frames, width, audio_samples,
         parley_engine_is_in_call(e));
  CHECK(joined == 0);
  CHECK(frames >= 20);
  CHECK(width == 320);
  CHECK(audio_samples >= 48000);
  CHECK(parley_engine_is_in_call(e) == 1);
  CHECK(last_status == PARLEY_STATUS_CONNECTED);
  /* The local quality is measured from the second stats interval on (4 s after join). */
  for (i = 0; i < 100 && local_up == PARLEY_QUALITY_UNKNOWN; i++) sleep_ms(100);
  printf("local network quality up %d down %d\n", local_up, local_down);
  CHECK(local_up >= PARLEY_QUALITY_EXCELLENT && local_up <= PARLEY_QUALITY_DOWN);
  CHECK(local_down >= PARLEY_QUALITY_EXCELLENT && local_down <= PARLEY_QUALITY_UNKNOWN);
  /* The accompaniment: refused at once with nothing playing, a bad config or no file;
   * then a second of tone, played at publish volume 0 (the other side measures the
   * microphone's tone). */
  {
    char wav[64];
    snprintf(wav, sizeof wav, "/tmp/parley-c-abi-%ld.wav", (long)time(NULL));
    CHECK(write_wav(wav) == 0);
    parley_accompany_config ac = {0, 0, 0, 0, 100, 100};
    int64_t ms = 0;
    CHECK(parley_engine_pause_audio_accompany(e) == PARLEY_ERR_INVALID_STATE);
    CHECK(parley_engine_start_audio_accompany(e, wav, &ac) == PARLEY_ERR_PUBLISH_CONFIG_INVALID);
    CHECK(parley_engine_start_audio_accompany(e, "/nonexistent.wav", NULL) == PARLEY_ERR_MEDIA_FILE_OPEN_FAILED);
    ac.loop_cycles = 1;
    ac.publish_volume = 0;
    CHECK(parley_engine_start_audio_accompany(e, wav, &ac) == PARLEY_ERR_OK);
    for (i = 0; i < 50 && accompany_state != PARLEY_ACCOMPANY_STARTED; i++) sleep_ms(100);
    CHECK(accompany_state == PARLEY_ACCOMPANY_STARTED);
    CHECK(parley_engine_get_audio_accompany_duration(e, &ms) == PARLEY_ERR_OK);
    CHECK(ms >= 990 && ms <= 1010);
    CHECK(parley_engine_set_audio_accompany_volume(e, 101) == PARLEY_ERR_PUBLISH_CONFIG_INVALID);
    CHECK(parley_engine_get_audio_accompany_position(e, NULL) == PARLEY_ERR_INVALID_AUTH_INFO);
    for (i = 0; i < 50 && accompany_state != PARLEY_ACCOMPANY_ENDED; i++) sleep_ms(100);
    CHECK(accompany_state == PARLEY_ACCOMPANY_ENDED);
    CHECK(parley_engine_get_audio_accompany_position(e, &ms) == PARLEY_ERR_OK);
    CHECK(ms == -1);
    remove(wav);
  }
  /* Data messages: refused before the data connection is open, then both ways with
   * alice (who sends "ping" until the test ends). */
  {
    static char big[64 * 1024 + 1];
    CHECK(parley_engine_send_data_message(e, NULL, "x", 1, 0) == PARLEY_ERR_DATA_CHANNEL_NOT_OPEN);
    CHECK(parley_engine_enable_data_messages(e, 1) == PARLEY_ERR_OK);
    for (i = 0; i < 100 && data_state != PARLEY_DATA_CHANNEL_OPEN; i++) sleep_ms(100);
    CHECK(data_state == PARLEY_DATA_CHANNEL_OPEN);
    CHECK(parley_engine_send_data_message(e, NULL, big, sizeof big, 0) == PARLEY_ERR_DATA_MESSAGE_TOO_LARGE);
    CHECK(parley_engine_send_data_message(e, "nobody", "x", 1, 0) == PARLEY_ERR_DATA_USER_NOT_IN_CHANNEL);
    CHECK(parley_engine_send_data_message(e, NULL, "hello over data", 15, PARLEY_DATA_TEXT) == PARLEY_ERR_OK);
    CHECK(parley_engine_send_data_message(e, "alice", "\x01\x02", 2, PARLEY_DATA_UNRELIABLE | PARLEY_DATA_UNORDERED) ==
          PARLEY_ERR_OK);
    for (i = 0; i < 100 && data_from_alice == 0; i++) sleep_ms(100);
    printf("data connection %d, %d pings from alice\n", data_state, data_from_alice);
    CHECK(data_from_alice > 0);
  }
  CHECK(parley_engine_mute_mic(e, 1) == PARLEY_ERR_OK);
  CHECK(parley_engine_leave(e) == PARLEY_ERR_OK);
  parley_engine_destroy(e);
  /* The handle is dead now: guarded, not a crash. */
  CHECK(parley_engine_leave(e) == PARLEY_ERR_INVALID_STATE);
  CHECK(parley_engine_is_in_call(e) == -1);
  parley_engine_destroy(e);
  printf("%s (sdk %s)\n", failures ? "FAILED" : "ok", parley_sdk_version());
  return failures ? 1 : 0;
}
