// Reads the error-code contract (../shared/seed/client-error-codes.md beside the
// checkout) and checks that the catalog has every code in it with the same value,
// the same English description and the same Chinese texts. The catalog cannot
// drift from the contract without this test failing.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>

#include "parley/proto/errc.hpp"

namespace parley {
namespace {

struct SeedRow {
  std::vector<std::string> hex, dec;
  std::string description, cause, advice;
};

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

// Drops Markdown escapes (\_ -> _) and collapses whitespace runs to one space.
std::string Normalize(std::string_view s) {
  std::string out;
  bool space = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '\\' && i + 1 < s.size() && std::ispunct(static_cast<unsigned char>(s[i + 1]))) continue;
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

std::vector<SeedRow> ParseSeed(const std::string& text) {
  // The table starts at its header row; cells are separated by '|'. Multi-line cells
  // (lists of codes) contain no '|', and the text between two rows is whitespace only.
  size_t start = text.find("|十六进制|");
  EXPECT_NE(start, std::string::npos);
  std::vector<std::string> cells;
  std::string cur;
  for (size_t i = start + 1; i < text.size(); ++i) {
    if (text[i] == '|') {
      if (!Trim(cur).empty()) cells.push_back(cur);
      cur.clear();
    } else {
      cur += text[i];
    }
  }
  if (!Trim(cur).empty()) cells.push_back(cur);
  std::vector<SeedRow> rows;
  EXPECT_EQ(cells.size() % 5, 0u);
  static const std::regex kHex("0[xX][0-9A-Fa-f]+");
  static const std::regex kDec("-?[0-9]+");
  for (size_t i = 10; i + 5 <= cells.size(); i += 5) {  // skip header and separator rows
    SeedRow r;
    for (std::sregex_iterator it(cells[i].begin(), cells[i].end(), kHex), end; it != end; ++it)
      r.hex.push_back(it->str());
    for (std::sregex_iterator it(cells[i + 1].begin(), cells[i + 1].end(), kDec), end; it != end; ++it)
      r.dec.push_back(it->str());
    r.description = Normalize(cells[i + 2]);
    r.cause = Normalize(cells[i + 3]);
    r.advice = Normalize(cells[i + 4]);
    rows.push_back(std::move(r));
  }
  return rows;
}

TEST(Seed, EveryCodeIsInTheCatalogVerbatim) {
  std::ifstream in(PARLEY_SEED_PATH);
  if (!in) {
    if (std::getenv("CI")) FAIL() << "seed not found at " << PARLEY_SEED_PATH;
    GTEST_SKIP() << "seed not found at " << PARLEY_SEED_PATH << " (it is beside the checkout in CI)";
  }
  std::stringstream ss;
  ss << in.rdbuf();
  auto rows = ParseSeed(ss.str());
  ASSERT_FALSE(rows.empty());
  size_t codes = 0;
  for (const auto& r : rows) {
    ASSERT_EQ(r.hex.size(), r.dec.size()) << r.description;
    for (size_t i = 0; i < r.hex.size(); ++i) {
      ++codes;
      auto hv = ParseCodeValue(r.hex[i]);
      auto dv = ParseCodeValue(r.dec[i]);
      ASSERT_TRUE(hv && dv) << r.hex[i] << " " << r.dec[i];
      EXPECT_EQ(*hv, *dv) << "seed row disagrees with itself: " << r.hex[i] << " vs " << r.dec[i];
      const ErrorInfo* e = FindError(*dv);
      ASSERT_NE(e, nullptr) << r.hex[i] << " / " << r.dec[i] << " (" << r.description << ") is not in the catalog";
      EXPECT_EQ(Normalize(e->description), r.description) << r.hex[i];
      EXPECT_EQ(Normalize(e->cause_zh), r.cause) << r.hex[i];
      EXPECT_EQ(Normalize(e->advice_zh), r.advice) << r.hex[i];
    }
  }
  EXPECT_EQ(codes, 87u);
}

}  // namespace
}  // namespace parley
