// Shared driver of the JavaScript peer harnesses: reading, timing and output.
//
//   node bench/peers/js/<engine>.mjs MODE RECORDS.jsonl OUT.txt      (MODE: eval | e2e)
//
// eval: every line is JSON.parsed before the clock starts; timed is deciding each parsed record
//       and building its result line `id|hazards|colour`.
// e2e:  timed is JSON.parse of the line text, deciding, building the result line and the text a
//       service would answer with (JSON.stringify of {id, hazards, colour}), kept in memory.
// The first 5000 records run once, untimed, before the timed pass (warm-up). Result lines go to
// OUT.txt after the clock stops; stdout gets one line of JSON.
//
// An engine gives `decide(record)`, returning {hazards: [ids in rule order], colour} (or, for the
// asynchronous runner, a promise of it). All decisions are the engine's; this file only joins.

import {readFileSync, writeFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import path from 'node:path'

export const PEERS = process.env.PEERS_PREFIX || '/tmp/carerules-peers'

/** require() resolving from the peers' install (for CommonJS packages). */
export const requirePeer = createRequire(path.join(PEERS, 'package.json'))

/** Absolute path of a file inside an installed peer package (for ESM import()). */
export function peerFile (pkg, file) {
  return path.join(PEERS, 'node_modules', pkg, file)
}

const WARMUP = 5000

function usage (msg) {
  process.stderr.write(`${msg}\nusage: node ${path.basename(process.argv[1])} eval|e2e RECORDS.jsonl OUT.txt\n`)
  process.exit(2)
}

function setup () {
  const [mode, recordsPath, outPath] = process.argv.slice(2)
  if (mode !== 'eval' && mode !== 'e2e') usage(`bad mode: ${mode}`)
  if (!recordsPath || !outPath) usage('missing file argument')
  const lines = readFileSync(recordsPath, 'utf8').split('\n')
  while (lines.length && lines[lines.length - 1] === '') lines.pop()
  const n = lines.length
  // In eval mode parsing is not part of the work measured.
  const records = mode === 'eval' ? lines.map((l) => JSON.parse(l)) : null
  return {mode, outPath, lines, records, n}
}

function finish (system, {mode, outPath, n}, t0, t1, out) {
  writeFileSync(outPath, out.length ? out.join('\n') + '\n' : '')
  const usPerRecord = Number(t1 - t0) / 1000 / n
  process.stdout.write(JSON.stringify({system, mode, n, us_per_record: usPerRecord}) + '\n')
}

function line (id, d) {
  return id + '|' + d.hazards.join(',') + '|' + d.colour
}

function service (id, d) {
  return JSON.stringify({id, hazards: d.hazards, colour: d.colour})
}

/** Driver for engines whose decide() returns its answer directly. */
export function runSync (system, decide) {
  const s = setup()
  const {mode, lines, records} = s

  // One pass over records [0, count): the same code warms up and is timed.
  const pass = (count, out, texts) => {
    if (mode === 'eval') {
      for (let i = 0; i < count; i++) {
        const rec = records[i]
        out[i] = line(rec.id, decide(rec))
      }
    } else {
      for (let i = 0; i < count; i++) {
        const rec = JSON.parse(lines[i])
        const d = decide(rec)
        out[i] = line(rec.id, d)
        texts[i] = service(rec.id, d)
      }
    }
  }

  const w = Math.min(WARMUP, s.n)
  pass(w, new Array(w), new Array(w))

  const out = new Array(s.n)
  const texts = mode === 'e2e' ? new Array(s.n) : null
  const t0 = process.hrtime.bigint()
  pass(s.n, out, texts)
  const t1 = process.hrtime.bigint()
  finish(system, s, t0, t1, out)
  return texts // kept alive until after the clock stopped
}

/** Driver for engines whose decide() returns a promise; keeps `inFlight` evaluations pending. */
export async function runAsync (system, decide, inFlight = 1000) {
  const s = setup()
  const {mode, lines, records} = s

  const pass = async (count, out, texts) => {
    let next = 0
    const step = mode === 'eval'
      ? async (i) => {
        const rec = records[i]
        out[i] = line(rec.id, await decide(rec))
      }
      : async (i) => {
        const rec = JSON.parse(lines[i])
        const d = await decide(rec)
        out[i] = line(rec.id, d)
        texts[i] = service(rec.id, d)
      }
    // `inFlight` lanes, each taking the next record as soon as its previous one is answered.
    const lane = async () => {
      while (next < count) await step(next++)
    }
    const lanes = []
    for (let k = 0; k < Math.min(inFlight, count); k++) lanes.push(lane())
    await Promise.all(lanes)
  }

  const w = Math.min(WARMUP, s.n)
  await pass(w, new Array(w), new Array(w))

  const out = new Array(s.n)
  const texts = mode === 'e2e' ? new Array(s.n) : null
  const t0 = process.hrtime.bigint()
  await pass(s.n, out, texts)
  const t1 = process.hrtime.bigint()
  finish(system, s, t0, t1, out)
  return texts
}
