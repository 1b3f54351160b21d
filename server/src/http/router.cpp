#include "http/router.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "parley/proto/token.hpp"
#include "parley/proto/vocabulary.hpp"
#include "signal/protocol.hpp"

namespace parley::server {
namespace {

using nlohmann::json;

HttpResponse Json(int status, const json& body) {
  HttpResponse r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

int StatusFor(Errc code) {
  switch (code) {
    case Errc::kAdminUnauthorized: return 401;
    case Errc::kAdminNotFound: return 404;
    case Errc::kStorageError:
    case Errc::kInternalError: return 500;
    default: return 400;
  }
}

HttpResponse ErrorJson(const Error& e) {
  return Json(StatusFor(e.code), {{"code", e.value()}, {"hex", FormatHex(e.value())}, {"message", e.What()}});
}

HttpResponse ErrorJson(Errc code, const std::string& message) {
  return ErrorJson(MakeError(code, message));
}

json AppJson(const App& a) {
  return {{"appId", a.app_id},
          {"appKey", a.app_key},
          {"name", a.name},
          {"enabled", a.enabled},
          {"createdAt", a.created_at},
          {"quotaMinutes", a.quota_minutes ? json(*a.quota_minutes) : json(nullptr)},
          {"usedSeconds", a.used_seconds},
          {"overdue", a.Overdue()},
          {"classicTokens", a.classic_tokens}};
}

std::vector<std::string> Segments(const std::string& path) {
  std::vector<std::string> out;
  std::stringstream ss(path);
  std::string part;
  while (std::getline(ss, part, '/'))
    if (!part.empty()) out.push_back(part);
  return out;
}

std::string ContentType(const std::filesystem::path& p) {
  static const std::map<std::string, std::string> kTypes = {{".html", "text/html; charset=utf-8"},
                                                            {".js", "text/javascript; charset=utf-8"},
                                                            {".mjs", "text/javascript; charset=utf-8"},
                                                            {".css", "text/css; charset=utf-8"},
                                                            {".json", "application/json"},
                                                            {".png", "image/png"},
                                                            {".svg", "image/svg+xml"},
                                                            {".ico", "image/x-icon"},
                                                            {".txt", "text/plain; charset=utf-8"},
                                                            {".md", "text/markdown; charset=utf-8"}};
  auto it = kTypes.find(p.extension().string());
  return it == kTypes.end() ? "application/octet-stream" : it->second;
}

std::string BearerKey(const HttpRequest& req) {
  if (!req.admin_key_header.empty()) return req.admin_key_header;
  static constexpr std::string_view kBearer = "Bearer ";
  if (req.authorization.size() > kBearer.size() && req.authorization.compare(0, kBearer.size(), kBearer) == 0)
    return req.authorization.substr(kBearer.size());
  return {};
}

}  // namespace

HttpResponse Router::Handle(const HttpRequest& req) {
  ++metrics_.http_requests_total;
  std::string path = req.target, query;
  if (auto q = path.find('?'); q != std::string::npos) {
    query = path.substr(q + 1);
    path.resize(q);
  }
  if (path == "/metrics" && req.method == "GET") {
    if (config_.metrics_access == "admin" && !store_.CheckAdminKey(BearerKey(req)))
      return ErrorJson(Errc::kAdminUnauthorized, "/metrics needs the admin key (--metrics-access admin)");
    HttpResponse r;
    r.content_type = "text/plain; version=0.0.4";
    r.body = metrics_.Render();
    return r;
  }
  if (path == "/healthz") return Json(200, {{"status", "ok"}});
  if (path.rfind("/v1/admin/", 0) == 0 || path == "/v1/admin") return Admin(req, path, query);
  if (path == "/v1/signal")
    return Json(426, {{"code", static_cast<int32_t>(Errc::kInvalidField)},
                      {"message", "/v1/signal is a WebSocket endpoint; send an Upgrade request"}});
  return Static(req, path);
}

HttpResponse Router::Admin(const HttpRequest& req, const std::string& path, const std::string& query) {
  if (!store_.CheckAdminKey(BearerKey(req)))
    return ErrorJson(Errc::kAdminUnauthorized, "admin key missing or wrong (Authorization: Bearer <key>)");
  auto seg = Segments(path.substr(std::string("/v1/admin").size()));
  const std::string& m = req.method;
  json body = json::object();
  if (!req.body.empty()) {
    body = json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object())
      return ErrorJson(Errc::kAdminBadRequest, "body must be a JSON object");
  }
  auto not_allowed = [] { return ErrorJson(Errc::kAdminBadRequest, "method not allowed here"); };

  if (seg.size() == 1 && seg[0] == "channels") {
    if (m != "GET") return not_allowed();
    std::string app_filter;
    if (query.rfind("appId=", 0) == 0) app_filter = query.substr(6);
    return Json(200, {{"channels", admin_.ListChannels(app_filter)}});
  }
  if (seg.empty() || seg[0] != "apps") return ErrorJson(Errc::kAdminNotFound, "no admin resource " + path);

  if (seg.size() == 1) {
    if (m == "GET") {
      json apps = json::array();
      for (const auto& [id, a] : store_.Apps()) apps.push_back(AppJson(a));
      return Json(200, {{"apps", apps}});
    }
    if (m == "POST") {
      auto name = GetString(body, "name", false, 128);
      if (!name) return ErrorJson(Errc::kAdminBadRequest, name.error().What());
      auto classic = GetBool(body, "classicTokens", false);
      if (!classic) return ErrorJson(Errc::kAdminBadRequest, classic.error().What());
      auto app = store_.Create(name->empty() ? "app" : *name, *classic);
      if (!app) return ErrorJson(app.error());
      return Json(201, AppJson(*app));
    }
    return not_allowed();
  }

  const std::string& app_id = seg[1];
  const App* app = store_.Find(app_id);
  if (!app) return ErrorJson(Errc::kAdminNotFound, "no app " + app_id);

  if (seg.size() == 2) {
    if (m == "GET") return Json(200, AppJson(*app));
    if (m == "DELETE") {
      // Delete first: a delete that fails must leave the app's users in their calls.
      if (Status s = store_.Delete(app_id); !s) return ErrorJson(s.error());
      admin_.OnAppRevoked(app_id);
      return Json(200, {{"deleted", app_id}});
    }
    return not_allowed();
  }
  const std::string& action = seg[2];
  if (seg.size() == 3 && (action == "disable" || action == "enable")) {
    if (m != "POST") return not_allowed();
    bool enable = action == "enable";
    if (Status s = store_.SetEnabled(app_id, enable); !s) return ErrorJson(s.error());
    if (!enable) admin_.OnAppRevoked(app_id);
    return Json(200, AppJson(*store_.Find(app_id)));
  }
  if (seg.size() == 3 && action == "rotate-key") {
    if (m != "POST") return not_allowed();
    auto rotated = store_.RotateKey(app_id);
    if (!rotated) return ErrorJson(rotated.error());
    admin_.OnAppKeyRotated(app_id);  // their tokens were signed with the old key
    return Json(200, AppJson(*rotated));
  }
  if (seg.size() == 3 && action == "settings") {
    if (m != "PUT" && m != "POST") return not_allowed();
    auto it = body.find("classicTokens");
    if (it == body.end() || !it->is_boolean())
      return ErrorJson(Errc::kAdminBadRequest, "body needs 'classicTokens' (true or false)");
    if (Status s = store_.SetClassicTokens(app_id, it->get<bool>()); !s) return ErrorJson(s.error());
    return Json(200, AppJson(*store_.Find(app_id)));
  }
  if (seg.size() == 3 && action == "quota") {
    if (m != "PUT" && m != "POST") return not_allowed();
    auto it = body.find("minutes");
    std::optional<int64_t> minutes;
    if (it == body.end()) return ErrorJson(Errc::kAdminBadRequest, "body needs 'minutes' (an integer >= 0, or null)");
    if (!it->is_null()) {
      if (!it->is_number_integer() || it->get<int64_t>() < 0)
        return ErrorJson(Errc::kAdminBadRequest, "'minutes' must be an integer >= 0, or null for unlimited");
      minutes = it->get<int64_t>();
    }
    if (Status s = store_.SetQuota(app_id, minutes); !s) return ErrorJson(s.error());
    return Json(200, AppJson(*store_.Find(app_id)));
  }
  if (seg.size() == 3 && action == "channels") {
    if (m != "GET") return not_allowed();
    return Json(200, {{"channels", admin_.ListChannels(app_id)}});
  }
  if (seg.size() == 4 && action == "channels") {
    if (m != "DELETE") return not_allowed();
    if (Status s = admin_.CloseChannel(app_id, seg[3]); !s) return ErrorJson(s.error());
    return Json(200, {{"closed", seg[3]}});
  }
  if (seg.size() == 7 && action == "channels" && seg[4] == "users" && seg[6] == "kick") {
    if (m != "POST") return not_allowed();
    if (Status s = admin_.Kick(app_id, seg[3], seg[5]); !s) return ErrorJson(s.error());
    return Json(200, {{"kicked", seg[5]}, {"channelId", seg[3]}});
  }
  if (seg.size() == 3 && action == "tokens") {
    if (m != "POST") return not_allowed();
    auto ch = GetString(body, "channelId", true, 64);
    auto user = GetString(body, "userId", true, 64);
    auto nonce = GetString(body, "nonce", false, 128);
    auto ttl = GetInt(body, "ttlSeconds", false, 86400);
    auto format = GetString(body, "format", false, 16);
    auto role = GetString(body, "role", false, 16);
    for (const Error* e :
         {ch ? nullptr : &ch.error(), user ? nullptr : &user.error(), nonce ? nullptr : &nonce.error(),
          ttl ? nullptr : &ttl.error(), format ? nullptr : &format.error(), role ? nullptr : &role.error()})
      if (e) return ErrorJson(Errc::kAdminBadRequest, e->What());
    if (*ttl <= 0 || *ttl > 366LL * 86400) return ErrorJson(Errc::kAdminBadRequest, "ttlSeconds must be 1..31622400");
    if (!format->empty() && *format != "access" && *format != "classic")
      return ErrorJson(Errc::kAdminBadRequest, "format must be \"access\" (default) or \"classic\"");
    if (!role->empty() && !ParseRole(*role))
      return ErrorJson(Errc::kAdminBadRequest, "role must be \"broadcaster\" or \"audience\"");
    int64_t now =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    AuthInfo auth{app_id, *ch, *user, *nonce, now + *ttl, "-"};
    if (Status s = ValidateAuthInfo(auth); !s) return ErrorJson(s.error().code, s.error().What());
    json out = {{"appId", app_id},
                {"channelId", auth.channel_id},
                {"userId", auth.user_id},
                {"nonce", auth.nonce},
                {"expiresAt", auth.timestamp}};
    if (*format == "classic") {
      if (!app->classic_tokens)
        return ErrorJson(Errc::kAdminBadRequest,
                         "classic tokens are turned off for this app (PUT .../settings {\"classicTokens\":true})");
      if (*ttl > config_.max_classic_token_lifetime_s)
        return ErrorJson(Errc::kAdminBadRequest, "a classic token may live at most --max-classic-token-lifetime (" +
                                                     std::to_string(config_.max_classic_token_lifetime_s) + " s)");
      if (!role->empty()) return ErrorJson(Errc::kAdminBadRequest, "classic tokens carry no role");
      auth.token = ComputeClassicToken(app_id, app->app_key, auth.channel_id, auth.user_id, auth.nonce, auth.timestamp);
      out["format"] = "classic";
      out["timestamp"] = auth.timestamp;
      out["token"] = auth.token;
      out["singleToken"] = EncodeSingleToken(auth);
    } else {
      AccessClaims claims{app_id, auth.channel_id, auth.user_id, auth.nonce, *role, auth.timestamp, now};
      out["format"] = "access";
      out["role"] = *role;
      out["token"] = MintAccessToken(claims, app->app_key);
    }
    return Json(200, out);
  }
  return ErrorJson(Errc::kAdminNotFound, "no admin resource " + path);
}

bool PercentDecode(std::string_view in, std::string* out) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      int hi = hex(in[i + 1]);
      int lo = hex(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    }
    if (c == '\0') return false;
    out->push_back(c);
  }
  return true;
}

std::optional<std::filesystem::path> ResolveStaticPath(const std::string& root, const std::string& path,
                                                       std::string* redirect) {
  namespace fs = std::filesystem;
  redirect->clear();
  if (root.empty() || path.empty() || path[0] != '/') return std::nullopt;
  std::string decoded;
  if (!PercentDecode(path, &decoded)) return std::nullopt;
  // Backslashes are separators elsewhere; nothing we serve has one in its name.
  if (decoded.find('\\') != std::string::npos) return std::nullopt;
  // Build the path from its segments so that no form ("//x", "/./x", "/a/../../x")
  // can make it absolute or climb; ".." is refused outright rather than resolved.
  fs::path rel;
  std::string seg;
  std::stringstream ss(decoded);
  while (std::getline(ss, seg, '/')) {
    if (seg.empty() || seg == ".") continue;
    if (seg == "..") return std::nullopt;
    rel /= seg;
  }
  std::error_code ec;
  fs::path base = fs::canonical(root, ec);
  if (ec) return std::nullopt;
  fs::path file = fs::weakly_canonical(base / rel, ec);  // resolves symlinks on the way
  if (ec) return std::nullopt;
  auto inside = [&](const fs::path& p) {
    auto [b, f] = std::mismatch(base.begin(), base.end(), p.begin(), p.end());
    return b == base.end();
  };
  if (!inside(file)) return std::nullopt;
  if (fs::is_directory(file, ec)) {
    // The redirect names the normalised path, never the request's ("//host" would
    // be read by a browser as another site).
    if (decoded.back() != '/') {
      *redirect = rel.empty() ? "/" : "/" + rel.generic_string() + "/";
      return file;
    }
    file = fs::weakly_canonical(file / "index.html", ec);
    if (ec || !inside(file)) return std::nullopt;
  }
  if (!fs::is_regular_file(file, ec)) return std::nullopt;
  return file;
}

HttpResponse Router::Static(const HttpRequest& req, const std::string& path) {
  if (req.method != "GET" && req.method != "HEAD") return ErrorJson(Errc::kAdminBadRequest, "method not allowed");
  std::string redirect;
  auto file = ResolveStaticPath(config_.web_root, path, &redirect);
  if (!file) return ErrorJson(Errc::kAdminNotFound, "not found");
  if (!redirect.empty()) {
    HttpResponse r;
    r.status = 301;
    r.content_type = "text/plain";
    r.headers["Location"] = redirect;
    return r;
  }
  HttpResponse r;
  r.content_type = ContentType(*file);
  r.file = file->string();
  r.headers["Cache-Control"] = "no-cache";
  r.headers["X-Content-Type-Options"] = "nosniff";
  return r;
}

}  // namespace parley::server
