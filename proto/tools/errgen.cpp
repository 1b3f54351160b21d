// errgen: turns proto/errors.tsv (the one source of truth for error codes) into
// the C++ enum and table, the C header, the browser SDK's JavaScript module and
// docs/errors.md. It runs at build time; it validates the catalog and fails the
// build on any inconsistency (hex vs decimal, duplicate values or names, alias
// collisions, unknown severity or module), so a bad edit never compiles.
//
// Usage: errgen <errors.tsv> <errors.md.in> <out-dir>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct Row {
  std::string hex;
  int32_t value = 0;
  std::string name;     // kInvalidAuthInfo
  std::string c_name;   // PARLEY_ERR_INVALID_AUTH_INFO
  std::string js_name;  // INVALID_AUTH_INFO
  std::string severity, module, description, detail, cause_zh, advice_zh, advice_en;
  std::vector<int32_t> aliases;
  int line = 0;
};

[[noreturn]] void Fail(const std::string& what, int line = 0) {
  std::cerr << "errgen: " << (line ? "errors.tsv:" + std::to_string(line) + ": " : "") << what << "\n";
  std::exit(1);
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

// TSV fields use \n, \t and \\ escapes.
std::string Unescape(const std::string& s, int line) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\') {
      out += s[i];
      continue;
    }
    if (++i == s.size()) Fail("dangling backslash", line);
    switch (s[i]) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case '\\': out += '\\'; break;
      default: Fail(std::string("unknown escape \\") + s[i], line);
    }
  }
  return out;
}

// Parses 0x-prefixed hex of up to 8 digits as the two's-complement int32.
bool ParseHex(const std::string& s, int32_t* out) {
  if (s.size() < 3 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || s.size() > 10) return false;
  uint32_t v = 0;
  for (size_t i = 2; i < s.size(); ++i) {
    char c = s[i];
    uint32_t d;
    if (c >= '0' && c <= '9')
      d = static_cast<uint32_t>(c - '0');
    else if (c >= 'a' && c <= 'f')
      d = static_cast<uint32_t>(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      d = static_cast<uint32_t>(c - 'A' + 10);
    else
      return false;
    v = v * 16 + d;
  }
  *out = static_cast<int32_t>(v);
  return true;
}

std::string Hex(int32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08X", static_cast<uint32_t>(v));
  return buf;
}

// kH5NotCompatible -> H5_NOT_COMPATIBLE
std::string UpperSnake(const std::string& name) {
  std::string out;
  for (size_t i = 1; i < name.size(); ++i) {
    char c = name[i];
    char prev = name[i - 1];
    if (i > 1 && std::isupper(static_cast<unsigned char>(c)) &&
        (std::islower(static_cast<unsigned char>(prev)) || std::isdigit(static_cast<unsigned char>(prev))))
      out += '_';
    out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

std::string CppString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default: out += c;
    }
  }
  return out + "\"";
}

// JSON string escaping is a superset of what JS needs.
std::string JsString(const std::string& s) {
  return CppString(s);
}

std::string MdCell(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '|')
      out += "\\|";
    else if (c == '\n')
      out += "<br>";
    else
      out += c;
  }
  return out;
}

std::vector<Row> Load(const std::string& path) {
  std::ifstream in(path);
  if (!in) Fail("cannot open " + path);
  static const std::set<std::string> kSeverities = {"error", "warning", "notice"};
  static const std::set<std::string> kModules = {
      "sdk",        "signalling", "stream",  "device", "media-connection", "performance", "external-input",
      "media-file", "server",     "billing", "network"};
  std::vector<Row> rows;
  std::string line;
  int n = 0;
  bool header_seen = false;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty() || line[0] == '#') continue;
    auto f = Split(line, '\t');
    if (f.size() != 11) Fail("expected 11 tab-separated fields, got " + std::to_string(f.size()), n);
    if (!header_seen) {
      if (f[0] != "hex") Fail("first row must be the header", n);
      header_seen = true;
      continue;
    }
    Row r;
    r.line = n;
    r.hex = f[0];
    if (!ParseHex(f[0], &r.value)) Fail("bad hex " + f[0], n);
    if (std::to_string(r.value) != f[1]) Fail("decimal " + f[1] + " does not equal hex " + f[0], n);
    r.name = f[2];
    if (r.name.size() < 2 || r.name[0] != 'k' || !std::isupper(static_cast<unsigned char>(r.name[1])))
      Fail("name must look like kPascalCase: " + r.name, n);
    r.js_name = UpperSnake(r.name);
    r.c_name = "PARLEY_ERR_" + r.js_name;
    r.severity = f[3];
    if (!kSeverities.count(r.severity)) Fail("unknown severity " + r.severity, n);
    r.module = f[4];
    if (!kModules.count(r.module)) Fail("unknown module " + r.module, n);
    r.description = Unescape(f[5], n);
    r.detail = Unescape(f[6], n);
    r.cause_zh = Unescape(f[7], n);
    r.advice_zh = Unescape(f[8], n);
    r.advice_en = Unescape(f[9], n);
    for (const auto& a : Split(f[10], ',')) {
      if (a.empty()) continue;
      int32_t v;
      if (!ParseHex(a, &v)) Fail("bad alias " + a, n);
      r.aliases.push_back(v);
    }
    if (r.description.empty() || r.detail.empty() || r.cause_zh.empty() || r.advice_zh.empty() || r.advice_en.empty())
      Fail("every text field must be filled (use - for none)", n);
    rows.push_back(std::move(r));
  }
  std::map<int32_t, int> values;
  std::set<std::string> names;
  for (const auto& r : rows) {
    if (!values.emplace(r.value, r.line).second) Fail("duplicate value " + Hex(r.value), r.line);
    if (!names.insert(r.name).second) Fail("duplicate name " + r.name, r.line);
  }
  for (const auto& r : rows)
    for (int32_t a : r.aliases)
      if (!values.emplace(a, r.line).second) Fail("alias " + Hex(a) + " collides with another code", r.line);
  return rows;
}

void Write(const std::filesystem::path& p, const std::string& text) {
  std::filesystem::create_directories(p.parent_path());
  // Only touch the file when it changes, so dependants are not rebuilt for nothing.
  std::ifstream old(p, std::ios::binary);
  if (old) {
    std::stringstream ss;
    ss << old.rdbuf();
    if (ss.str() == text) return;
  }
  std::ofstream out(p, std::ios::binary);
  out << text;
  if (!out) Fail("cannot write " + p.string());
}

const char* kBanner = "Generated by errgen from proto/errors.tsv. Do not edit; edit the catalog.";

std::string GenEnum(const std::vector<Row>& rows) {
  std::ostringstream o;
  o << "// " << kBanner << "\n#pragma once\n#include <cstdint>\n\nnamespace parley {\n\n"
    << "/// Every Parley error code: the seed contract's codes with their exact values, plus\n"
    << "/// Parley's own codes (0 = success, 0x0F000000-0x0FFFFFFF). See docs/errors.md.\n"
    << "enum class Errc : int32_t {\n";
  for (const auto& r : rows)
    o << "  " << r.name << " = " << (r.value < 0 ? std::to_string(r.value) : Hex(r.value)) << ",  ///< "
      << r.description << "\n";
  o << "};\n\ninline constexpr int kErrcCount = " << rows.size() << ";\n\n}  // namespace parley\n";
  return o.str();
}

std::string GenTable(const std::vector<Row>& rows) {
  std::ostringstream o;
  o << "// " << kBanner << "\n";
  for (const auto& r : rows) {
    o << "{Errc::" << r.name << ", " << CppString(r.name) << ", " << CppString(r.c_name) << ", Severity::k"
      << static_cast<char>(std::toupper(static_cast<unsigned char>(r.severity[0]))) << r.severity.substr(1) << ", "
      << CppString(r.module) << ",\n " << CppString(r.description) << ",\n " << CppString(r.detail) << ",\n "
      << CppString(r.cause_zh) << ",\n " << CppString(r.advice_zh) << ",\n " << CppString(r.advice_en) << ", "
      << (r.aliases.empty() ? std::string("0") : std::to_string(r.aliases[0])) << "},\n";
    if (r.aliases.size() > 1) Fail("at most one alias per code is supported", r.line);
  }
  return o.str();
}

std::string GenCHeader(const std::vector<Row>& rows) {
  std::ostringstream o;
  o << "/* " << kBanner << " */\n#ifndef PARLEY_ERRORS_H_\n#define PARLEY_ERRORS_H_\n#include <stdint.h>\n\n"
    << "/* Parley error codes for C callers; values equal parley::Errc. */\n";
  for (const auto& r : rows)
    o << "#define " << r.c_name << " INT32_C(" << (r.value < 0 ? std::to_string(r.value) : Hex(r.value)) << ") /* "
      << r.description << " */\n";
  o << "\n#endif /* PARLEY_ERRORS_H_ */\n";
  return o.str();
}

std::string GenCAsserts(const std::vector<Row>& rows) {
  std::ostringstream o;
  o << "// " << kBanner << "\n";
  for (const auto& r : rows)
    o << "static_assert(" << r.c_name << " == static_cast<int32_t>(parley::Errc::" << r.name << "));\n";
  return o.str();
}

std::string GenJs(const std::vector<Row>& rows) {
  std::ostringstream o;
  o << "// " << kBanner << "\n"
    << "// The Parley error catalog for the browser SDK: codes, names and texts.\n\n"
    << "/** Code values by name, e.g. ErrorCode.INVALID_AUTH_INFO === 0x01030101. */\n"
    << "export const ErrorCode = Object.freeze({\n";
  for (const auto& r : rows) o << "  " << r.js_name << ": " << r.value << ",\n";
  o << "});\n\n/** Every catalog entry, in catalog order. */\nexport const errors = Object.freeze([\n";
  for (const auto& r : rows) {
    o << "  Object.freeze({code: " << r.value << ", hex: \"" << Hex(r.value) << "\", name: \"" << r.js_name
      << "\", severity: \"" << r.severity << "\", module: \"" << r.module
      << "\",\n    description: " << JsString(r.description) << ",\n    detail: " << JsString(r.detail)
      << ",\n    causeZh: " << JsString(r.cause_zh) << ",\n    adviceZh: " << JsString(r.advice_zh)
      << ",\n    adviceEn: " << JsString(r.advice_en) << ",\n    aliases: [";
    for (size_t i = 0; i < r.aliases.size(); ++i) o << (i ? ", " : "") << r.aliases[i];
    o << "]}),\n";
  }
  o << "]);\n\nconst byCode = new Map();\nfor (const e of errors) {\n  byCode.set(e.code, e);\n"
    << "  for (const a of e.aliases) byCode.set(a, e);\n}\n\n"
    << "/** The catalog entry for a code (canonical or alias), or undefined. */\n"
    << "export function lookup(code) {\n  return byCode.get(code | 0);\n}\n\n"
    << "/** The English description of a code, or a generic text for unknown codes. */\n"
    << "export function describe(code) {\n  const e = lookup(code);\n"
    << "  return e ? e.description : `unknown error code ${code}`;\n}\n\n"
    << "/** Formats a code the way the catalog prints it: 0x01030101. */\n"
    << "export function toHex(code) {\n  return '0x' + ((code >>> 0).toString(16).toUpperCase().padStart(8, "
       "'0'));\n}\n";
  return o.str();
}

std::string GenMd(const std::vector<Row>& rows, const std::string& intro) {
  std::ostringstream o;
  o << "<!-- " << kBanner << " Intro text: proto/errors.md.in -->\n" << intro;
  static const std::vector<std::pair<std::string, std::string>> kModules = {{"sdk", "SDK"},
                                                                            {"signalling", "Signalling"},
                                                                            {"stream", "Streams"},
                                                                            {"device", "Devices and render"},
                                                                            {"media-connection", "Media connection"},
                                                                            {"performance", "Performance"},
                                                                            {"external-input", "External input"},
                                                                            {"media-file", "Media files"},
                                                                            {"server", "Server"},
                                                                            {"billing", "Billing"},
                                                                            {"network", "Network"}};
  o << "\n## The catalog (" << rows.size() << " codes)\n";
  for (const auto& [mod, title] : kModules) {
    o << "\n### " << title << " (`" << mod << "`)\n\n"
      << "| Hex | Decimal | Name (C++ / C) | Severity | Description | Meaning in Parley | Advice |\n"
      << "|---|---|---|---|---|---|---|\n";
    for (const auto& r : rows) {
      if (r.module != mod) continue;
      o << "| `" << Hex(r.value) << "` | " << r.value << " | `" << r.name << "`<br>`" << r.c_name << "` | "
        << r.severity << " | " << MdCell(r.description) << " | " << MdCell(r.detail);
      for (int32_t a : r.aliases) o << " (alias: `" << Hex(a) << "` / " << a << ")";
      o << " | " << MdCell(r.advice_en) << " |\n";
    }
  }
  o << "\n## 中文说明 (cause and advice in Chinese, verbatim from the contract)\n\n"
    << "| Hex | 描述 | 建议您 |\n|---|---|---|\n";
  for (const auto& r : rows)
    o << "| `" << Hex(r.value) << "` | " << MdCell(r.cause_zh) << " | " << MdCell(r.advice_zh) << " |\n";
  return o.str();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) Fail("usage: errgen <errors.tsv> <errors.md.in> <out-dir>");
  auto rows = Load(argv[1]);
  std::ifstream intro_in(argv[2]);
  if (!intro_in) Fail(std::string("cannot open ") + argv[2]);
  std::stringstream intro;
  intro << intro_in.rdbuf();
  std::filesystem::path out = argv[3];
  Write(out / "parley/proto/errc_gen.hpp", GenEnum(rows));
  Write(out / "errc_table_gen.inc", GenTable(rows));
  Write(out / "parley/parley_errors.h", GenCHeader(rows));
  Write(out / "errc_c_asserts_gen.inc", GenCAsserts(rows));
  Write(out / "errors.js", GenJs(rows));
  Write(out / "errors.md", GenMd(rows, intro.str()));
  return 0;
}
