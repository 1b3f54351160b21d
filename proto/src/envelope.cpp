#include "parley/proto/envelope.hpp"

namespace parley::proto {

using nlohmann::json;

Result<Envelope> ParseEnvelope(std::string_view text, size_t max_bytes, json* id_out) {
  *id_out = nullptr;
  if (text.size() > max_bytes)
    return MakeError(Errc::kMessageTooLarge,
                     "message is " + std::to_string(text.size()) + " bytes; the limit is " + std::to_string(max_bytes));
  // Bound the nesting before parsing: brackets inside strings do not count, and an
  // escaped quote does not end a string.
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > kMaxNesting) return MakeError(Errc::kMalformedMessage, "message nests deeper than 32 levels");
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return MakeError(Errc::kMalformedMessage, "message is not valid JSON");
  if (!j.is_object()) return MakeError(Errc::kMalformedMessage, "message is not a JSON object");
  // The id is read before anything else can fail, so those failures can be answered
  // to the request that caused them.
  if (auto it = j.find("id"); it != j.end()) {
    if (it->is_number_integer() || (it->is_string() && it->get_ref<const std::string&>().size() <= kMaxIdBytes)) {
      *id_out = *it;
    } else if (!it->is_null()) {
      return MakeError(Errc::kInvalidField, "id must be an integer or a string of at most 64 characters");
    }
  }
  if (auto v = j.find("v"); v != j.end()) {
    if (!v->is_number_integer() || v->get<int64_t>() != kProtocolVersion)
      return MakeError(Errc::kUnsupportedVersion, "this server speaks protocol v1");
  }
  auto t = j.find("type");
  if (t == j.end() || !t->is_string() || t->get_ref<const std::string&>().empty())
    return MakeError(Errc::kInvalidField, "type must be a non-empty string");
  Envelope m;
  m.type = t->get<std::string>();
  if (m.type.size() > kMaxTypeBytes) return MakeError(Errc::kUnknownMessageType, "type is too long");
  m.id = *id_out;
  m.body = std::move(j);
  return m;
}

std::string DumpSafe(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

bool IsUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      ++i;
      continue;
    }
    size_t n = 0;
    uint32_t cp = 0, min = 0;
    if ((b & 0xE0) == 0xC0) {
      n = 1, cp = b & 0x1Fu, min = 0x80;
    } else if ((b & 0xF0) == 0xE0) {
      n = 2, cp = b & 0x0Fu, min = 0x800;
    } else if ((b & 0xF8) == 0xF0) {
      n = 3, cp = b & 0x07u, min = 0x10000;
    } else {
      return false;
    }
    if (s.size() - i <= n) return false;  // the sequence is cut short
    for (size_t k = 1; k <= n; ++k) {
      auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

std::string MakeResponse(const json& id, std::string_view request, Errc code, std::string_view message,
                         const json& data) {
  json r;
  r["type"] = "response";
  r["id"] = id;
  r["request"] = request;
  r["code"] = static_cast<int32_t>(code);
  r["message"] = message;
  if (!data.is_null()) r["data"] = data;
  return DumpSafe(r);
}

std::string MakeErrorResponse(const json& id, std::string_view request, const Error& error) {
  if (error.detail == Errc::kOk) return MakeResponse(id, request, error.code, error.What());
  // The cause under a contract code that covers several: its own Parley code.
  return MakeResponse(id, request, error.code, error.What(), {{"detail", static_cast<int32_t>(error.detail)}});
}

Result<std::string> GetString(const json& obj, const char* key, bool required, size_t max_len, Errc too_long) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    if (required) return MakeError(Errc::kInvalidField, std::string("missing field '") + key + "'");
    return std::string();
  }
  if (!it->is_string()) return MakeError(Errc::kInvalidField, std::string("field '") + key + "' must be a string");
  const auto& s = it->get_ref<const std::string&>();
  if (s.size() > max_len)
    return MakeError(too_long, std::string("field '") + key + "' is longer than " + std::to_string(max_len) + " bytes");
  return s;
}

Result<int64_t> GetInt(const json& obj, const char* key, bool required, int64_t fallback) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    if (required) return MakeError(Errc::kInvalidField, std::string("missing field '") + key + "'");
    return fallback;
  }
  if (!it->is_number_integer())
    return MakeError(Errc::kInvalidField, std::string("field '") + key + "' must be an integer");
  return it->get<int64_t>();
}

Result<bool> GetBool(const json& obj, const char* key, bool fallback) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) return MakeError(Errc::kInvalidField, std::string("field '") + key + "' must be a boolean");
  return it->get<bool>();
}

}  // namespace parley::proto
