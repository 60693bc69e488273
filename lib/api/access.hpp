// White-box access to what the public types hide, for the library's own files and its
// tests (the differential test runs the plan evaluator on a ruleset's program directly).
#pragma once

#include <memory>
#include <utility>

#include "carerules/ruleset.hpp"
#include "facts/facts.hpp"
#include "plan/plan.hpp"

namespace carerules::detail {

struct access {
  static ruleset make_ruleset(std::shared_ptr<const program> p) { return ruleset(std::move(p)); }
  static const program& program_of(const ruleset& rs) { return rs.program(); }
  static const std::shared_ptr<const program>& shared_program_of(const ruleset& rs) {
    return rs.program_;
  }
  static record_facts& facts_of(bound_facts& b) { return *b.facts_; }
  static const record_facts& facts_of(const bound_facts& b) { return *b.facts_; }
};

}  // namespace carerules::detail
