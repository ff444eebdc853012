/**
 * `npm run bench`: figures, not pass/fail. Bundles the functions as the CDK
 * does, cold-starts them in fresh processes, measures the webhook's CPU per
 * delivery against its floor and against the peer, the quota engine on
 * DynamoDB Local, and the whole path through the local runtime; prints a
 * table, writes bench/results.json (`{ name: { value, unit, note } }`) and
 * bench/report.md with its charts. Figures that are compared are measured
 * side by side in this one run. Every figure is explained in bench/README.md.
 */
import './environment.js';
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { startDynamoDbLocal } from '../local/dynamodb-local.js';
import { buildBundles, bundleFigures } from './bundles.js';
import { coldStartFigures } from './cold-start.js';
import { costFigures } from './cost.js';
import { e2eFigures } from './e2e.js';
import { FigureBook, budgetOf, elapsedSeconds, meets, progress } from './figures.js';
import { ingestFigures } from './ingest.js';
import { type ThroughputPoint, quotaFigures } from './quota.js';
import { writeReport } from './report.js';

/** `npm run bench -- --only ingest,e2e` runs some steps and writes nothing (for working on one of them). */
const onlyArg = process.argv.indexOf('--only');
const only = onlyArg > 0 ? new Set(process.argv[onlyArg + 1]?.split(',')) : undefined;
const runs = (step: string) => !only || only.has(step);

const book = new FigureBook();
const machine = `${cpus().length} × ${cpus()[0]?.model.trim()}, Node ${process.version}`;
progress(`bench on ${machine}`);

if (runs('bundles') || runs('init')) {
  progress('bundling the functions as the CDK does');
  const bundles = await buildBundles();
  bundleFigures(bundles, book);
  if (runs('init')) {
    progress('cold starts');
    await coldStartFigures(bundles, book);
  }
}

let throughput: ThroughputPoint[] = [];
if (runs('ingest') || runs('quota')) {
  progress('starting DynamoDB Local');
  const engine = await startDynamoDbLocal();
  try {
    if (runs('ingest')) await ingestFigures(book, engine.endpoint);
    if (runs('quota')) throughput = await quotaFigures(book, engine.endpoint);
  } finally {
    await engine.stop();
  }
}

let latenciesMs: number[] = [];
if (runs('e2e')) ({ latenciesMs } = await e2eFigures(book));
costFigures(book, book.figures);

const rows = Object.entries(book.figures).map(([name, f]) => {
  const ok = meets(name, f.value);
  return [name, String(f.value), f.unit, budgetOf(name), ok === undefined ? '' : ok ? 'met' : 'NOT MET'];
});
const header = ['figure', 'value', 'unit', 'budget', ''];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: string[]) => cells.map((c, i) => (i === 1 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
console.log(`\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${rows.map(line).join('\n')}\n`);
const missed = rows.filter((r) => r[4] === 'NOT MET').map((r) => r[0]);
console.log(missed.length ? `budgets not met: ${missed.join(', ')}` : 'every budget met');

if (only) {
  console.log(`--only ${[...only].join(',')}: nothing written (${Math.round(elapsedSeconds())} s)`);
} else {
  const dir = new URL('./', import.meta.url);
  writeFileSync(new URL('results.json', dir), `${JSON.stringify(book.figures, null, 2)}\n`);
  writeReport(dir, book.figures, { latenciesMs, throughput, machine, wallSeconds: elapsedSeconds() });
  console.log(`written: bench/results.json, bench/report.md and its charts in ${Math.round(elapsedSeconds())} s; each figure's note says how it was measured (bench/README.md explains them)`);
}
