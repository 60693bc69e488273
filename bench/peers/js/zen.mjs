// The side-by-side workload as a GoRules JDM decision graph, on @gorules/zen-engine 0.54.0.
//
//   node bench/peers/js/zen.mjs eval|e2e RECORDS.jsonl OUT.txt
//
// The graph: the input feeds five decision tables side by side, whose outputs meet in one
// expression node that gives {hazards, colour} to the output node.
//   hazards     collect table, one row per hazard in the fixed order; output `hz` = [{id}, ...]
//   fire, food  first-hit tables on D = L*E*C, giving level 0..3 (blue..red)
//   facilities, emergency   first-hit tables on R = likelihood*severity, level 0..3
//   result      expression node: hazards = their ids; colour = red with any hazard, else the
//               colour of the highest level
// ZEN's `<` does not compare strings, so the equipment date goes through date().
// evaluate() is asynchronous; the driver keeps 1000 evaluations in flight.

import {requirePeer, runAsync} from './harness.mjs'

const {ZenEngine} = requirePeer('@gorules/zen-engine')

const pos = (x, y) => ({position: {x, y}})

const HAZARDS = [
  ['A4.1', 'building.appraisal in ["C", "D"] or building.major_hazard'],
  ['A4.2', 'not fire.compliant'],
  ['A4.3', 'panels_flammable'],
  ['A4.4', 'some(equipment, not #.licensed or date(#.valid_until) < date("2024-06-01"))'],
  ['A5.1', 'clinic.exists and not clinic.licensed and not clinic.filed'],
  ['A5.2', 'canteen.exists and not canteen.food_licence'],
  ['A5.3', 'staff_unqualified'],
  ['A2', 'other_major']
]

const hazardTable = {
  id: 'hazards',
  name: 'hazards',
  type: 'decisionTableNode',
  ...pos(300, 0),
  content: {
    hitPolicy: 'collect',
    outputPath: 'hz',
    inputs: [{id: 'cond', name: 'Condition', field: ''}], // expression column
    outputs: [{id: 'hid', name: 'Hazard', field: 'id'}],
    rules: HAZARDS.map(([id, cond], k) => ({_id: `h${k}`, cond, hid: JSON.stringify(id)}))
  }
}

// A first-hit table giving `level` 0..3 from the score `field` (an expression of the input).
const levelTable = (id, field, red, orange, yellow, y) => ({
  id,
  name: id,
  type: 'decisionTableNode',
  ...pos(300, y),
  content: {
    hitPolicy: 'first',
    outputPath: `lv.${id}`,
    inputs: [{id: 'score', name: 'Score', field}],
    outputs: [{id: 'level', name: 'Level', field: 'level'}],
    rules: [
      {_id: `${id}3`, score: `>= ${red}`, level: '3'},
      {_id: `${id}2`, score: `>= ${orange}`, level: '2'},
      {_id: `${id}1`, score: `>= ${yellow}`, level: '1'},
      {_id: `${id}0`, score: '', level: '0'}
    ]
  }
})

const tables = [
  hazardTable,
  levelTable('fire', 'areas.fire.L * areas.fire.E * areas.fire.C', 320, 160, 70, 150),
  levelTable('food', 'areas.food.L * areas.food.E * areas.food.C', 320, 160, 70, 300),
  levelTable('facilities', 'areas.facilities.likelihood * areas.facilities.severity', 20, 15, 9, 450),
  levelTable('emergency', 'areas.emergency.likelihood * areas.emergency.severity', 20, 15, 9, 600)
]

const result = {
  id: 'result',
  name: 'result',
  type: 'expressionNode',
  ...pos(600, 300),
  content: {
    expressions: [
      {id: 'x1', key: 'hazards', value: 'map(hz, #.id)'},
      {
        id: 'x2',
        key: 'colour',
        value: 'len(hz) > 0 ? "red" : ["blue", "yellow", "orange", "red"][max([' +
          'lv.fire.level, lv.food.level, lv.facilities.level, lv.emergency.level])]'
      }
    ]
  }
}

const GRAPH = {
  nodes: [
    {id: 'request', name: 'request', type: 'inputNode', ...pos(0, 300)},
    ...tables,
    result,
    {id: 'response', name: 'response', type: 'outputNode', ...pos(900, 300)}
  ],
  edges: [
    ...tables.map((t) => ({id: `in-${t.id}`, sourceId: 'request', targetId: t.id, type: 'edge'})),
    ...tables.map((t) => ({id: `${t.id}-out`, sourceId: t.id, targetId: 'result', type: 'edge'})),
    {id: 'result-out', sourceId: 'result', targetId: 'response', type: 'edge'}
  ]
}

const engine = new ZenEngine()
const decision = engine.createDecision(GRAPH)

await runAsync('GoRules ZEN 0.54.0', async (rec) => (await decision.evaluate(rec)).result, 1000)
engine.dispose()
