/**
 * `bench/report.md` and its two SVG charts, written from one run's figures:
 * the latency distribution of the end-to-end run and the quota engine's
 * throughput against concurrency. Plain SVG, no dependency.
 */
import { writeFileSync } from 'node:fs';
import { type Results, budgetOf, meets, percentile } from './figures.js';
import type { ThroughputPoint } from './quota.js';

const W = 640;
const H = 320;
const M = { top: 30, right: 20, bottom: 45, left: 60 };
const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;');

function frame(title: string, xLabel: string, yLabel: string, body: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">
<rect width="${W}" height="${H}" fill="#fff"/>
<text x="${W / 2}" y="18" text-anchor="middle" font-size="13" font-weight="bold">${escape(title)}</text>
<line x1="${M.left}" y1="${H - M.bottom}" x2="${W - M.right}" y2="${H - M.bottom}" stroke="#333"/>
<line x1="${M.left}" y1="${M.top}" x2="${M.left}" y2="${H - M.bottom}" stroke="#333"/>
<text x="${(M.left + W - M.right) / 2}" y="${H - 8}" text-anchor="middle">${escape(xLabel)}</text>
<text transform="translate(14 ${(M.top + H - M.bottom) / 2}) rotate(-90)" text-anchor="middle">${escape(yLabel)}</text>
${body}
</svg>
`;
}

function niceMax(value: number): number {
  const step = 10 ** Math.floor(Math.log10(value || 1));
  return Math.ceil(value / step) * step;
}

function yAxis(max: number, y: (v: number) => number): string {
  return Array.from({ length: 5 }, (_, i) => (max * i) / 4)
    .map((v) => `<line x1="${M.left - 4}" y1="${y(v)}" x2="${W - M.right}" y2="${y(v)}" stroke="#eee"/><text x="${M.left - 6}" y="${y(v) + 4}" text-anchor="end">${Math.round(v)}</text>`)
    .join('\n');
}

/** A histogram of the webhook → inbox latencies, with p50 and p99 marked. */
export function latencyChart(latenciesMs: number[]): string {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  const p50 = percentile(sorted, 50);
  const p99 = percentile(sorted, 99);
  const top = niceMax(Math.max(percentile(sorted, 99.9), p99 * 1.1));
  const bins = 40;
  const width = top / bins;
  const counts = new Array<number>(bins).fill(0);
  for (const v of sorted) counts[Math.min(bins - 1, Math.floor(v / width))]!++;
  const maxCount = niceMax(Math.max(...counts));
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const x = (v: number) => M.left + (v / top) * plotW;
  const y = (c: number) => H - M.bottom - (c / maxCount) * plotH;
  const bars = counts.map((c, i) => `<rect x="${x(i * width) + 0.5}" y="${y(c)}" width="${plotW / bins - 1}" height="${H - M.bottom - y(c)}" fill="#4a7bd0"/>`).join('\n');
  const ticks = Array.from({ length: 6 }, (_, i) => (top * i) / 5)
    .map((v) => `<text x="${x(v)}" y="${H - M.bottom + 14}" text-anchor="middle">${Math.round(v)}</text>`)
    .join('\n');
  const marker = (v: number, label: string, color: string, row: number) =>
    `<line x1="${x(v)}" y1="${M.top}" x2="${x(v)}" y2="${H - M.bottom}" stroke="${color}" stroke-dasharray="4 3"/><text x="${x(v) + 4}" y="${M.top + 12 + row * 14}" fill="${color}">${label} ${v.toFixed(0)} ms</text>`;
  const budget = x(250) <= W - M.right ? marker(250, 'budget', '#999', 0) : '';
  return frame(
    `Webhook → visible in the inbox API: ${sorted.length} deliveries`,
    'milliseconds (last bin holds everything slower)',
    'deliveries',
    `${yAxis(maxCount, y)}\n${bars}\n${ticks}\n${marker(p50, 'p50', '#2a8a2a', 0)}\n${marker(p99, 'p99', '#c03030', 1)}\n${budget}`,
  );
}

/** Throughput against concurrency: one shared counter vs the same spread over 16 accounts. */
export function throughputChart(points: ThroughputPoint[]): string {
  const max = niceMax(Math.max(...points.flatMap((p) => [p.sharedCounter, p.spread])));
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const x = (i: number) => M.left + 30 + (i / Math.max(1, points.length - 1)) * (plotW - 60);
  const y = (v: number) => H - M.bottom - (v / max) * plotH;
  const series = (key: 'sharedCounter' | 'spread', color: string, label: string, row: number) => {
    // The shared counter's values go under its points, the other series' above, so close values stay readable.
    const dy = key === 'sharedCounter' ? 15 : -7;
    const path = points.map((p, i) => `${i ? 'L' : 'M'}${x(i)} ${y(p[key])}`).join(' ');
    const dots = points.map((p, i) => `<circle cx="${x(i)}" cy="${y(p[key])}" r="3" fill="${color}"/><text x="${x(i)}" y="${y(p[key]) + dy}" text-anchor="middle" fill="${color}">${Math.round(p[key])}</text>`).join('');
    return `<path d="${path}" fill="none" stroke="${color}" stroke-width="2"/>${dots}<rect x="${M.left + 10}" y="${M.top + 4 + row * 16}" width="10" height="10" fill="${color}"/><text x="${M.left + 24}" y="${M.top + 13 + row * 16}">${escape(label)}</text>`;
  };
  const ticks = points.map((p, i) => `<text x="${x(i)}" y="${H - M.bottom + 14}" text-anchor="middle">${p.concurrency}</text>`).join('');
  return frame(
    'Quota engine on DynamoDB Local: throughput against concurrency',
    'operations in flight',
    'consumes per second',
    `${yAxis(max, y)}\n${ticks}\n${series('sharedCounter', '#c03030', 'one shared counter (every number, one pool)', 0)}\n${series('spread', '#4a7bd0', '16 accounts, no contention', 1)}`,
  );
}

export function writeReport(dir: URL, figures: Results, context: { latenciesMs: number[]; throughput: ThroughputPoint[]; machine: string; wallSeconds: number }): void {
  writeFileSync(new URL('report-e2e-latency.svg', dir), latencyChart(context.latenciesMs));
  writeFileSync(new URL('report-quota-throughput.svg', dir), throughputChart(context.throughput));
  const rows = Object.entries(figures).map(([name, f]) => {
    const ok = meets(name, f.value);
    return `| \`${name}\` | ${f.value} | ${f.unit} | ${budgetOf(name)} | ${ok === undefined ? '' : ok ? 'met' : '**not met**'} | ${f.note.replace(/\|/g, '\\|')} |`;
  });
  const report = `# Benchmark report

Written by \`npm run bench\` (${context.machine}; the run took ${Math.round(context.wallSeconds)} s). What each
figure means, how it is measured and what limits it: [README.md](README.md). Raw figures: [results.json](results.json).

## Webhook → inbox latency

![Histogram of the time from a signed delivery to the message being listed by the API](report-e2e-latency.svg)

## Quota engine: throughput against concurrency

![Consumes per second at 1, 4, 16 and 64 in flight, on one shared counter and on 16 accounts](report-quota-throughput.svg)

## Every figure

| figure | value | unit | budget | | how |
|---|---|---|---|---|---|
${rows.join('\n')}
`;
  writeFileSync(new URL('report.md', dir), report);
}
