#include "parley/proto/errc.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <limits>

#include "parley/parley_errors.h"

namespace parley {
namespace {

constexpr ErrorInfo kTable[] = {
#include "errc_table_gen.inc"
};
static_assert(std::size(kTable) == static_cast<size_t>(kErrcCount));

// The C header and the enum come from the same catalog; check they agree anyway.
#include "errc_c_asserts_gen.inc"

char Lower(char c) {
  return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return Lower(x) == Lower(y); });
}

// Lower-cases ASCII only; UTF-8 bytes of Chinese text pass through unchanged.
std::string LowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = Lower(c);
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "parley"; }
  std::string message(int value) const override {
    const ErrorInfo* e = FindError(value);
    return e ? std::string(e->description) : "unknown parley error " + FormatHex(value);
  }
};

}  // namespace

std::span<const ErrorInfo> AllErrors() {
  return kTable;
}

const ErrorInfo* FindError(int32_t value) {
  for (const auto& e : kTable)
    if (e.value() == value || (e.alias != 0 && e.alias == value)) return &e;
  return nullptr;
}

const ErrorInfo* FindErrorByName(std::string_view name) {
  name = Trim(name);
  if (name.empty()) return nullptr;
  for (const auto& e : kTable) {
    std::string_view bare_cpp = e.name.substr(1);  // without the leading k
    std::string_view bare_c = e.c_name.substr(std::string_view("PARLEY_ERR_").size());
    if (IEquals(name, e.name) || IEquals(name, bare_cpp) || IEquals(name, e.c_name) || IEquals(name, bare_c)) return &e;
  }
  return nullptr;
}

const ErrorInfo& Info(Errc code) {
  const ErrorInfo* e = FindError(static_cast<int32_t>(code));
  return e ? *e : *FindError(static_cast<int32_t>(Errc::kInternalError));
}

std::string_view Describe(Errc code) {
  return Info(code).description;
}
std::string_view Advice(Errc code) {
  return Info(code).advice_en;
}

std::string FormatHex(int32_t value) {
  std::array<char, 16> buf{};
  std::snprintf(buf.data(), buf.size(), "0x%08X", static_cast<uint32_t>(value));
  return buf.data();
}

std::string_view SeverityName(Severity s) {
  switch (s) {
    case Severity::kError: return "error";
    case Severity::kWarning: return "warning";
    case Severity::kNotice: return "notice";
  }
  return "error";
}

std::optional<int32_t> ParseCodeValue(std::string_view text) {
  text = Trim(text);
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    std::string_view digits = text.substr(2);
    if (digits.size() > 8) return std::nullopt;  // more than 32 bits
    uint32_t v = 0;
    auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v, 16);
    if (ec != std::errc() || p != digits.data() + digits.size()) return std::nullopt;
    return static_cast<int32_t>(v);
  }
  if (text.empty()) return std::nullopt;
  // Decimal: signed int32 range, or unsigned values up to 2^32-1 read as two's complement.
  int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v, 10);
  if (ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
  if (v < std::numeric_limits<int32_t>::min() || v > static_cast<int64_t>(std::numeric_limits<uint32_t>::max()))
    return std::nullopt;
  return static_cast<int32_t>(static_cast<uint32_t>(v));
}

const ErrorInfo* LookupCode(std::string_view text) {
  if (auto v = ParseCodeValue(text)) return FindError(*v);
  return FindErrorByName(text);
}

namespace {
// Words people search for and the words the catalog uses, in both languages: a query
// word matches a code when any word of its group does (lower-case ASCII, or UTF-8).
constexpr std::array<std::array<std::string_view, 8>, 24> kSynonyms = {{
    {"camera", "摄像头", "相机", "video capture", "v4l2", "webcam"},
    {"microphone", "麦克风", "record device", "recording device", "audio capture", "音频采集"},
    {"speaker", "扬声器", "playout", "playback", "播放"},
    {"token", "令牌", "auth", "鉴权"},
    {"expired", "expire", "过期", "overdue", "失效"},
    {"network", "网络", "connection", "连接"},
    {"screen", "屏幕", "共享", "screen share", "desktop"},
    {"kick", "kicked", "踢", "removed", "移除", "remove"},
    {"channel", "频道", "房间", "room"},
    {"publish", "推流", "发布", "push"},
    {"subscribe", "订阅", "拉流", "pull"},
    {"reconnect", "重连", "resume", "reconnection"},
    {"timeout", "超时", "timed out", "time out"},
    {"permission", "权限", "denied", "not allowed"},
    {"audio", "音频", "sound", "声音"},
    {"video", "视频"},
    {"render", "渲染", "display", "显示"},
    {"quota", "余额", "配额", "balance", "billing"},
    {"disabled", "停用", "disable"},
    {"device", "设备"},
    {"file", "文件"},
    {"join", "加入", "进入"},
    {"appkey", "app key", "appid", "app id", "应用"},
    {"browser", "h5", "浏览器"},
}};

// Every spelling a query word stands for: itself and its synonym group's words.
std::vector<std::string> Alternatives(const std::string& word) {
  std::vector<std::string> alts{word};
  for (const auto& group : kSynonyms)
    if (std::find(group.begin(), group.end(), word) != group.end())
      for (std::string_view w : group)
        if (!w.empty() && w != word) alts.emplace_back(w);
  return alts;
}
}  // namespace

std::vector<const ErrorInfo*> SearchErrors(std::string_view query) {
  std::vector<std::string> words;
  std::string q = LowerAscii(query);
  size_t i = 0;
  while (i < q.size()) {
    while (i < q.size() && std::isspace(static_cast<unsigned char>(q[i]))) ++i;
    size_t j = i;
    while (j < q.size() && !std::isspace(static_cast<unsigned char>(q[j]))) ++j;
    if (j > i) words.push_back(q.substr(i, j - i));
    i = j;
  }
  std::vector<const ErrorInfo*> hits;
  if (words.empty()) return hits;
  std::vector<std::vector<std::string>> alternatives;
  for (const auto& w : words) alternatives.push_back(Alternatives(w));
  for (const auto& e : kTable) {
    std::string hay = LowerAscii(e.name) + '\n' + LowerAscii(e.c_name) + '\n' + LowerAscii(e.description) + '\n' +
                      LowerAscii(e.detail) + '\n' + LowerAscii(e.advice_en) + '\n' + LowerAscii(e.cause_zh) + '\n' +
                      LowerAscii(e.advice_zh) + '\n' + std::string(e.module);
    auto found = [&](const std::vector<std::string>& alts) {
      return std::any_of(alts.begin(), alts.end(),
                         [&](const std::string& a) { return hay.find(a) != std::string::npos; });
    };
    if (std::all_of(alternatives.begin(), alternatives.end(), found)) hits.push_back(&e);
  }
  return hits;
}

const std::error_category& ErrorCategory() {
  static const Category kCategory;
  return kCategory;
}

}  // namespace parley
