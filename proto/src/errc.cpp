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
  for (const auto& e : kTable) {
    std::string hay = LowerAscii(e.name) + '\n' + LowerAscii(e.c_name) + '\n' + LowerAscii(e.description) + '\n' +
                      LowerAscii(e.detail) + '\n' + LowerAscii(e.advice_en) + '\n' + std::string(e.cause_zh) + '\n' +
                      std::string(e.advice_zh) + '\n' + std::string(e.module);
    if (std::all_of(words.begin(), words.end(), [&](const std::string& w) { return hay.find(w) != std::string::npos; }))
      hits.push_back(&e);
  }
  return hits;
}

const std::error_category& ErrorCategory() {
  static const Category kCategory;
  return kCategory;
}

}  // namespace parley
