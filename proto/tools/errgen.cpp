// errgen: turns proto/errors.tsv (the one source of truth for error codes) into
// the C++ enum and table, the C header, the browser SDK's JavaScript module and
// docs/errors.md, and proto/protocol.tsv (the words of the signalling protocol) into
// the C++ tables behind parley/proto/vocabulary.hpp and the browser SDK's
// protocol.js. It runs at build time; it validates both catalogs and fails the
// build on any inconsistency (hex vs decimal, duplicate values or names, alias
// collisions, unknown severity or module, a request whose timeout code is not in
// the error catalog), so a bad edit never compiles.
//
// Usage: errgen <errors.tsv> <errors.md.in> <out-dir> <protocol.tsv>
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

[[noreturn]] void Fail(const std::string& what, int line = 0, const char* file = "errors.tsv") {
  std::cerr << "errgen: " << (line ? std::string(file) + ":" + std::to_string(line) + ": " : "") << what << "\n";
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

// The data rows of a catalog: tab-separated, `fields` per row, '#' lines and empty
// lines skipped, the first row a header whose first field is `first_header`. Each row
// comes with its line number, for the messages of the checks that follow.
struct TsvRow {
  std::vector<std::string> f;
  int line;
};
std::vector<TsvRow> ReadTsv(const std::string& path, const char* file, size_t fields, const char* first_header) {
  std::ifstream in(path);
  if (!in) Fail("cannot open " + path);
  std::vector<TsvRow> rows;
  std::string line;
  int n = 0;
  bool header_seen = false;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty() || line[0] == '#') continue;
    auto f = Split(line, '\t');
    if (f.size() != fields)
      Fail("expected " + std::to_string(fields) + " tab-separated fields, got " + std::to_string(f.size()), n, file);
    if (!header_seen) {
      if (f[0] != first_header) Fail("first row must be the header", n, file);
      header_seen = true;
      continue;
    }
    rows.push_back({std::move(f), n});
  }
  return rows;
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
  static const std::set<std::string> kSeverities = {"error", "warning", "notice"};
  static const std::set<std::string> kModules = {
      "sdk",        "signalling", "stream",  "device", "media-connection", "performance", "external-input",
      "media-file", "server",     "billing", "network"};
  std::vector<Row> rows;
  for (const auto& [f, n] : ReadTsv(path, "errors.tsv", 11, "hex")) {
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

// ---- proto/protocol.tsv ----

struct Word {
  std::string family;  // track, role, profile, platform, streamtype, request, notification, extension
  std::string name;    // the wire spelling
  std::string cpp;     // enumerator or constant name; "-" for requests and notifications
  std::vector<std::string> aliases;
  std::string timeout;  // requests only: an Errc name from errors.tsv
  int line = 0;
};

// The enumeration families: the C++ enum each one fills (vocabulary.hpp) and the
// name of its frozen object in protocol.js.
struct Family {
  const char* family;
  const char* cpp_enum;
  const char* js_object;
};
constexpr Family kEnumFamilies[] = {{"track", "TrackKind", "Track"},
                                    {"role", "ClientRole", "Role"},
                                    {"profile", "ChannelProfile", "Profile"},
                                    {"platform", "Platform", "Platform"},
                                    {"streamtype", "VideoStreamType", "VideoStreamType"}};

[[noreturn]] void FailProtocol(const std::string& what, int line) {
  Fail(what, line, "protocol.tsv");
}

bool IsEnumFamily(const std::string& f) {
  for (const auto& e : kEnumFamilies)
    if (f == e.family) return true;
  return false;
}

bool IsKName(const std::string& s) {
  return s.size() >= 2 && s[0] == 'k' && std::isupper(static_cast<unsigned char>(s[1]));
}

std::vector<Word> LoadProtocol(const std::string& path, const std::vector<Row>& errors) {
  std::set<std::string> error_names;
  for (const auto& r : errors) error_names.insert(r.name);
  std::vector<Word> words;
  for (const auto& [f, n] : ReadTsv(path, "protocol.tsv", 5, "family")) {
    Word w{f[0], f[1], f[2], {}, f[4], n};
    if (w.name.empty() || w.name == "-") FailProtocol("empty name", n);
    for (char c : w.name)
      if (c == '"' || c == '\\' || c == '\'' || static_cast<unsigned char>(c) < 0x20)
        FailProtocol("name has a character that needs quoting: " + w.name, n);
    if (f[3] != "-")
      for (const auto& a : Split(f[3], ',')) {
        if (a.empty()) FailProtocol("empty alias", n);
        w.aliases.push_back(a);
      }
    if (IsEnumFamily(w.family)) {
      if (!IsKName(w.cpp)) FailProtocol("enumerator must look like kPascalCase: " + w.cpp, n);
      if (w.timeout != "-") FailProtocol("only requests have a timeout", n);
    } else if (w.family == "request") {
      if (w.cpp != "-" || !w.aliases.empty()) FailProtocol("a request has no enumerator and no aliases", n);
      if (!error_names.count(w.timeout))
        FailProtocol("timeout " + w.timeout + " of request " + w.name + " is not in errors.tsv", n);
    } else if (w.family == "notification") {
      if (w.cpp != "-" || !w.aliases.empty() || w.timeout != "-") FailProtocol("a notification has only a name", n);
    } else if (w.family == "extension") {
      if (w.cpp.rfind("kExt", 0) != 0 || !w.aliases.empty() || w.timeout != "-")
        FailProtocol("an extension has a URI and a kExt... constant", n);
    } else {
      FailProtocol("unknown family " + w.family, n);
    }
    words.push_back(std::move(w));
  }
  // Within a family no two words may read the same; requests and notifications share
  // the envelope's "type", so they must not collide with each other either.
  std::map<std::string, std::set<std::string>> spelled;
  std::map<std::string, std::set<std::string>> cpp_names;
  for (const auto& w : words) {
    std::string space = (w.family == "request" || w.family == "notification") ? "message" : w.family;
    if (!spelled[space].insert(w.name).second) FailProtocol("duplicate " + space + " " + w.name, w.line);
    for (const auto& a : w.aliases)
      if (!spelled[space].insert(a).second) FailProtocol("alias " + a + " collides in " + space, w.line);
    if (w.cpp != "-" && !cpp_names[w.family].insert(w.cpp).second) FailProtocol("duplicate " + w.cpp, w.line);
  }
  for (const auto& e : kEnumFamilies)
    if (!spelled.count(e.family)) Fail(std::string("protocol.tsv has no ") + e.family + " rows");
  return words;
}

std::vector<const Word*> InFamily(const std::vector<Word>& words, const std::string& family) {
  std::vector<const Word*> out;
  for (const auto& w : words)
    if (w.family == family) out.push_back(&w);
  return out;
}

const char* kProtocolBanner = "Generated by errgen from proto/protocol.tsv. Do not edit; edit the catalog.";

// Included by proto/src/vocabulary.cpp inside its anonymous namespace, which defines
// Alias<E> and includes vocabulary.hpp and errc.hpp.
std::string GenProtocolTable(const std::vector<Word>& words) {
  std::ostringstream o;
  o << "// " << kProtocolBanner << "\n";
  for (const auto& e : kEnumFamilies) {
    auto ws = InFamily(words, e.family);
    o << "\n// " << e.family << ": names indexed by the enumerator's value.\n"
      << "constexpr std::array<std::string_view, " << ws.size() << "> k" << e.cpp_enum << "Names = {";
    for (size_t i = 0; i < ws.size(); ++i) o << (i ? ", " : "") << CppString(ws[i]->name);
    o << "};\n";
    // The row order is the enum's: a reordered catalog or enum fails the build here.
    for (size_t i = 0; i < ws.size(); ++i)
      o << "static_assert(static_cast<size_t>(" << e.cpp_enum << "::" << ws[i]->cpp << ") == " << i << ");\n";
    size_t n_aliases = 0;
    for (const auto* w : ws) n_aliases += w->aliases.size();
    o << "constexpr std::array<Alias<" << e.cpp_enum << ">, " << n_aliases << "> k" << e.cpp_enum << "Aliases = {{";
    bool first = true;
    for (const auto* w : ws)
      for (const auto& a : w->aliases) {
        o << (first ? "" : ", ") << "{" << CppString(a) << ", " << e.cpp_enum << "::" << w->cpp << "}";
        first = false;
      }
    o << "}};\n";
  }
  auto requests = InFamily(words, "request");
  o << "\nconstexpr std::array<proto::RequestType, " << requests.size() << "> kRequestTypes = {{\n";
  for (const auto* w : requests) o << "    {" << CppString(w->name) << ", Errc::" << w->timeout << "},\n";
  o << "}};\n";
  auto notes = InFamily(words, "notification");
  o << "\nconstexpr std::array<std::string_view, " << notes.size() << "> kNotificationTypes = {\n";
  for (const auto* w : notes) o << "    " << CppString(w->name) << ",\n";
  o << "};\n\n// The header's constants are the catalog's URIs.\n";
  for (const auto* w : InFamily(words, "extension"))
    o << "static_assert(std::string_view(proto::" << w->cpp << ") == " << CppString(w->name) << ");\n";
  return o.str();
}

std::string GenProtocolJs(const std::vector<Word>& words, const std::vector<Row>& errors) {
  std::map<std::string, std::string> js_error;
  for (const auto& r : errors) js_error[r.name] = r.js_name;
  std::ostringstream o;
  o << "// " << kProtocolBanner << "\n"
    << "// The words of the signalling protocol for the browser SDK (docs/protocol.md).\n"
    << "import { ErrorCode } from './errors.js';\n";
  for (const auto& e : kEnumFamilies) {
    o << "\n/** The " << e.family << " names on the wire. */\nexport const " << e.js_object << " = Object.freeze({\n";
    for (const auto* w : InFamily(words, e.family)) o << "  " << UpperSnake(w->cpp) << ": '" << w->name << "',\n";
    o << "});\n";
  }
  o << "\n/** Every request type, with the catalog code raised when its reply does not come. */\n"
    << "export const TIMEOUT_CODE = Object.freeze({\n";
  for (const auto* w : InFamily(words, "request"))
    o << "  " << w->name << ": ErrorCode." << js_error[w->timeout] << ",\n";
  o << "});\n\n/** Every notification type the server sends. */\nexport const NOTIFICATION_TYPES = Object.freeze([\n";
  for (const auto* w : InFamily(words, "notification")) o << "  '" << w->name << "',\n";
  o << "]);\n";
  return o.str();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) Fail("usage: errgen <errors.tsv> <errors.md.in> <out-dir> <protocol.tsv>");
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
  auto words = LoadProtocol(argv[4], rows);
  Write(out / "protocol_table_gen.inc", GenProtocolTable(words));
  Write(out / "protocol.js", GenProtocolJs(words, rows));
  return 0;
}
