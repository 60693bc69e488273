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
#include "ledger/packed.hpp"
#include "ledger/spill.hpp"
#include "ledger/store.hpp"

namespace carerules::ledger {
namespace {

constexpr int schema_version = 5;
constexpr int busy_timeout_ms = 30000;
constexpr std::size_t block_bytes = std::size_t{1} << 20;

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
    // 4: `seen` in round order, so that a round's subjects are appended to it in one place
    // instead of between every subject's earlier rounds (which rewrote the table each round).
    // A subject's rows are read round by round (a campaign has few rounds), so no index by
    // subject is kept up to date.
    R"(CREATE TABLE seen_by_round (
         round       TEXT NOT NULL REFERENCES rounds(id),
         subject     TEXT NOT NULL,
         responsible TEXT,
         full        INTEGER NOT NULL,
         facts       TEXT,
         PRIMARY KEY (round, subject)) WITHOUT ROWID;
       INSERT INTO seen_by_round SELECT round, subject, responsible, full, facts FROM seen
         ORDER BY round, subject;
       DROP TABLE seen;
       ALTER TABLE seen_by_round RENAME TO seen;)",
    // 5: a subject's stored observations of a round move into its `seen` row (`items`, as
    // pack_items() writes them): one row per subject and round instead of one more per item
    // not absent. fold_observations() below moves them and drops `observations`.
    R"(ALTER TABLE seen ADD COLUMN items BLOB;)",
};
static_assert(sizeof migrations / sizeof migrations[0] == schema_version);

// An error of the ledger's file: SQLite's words, the file they are about, and what to do
// where those words do not say it.
ledger_error failure(sqlite3* db, const std::string& why) {
  const char* file = sqlite3_db_filename(db, "main");
  std::string m = "the ledger `" + std::string(file && *file ? file : "(in memory)") + "`: " + why;
  switch (sqlite3_errcode(db) & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      m += " (another process kept it locked for " + std::to_string(busy_timeout_ms / 1000) +
           " s; try again when it is done)";
      break;
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
      m += " (the file, or the folder that holds it, cannot be written)";
      break;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      m += " (the file is damaged, or is not a ledger)";
      break;
    default:
      break;
  }
  return ledger_error(m);
}

void run_sql(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string why = err ? err : sqlite3_errmsg(db);
    sqlite3_free(err);
    throw failure(db, why);
  }
}

// Bytes bound as a BLOB (none: NULL).
struct blob {
  std::string_view bytes;
};

class statement {
 public:
  statement(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &s_, nullptr) != SQLITE_OK)
      throw failure(db, sqlite3_errmsg(db));
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
  void bind_value(int i, std::int64_t v) { bind(i, v); }
  void bind_value(int i, const blob& v) {
    if (v.bytes.empty())
      sqlite3_bind_null(s_, i);
    else
      sqlite3_bind_blob(s_, i, v.bytes.data(), static_cast<int>(v.bytes.size()), SQLITE_STATIC);
  }
  void bind_value(int i, std::string_view v) { bind_view(i, v); }
  void bind_value(int i, const std::string& v) { bind_view(i, std::string_view(v)); }
  void bind_value(int i, const std::optional<std::string_view>& v) { bind_view(i, v); }
  void bind_value(int i, const std::optional<std::string>& v) {
    bind_view(i, v ? std::optional<std::string_view>(*v) : std::nullopt);
  }
  // Views must outlive the next run().
  void bind_view(int i, std::string_view v) {
    sqlite3_bind_text(s_, i, v.data() ? v.data() : "", static_cast<int>(v.size()), SQLITE_STATIC);
  }
  void bind_view(int i, const std::optional<std::string_view>& v) {
    if (v)
      bind_view(i, *v);
    else
      sqlite3_bind_null(s_, i);
  }
  // True while there is a row.
  bool step() {
    int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw failure(db_, sqlite3_errmsg(db_));
  }
  void run() {
    step();
    reset();
  }
  void reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  // Binds the values to ?1, ?2, ... and runs (views are bound without a copy: they are used
  // before this returns).
  template <class... Values>
  void run_with(const Values&... values) {
    int i = 0;
    (bind_value(++i, values), ...);
    step();
    sqlite3_reset(s_);  // every parameter is bound again next time
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
  // Valid until the next step(); empty for NULL.
  std::string_view bytes(int i) const {
    const void* p = sqlite3_column_blob(s_, i);
    return p ? std::string_view(static_cast<const char*>(p),
                                static_cast<std::size_t>(sqlite3_column_bytes(s_, i)))
             : std::string_view();
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* s_ = nullptr;
};

class sqlite_store final : public store {
 public:
  sqlite_store(const std::string& path, bool create, std::size_t run_bytes)
      : run_bytes_(run_bytes) {
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
    // observations, and an absent one for each round that saw the subject with its full set
    // of items and stored none for the item. A subject's rounds are read together, a lookup
    // per round.
    struct item_text {
      std::string title, cite, action;
    };
    std::map<std::pair<std::string, std::string>, item_text> items;  // (round, item)
    {
      statement ri(db_, "SELECT round, item, title, cite, action FROM round_items");
      while (ri.step()) items[{ri.text(0), ri.text(1)}] = {ri.text(2), ri.text(3), ri.text(4)};
    }
    // The subjects with stored observations: only they can have a finding.
    statement subjects(db_, subject ? "SELECT ?1"
                                    : "SELECT DISTINCT subject FROM seen WHERE items IS NOT "
                                      "NULL ORDER BY subject");
    if (subject) subjects.bind(1, *subject);
    statement rounds(db_,
                     "SELECT r.id, s.responsible, s.full, s.items FROM rounds r CROSS JOIN seen "
                     "s ON s.round = r.id AND s.subject = ?");
    struct seen_round {
      std::string round;
      std::optional<std::string> responsible;
      bool full = false;
      std::vector<observation> stored;
    };
    std::vector<seen_round> seen;
    std::vector<observation_view> views;
    std::set<std::string> present;
    while (subjects.step()) {
      const std::string name = subjects.text(0);
      seen.clear();
      present.clear();
      rounds.bind(1, name);
      while (rounds.step()) {
        seen_round& r = seen.emplace_back();
        r.round = rounds.text(0);
        r.responsible = rounds.opt(1);
        r.full = rounds.integer(2) != 0;
        views.clear();
        const std::string_view stored = rounds.bytes(3);  // NULL: none stored
        if (!stored.empty() && !unpack_items(stored, views))
          throw ledger_error("ledger: the observations of `" + name + "` in round `" + r.round +
                             "` are damaged");
        for (const auto& v : views) {
          r.stored.push_back(
              {name, std::string(v.item), std::string(v.status), std::string(v.title),
               std::string(v.cite), std::string(v.action),
               v.due ? std::optional<std::string>(*v.due) : std::nullopt,
               v.responsible ? std::optional<std::string>(*v.responsible) : std::nullopt,
               std::nullopt});
          if (v.status == "present") present.emplace(v.item);
        }
      }
      rounds.reset();
      for (const std::string& item : present)
        for (seen_round& r : seen) {
          auto o = std::find_if(r.stored.begin(), r.stored.end(),
                                [&](const observation& x) { return x.item == item; });
          if (o != r.stored.end()) {
            each({r.round, std::move(*o)});
            continue;
          }
          if (!r.full) continue;
          const auto text = items.find({r.round, item});
          if (text == items.end()) continue;  // not an item of that round
          each({r.round,
                {name, item, "absent", text->second.title, text->second.cite, text->second.action,
                 std::nullopt, r.responsible, std::nullopt}});
        }
    }
  }

  std::optional<std::string> facts_of(const std::string& subject) const override {
    statement s(db_,
                "SELECT s.facts FROM rounds r CROSS JOIN seen s ON s.round = r.id AND "
                "s.subject = ? WHERE s.facts IS NOT NULL ORDER BY r.asof DESC, r.seq DESC "
                "LIMIT 1");
    s.bind(1, subject);
    if (!s.step()) return std::nullopt;
    return s.text(0);
  }

 private:
  void exec(const char* sql) { run_sql(db_, sql); }

  std::int64_t stored_version() {
    statement v(db_, "SELECT MAX(version) FROM schema_version WHERE typeof(version) = 'integer'");
    v.step();
    return v.integer(0);
  }

  // The tables the file has. A file that is not SQLite fails here ("file is not a database").
  std::set<std::string> tables() {
    std::set<std::string> names;
    statement t(db_, "SELECT name FROM sqlite_master WHERE type = 'table'");
    while (t.step()) names.insert(t.text(0));
    return names;
  }

  // The version of the ledger in the file: nullopt for a new file (no tables, or only an
  // empty schema_version). A file with tables is a ledger only if one of them is
  // schema_version and it holds a version; otherwise it is some other database, or a damaged
  // ledger, refused rather than changed.
  std::optional<std::int64_t> ledger_version(const std::string& path) {
    const std::set<std::string> names = tables();
    const bool versioned = names.count("schema_version") != 0;
    const std::int64_t have = versioned ? stored_version() : 0;
    if (names.empty() || (names.size() == 1 && versioned && have < 1)) return std::nullopt;
    if (!versioned)
      throw ledger_error("the file `" + path +
                         "` is not a carerules ledger: it is an SQLite database with other "
                         "tables (nothing was changed)");
    if (have < 1)
      throw ledger_error("the ledger `" + path +
                         "` is damaged: its schema_version table holds no version (nothing was "
                         "changed)");
    return have;
  }

  void migrate(const std::string& path) {
    auto check = [&](std::int64_t have) {
      if (have > schema_version)
        throw ledger_error("the ledger `" + path + "` has schema version " + std::to_string(have) +
                           ", newer than this carerules understands (" +
                           std::to_string(schema_version) + "): use a newer carerules");
      return have == schema_version;
    };
    // Read first without a lock: a ledger already at this version (the usual case) is not
    // written to.
    if (const auto v = ledger_version(path); v && check(*v)) return;
    // Again inside the write transaction: another process may have created or migrated the
    // file in between. (No statement is open across BEGIN, so the busy timeout applies
    // instead of an immediate "database is locked".)
    exec("BEGIN IMMEDIATE");
    try {
      const auto version = ledger_version(path);
      if (!version) exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
      const std::int64_t have = version.value_or(0);
      if (!check(have)) {
        for (std::int64_t i = have; i < schema_version; ++i) {
          exec(migrations[static_cast<std::size_t>(i)]);
          if (i + 1 == 3) rehash();
          if (i + 1 == 5) fold_observations();
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

  // Schema 5: each subject's rows of `observations` in a round become its `seen.items`.
  void fold_observations() {
    statement rows(db_,
                   "SELECT round, subject, item, status, title, cite, action, due, responsible "
                   "FROM observations ORDER BY round, subject, item");
    statement seen(db_,
                   "INSERT OR IGNORE INTO seen (round, subject, responsible, full) "
                   "VALUES (?, ?, ?, 0)");
    statement update(db_, "UPDATE seen SET items = ? WHERE round = ? AND subject = ?");
    std::string round, subject, items;
    std::vector<observation> group;
    auto flush = [&] {
      if (group.empty()) return;
      seen.run_with(round, subject, group.front().responsible);
      items.clear();
      pack_items(items, group.begin(), group.end());
      update.run_with(blob{items}, round, subject);
      group.clear();
    };
    while (rows.step()) {
      if (rows.text(0) != round || rows.text(1) != subject) {
        flush();
        round = rows.text(0);
        subject = rows.text(1);
      }
      group.push_back({subject, rows.text(2), rows.text(3), rows.text(4), rows.text(5),
                       rows.text(6), rows.opt(7), rows.opt(8), std::nullopt});
    }
    flush();
    exec("DROP TABLE observations");
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
  std::size_t run_bytes_;
};

// Subjects wait in memory until commit(); past `run_bytes` they are sorted and set aside in a
// temporary file (a run), so memory stays bounded however large the round. commit() merges
// the runs and stores the subjects in subject order, so that the round's rows of `seen`
// (keyed by round, then subject) go into one place of its b-tree, in one transaction: the only time
// the ledger is locked, so that other processes go on recording while this one decides its records.
class sqlite_stage final : public store::stage {
 public:
  explicit sqlite_stage(sqlite3* db, std::size_t run_bytes) : db_(db), run_bytes_(run_bytes) {}
  ~sqlite_stage() override {
    if (open_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  sqlite_stage(const sqlite_stage&) = delete;
  sqlite_stage& operator=(const sqlite_stage&) = delete;

  void add(std::string_view packed) override {
    if (!unpack(packed, subject_))
      throw ledger_error("ledger: a subject's observations are damaged");
    auto& obs = subject_.observations;
    if (obs.empty()) return;
    auto by_item = [](const observation_view& a, const observation_view& b) {
      return a.item < b.item;
    };
    if (!std::is_sorted(obs.begin(), obs.end(), by_item))  // prepare() packs them sorted
      std::sort(obs.begin(), obs.end(), by_item);
    if (round_items_.empty())  // the first subject's items are the round's
      for (const auto& o : obs)
        round_items_.push_back({std::string(o.item), std::string(o.title), std::string(o.cite),
                                std::string(o.action)});
    // A subject with exactly the round's items stores no absent rows (seen.full implies them).
    const bool full =
        std::equal(obs.begin(), obs.end(), round_items_.begin(), round_items_.end(),
                   [](const observation_view& o, const round_item& i) { return o.item == i.item; });
    // The row: its length, full, the responsible, then the subject packed again with the
    // observations that are stored (for most subjects none: every item absent and implied).
    kept_.clear();
    for (const auto& o : obs)
      if (!full || o.status != "absent") kept_.push_back(o);
    const auto& responsible = obs.front().responsible;
    std::string& block = room_for(10 + (responsible ? responsible->size() : 0) + packed.size());
    const std::size_t at = block.size();
    block.append(4, '\0');
    block.push_back(full ? '\1' : '\0');
    packing::put_opt(block, responsible);
    pack(block, subject_.subject, subject_.facts, kept_.begin(), kept_.end());
    packing::set_u32(block, at, static_cast<std::uint32_t>(block.size() - at - 4));
    rows_.push_back(std::string_view(block).substr(at));
    held_ += block.size() - at;
    if (held_ >= run_bytes_) set_run_aside();
  }

  outcome commit(const round_info& round, const std::string& hash) override {
    run_sql(db_, "BEGIN IMMEDIATE");
    open_ = true;
    {
      statement have(db_, "SELECT hash FROM rounds WHERE id = ?");
      have.bind(1, round.id);
      if (have.step()) return have.text(0) == hash ? outcome::same : outcome::other;
      // (the destructor rolls back)
    }
    statement seq(db_, "SELECT COALESCE(MAX(seq), 0) + 1 FROM rounds");
    seq.step();
    statement ins(db_,
                  "INSERT INTO rounds (id, seq, asof, ruleset, version, digest, hash) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?)");
    ins.run_with(round.id, seq.integer(0), round.asof, round.ruleset, round.version, round.digest,
                 hash);
    statement items(db_,
                    "INSERT INTO round_items (round, item, title, cite, action) "
                    "VALUES (?, ?, ?, ?, ?)");
    for (const auto& i : round_items_) items.run_with(round.id, i.item, i.title, i.cite, i.action);
    store_rows(round.id);
    run_sql(db_, "COMMIT");
    open_ = false;
    return outcome::recorded;
  }

 private:
  struct round_item {
    std::string item, title, cite, action;
  };

  struct staged {
    bool full = false;
    std::optional<std::string_view> responsible;
    std::string_view packed;
  };
  static staged read_row(std::string_view row) {
    staged out;
    out.full = row.size() > 4 && row[4] != '\0';
    packing::reader r(row.substr(std::min<std::size_t>(5, row.size())));
    out.responsible = r.opt();
    out.packed = r.ok() ? row.substr(row.size() - r.left()) : std::string_view();
    return out;
  }
  static std::string_view subject_of(std::string_view row) {
    packing::reader r(read_row(row).packed);
    return r.str();
  }
  // A block with room for `n` more bytes. Blocks are reserved once and never grow, so the
  // views of the rows in them stay valid; they are reused after a run is set aside.
  std::string& room_for(std::size_t n) {
    while (block_ < blocks_.size() && blocks_[block_].capacity() - blocks_[block_].size() < n)
      ++block_;
    if (block_ == blocks_.size()) {
      blocks_.emplace_back();
      blocks_.back().reserve(std::max(n, block_bytes));
    }
    return blocks_[block_];
  }
  // The rows in memory, sorted by subject.
  void sort_rows() {
    std::stable_sort(rows_.begin(), rows_.end(), [](std::string_view a, std::string_view b) {
      return subject_of(a) < subject_of(b);
    });
  }
  void set_run_aside() {
    sort_rows();
    runs_.push_back(std::make_unique<spill>());
    for (const std::string_view row : rows_) runs_.back()->write(row);
    rows_.clear();
    for (auto& b : blocks_) b.clear();  // keeps their memory
    block_ = 0;
    held_ = 0;
  }

  // Merges the runs and the rows in memory and inserts them in subject order.
  void store_rows(const std::string& round) {
    struct source {
      spill* run = nullptr;  // or the rows in memory
      std::string row;       // the run's current row
      std::size_t next = 0;  // in memory: the next row
      std::string_view current;
    };
    sort_rows();
    const std::vector<std::string_view>& memory = rows_;
    std::vector<source> sources(runs_.size() + 1);
    auto advance = [&](source& s) {
      if (s.run) {
        s.current = s.run->read_row(s.row) ? std::string_view(s.row) : std::string_view();
      } else {
        s.current = s.next < memory.size() ? memory[s.next++] : std::string_view();
      }
    };
    for (std::size_t i = 0; i < runs_.size(); ++i) {
      sources[i].run = runs_[i].get();
      sources[i].run->rewind();
    }
    for (auto& s : sources) advance(s);
    statement seen(db_,
                   "INSERT INTO seen (round, subject, responsible, full, facts, items) "
                   "VALUES (?, ?, ?, ?, ?, ?)");
    std::string last;
    bool any = false;
    while (true) {
      source* min = nullptr;
      for (auto& s : sources)
        if (!s.current.empty() && (!min || subject_of(s.current) < subject_of(min->current)))
          min = &s;
      if (!min) break;
      const staged row = read_row(min->current);
      if (!unpack(row.packed, subject_)) throw ledger_error("ledger: a staged subject is damaged");
      const std::string_view subject = subject_.subject;
      const bool full = row.full;
      const std::optional<std::string_view> responsible = row.responsible;
      if (any && subject == last)
        throw ledger_error("subject `" + last + "` is given more than once in round `" + round +
                           "`: a round holds one report per subject");
      seen.run_with(round, subject, responsible, std::int64_t{full ? 1 : 0}, subject_.facts,
                    blob{subject_.observations.empty() ? std::string_view() : subject_.items});
      last.assign(subject);
      any = true;
      advance(*min);
    }
  }

  sqlite3* db_;
  std::size_t run_bytes_;
  bool open_ = false;  // a transaction is open
  unpacked subject_;   // the subject being added or stored (reused)
  std::vector<observation_view> kept_;
  std::vector<round_item> round_items_;  // sorted by item
  std::vector<std::string> blocks_;      // the rows not set aside, one after another
  std::size_t block_ = 0;                // the block being filled
  std::vector<std::string_view> rows_;   // each row in the blocks
  std::size_t held_ = 0;                 // the rows' bytes
  std::vector<std::unique_ptr<spill>> runs_;
};

std::unique_ptr<store::stage> sqlite_store::begin_round() {
  return std::make_unique<sqlite_stage>(db_, run_bytes_);
}

}  // namespace

std::unique_ptr<store> open_sqlite(const std::string& path, bool create, std::size_t run_bytes) {
  return std::make_unique<sqlite_store>(path, create, run_bytes);
}

}  // namespace carerules::ledger
