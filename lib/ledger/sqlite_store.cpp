// The SQLite store: one file, WAL journal, foreign keys on, a busy timeout so that two
// processes recording at once wait for each other instead of failing, and a schema version
// with forward migrations (a file made by a newer carerules is refused, not damaged).
#include <sqlite3.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "ledger/hash.hpp"
#include "ledger/store.hpp"

namespace carerules::ledger {
namespace {

constexpr int schema_version = 3;
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
    // 3: rounds are hashed subject by subject (hash.hpp), so that a round streams in; the
    // hashes of recorded rounds are computed again from what they stored (rehash below). A
    // subject's facts move to its row of `seen` (one row per subject and round, not two).
    R"(ALTER TABLE seen ADD COLUMN facts TEXT;
       UPDATE seen SET facts = (SELECT json FROM facts f WHERE f.round = seen.round AND
                                f.subject = seen.subject);
       DROP TABLE facts;)",
};
static_assert(sizeof migrations / sizeof migrations[0] == schema_version);

void run_sql(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string why = err ? err : sqlite3_errmsg(db);
    sqlite3_free(err);
    throw ledger_error("ledger: " + why);
  }
}

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

  std::unique_ptr<stage> begin_round() override;

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
                "SELECT s.facts FROM seen s JOIN rounds r ON r.id = s.round WHERE s.subject = ? "
                "AND s.facts IS NOT NULL ORDER BY r.asof DESC, r.seq DESC LIMIT 1");
    s.bind(1, subject);
    if (!s.step()) return std::nullopt;
    return s.text(0);
  }

 private:
  void exec(const char* sql) { run_sql(db_, sql); }

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
        for (std::int64_t i = have; i < schema_version; ++i) {
          exec(migrations[static_cast<std::size_t>(i)]);
          if (i + 1 == 3) rehash();
        }
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

  // Each recorded round's hash, computed from what it stored: its explicit rows, and for a
  // subject seen with the round's full set of items an absent row for each item it has no
  // row for (the responsible of the subject).
  void rehash() {
    statement rounds(db_, "SELECT id, asof, ruleset, version, digest FROM rounds");
    statement update(db_, "UPDATE rounds SET hash = ? WHERE id = ?");
    while (rounds.step()) {
      const round_info r{rounds.text(0), rounds.text(1), rounds.text(2), rounds.text(3),
                         rounds.text(4)};
      std::vector<std::string> items;
      statement ri(db_, "SELECT item FROM round_items WHERE round = ? ORDER BY item");
      ri.bind(1, r.id);
      while (ri.step()) items.push_back(ri.text(0));
      statement seen(
          db_, "SELECT subject, responsible, full FROM seen WHERE round = ? ORDER BY subject");
      seen.bind(1, r.id);
      statement rows(db_,
                     "SELECT subject, item, status, title, cite, action, due, responsible FROM "
                     "observations WHERE round = ? ORDER BY subject, item");
      rows.bind(1, r.id);
      bool more = rows.step();
      round_hasher hasher;
      std::vector<observation> subject;
      while (seen.step()) {
        const std::string name = seen.text(0);
        subject.clear();
        while (more && rows.text(0) < name) more = rows.step();
        std::set<std::string> have;
        while (more && rows.text(0) == name) {
          subject.push_back({rows.text(0), rows.text(1), rows.text(2), rows.text(3), rows.text(4),
                             rows.text(5), rows.opt(6), rows.opt(7), std::nullopt});
          have.insert(subject.back().item);
          more = rows.step();
        }
        if (seen.integer(2) != 0)
          for (const auto& item : items)
            if (!have.count(item))
              subject.push_back(
                  {name, item, "absent", "", "", "", std::nullopt, seen.opt(1), std::nullopt});
        std::vector<const observation*> ptrs;
        for (const auto& o : subject) ptrs.push_back(&o);
        hasher.add(subject_digest(std::move(ptrs)));
      }
      update.bind(1, hasher.finish(r));
      update.bind(2, r.id);
      update.run();
    }
  }

  sqlite3* db_ = nullptr;
};

// Subjects are staged in temporary tables of this connection (a file SQLite keeps for it
// alone), so memory stays bounded and the ledger is locked only while commit() copies them.
class sqlite_stage final : public store::stage {
 public:
  explicit sqlite_stage(sqlite3* db) : db_(db) {
    run_sql(db_,
            "CREATE TEMP TABLE IF NOT EXISTS stage_observations (subject TEXT, item TEXT, "
            "status TEXT, title TEXT, cite TEXT, action TEXT, due TEXT, responsible TEXT);"
            "CREATE TEMP TABLE IF NOT EXISTS stage_seen (subject TEXT, responsible TEXT, "
            "full INTEGER, facts TEXT);"
            "CREATE TEMP TABLE IF NOT EXISTS stage_items (item TEXT, title TEXT, cite TEXT, "
            "action TEXT);"
            "DELETE FROM temp.stage_observations; DELETE FROM temp.stage_seen;"
            "DELETE FROM temp.stage_items;"
            "BEGIN");
    open_ = true;
    obs_ = std::make_unique<statement>(
        db_, "INSERT INTO temp.stage_observations VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    seen_ = std::make_unique<statement>(db_, "INSERT INTO temp.stage_seen VALUES (?, ?, ?, ?)");
  }
  ~sqlite_stage() override {
    finalize();
    if (open_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_exec(db_,
                 "DELETE FROM temp.stage_observations; DELETE FROM temp.stage_seen;"
                 "DELETE FROM temp.stage_items;",
                 nullptr, nullptr, nullptr);
  }
  sqlite_stage(const sqlite_stage&) = delete;
  sqlite_stage& operator=(const sqlite_stage&) = delete;

  void add(const std::vector<observation>& subject) override {
    if (subject.empty()) return;
    items_.clear();
    for (const auto& o : subject) items_.push_back(o.item);
    std::sort(items_.begin(), items_.end());
    if (!first_done_) {  // the first subject's items are the round's
      first_done_ = true;
      round_items_.assign(items_.begin(), items_.end());
      statement it(db_, "INSERT INTO temp.stage_items VALUES (?, ?, ?, ?)");
      for (const auto& o : subject) {
        it.bind(1, o.item);
        it.bind(2, o.title);
        it.bind(3, o.cite);
        it.bind(4, o.action);
        it.run();
      }
    }
    // A subject with exactly the round's items stores no absent rows (seen.full implies them).
    const bool full =
        std::equal(items_.begin(), items_.end(), round_items_.begin(), round_items_.end());
    const std::optional<std::string>* facts = nullptr;
    for (const auto& o : subject) {
      if (o.facts && !facts) facts = &o.facts;
      if (full && o.status == "absent") continue;
      obs_->bind(1, o.subject);
      obs_->bind(2, o.item);
      obs_->bind(3, o.status);
      obs_->bind(4, o.title);
      obs_->bind(5, o.cite);
      obs_->bind(6, o.action);
      obs_->bind(7, o.due);
      obs_->bind(8, o.responsible);
      obs_->run();
    }
    seen_->bind(1, subject.front().subject);
    seen_->bind(2, subject.front().responsible);
    seen_->bind(3, static_cast<std::int64_t>(full ? 1 : 0));
    seen_->bind(4, facts ? *facts : std::optional<std::string>());
    seen_->run();
  }

  outcome commit(const round_info& round, const std::string& hash) override {
    round_ = round;
    finalize();
    run_sql(db_, "COMMIT");  // the staged rows (temporary tables only)
    open_ = false;
    run_sql(db_, "BEGIN IMMEDIATE");
    open_ = true;
    {
      statement have(db_, "SELECT hash FROM rounds WHERE id = ?");
      have.bind(1, round_.id);
      if (have.step()) {
        const outcome o = have.text(0) == hash ? outcome::same : outcome::other;
        return o;  // the destructor rolls back
      }
    }
    statement seq(db_, "SELECT COALESCE(MAX(seq), 0) + 1 FROM rounds");
    seq.step();
    statement ins(db_,
                  "INSERT INTO rounds (id, seq, asof, ruleset, version, digest, hash) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?)");
    ins.bind(1, round_.id);
    ins.bind(2, seq.integer(0));
    ins.bind(3, round_.asof);
    ins.bind(4, round_.ruleset);
    ins.bind(5, round_.version);
    ins.bind(6, round_.digest);
    ins.bind(7, hash);
    ins.run();
    copy(
        "INSERT INTO round_items (round, item, title, cite, action) "
        "SELECT ?1, item, title, cite, action FROM temp.stage_items");
    try {
      copy(
          "INSERT INTO seen (round, subject, responsible, full, facts) "
          "SELECT ?1, subject, responsible, full, facts FROM temp.stage_seen ORDER BY subject");
    } catch (const ledger_error&) {
      statement twice(db_,
                      "SELECT subject FROM temp.stage_seen GROUP BY subject HAVING COUNT(*) > 1 "
                      "LIMIT 1");
      if (twice.step())
        throw ledger_error("subject `" + twice.text(0) + "` is given more than once in round `" +
                           round_.id + "`: a round holds one report per subject");
      throw;
    }
    copy(
        "INSERT INTO observations (round, subject, item, status, title, cite, action, due, "
        "responsible) SELECT ?1, subject, item, status, title, cite, action, due, responsible "
        "FROM temp.stage_observations ORDER BY subject, item");
    run_sql(db_, "COMMIT");
    open_ = false;
    return outcome::recorded;
  }

 private:
  void copy(const char* sql) {
    statement s(db_, sql);
    s.bind(1, round_.id);
    s.run();
  }
  void finalize() {
    obs_.reset();
    seen_.reset();
  }

  sqlite3* db_;
  round_info round_;
  bool open_ = false;  // a transaction is open
  bool first_done_ = false;
  std::vector<std::string_view> items_;  // the subject's, sorted (reused)
  std::vector<std::string> round_items_;
  std::unique_ptr<statement> obs_, seen_;
};

std::unique_ptr<store::stage> sqlite_store::begin_round() {
  return std::make_unique<sqlite_stage>(db_);
}

}  // namespace

std::unique_ptr<store> open_sqlite(const std::string& path, bool create) {
  return std::make_unique<sqlite_store>(path, create);
}

}  // namespace carerules::ledger
