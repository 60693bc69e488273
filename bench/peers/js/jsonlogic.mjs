// The side-by-side workload in JsonLogic, on json-logic-js 2.0.5.
//
//   node bench/peers/js/jsonlogic.mjs eval|e2e RECORDS.jsonl OUT.txt
//
// One rule decides a record. JsonLogic has no `let`, so the rule binds its intermediate values
// (the hazard list and the four area scores) with a one-element `map`: the body runs with
// [hazards, fireD, foodD, facilitiesR, emergencyR] as its data. The rule's value is
// [[hazards, colour]].

import {requirePeer, runSync} from './harness.mjs'

const jsonLogic = requirePeer('json-logic-js')

const v = (name) => ({var: name})
const not = (x) => ({'!': [x]})
const present = (cond, id) => ({if: [cond, id, []]}) // `merge` drops the [] and keeps the id
const anyAtLeast = (d, r) => ({or: [
  {'>=': [v(1), d]}, {'>=': [v(2), d]}, {'>=': [v(3), r]}, {'>=': [v(4), r]}
]})

const hazards = {merge: [
  present({or: [{in: [v('building.appraisal'), ['C', 'D']]}, v('building.major_hazard')]}, 'A4.1'),
  present(not(v('fire.compliant')), 'A4.2'),
  present(v('panels_flammable'), 'A4.3'),
  present({some: [v('equipment'),
    {or: [not(v('licensed')), {'<': [v('valid_until'), '2024-06-01']}]}]}, 'A4.4'),
  present({and: [v('clinic.exists'), not(v('clinic.licensed')), not(v('clinic.filed'))]}, 'A5.1'),
  present({and: [v('canteen.exists'), not(v('canteen.food_licence'))]}, 'A5.2'),
  present(v('staff_unqualified'), 'A5.3'),
  present(v('other_major'), 'A2')
]}

const product = (...names) => ({'*': names.map(v)})

const RULE = {map: [
  [[
    hazards,
    product('areas.fire.L', 'areas.fire.E', 'areas.fire.C'),
    product('areas.food.L', 'areas.food.E', 'areas.food.C'),
    product('areas.facilities.likelihood', 'areas.facilities.severity'),
    product('areas.emergency.likelihood', 'areas.emergency.severity')
  ]],
  [
    v(0),
    {if: [
      v(0), 'red', // any hazard (a non-empty list is truthy)
      anyAtLeast(320, 20), 'red',
      anyAtLeast(160, 15), 'orange',
      anyAtLeast(70, 9), 'yellow',
      'blue'
    ]}
  ]
]}

runSync('json-logic-js 2.0.5', (rec) => {
  const [[h, colour]] = jsonLogic.apply(RULE, rec)
  return {hazards: h, colour}
})
