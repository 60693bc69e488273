// The checker: symbols, every declared name once, did-you-mean (see checker.hpp for the map of the
// checker's files).
#include "check/checker.hpp"

namespace carerules::detail::checking {

// ---- symbols --------------------------------------------------------------------------------

void checker::add_symbol(const std::string& name, symbol s) {
  auto [it, inserted] = names_.emplace(name, s);
  if (!inserted) {
    const auto& prev = it->second;
    const auto& f = prog_->sources->files[prev.where.file];
    diags_.error(s.where, "`" + name + "` is already declared (as " + symbol_kind_name(prev.kind) +
                              " at " + f.display + ":" + std::to_string(prev.where.line) + ")");
  }
}

void checker::collect_symbols() {
  for (const auto& f : files_) {
    for (const auto& l : f.lets) {
      add_symbol(l.name, {symbol::let, static_cast<std::uint32_t>(let_ast_.size()), l.where});
      let_ast_.push_back(&l);
    }
    for (const auto& h : f.hazards) {
      add_symbol(h.id, {symbol::hazard, static_cast<std::uint32_t>(hazard_ast_.size()), h.where});
      hazard_ast_.push_back(&h);
    }
    for (const auto& s : f.scores) {
      add_symbol(s.name, {symbol::score, static_cast<std::uint32_t>(score_ast_.size()), s.where});
      score_ast_.push_back(&s);
      for (const auto& it : s.items) add_symbol(it.id, {symbol::item, 0, it.where});
      std::set<std::string> secs;
      for (const auto& sec : s.sections)
        if (!secs.insert(sec.name).second)
          diags_.error(sec.where,
                       "section `" + sec.name + "` is declared twice in score `" + s.name + "`");
    }
    for (const auto& g : f.grades) {
      add_symbol(g.name, {symbol::grade, static_cast<std::uint32_t>(grade_ast_.size()), g.where});
      grade_ast_.push_back(&g);
    }
    for (const auto& t : f.tables) {
      add_symbol(t.name, {symbol::table, static_cast<std::uint32_t>(table_ast_.size()), t.where});
      table_ast_.push_back(&t);
    }
  }
}

}  // namespace carerules::detail::checking
