// carerules: a rules engine for the supervision and assessment of elderly-care institutions.
//
// Include this header for the whole public API:
//   compile_file / compile_source  -> compile_result (ruleset.hpp)
//   ruleset::evaluate               -> report (report.hpp)
//   compile_options, eval_options, limits (options.hpp)
//   evaluate_batch, evaluate_jsonl, report columns (batch.hpp)
//   fact_sink: binding facts without JSON text (facts.hpp)
#pragma once

#include "carerules/batch.hpp"
#include "carerules/diagnostic.hpp"
#include "carerules/facts.hpp"
#include "carerules/html.hpp"
#include "carerules/labels.hpp"
#include "carerules/options.hpp"
#include "carerules/report.hpp"
#include "carerules/ruleset.hpp"
