// Where a ledger keeps its rounds: a small interface, so that another database can follow the
// SQLite one (lib/ledger/sqlite_store.cpp). The rules of closure live in ledger.cpp and see
// only this.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "carerules/ledger.hpp"

namespace carerules::ledger {

class store {
 public:
  virtual ~store() = default;
  // A round on its way in: subjects are staged one by one (outside the ledger's lock, so
  // that other processes go on recording), then stored in one transaction (all or nothing).
  class stage {
   public:
    virtual ~stage() = default;
    // One subject's observations as pack() wrote them (packed.hpp), the subject not staged
    // before (else commit() throws).
    virtual void add(std::string_view packed) = 0;
    enum class outcome { recorded, same, other };
    // Stores the round unless a round of its id is recorded: `same` when that round has this
    // hash (nothing changes), `other` when it has another. Throws ledger_error.
    virtual outcome commit(const round_info& round, const std::string& hash) = 0;
  };
  virtual std::unique_ptr<stage> begin_round() = 0;
  virtual std::vector<round_info> rounds() const = 0;  // date order, then recording order
  // The observations, with the id of their round, of every item that some round found
  // present (with `subject`: of that subject only), given to `each` one by one, those of one
  // subject and item together, in subject then item order (rounds in any order), so that a
  // reader can walk them without holding them all.
  struct row {
    std::string round;
    observation obs;
  };
  virtual void observations(const std::optional<std::string>& subject,
                            const std::function<void(row&&)>& each) const = 0;
  virtual std::optional<std::string> facts_of(const std::string& subject) const = 0;
};

// The SQLite store at `path` (created when `create`). A round's subjects are held in memory
// up to `run_bytes`, then set aside sorted in a temporary file. Throws ledger_error.
constexpr std::size_t default_run_bytes = std::size_t{128} << 20;
std::unique_ptr<store> open_sqlite(const std::string& path, bool create,
                                   std::size_t run_bytes = default_run_bytes);

}  // namespace carerules::ledger
