// The SQLite store: one file, WAL journal, foreign keys on, a busy timeout so that two
// processes recording at once wait for each other instead of failing, and a schema version
// with forward migrations (a file made by a newer carerules is refused, not damaged).
#include <sqlite3.h>

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "ledger/hash.hpp"
#include "ledger/packed.hpp"
#include "ledger/spill.hpp"
#include "ledger/store.hpp"

namespace carerules::ledger {
namespace {

constexpr int schema_version = 6;
constexpr int busy_timeout_ms = 30000;
constexpr std::size_t block_bytes = std::size_t{1} << 20;
// A stored block of a round's subjects is closed when the next row would take it past this
// (a row larger than it gets a block of its own): large enough that a round of 100 000 small
// subjects is a few hundred rows of SQLite, small enough that finding one subject reads little.
constexpr std::size_t stored_block_bytes = std::size_t{31} << 10;

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
    // 6: a round's subjects are stored in blocks, in subject order (`rows`: the rows of `seen`
    // one after another, as seen_row below reads them), a row of SQLite per block instead of
    // per subject: storing a round was a serial tail of ~2 µs a subject inside SQLite.
    // fold_seen() moves the rows and drops `seen`.
    R"(CREATE TABLE seen_blocks (
         round    TEXT NOT NULL REFERENCES rounds(id),
         first    TEXT NOT NULL,
         last     TEXT NOT NULL,
         subjects INTEGER NOT NULL,
         rows     BLOB NOT NULL,
         PRIMARY KEY (round, first));)",
};
static_assert(sizeof migrations / sizeof migrations[0] == schema_version);

// An error of the ledger's file: SQLite's words, the file they are about, and what to do
// where those words do not say it.
std::string ledger_named(sqlite3* db) {
  const char* file = sqlite3_db_filename(db, "main");
  return "the ledger `" + std::string(file && *file ? file : "(in memory)") + "`";
}

ledger_error failure(sqlite3* db, const std::string& why) {
  std::string m = ledger_named(db) + ": " + why;
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

// A subject's row of a round, as a block of `seen_blocks` holds it (and as a round's
// subjects wait to be stored): its length (4 bytes, not counting these), a byte `full` (the
// subject had exactly the round's items, so an item of the round it stores nothing for was
// absent), the responsible (optional string), then pack(): the subject, its facts (optional)
// and the observations stored for it (pack_items(); for most subjects none).
struct seen_row {
  bool full = false;
  std::optional<std::string_view> responsible, facts;
  std::string_view subject;
  std::string_view items;  // as pack_items() wrote them
  bool has_items() const {
    return items.size() > 4 && (items[0] | items[1] | items[2] | items[3]) != 0;
  }
};

void append_row(std::string& out, bool full, std::optional<std::string_view> responsible,
                std::string_view subject, std::optional<std::string_view> facts,
                std::string_view items) {
  const std::size_t at = out.size();
  out.append(4, '\0');
  out.push_back(full ? '\1' : '\0');
  packing::put_opt(out, responsible);
  packing::put(out, subject);
  packing::put_opt(out, facts);
  out.append(items);
  packing::set_u32(out, at, static_cast<std::uint32_t>(out.size() - at - 4));
}

// The row at the start of `rest` (with its length), which then starts past it. False when
// `rest` does not start with a whole row.
bool take_row(std::string_view& rest, std::string_view& row) {
  packing::reader r(rest);
  const std::uint32_t n = r.u32();
  if (!r.ok() || r.left() < n) return false;
  row = rest.substr(0, std::size_t{4} + n);
  rest.remove_prefix(row.size());
  return true;
}

bool parse_row(std::string_view row, seen_row& out) {
  if (row.size() < 5) return false;
  out.full = row[4] != '\0';
  packing::reader r(row.substr(5));
  out.responsible = r.opt();
  out.subject = r.str();
  out.facts = r.opt();
  if (!r.ok() || r.left() < 4) return false;
  out.items = row.substr(row.size() - r.left());
  return true;
}

ledger_error damaged(sqlite3* db, const std::string& round) {
  return ledger_error(ledger_named(db) + ": the stored subjects of round `" + round +
                      "` are damaged (the file was changed by something other than carerules)");
}

// Checks a block as stored: its rows whole, in order, `count` of them, from `first` to
// `last`. Throws damaged() otherwise.
void check_block(sqlite3* db, const std::string& round, std::string_view rows,
                 std::string_view first, std::string_view last, std::int64_t count) {
  std::string_view row, previous;
  seen_row r;
  std::int64_t n = 0;
  while (!rows.empty()) {
    if (!take_row(rows, row) || !parse_row(row, r) || (n > 0 && !(previous < r.subject)) ||
        (n == 0 && r.subject != first))
      throw damaged(db, round);
    previous = r.subject;
    ++n;
  }
  if (n != count || n == 0 || previous != last) throw damaged(db, round);
}

// Writes a round's rows, given in subject order, into blocks of `seen_blocks`.
class block_writer {
 public:
  block_writer(sqlite3* db, std::string round)
      : insert_(db,
                "INSERT INTO seen_blocks (round, first, last, subjects, rows) "
                "VALUES (?, ?, ?, ?, ?)"),
        round_(std::move(round)) {}
  void add(std::string_view row, std::string_view subject) {
    if (!rows_.empty() && rows_.size() + row.size() > stored_block_bytes) flush();
    if (rows_.empty()) first_.assign(subject);
    last_.assign(subject);
    rows_.append(row);
    ++count_;
  }
  void flush() {
    if (rows_.empty()) return;
    insert_.run_with(round_, first_, last_, count_, blob{rows_});
    rows_.clear();
    count_ = 0;
  }

 private:
  statement insert_;
  std::string round_, first_, last_, rows_;
  std::int64_t count_ = 0;
};

// A round's rows in subject order, block after block.
class round_rows {
 public:
  round_rows(sqlite3* db, std::string round)
      : db_(db),
        blocks_(db,
                "SELECT first, last, subjects, rows FROM seen_blocks WHERE round = ? ORDER BY "
                "first"),
        round_(std::move(round)) {
    blocks_.bind(1, round_);
  }
  const std::string& round() const { return round_; }
  // The next row into `out` (its views valid until the next call); false after the last.
  bool next(seen_row& out) {
    while (rest_.empty()) {
      if (!blocks_.step()) return false;
      rest_ = blocks_.bytes(3);
      check_block(db_, round_, rest_, blocks_.bytes(0), blocks_.bytes(1), blocks_.integer(2));
    }
    std::string_view row;
    take_row(rest_, row);
    parse_row(row, out);  // (checked above)
    return true;
  }

 private:
  sqlite3* db_;
  statement blocks_;
  std::string round_;
  std::string_view rest_;  // of the block last read
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
      // For a new file only (an existing one keeps its own): 16 KiB pages, so that a block of
      // subjects is a chain of two pages rather than eight, while a subject larger than a
      // block wastes at most one page's end.
      sqlite3_exec(db_, "PRAGMA page_size = 16384", nullptr, nullptr, nullptr);
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
  ~sqlite_store() override {
    find_block_.reset();  // SQLite closes no connection with a statement still open
    sqlite3_close(db_);
  }
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
    // of items and stored none for the item. One subject: its row in each round, looked up.
    // Every subject: the rounds' rows walked side by side in subject order (a merge), so each
    // block is read once.
    std::vector<std::string> ids;
    {
      statement r(db_, "SELECT id FROM rounds ORDER BY seq");
      while (r.step()) ids.push_back(r.text(0));
    }
    struct item_text {
      std::string title, cite, action;
    };
    std::vector<std::map<std::string, item_text, std::less<>>> items(ids.size());  // by round
    {
      std::map<std::string, std::size_t, std::less<>> at;  // a round's position in ids
      for (std::size_t k = 0; k < ids.size(); ++k) at[ids[k]] = k;
      statement ri(db_, "SELECT round, item, title, cite, action FROM round_items");
      while (ri.step())
        if (auto k = at.find(ri.text(0)); k != at.end())
          items[k->second][ri.text(1)] = {ri.text(2), ri.text(3), ri.text(4)};
    }
    struct seen_round {
      std::size_t at;  // in ids
      seen_row row;
      const std::string* round;
    };
    std::vector<seen_round> seen;
    std::set<std::string> present;
    // Gives the observations of the subject whose rows are in `seen`.
    std::vector<std::vector<observation_view>> stored_views;  // per round of `seen`
    auto give = [&](std::string_view name) {
      present.clear();
      if (stored_views.size() < seen.size()) stored_views.resize(seen.size());
      for (std::size_t k = 0; k < seen.size(); ++k) {
        const seen_round& r = seen[k];
        stored_views[k].clear();
        if (r.row.has_items() && !unpack_items(r.row.items, stored_views[k]))
          throw damaged(db_, *r.round);
        for (const auto& v : stored_views[k])
          if (v.status == "present") present.emplace(v.item);
      }
      for (const std::string& item : present)
        for (std::size_t k = 0; k < seen.size(); ++k) {
          const seen_round& r = seen[k];
          const auto& views = stored_views[k];
          auto v = std::find_if(views.begin(), views.end(),
                                [&](const observation_view& x) { return x.item == item; });
          if (v != views.end()) {
            each({*r.round,
                  {std::string(name), std::string(v->item), std::string(v->status),
                   std::string(v->title), std::string(v->cite), std::string(v->action),
                   v->due ? std::optional<std::string>(*v->due) : std::nullopt,
                   v->responsible ? std::optional<std::string>(*v->responsible) : std::nullopt,
                   std::nullopt}});
            continue;
          }
          if (!r.row.full) continue;
          const auto text = items[r.at].find(item);
          if (text == items[r.at].end()) continue;  // not an item of that round
          each({*r.round,
                {std::string(name), item, "absent", text->second.title, text->second.cite,
                 text->second.action, std::nullopt,
                 r.row.responsible ? std::optional<std::string>(*r.row.responsible) : std::nullopt,
                 std::nullopt}});
        }
    };
    if (subject) {
      std::vector<std::string> rows(ids.size());  // each round's row of the subject
      for (std::size_t k = 0; k < ids.size(); ++k)
        if (auto found = find(ids[k], *subject, rows[k])) seen.push_back({k, *found, &ids[k]});
      give(*subject);
      return;
    }
    std::vector<std::unique_ptr<round_rows>> cursors;
    std::vector<seen_row> heads(ids.size());
    std::vector<bool> more(ids.size());
    for (std::size_t k = 0; k < ids.size(); ++k) {
      cursors.push_back(std::make_unique<round_rows>(db_, ids[k]));
      more[k] = cursors[k]->next(heads[k]);
    }
    std::string name;
    while (true) {
      const seen_row* min = nullptr;
      for (std::size_t k = 0; k < ids.size(); ++k)
        if (more[k] && (!min || heads[k].subject < min->subject)) min = &heads[k];
      if (!min) break;
      name.assign(min->subject);
      seen.clear();
      for (std::size_t k = 0; k < ids.size(); ++k)
        if (more[k] && heads[k].subject == name) seen.push_back({k, heads[k], &ids[k]});
      give(name);
      for (std::size_t k = 0; k < ids.size(); ++k)
        if (more[k] && heads[k].subject == name) more[k] = cursors[k]->next(heads[k]);
    }
  }

  std::optional<std::string> facts_of(const std::string& subject) const override {
    statement r(db_, "SELECT id FROM rounds ORDER BY asof DESC, seq DESC");
    std::string bytes;
    while (r.step())
      if (auto found = find(r.text(0), subject, bytes); found && found->facts)
        return std::string(*found->facts);
    return std::nullopt;
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
          if (i + 1 == 6) fold_seen();
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

  // Schema 6: the rows of `seen` go into blocks of `seen_blocks`, round by round.
  void fold_seen() {
    statement rows(db_,
                   "SELECT round, subject, responsible, full, facts, items FROM seen "
                   "ORDER BY round, subject");
    std::optional<block_writer> blocks;
    std::string round, bytes;
    static constexpr char no_items[4] = {};
    while (rows.step()) {
      if (!blocks || rows.text(0) != round) {
        if (blocks) blocks->flush();
        round = rows.text(0);
        blocks.emplace(db_, round);
      }
      const std::string subject = rows.text(1);
      const auto responsible = rows.opt(2);
      const auto facts = rows.opt(4);
      const std::string_view items = rows.bytes(5);  // NULL: none stored
      bytes.clear();
      append_row(bytes, rows.integer(3) != 0,
                 responsible ? std::optional<std::string_view>(*responsible) : std::nullopt,
                 subject, facts ? std::optional<std::string_view>(*facts) : std::nullopt,
                 items.empty() ? std::string_view(no_items, 4) : items);
      blocks->add(bytes, subject);
    }
    if (blocks) blocks->flush();
    exec("DROP TABLE seen");
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

  // The row of `subject` in round `round` (a recorded round's id), if that round saw it, copied
  // into `copy` (which the row's views then point into). The block last read of each round is
  // kept: readers going through subjects in order read each block once. Const readers may be
  // called from several threads: the kept blocks and the statement are theirs one at a time.
  std::optional<seen_row> find(const std::string& round, std::string_view subject,
                               std::string& copy) const {
    std::lock_guard lock(find_mutex_);
    if (blocks_.size() >= 256 && !blocks_.count(round)) blocks_.clear();  // memory stays small
    cached_block& c = blocks_[round];
    if (!c.read || subject < c.first || subject > c.last) {
      if (!find_block_)
        find_block_ = std::make_unique<statement>(
            db_,
            "SELECT first, last, subjects, rows FROM seen_blocks WHERE round = ?1 AND "
            "first <= ?2 ORDER BY first DESC LIMIT 1");
      statement& q = *find_block_;
      q.bind_view(1, std::string_view(round));
      q.bind_view(2, subject);
      const bool found = q.step();
      if (found) {
        c.read = false;
        c.first = q.text(0);
        c.last = q.text(1);
        c.rows.assign(q.bytes(3));
        const std::int64_t count = q.integer(2);
        q.reset();
        check_block(db_, round, c.rows, c.first, c.last, count);
        c.read = true;
      }
      q.reset();
      if (!found || subject > c.last) return std::nullopt;
    }
    std::string_view rest = c.rows, bytes;
    seen_row out;
    while (!rest.empty()) {
      if (!take_row(rest, bytes) || !parse_row(bytes, out)) throw damaged(db_, round);
      if (out.subject == subject) {
        copy.assign(bytes);
        parse_row(copy, out);
        return out;
      }
    }
    return std::nullopt;
  }

  struct cached_block {
    bool read = false;
    std::string first, last, rows;
  };
  sqlite3* db_ = nullptr;
  std::size_t run_bytes_;
  mutable std::mutex find_mutex_;
  mutable std::map<std::string, cached_block, std::less<>> blocks_;  // by round, for find()
  mutable std::unique_ptr<statement> find_block_;                    // find()'s query
};

// Subjects wait in memory until commit(); past `run_bytes` they are sorted and set aside in a
// temporary file (a run), so memory stays bounded however large the round. commit() merges
// the runs and stores the subjects in subject order, so that the round's blocks of
// `seen_blocks` (keyed by round, then first subject) go into one place of its b-tree, in one
// transaction: the only time the ledger is locked, so that other processes go on recording while
// this one decides its records.
class sqlite_stage final : public store::stage {
 public:
  explicit sqlite_stage(sqlite3* db, std::size_t run_bytes) : db_(db), run_bytes_(run_bytes) {}
  ~sqlite_stage() override {
    if (open_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  sqlite_stage(const sqlite_stage&) = delete;
  sqlite_stage& operator=(const sqlite_stage&) = delete;

  void add(std::string_view packed) override {
    // Most subjects have every item of the round absent and no responsible: their
    // observations are the same bytes, and their row stores none of them.
    if (!absent_items_.empty()) {
      packing::reader r(packed);
      const std::string_view subject = r.str();
      const std::optional<std::string_view> facts = r.opt();
      if (r.ok() && packed.substr(packed.size() - r.left()) == absent_items_) {
        std::string& block = room_for(14 + packed.size());
        const std::size_t at = block.size();
        static constexpr char no_items[4] = {};
        append_row(block, true, std::nullopt, subject, facts, std::string_view(no_items, 4));
        keep(std::string_view(block).substr(at), std::nullopt, subject.size());
        return;
      }
    }
    if (!unpack(packed, subject_))
      throw ledger_error("ledger: a subject's observations are damaged");
    auto& obs = subject_.observations;
    if (obs.empty()) return;
    auto by_item = [](const observation_view& a, const observation_view& b) {
      return a.item < b.item;
    };
    if (!std::is_sorted(obs.begin(), obs.end(), by_item))  // prepare() packs them sorted
      std::sort(obs.begin(), obs.end(), by_item);
    if (round_items_.empty()) {  // the first subject's items are the round's
      std::vector<observation_view> absent;
      for (const auto& o : obs) {
        round_items_.push_back({std::string(o.item), std::string(o.title), std::string(o.cite),
                                std::string(o.action)});
        absent.push_back({o.item, "absent", {}, {}, {}, std::nullopt, std::nullopt});
      }
      pack_items(absent_items_, absent.begin(), absent.end());
    }
    // A subject with exactly the round's items stores no absent observations (`full` in its row
    // implies them).
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
    keep(std::string_view(block).substr(at), responsible, subject_.subject.size());
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
  // A row staged, with its subject and the first 8 bytes of it (prefix()).
  struct staged {
    std::uint64_t prefix;
    std::string_view subject, row;
  };

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
  // Keeps a row just written into a block (with that responsible and a subject of that size),
  // setting the rows aside when they are many.
  void keep(std::string_view row, std::optional<std::string_view> responsible,
            std::size_t subject_size) {
    // The subject in the block, as the row: past the row's length, `full` and the responsible.
    const std::size_t subject_at = 5 + (responsible ? 5 + responsible->size() : 1) + 4;
    const std::string_view subject = row.substr(subject_at, subject_size);
    rows_.push_back({prefix(subject), subject, row});
    held_ += row.size();
    if (held_ >= run_bytes_) {
      set_run_aside();
    } else if (rows_.size() - sorted_ >= memory_run_rows) {
      // Sorted here, a run at a time, while the records are still being decided: commit()
      // only merges them.
      sort_rows(sorted_);
      sorted_ends_.push_back(sorted_ = rows_.size());
    }
  }
  // The first 8 bytes of a subject (zeros past its end) as a number that orders as they do.
  static std::uint64_t prefix(std::string_view s) {
    std::uint64_t p = 0;
    for (std::size_t i = 0; i < 8; ++i)
      p = p << 8 | (i < s.size() ? static_cast<unsigned char>(s[i]) : 0u);
    return p;
  }
  // The rows in memory, sorted by subject (mostly by the prefixes, held in the array, rather
  // than by the names, scattered over the blocks).
  static bool before(const staged& a, const staged& b) {
    return a.prefix != b.prefix ? a.prefix < b.prefix : a.subject < b.subject;
  }
  // The rows in memory from `from` on.
  void sort_rows(std::size_t from) {
    std::sort(rows_.begin() + static_cast<std::ptrdiff_t>(from), rows_.end(), before);
  }
  void set_run_aside() {
    sort_rows(0);
    sorted_ = 0;
    sorted_ends_.clear();
    runs_.push_back(std::make_unique<spill>());
    for (const staged& row : rows_) runs_.back()->write(row.row);
    rows_.clear();
    for (auto& b : blocks_) b.clear();  // keeps their memory
    block_ = 0;
    held_ = 0;
  }

  // Merges the runs and the rows in memory and inserts them in subject order.
  void store_rows(const std::string& round) {
    struct source {
      spill* run = nullptr;           // or a run of the rows in memory:
      std::size_t next = 0, end = 0;  // its next row and its end
      std::string row;                // the run's current row
      staged current{};               // empty row: none left
    };
    if (sorted_ < rows_.size()) {
      sort_rows(sorted_);
      sorted_ends_.push_back(sorted_ = rows_.size());
    }
    std::vector<source> sources(runs_.size() + sorted_ends_.size());
    auto advance = [&](source& s) {
      if (s.run) {
        seen_row r;
        if (!s.run->read_row(s.row)) {
          s.current.row = {};
        } else if (!parse_row(s.row, r)) {
          throw ledger_error("ledger: a staged subject is damaged");
        } else {
          s.current = {prefix(r.subject), r.subject, s.row};
        }
      } else if (s.next < s.end) {
        s.current = rows_[s.next++];
      } else {
        s.current.row = {};
      }
    };
    for (std::size_t i = 0; i < runs_.size(); ++i) {
      sources[i].run = runs_[i].get();
      sources[i].run->rewind();
    }
    for (std::size_t i = 0; i < sorted_ends_.size(); ++i) {
      sources[runs_.size() + i].next = i ? sorted_ends_[i - 1] : 0;
      sources[runs_.size() + i].end = sorted_ends_[i];
    }
    for (auto& s : sources) advance(s);
    block_writer blocks(db_, round);
    std::string last;
    bool any = false;
    while (true) {
      source* min = nullptr;
      for (auto& s : sources)
        if (!s.current.row.empty() && (!min || before(s.current, min->current))) min = &s;
      if (!min) break;
      const std::string_view subject = min->current.subject;
      if (any && subject == last)
        throw ledger_error("subject `" + last + "` is given more than once in round `" + round +
                           "`: a round holds one report per subject");
      blocks.add(min->current.row, subject);
      last.assign(subject);
      any = true;
      advance(*min);
    }
    blocks.flush();
  }

  sqlite3* db_;
  std::size_t run_bytes_;
  bool open_ = false;  // a transaction is open
  unpacked subject_;   // the subject being added or stored (reused)
  std::vector<observation_view> kept_;
  std::vector<round_item> round_items_;  // sorted by item
  std::string absent_items_;             // pack_items() of every round item absent, no responsible
  std::vector<std::string> blocks_;      // the rows not set aside, one after another
  std::size_t block_ = 0;                // the block being filled
  std::vector<staged> rows_;             // each row in the blocks, and its subject
  // Rows in memory are sorted a run of this many at a time; rows_ up to sorted_ are, in runs
  // ending at sorted_ends_.
  static constexpr std::size_t memory_run_rows = 16384;
  std::size_t sorted_ = 0;
  std::vector<std::size_t> sorted_ends_;
  std::size_t held_ = 0;  // the rows' bytes
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
