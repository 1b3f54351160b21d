#include "impairment.hpp"

#include <fmt/core.h>
#include <charconv>
#include <cmath>

namespace parley::netlab {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

bool Number(std::string_view s, double* out) {
  if (s.empty() || s.size() > 32) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size() && std::isfinite(*out);
}

// "10%" -> 0.1; only percentages, so that "0.1" and "10" cannot be confused.
bool Percent(std::string_view s, double* out) {
  if (s.size() < 2 || s.back() != '%') return false;
  double v = 0;
  if (!Number(s.substr(0, s.size() - 1), &v) || v < 0 || v > 100) return false;
  *out = v / 100;
  return true;
}

// "40ms", "2s" -> milliseconds, at most a minute.
bool Millis(std::string_view s, uint32_t* out) {
  double v = 0, scale = 1;
  if (s.size() > 2 && s.substr(s.size() - 2) == "ms") {
    s.remove_suffix(2);
  } else if (s.size() > 1 && s.back() == 's') {
    s.remove_suffix(1);
    scale = 1000;
  } else {
    return false;
  }
  if (!Number(s, &v) || v < 0 || v * scale > 60000) return false;
  *out = static_cast<uint32_t>(std::lround(v * scale));
  return true;
}

// "300k" -> 300000 with unit 1000, "64k" -> 65536 with unit 1024.
bool Amount(std::string_view s, double unit, double lo, double hi, uint64_t* out) {
  double scale = 1;
  if (!s.empty() && (s.back() == 'k' || s.back() == 'K')) {
    scale = unit;
    s.remove_suffix(1);
  } else if (!s.empty() && (s.back() == 'm' || s.back() == 'M')) {
    scale = unit * unit;
    s.remove_suffix(1);
  }
  double v = 0;
  if (!Number(s, &v) || v * scale < lo || v * scale > hi) return false;
  *out = static_cast<uint64_t>(std::llround(v * scale));
  return true;
}

std::string Pct(double fraction) {
  return fmt::format("{:.4g}%", fraction * 100);
}

std::string Rate(uint64_t bps) {
  if (bps % 1000000 == 0) return fmt::format("{}m", bps / 1000000);
  if (bps % 1000 == 0) return fmt::format("{}k", bps / 1000);
  return std::to_string(bps);
}

}  // namespace

std::optional<Impairment> ParseImpairment(std::string_view spec, std::string* error) {
  Impairment out;
  auto fail = [&](std::string_view item, const char* why) -> std::optional<Impairment> {
    if (error) *error = fmt::format("{}: {}", item, why);
    return std::nullopt;
  };
  spec = Trim(spec);
  if (spec.size() > 1024) return fail("spec", "longer than 1024 characters");
  if (spec.empty() || spec == "good") return out;
  while (!spec.empty()) {
    size_t comma = spec.find(',');
    std::string_view item = Trim(spec.substr(0, comma));
    spec = comma == std::string_view::npos ? std::string_view{} : spec.substr(comma + 1);
    size_t eq = item.find('=');
    std::string_view key = item.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? std::string_view{} : item.substr(eq + 1);
    bool has_value = eq != std::string_view::npos;
    if (key == "reorder" || key == "down") {
      if (has_value) return fail(item, "takes no value");
      (key == "reorder" ? out.reorder : out.down) = true;
    } else if (!has_value) {
      return fail(item, "expected key=value (loss, burst, delay, jitter, dup, rate, queue) or reorder, down");
    } else if (key == "loss") {
      if (!Percent(value, &out.loss)) return fail(item, "expected a percentage, e.g. loss=10%");
    } else if (key == "dup") {
      if (!Percent(value, &out.duplicate)) return fail(item, "expected a percentage, e.g. dup=1%");
    } else if (key == "burst") {
      // mean loss / mean burst length in packets
      size_t slash = value.find('/');
      double mean = 0, length = 0;
      if (slash == std::string_view::npos || !Percent(value.substr(0, slash), &mean) ||
          !Number(value.substr(slash + 1), &length) || length < 1 || length > 1000 || mean >= 1)
        return fail(item, "expected mean loss and mean burst length, e.g. burst=5%/4");
      out.burst_r = 1 / length;
      out.burst_p = mean * out.burst_r / (1 - mean);
    } else if (key == "delay") {
      if (!Millis(value, &out.delay_ms)) return fail(item, "expected a duration up to 60s, e.g. delay=40ms");
    } else if (key == "jitter") {
      if (!Millis(value, &out.jitter_ms)) return fail(item, "expected a duration up to 60s, e.g. jitter=20ms");
    } else if (key == "rate") {
      if (!Amount(value, 1000, 1000, 1e10, &out.rate_bps))
        return fail(item, "expected bit/s from 1k to 10000m, e.g. rate=300k");
    } else if (key == "queue") {
      uint64_t q = 0;
      if (!Amount(value, 1024, 1500, 64.0 * 1024 * 1024, &q))
        return fail(item, "expected bytes from 1500 to 64m, e.g. queue=64k");
      out.queue_bytes = static_cast<uint32_t>(q);
    } else {
      return fail(item, "unknown key");
    }
  }
  return out;
}

std::string Describe(const Impairment& i) {
  std::vector<std::string> parts;
  if (i.loss > 0) parts.push_back("loss=" + Pct(i.loss));
  if (i.burst_p > 0)
    parts.push_back(fmt::format("burst={}/{:.4g}", Pct(i.burst_p / (i.burst_p + i.burst_r)), 1 / i.burst_r));
  if (i.delay_ms) parts.push_back(fmt::format("delay={}ms", i.delay_ms));
  if (i.jitter_ms) parts.push_back(fmt::format("jitter={}ms", i.jitter_ms));
  if (i.reorder) parts.push_back("reorder");
  if (i.duplicate > 0) parts.push_back("dup=" + Pct(i.duplicate));
  if (i.rate_bps) parts.push_back("rate=" + Rate(i.rate_bps));
  if (i.rate_bps && i.queue_bytes != Impairment{}.queue_bytes) parts.push_back(fmt::format("queue={}", i.queue_bytes));
  if (i.down) parts.push_back("down");
  if (parts.empty()) return "good";
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ",") + p;
  return out;
}

const std::vector<Profile>& Profiles() {
  static const std::vector<Profile> kProfiles = [] {
    auto spec = [](std::string_view s) {
      std::string error;
      auto i = ParseImpairment(s, &error);
      return i ? *i : Impairment{};  // the specs below are tested to parse
    };
    // 3G-like: about 150 ms round trip, some jitter, 1 % loss, a narrow uplink.
    return std::vector<Profile>{
        {"good", "a perfect link", {}, {}, 0},
        {"lossy-10", "10 % random loss both ways", spec("loss=10%"), spec("loss=10%"), 0},
        {"lossy-30", "30 % random loss both ways", spec("loss=30%"), spec("loss=30%"), 0},
        {"burst-5", "5 % loss in bursts of 4 packets on average, both ways", spec("burst=5%/4"), spec("burst=5%/4"), 0},
        {"jitter-80", "40 ms delay with ±80 ms jitter and reordering, both ways",
         spec("delay=40ms,jitter=80ms,reorder"), spec("delay=40ms,jitter=80ms,reorder"), 0},
        {"cap-300k", "300 kbit/s each way, 64 KiB queue", spec("rate=300k"), spec("rate=300k"), 0},
        {"cap-1m", "1 Mbit/s each way, 64 KiB queue", spec("rate=1m"), spec("rate=1m"), 0},
        {"3g", "75 ms each way ±20 ms, 1 % loss, 384 kbit/s up, 1.6 Mbit/s down",
         spec("loss=1%,delay=75ms,jitter=20ms,rate=384k"), spec("loss=1%,delay=75ms,jitter=20ms,rate=1600k"), 0},
        {"outage-5s", "a perfect link cut once for 5 s", {}, {}, 5000},
        {"outage-35s", "a perfect link cut once for 35 s", {}, {}, 35000},
    };
  }();
  return kProfiles;
}

const Profile* FindProfile(std::string_view name) {
  for (const auto& p : Profiles())
    if (p.name == name) return &p;
  return nullptr;
}

}  // namespace parley::netlab
