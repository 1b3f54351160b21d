// parley errors: look up, search and list the error-code catalog.
#include <fmt/core.h>

#include <algorithm>
#include <iostream>
#include <nlohmann/json.hpp>
#include <vector>

#include "commands/common.hpp"
#include "parley/proto/errc.hpp"

namespace parley::cli {
namespace {

struct ErrorsOptions {
  std::string code;
  std::vector<std::string> search;  ///< words, given after --search as one or several arguments
  bool all = false;
  std::string format;
};

std::string AliasText(const ErrorInfo& e) {
  return e.alias ? FormatHex(e.alias) : std::string();
}

nlohmann::ordered_json ToJson(const ErrorInfo& e) {
  nlohmann::ordered_json j;
  j["hex"] = FormatHex(e.value());
  j["decimal"] = e.value();
  j["name"] = e.name;
  j["cName"] = e.c_name;
  j["severity"] = SeverityName(e.severity);
  j["module"] = e.module;
  j["description"] = e.description;
  j["detail"] = e.detail;
  j["causeZh"] = e.cause_zh;
  j["adviceZh"] = e.advice_zh;
  j["adviceEn"] = e.advice_en;
  if (e.alias) j["alias"] = {{"hex", FormatHex(e.alias)}, {"decimal", e.alias}};
  return j;
}

// RFC 4180: quote every field, double the quotes inside.
std::string Csv(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string MdCell(std::string_view s) {
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

void PrintField(std::string_view label, std::string_view value) {
  // Continuation lines of multi-line texts line up under the first.
  std::string indented;
  for (char c : value) {
    indented += c;
    if (c == '\n') indented += std::string(15, ' ');
  }
  fmt::print("  {:<13}{}\n", label, indented);
}

void PrintOne(const ErrorInfo& e) {
  fmt::print("{}  ({})  {} / {}\n", FormatHex(e.value()), e.value(), e.name, e.c_name);
  PrintField("severity", SeverityName(e.severity));
  PrintField("module", e.module);
  PrintField("description", e.description);
  PrintField("detail", e.detail);
  PrintField("cause (zh)", e.cause_zh);
  PrintField("advice (zh)", e.advice_zh);
  PrintField("advice", e.advice_en);
  if (e.alias) PrintField("alias", fmt::format("{} ({}) is accepted for this code", FormatHex(e.alias), e.alias));
}

int PrintMany(const std::vector<const ErrorInfo*>& list, const std::string& format) {
  if (format == "json") {
    auto arr = nlohmann::ordered_json::array();
    for (const auto* e : list) arr.push_back(ToJson(*e));
    fmt::print("{}\n", arr.dump(2));
  } else if (format == "csv") {
    fmt::print("hex,decimal,name,c_name,severity,module,description,detail,cause_zh,advice_zh,advice_en,alias\n");
    for (const auto* e : list)
      fmt::print("{},{},{},{},{},{},{},{},{},{},{},{}\n", Csv(FormatHex(e->value())), e->value(), Csv(e->name),
                 Csv(e->c_name), Csv(SeverityName(e->severity)), Csv(e->module), Csv(e->description), Csv(e->detail),
                 Csv(e->cause_zh), Csv(e->advice_zh), Csv(e->advice_en), Csv(AliasText(*e)));
  } else if (format == "md") {
    fmt::print("| Hex | Decimal | Name | Severity | Module | Description | Advice |\n");
    fmt::print("|---|---|---|---|---|---|---|\n");
    for (const auto* e : list)
      fmt::print("| `{}` | {} | `{}` | {} | {} | {} | {} |\n", FormatHex(e->value()), e->value(), e->name,
                 SeverityName(e->severity), e->module, MdCell(e->description), MdCell(e->advice_en));
  } else if (format == "text") {
    for (size_t i = 0; i < list.size(); ++i) {
      if (i) fmt::print("\n");
      PrintOne(*list[i]);
    }
  } else {  // table: the English columns only, so widths are plain ASCII widths
    size_t name_w = 4, mod_w = 6;
    for (const auto* e : list) {
      name_w = std::max(name_w, e->name.size());
      mod_w = std::max(mod_w, e->module.size());
    }
    fmt::print("{:<10}  {:>11}  {:<{}}  {:<8}  {:<{}}  {}\n", "HEX", "DECIMAL", "NAME", name_w, "SEVERITY", "MODULE",
               mod_w, "DESCRIPTION");
    for (const auto* e : list)
      fmt::print("{:<10}  {:>11}  {:<{}}  {:<8}  {:<{}}  {}\n", FormatHex(e->value()), e->value(), e->name, name_w,
                 SeverityName(e->severity), e->module, mod_w, e->description);
  }
  return kExitOk;
}

int Run(const ErrorsOptions& o) {
  std::string words;
  for (const auto& w : o.search) words += (words.empty() ? "" : " ") + w;
  int modes = !o.code.empty() + !o.search.empty() + o.all;
  if (modes != 1) {
    fmt::print(stderr, "parley errors: give exactly one of <code>, --search WORDS or --all\n");
    return kExitUsage;
  }
  if (!o.code.empty()) {
    const ErrorInfo* e = LookupCode(o.code);
    if (!e) {
      if (ParseCodeValue(o.code))
        fmt::print(stderr, "parley errors: {} is not a Parley error code (see `parley errors --all`)\n", o.code);
      else
        fmt::print(stderr,
                   "parley errors: '{}' is neither a code (0x01030101, 16974081, -1) nor a code name "
                   "(kInvalidAuthInfo, PARLEY_ERR_INVALID_AUTH_INFO)\n",
                   o.code);
      return kExitUsage;
    }
    auto value = ParseCodeValue(o.code);
    if (value && e->alias && *value == e->alias)
      fmt::print(stderr, "note: {} is the contract's misprint of {}; showing that code\n", o.code,
                 FormatHex(e->value()));
    if (o.format == "json") {
      fmt::print("{}\n", ToJson(*e).dump(2));
      return kExitOk;
    }
    if (!o.format.empty() && o.format != "text") return PrintMany({e}, o.format);
    PrintOne(*e);
    return kExitOk;
  }
  std::vector<const ErrorInfo*> list;
  if (o.all) {
    for (const auto& e : AllErrors()) list.push_back(&e);
  } else {
    list = SearchErrors(words);
    if (list.empty()) {
      fmt::print(stderr, "parley errors: no code matches every word of '{}' (try fewer words)\n", words);
      return kExitFailure;
    }
  }
  return PrintMany(list, o.format.empty() ? "table" : o.format);
}

}  // namespace

void RegisterErrorsCommand(CLI::App& app, Runner* runner) {
  auto opts = std::make_shared<ErrorsOptions>();
  auto* cmd = app.add_subcommand("errors", "Look up, search or list Parley error codes");
  cmd->add_option("code", opts->code,
                  "A code: hex (0x01030101, 0X...), decimal (16974081, -1, 4294967295) or name (kInvalidAuthInfo)");
  cmd->add_option("--search", opts->search,
                  "Find codes whose name or any text (English or Chinese) has every one of WORDS; common synonyms "
                  "count (camera finds 摄像头, expired finds 过期)")
      ->expected(1, 64);
  cmd->add_flag("--all", opts->all, "List every code");
  cmd->add_option("--format", opts->format, "Output format: table (lists), text (one code), json, csv, md")
      ->check(CLI::IsMember({"table", "text", "json", "csv", "md"}));
  cmd->footer(
      "Exit status: 0 found; 1 a search found nothing; 2 unknown code or bad arguments.\n"
      "Examples:\n  parley errors 0x02010205\n  parley errors -- -1\n  parley errors --search token expired\n"
      "  parley errors --search 摄像头\n"
      "  parley errors --all --format json");
  cmd->callback([opts, runner] { *runner = [opts] { return Run(*opts); }; });
}

}  // namespace parley::cli
