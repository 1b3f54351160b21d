// The Parley error catalog: parley::Errc (generated from proto/errors.tsv) and
// lookups over it. Every value of the client error-code contract is here with its
// exact number; see docs/errors.md for the table and the decisions behind it.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "parley/proto/errc_gen.hpp"

namespace parley {

enum class Severity : uint8_t { kError, kWarning, kNotice };

/// One catalog entry. All views point at static storage.
struct ErrorInfo {
  Errc code;
  std::string_view name;    ///< C++ name, e.g. "kInvalidAuthInfo"
  std::string_view c_name;  ///< C macro, e.g. "PARLEY_ERR_INVALID_AUTH_INFO"
  Severity severity;
  std::string_view module;       ///< sdk, signalling, stream, device, ...
  std::string_view description;  ///< English description, verbatim from the contract
  std::string_view detail;       ///< what exactly the code means in Parley
  std::string_view cause_zh;     ///< Chinese cause, verbatim from the contract
  std::string_view advice_zh;    ///< Chinese advice, verbatim from the contract
  std::string_view advice_en;    ///< English advice
  int32_t alias;                 ///< another accepted value for this code (0 = none)

  [[nodiscard]] int32_t value() const { return static_cast<int32_t>(code); }
};

/// The whole catalog in catalog order.
std::span<const ErrorInfo> AllErrors();

/// The entry for a value (canonical or alias), or nullptr.
const ErrorInfo* FindError(int32_t value);

/// The entry for a name: "kInvalidAuthInfo", "InvalidAuthInfo", "PARLEY_ERR_INVALID_AUTH_INFO"
/// or "INVALID_AUTH_INFO" (ASCII case-insensitive), or nullptr.
const ErrorInfo* FindErrorByName(std::string_view name);

/// The entry for an Errc. Never null for values of the enum.
const ErrorInfo& Info(Errc code);

/// English description ("invalid parameter"), verbatim from the contract.
std::string_view Describe(Errc code);
/// English advice.
std::string_view Advice(Errc code);
/// "0x01030101": eight upper-case hex digits of the two's-complement value.
std::string FormatHex(int32_t value);
std::string_view SeverityName(Severity s);

/// Parses a code as a user writes it: hex with 0x or 0X ("0x01030101"), signed or
/// unsigned decimal ("16974081", "-1", "4294967295"). Returns the 32-bit value; does
/// not check that the catalog has it. Names are not accepted here.
std::optional<int32_t> ParseCodeValue(std::string_view text);

/// Parses any accepted spelling (numbers as ParseCodeValue, or a name) and looks it
/// up; nullptr if the text is malformed or the code is not in the catalog.
const ErrorInfo* LookupCode(std::string_view text);

/// Case-insensitive search for all words (AND) in names and every text field,
/// English and Chinese.
std::vector<const ErrorInfo*> SearchErrors(std::string_view query);

const std::error_category& ErrorCategory();
inline std::error_code make_error_code(Errc e) {
  return {static_cast<int>(e), ErrorCategory()};
}

}  // namespace parley

template <>
struct std::is_error_code_enum<parley::Errc> : std::true_type {};
