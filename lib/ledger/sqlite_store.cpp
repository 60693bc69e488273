// The SQLite store: one file, WAL journal, foreign keys on, a busy timeout so that two
// processes recording at once wait for each other instead of failing, and a schema version
// with forward migrations (a file made by a newer carerules is refused, not damaged).
#include <sqlite3.h>

#include <map>
#include <set>
#include <string>

#include "ledger/store.hpp"

namespace carerules::ledger {
namespace {

constexpr int schema_version = 2;
constexpr int busy_timeout_ms = 30000;

// Each migration takes the schema from version i to i + 1.
const char* const migrations[] = {
    R"(CREATE TABLE rounds (
         id      TEXT PRIMARY KEY,
         seq     INTEGER NOT NULL,
         asof    TEXT NOT NULL,
         ruleset TEXT NOT NULL,
         version TEXT NOT NULL,
         digest  TEXT NOT NULL,
         hash    TEXT NOT NULL);
       CREATE TABLE observations (
         round       TEXT NOT NULL REFERENCES rounds(id),
         subject     TEXT NOT NULL,
         item        TEXT NOT NULL,
         status      TEXT NOT NULL CHECK (status IN ('present', 'absent', 'undetermined')),
         title       TEXT NOT NULL,
         cite        TEXT NOT NULL,
         action      TEXT NOT NULL,
         due         TEXT,
         responsible TEXT,
         PRIMARY KEY (round, subject, item));
       CREATE INDEX observations_by_subject ON observations(subject, item);
       CREATE INDEX observations_present ON observations(subject, item) WHERE status = 'present';
       CREATE TABLE facts (
         round   TEXT NOT NULL REFERENCES rounds(id),
         subject TEXT NOT NULL,
         json    TEXT NOT NULL,
         PRIMARY KEY (round, subject));)",
    // 2: a round stores the items it did not find absent. `seen` lists the subjects of each
    // round; for a subject whose report had every item of the round (`full`), an item of
    // `round_items` without a row in `observations` was absent. Rounds recorded before keep
    // their absent rows (full = 0).
    R"(CREATE TABLE seen (
         round       TEXT NOT NULL REFERENCES rounds(id),
         subject     TEXT NOT NULL,
         responsible TEXT,
         full        INTEGER NOT NULL,
         PRIMARY KEY (subject, round)) WITHOUT ROWID;
       CREATE TABLE round_items (
         round  TEXT NOT NULL REFERENCES rounds(id),
         item   TEXT NOT NULL,
         title  TEXT NOT NULL,
         cite   TEXT NOT NULL,
         action TEXT NOT NULL,
         PRIMARY KEY (round, item)) WITHOUT ROWID;
       INSERT INTO seen (round, subject, responsible, full)
         SELECT round, subject, MIN(responsible), 0 FROM observations GROUP BY round, subject;)",
};
static_assert(sizeof migrations / sizeof migrations[0] == schema_version);

class statement {
 public:
  statement(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &s_, nullptr) != SQLITE_OK)
      throw ledger_error(std::string("ledger: ") + sqlite3_errmsg(db));
  }
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;
  ~statement() { sqlite3_finalize(s_); }
  void bind(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  void bind(int i, const std::optional<std::string>& v) {
    if (v)
      bind(i, *v);
    else
      sqlite3_bind_null(s_, i);
  }
  void bind(int i, std::int64_t v) { sqlite3_bind_int64(s_, i, v); }
  // True while there is a row.
  bool step() {
    int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw ledger_error(std::string("ledger: ") + sqlite3_errmsg(db_));
  }
  void run() {
    step();
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  std::string text(int i) const {
    const auto* p = sqlite3_column_text(s_, i);
    return p ? std::string(reinterpret_cast<const char*>(p),
                           static_cast<std::size_t>(sqlite3_column_bytes(s_, i)))
             : std::string();
  }
  std::optional<std::string> opt(int i) const {
    if (sqlite3_column_type(s_, i) == SQLITE_NULL) return std::nullopt;
    return text(i);
  }
  std::int64_t integer(int i) const { return sqlite3_column_int64(s_, i); }

 private:
  sqlite3* db_;
  sqlite3_stmt* s_ = nullptr;
};

class sqlite_store final : public store {
 public:
  sqlite_store(const std::string& path, bool create) {
    const int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
    if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
      std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      db_ = nullptr;
      throw ledger_error("cannot open the ledger `" + path + "`: " + why);
    }
    sqlite3_busy_timeout(db_, busy_timeout_ms);
    try {
      exec("PRAGMA foreign_keys = ON");
      // WAL fails on a read-only file; the version check below says why then.
      sqlite3_exec(db_, "PRAGMA journal_mode = WAL", nullptr, nullptr, nullptr);
      // In WAL mode NORMAL keeps the file consistent through any crash (a killed writer
      // leaves the previous round); only a power cut may forget the last rounds committed.
      sqlite3_exec(db_, "PRAGMA synchronous = NORMAL", nullptr, nullptr, nullptr);
      sqlite3_exec(db_, "PRAGMA cache_size = -65536", nullptr, nullptr, nullptr);  // 64 MiB
      migrate(path);
    } catch (...) {
      sqlite3_close(db_);
      db_ = nullptr;
      throw;
    }
  }
  ~sqlite_store() override { sqlite3_close(db_); }
  sqlite_store(const sqlite_store&) = delete;
  sqlite_store& operator=(const sqlite_store&) = delete;

  std::optional<std::string> round_hash(const std::string& id) const override {
    statement s(db_, "SELECT hash FROM rounds WHERE id = ?");
    s.bind(1, id);
    if (!s.step()) return std::nullopt;
    return s.text(0);
  }

  void add_round(const round_info& r, const std::string& hash,
                 const std::vector<observation>& obs) override {
    exec("BEGIN IMMEDIATE");
    try {
      statement seq(db_, "SELECT COALESCE(MAX(seq), 0) + 1 FROM rounds");
      seq.step();
      const std::int64_t next = seq.integer(0);
      statement ins(db_,
                    "INSERT INTO rounds (id, seq, asof, ruleset, version, digest, hash) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)");
      ins.bind(1, r.id);
      ins.bind(2, next);
      ins.bind(3, r.asof);
      ins.bind(4, r.ruleset);
      ins.bind(5, r.version);
      ins.bind(6, r.digest);
      ins.bind(7, hash);
      ins.run();
      statement o(db_,
                  "INSERT INTO observations (round, subject, item, status, title, cite, action, "
                  "due, responsible) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
      statement f(db_, "INSERT OR REPLACE INTO facts (round, subject, json) VALUES (?, ?, ?)");
      statement sn(db_,
                   "INSERT OR REPLACE INTO seen (round, subject, responsible, full) "
                   "VALUES (?, ?, ?, ?)");
      statement it(db_,
                   "INSERT OR IGNORE INTO round_items (round, item, title, cite, action) "
                   "VALUES (?, ?, ?, ?, ?)");
      // The round's items: every item some subject's report had.
      std::map<std::string, const observation*> items;
      for (const auto& x : obs) items.emplace(x.item, &x);
      for (const auto& [item, x] : items) {
        it.bind(1, r.id);
        it.bind(2, item);
        it.bind(3, x->title);
        it.bind(4, x->cite);
        it.bind(5, x->action);
        it.run();
      }
      // Observations come grouped by subject, as observations_of gives them.
      std::set<std::string> subject_items;
      auto write_subject = [&](std::size_t from, std::size_t to) {
        subject_items.clear();
        for (std::size_t k = from; k < to; ++k) subject_items.insert(obs[k].item);
        const bool full = subject_items.size() == items.size();
        for (std::size_t k = from; k < to; ++k) {
          const observation& x = obs[k];
          if (x.facts) {
            f.bind(1, r.id);
            f.bind(2, x.subject);
            f.bind(3, *x.facts);
            f.run();
          }
          if (full && x.status == "absent") continue;  // implied by seen and round_items
          o.bind(1, r.id);
          o.bind(2, x.subject);
          o.bind(3, x.item);
          o.bind(4, x.status);
          o.bind(5, x.title);
          o.bind(6, x.cite);
          o.bind(7, x.action);
          o.bind(8, x.due);
          o.bind(9, x.responsible);
          o.run();
        }
        sn.bind(1, r.id);
        sn.bind(2, obs[from].subject);
        sn.bind(3, obs[from].responsible);
        sn.bind(4, static_cast<std::int64_t>(full ? 1 : 0));
        sn.run();
      };
      std::size_t from = 0;
      for (std::size_t k = 1; k <= obs.size(); ++k)
        if (k == obs.size() || obs[k].subject != obs[from].subject) {
          write_subject(from, k);
          from = k;
        }
      exec("COMMIT");
    } catch (...) {
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
  }

  std::vector<round_info> rounds() const override {
    std::vector<round_info> out;
    statement s(db_, "SELECT id, asof, ruleset, version, digest FROM rounds ORDER BY asof, seq");
    while (s.step()) out.push_back({s.text(0), s.text(1), s.text(2), s.text(3), s.text(4)});
    return out;
  }

  void observations(const std::optional<std::string>& subject,
                    const std::function<void(row&&)>& each) const override {
    // Only the items some round found present (the others make no finding): their stored
    // rows, and an absent row for each round that saw the subject with its full set of items
    // and stored none for the item.
    const std::string keys =
        std::string(
            "WITH k AS (SELECT DISTINCT subject, item FROM observations WHERE status = "
            "'present'") +
        (subject ? " AND subject = ?1" : "") + ") ";
    statement s(
        db_, (keys + "SELECT o.round, o.subject, o.item, o.status, o.title, o.cite, o.action, "
                     "o.due, o.responsible FROM observations o JOIN k ON k.subject = o.subject "
                     "AND k.item = o.item "
                     "UNION ALL "
                     "SELECT s.round, k.subject, k.item, 'absent', ri.title, ri.cite, ri.action, "
                     "NULL, s.responsible FROM k JOIN seen s ON s.subject = k.subject AND "
                     "s.full = 1 JOIN round_items ri ON ri.round = s.round AND ri.item = k.item "
                     "WHERE NOT EXISTS (SELECT 1 FROM observations o WHERE o.round = s.round "
                     "AND o.subject = k.subject AND o.item = k.item) "
                     "ORDER BY 2, 3")
                 .c_str());
    if (subject) s.bind(1, *subject);
    while (s.step()) {
      row r;
      r.round = s.text(0);
      r.obs = {s.text(1), s.text(2), s.text(3), s.text(4),   s.text(5),
               s.text(6), s.opt(7),  s.opt(8),  std::nullopt};
      each(std::move(r));
    }
  }

  std::optional<std::string> facts_of(const std::string& subject) const override {
    statement s(db_,
                "SELECT f.json FROM facts f JOIN rounds r ON r.id = f.round WHERE f.subject = ? "
                "ORDER BY r.asof DESC, r.seq DESC LIMIT 1");
    s.bind(1, subject);
    if (!s.step()) return std::nullopt;
    return s.text(0);
  }

 private:
  void exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string why = err ? err : sqlite3_errmsg(db_);
      sqlite3_free(err);
      throw ledger_error("ledger: " + why);
    }
  }

  std::int64_t stored_version() {
    statement v(db_, "SELECT MAX(version) FROM schema_version");
    v.step();
    return v.integer(0);
  }

  void migrate(const std::string& path) {
    // A file that is not SQLite fails here with SQLite's "file is not a database".
    exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
    auto check = [&](std::int64_t have) {
      if (have > schema_version)
        throw ledger_error("the ledger `" + path + "` has schema version " + std::to_string(have) +
                           ", newer than this carerules understands (" +
                           std::to_string(schema_version) + "): use a newer carerules");
      return have == schema_version;
    };
    if (check(stored_version())) return;
    // The version is read again inside the write transaction: another process may have
    // migrated the file in between. (No statement is open across BEGIN, so the busy timeout
    // applies instead of an immediate "database is locked".)
    exec("BEGIN IMMEDIATE");
    try {
      const std::int64_t have = stored_version();
      if (!check(have)) {
        for (std::int64_t i = have; i < schema_version; ++i)
          exec(migrations[static_cast<std::size_t>(i)]);
        statement w(db_, "INSERT INTO schema_version (version) VALUES (?)");
        w.bind(1, static_cast<std::int64_t>(schema_version));
        w.run();
      }
      exec("COMMIT");
    } catch (...) {
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
  }

  sqlite3* db_ = nullptr;
};

}  // namespace

std::unique_ptr<store> open_sqlite(const std::string& path, bool create) {
  return std::make_unique<sqlite_store>(path, create);
}

}  // namespace carerules::ledger
