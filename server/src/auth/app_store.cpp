#include "auth/app_store.hpp"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

#include "parley/proto/token.hpp"

namespace parley::server {
namespace {

Error DbError(sqlite3* db, const std::string& what) {
  return MakeError(Errc::kStorageError, what + ": " + sqlite3_errmsg(db));
}

// A prepared statement that finalizes itself.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) stmt_ = nullptr;
  }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  [[nodiscard]] bool ok() const { return stmt_ != nullptr; }
  void Bind(int i, const std::string& s) {
    sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
  }
  void Bind(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  void BindNull(int i) { sqlite3_bind_null(stmt_, i); }
  int Step() { return sqlite3_step(stmt_); }
  [[nodiscard]] std::string Text(int col) const {
    auto* p = sqlite3_column_text(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string();
  }
  [[nodiscard]] int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  [[nodiscard]] bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

int64_t NowUnix() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

std::string RandomHex(size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1)
    throw std::runtime_error("RAND_bytes failed");  // no entropy: nothing safe to do
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (char ch : raw) {
    auto c = static_cast<unsigned char>(ch);
    out += kHex[c >> 4];
    out += kHex[c & 0xF];
  }
  return out;
}

Result<std::unique_ptr<AppStore>> AppStore::Open(const std::string& path) {
  // The database holds every AppKey: owner-only. SQLite gives the -wal and -shm files
  // the main file's mode, so creating it 0600 first covers all three; files left by an
  // older version are tightened.
  if (path != ":memory:") {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return MakeError(Errc::kStorageError, "cannot open " + path + ": " + std::strerror(errno));
    ::close(fd);
    for (const char* suffix : {"", "-wal", "-shm"}) ::chmod((path + suffix).c_str(), 0600);
  }
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr) !=
      SQLITE_OK) {
    Error e = MakeError(Errc::kStorageError, "cannot open " + path + ": " + (db ? sqlite3_errmsg(db) : "?"));
    sqlite3_close(db);
    return e;
  }
  std::unique_ptr<AppStore> store(new AppStore(db));
  // WAL + FULL: a committed transaction survives a process crash and a power cut.
  for (const char* sql : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA busy_timeout=2000",
                          "CREATE TABLE IF NOT EXISTS apps ("
                          " app_id TEXT PRIMARY KEY, app_key TEXT NOT NULL, name TEXT NOT NULL,"
                          " enabled INTEGER NOT NULL, created_at INTEGER NOT NULL,"
                          " quota_minutes INTEGER, used_seconds INTEGER NOT NULL DEFAULT 0,"
                          " classic_tokens INTEGER NOT NULL DEFAULT 0)",
                          "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"}) {
    if (Status s = store->Exec(sql); !s) return s.error();
  }
  // Databases from before access tokens: their apps were minting classic tokens, so they
  // keep accepting them (DEFAULT 1 applies to the existing rows only; new apps write 0).
  if (!store->HasColumn("apps", "classic_tokens")) {
    if (Status s = store->Exec("ALTER TABLE apps ADD COLUMN classic_tokens INTEGER NOT NULL DEFAULT 1"); !s)
      return s.error();
  }
  if (Status s = store->LoadAll(); !s) return s.error();
  return store;
}

AppStore::~AppStore() {
  sqlite3_close(db_);
}

Status AppStore::Exec(const char* sql) {
  char* msg = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
    std::string m = msg ? msg : "?";
    sqlite3_free(msg);
    return MakeError(Errc::kStorageError, std::string(sql).substr(0, 40) + ": " + m);
  }
  return {};
}

bool AppStore::HasColumn(const char* table, const char* column) {
  Stmt st(db_, (std::string("SELECT 1 FROM pragma_table_info('") + table + "') WHERE name = ?1").c_str());
  if (!st.ok()) return false;
  st.Bind(1, std::string(column));
  return st.Step() == SQLITE_ROW;
}

Status AppStore::LoadAll() {
  Stmt st(db_,
          "SELECT app_id, app_key, name, enabled, created_at, quota_minutes, used_seconds, classic_tokens FROM apps");
  if (!st.ok()) return DbError(db_, "load apps");
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) {
    App a;
    a.app_id = st.Text(0);
    a.app_key = st.Text(1);
    a.name = st.Text(2);
    a.enabled = st.Int(3) != 0;
    a.created_at = st.Int(4);
    if (!st.IsNull(5)) a.quota_minutes = st.Int(5);
    a.used_seconds = st.Int(6);
    a.classic_tokens = st.Int(7) != 0;
    apps_[a.app_id] = a;
  }
  if (rc != SQLITE_DONE) return DbError(db_, "load apps");
  Stmt meta(db_, "SELECT value FROM meta WHERE key = 'admin_key_sha256'");
  if (!meta.ok()) return DbError(db_, "load meta");
  if (meta.Step() == SQLITE_ROW) admin_key_hash_ = meta.Text(0);
  return {};
}

Status AppStore::WriteApp(const App& a) {
  Stmt st(db_,
          "INSERT INTO apps (app_id, app_key, name, enabled, created_at, quota_minutes, used_seconds, classic_tokens)"
          " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT(app_id) DO UPDATE SET app_key = ?2, name = ?3,"
          " enabled = ?4, quota_minutes = ?6, used_seconds = ?7, classic_tokens = ?8");
  if (!st.ok()) return DbError(db_, "prepare app write");
  st.Bind(1, a.app_id);
  st.Bind(2, a.app_key);
  st.Bind(3, a.name);
  st.Bind(4, static_cast<int64_t>(a.enabled));
  st.Bind(5, a.created_at);
  if (a.quota_minutes)
    st.Bind(6, *a.quota_minutes);
  else
    st.BindNull(6);
  st.Bind(7, a.used_seconds);
  st.Bind(8, static_cast<int64_t>(a.classic_tokens));
  if (st.Step() != SQLITE_DONE) return DbError(db_, "write app " + a.app_id);
  return {};
}

Result<App> AppStore::Create(const std::string& name, bool classic_tokens) {
  App a;
  a.classic_tokens = classic_tokens;
  do {
    a.app_id = RandomHex(8);  // 16 hex characters: a valid id and hard to guess
  } while (apps_.count(a.app_id));
  a.app_key = RandomHex(16);
  a.name = name;
  a.created_at = NowUnix();
  if (Status s = WriteApp(a); !s) return s.error();
  apps_[a.app_id] = a;
  return a;
}

const App* AppStore::Find(const std::string& app_id) const {
  auto it = apps_.find(app_id);
  return it == apps_.end() ? nullptr : &it->second;
}

Status AppStore::Update(const std::string& app_id, const std::function<void(App&)>& change) {
  auto it = apps_.find(app_id);
  if (it == apps_.end()) return MakeError(Errc::kAdminNotFound, "no app " + app_id);
  App a = it->second;
  change(a);
  if (Status s = WriteApp(a); !s) return s;  // the copy in memory changes only once stored
  it->second = a;
  return {};
}

Status AppStore::SetEnabled(const std::string& app_id, bool enabled) {
  return Update(app_id, [&](App& a) { a.enabled = enabled; });
}

Result<App> AppStore::RotateKey(const std::string& app_id) {
  auto it = apps_.find(app_id);
  if (it == apps_.end()) return MakeError(Errc::kAdminNotFound, "no app " + app_id);
  App a = it->second;
  a.app_key = RandomHex(16);
  if (Status s = WriteApp(a); !s) return s.error();
  it->second = a;
  return a;
}

Status AppStore::Delete(const std::string& app_id) {
  if (!apps_.count(app_id)) return MakeError(Errc::kAdminNotFound, "no app " + app_id);
  Stmt st(db_, "DELETE FROM apps WHERE app_id = ?1");
  if (!st.ok()) return DbError(db_, "prepare delete");
  st.Bind(1, app_id);
  if (st.Step() != SQLITE_DONE) return DbError(db_, "delete app " + app_id);
  apps_.erase(app_id);
  return {};
}

Status AppStore::SetClassicTokens(const std::string& app_id, bool allowed) {
  return Update(app_id, [&](App& a) { a.classic_tokens = allowed; });
}

Status AppStore::SetQuota(const std::string& app_id, std::optional<int64_t> minutes) {
  return Update(app_id, [&](App& a) { a.quota_minutes = minutes; });
}

Status AppStore::AddUsage(const std::map<std::string, int64_t>& seconds_by_app) {
  if (seconds_by_app.empty()) return {};
  if (Status s = Exec("BEGIN IMMEDIATE"); !s) return s;
  for (const auto& [id, seconds] : seconds_by_app) {
    Stmt st(db_, "UPDATE apps SET used_seconds = used_seconds + ?2 WHERE app_id = ?1");
    if (!st.ok() || (st.Bind(1, id), st.Bind(2, seconds), st.Step()) != SQLITE_DONE) {
      Error e = DbError(db_, "add usage");
      (void)Exec("ROLLBACK");
      return e;
    }
  }
  if (Status s = Exec("COMMIT"); !s) return s;
  for (const auto& [id, seconds] : seconds_by_app)
    if (auto it = apps_.find(id); it != apps_.end()) it->second.used_seconds += seconds;
  return {};
}

Result<std::string> AppStore::EnsureAdminKey(const std::optional<std::string>& key) {
  if (!key && !admin_key_hash_.empty()) return std::string();
  std::string k = key ? *key : RandomHex(24);
  std::string hash = Sha256Hex(k);
  Stmt st(db_,
          "INSERT INTO meta (key, value) VALUES ('admin_key_sha256', ?1)"
          " ON CONFLICT(key) DO UPDATE SET value = ?1");
  if (!st.ok()) return DbError(db_, "prepare admin key");
  st.Bind(1, hash);
  if (st.Step() != SQLITE_DONE) return DbError(db_, "store admin key");
  admin_key_hash_ = hash;
  return k;
}

bool AppStore::CheckAdminKey(std::string_view key) const {
  if (admin_key_hash_.empty() || key.empty()) return false;
  return ConstantTimeEquals(Sha256Hex(key), admin_key_hash_);
}

}  // namespace parley::server
