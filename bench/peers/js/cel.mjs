// The side-by-side workload in CEL, on @marcbachmann/cel-js 8.0.0.
//
//   node bench/peers/js/cel.mjs eval|e2e RECORDS.jsonl OUT.txt
//
// One CEL program, parsed once, decides a record: it returns {"hazards": [...], "colour": "..."}.
// JSON numbers reach cel-js as JS numbers, which it treats as CEL doubles, so the thresholds are
// written as double literals.

import {peerFile, runSync} from './harness.mjs'

const {Environment} = await import(peerFile('@marcbachmann/cel-js', 'lib/index.js'))

const PROGRAM = `
cel.bind(h,
    (building.appraisal in ["C", "D"] || building.major_hazard ? ["A4.1"] : [])
  + (!fire.compliant ? ["A4.2"] : [])
  + (panels_flammable ? ["A4.3"] : [])
  + (equipment.exists(e, !e.licensed || e.valid_until < "2024-06-01") ? ["A4.4"] : [])
  + (clinic.exists && !clinic.licensed && !clinic.filed ? ["A5.1"] : [])
  + (canteen.exists && !canteen.food_licence ? ["A5.2"] : [])
  + (staff_unqualified ? ["A5.3"] : [])
  + (other_major ? ["A2"] : []),
cel.bind(fd, areas.fire.L * areas.fire.E * areas.fire.C,
cel.bind(od, areas.food.L * areas.food.E * areas.food.C,
cel.bind(fr, areas.facilities.likelihood * areas.facilities.severity,
cel.bind(er, areas.emergency.likelihood * areas.emergency.severity,
  {
    "hazards": h,
    "colour":
        size(h) > 0 || fd >= 320.0 || od >= 320.0 || fr >= 20.0 || er >= 20.0 ? "red"
      : fd >= 160.0 || od >= 160.0 || fr >= 15.0 || er >= 15.0 ? "orange"
      : fd >= 70.0 || od >= 70.0 || fr >= 9.0 || er >= 9.0 ? "yellow"
      : "blue"
  }
)))))
`

const env = new Environment({homogeneousAggregateLiterals: false}) // the result map mixes list and string
  .registerVariable('building', 'map')
  .registerVariable('fire', 'map')
  .registerVariable('panels_flammable', 'bool')
  .registerVariable('equipment', 'list')
  .registerVariable('clinic', 'map')
  .registerVariable('canteen', 'map')
  .registerVariable('staff_unqualified', 'bool')
  .registerVariable('other_major', 'bool')
  .registerVariable('areas', 'map')

const check = env.check(PROGRAM)
if (!check.valid) throw check.error
const program = env.parse(PROGRAM)

// The record itself is the activation: its top-level fields are the CEL variables.
runSync('cel-js 8.0.0', program)
