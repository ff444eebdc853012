/**
 * What every bench step shares: the figures it records (`bench/results.json`
 * is `{ name: { value, unit, note } }`), the budgets they are held to, a
 * progress line on stderr while the run goes on, and small statistics.
 */
import { performance } from 'node:perf_hooks';

export interface Figure {
  value: number;
  unit: string;
  note: string;
}

export type Results = Record<string, Figure>;

/** The budget of each figure that has one (issue 11); the table says whether it holds. */
export const BUDGETS: Record<string, { max?: number; min?: number }> = {
  'bundle.webhook.kb': { max: 560 },
  'bundle.max.kb': { max: 800 },
  'bundle.webhook.overhead_kb': { max: 60 },
  'init.webhook.ratio_to_bare': { max: 2.1 },
  'init.webhook.ratio_to_sdk_floor': { max: 1.15 },
  'ingest.ratio_to_floor.one_message': { max: 4 },
  'ingest.ratio_to_floor.batch_3mb': { max: 4 },
  'ingest.ratio_to_floor': { max: 4 },
  'ddb.writes_per_inbound_message': { max: 4 },
  'ddb.writes_per_status_update': { max: 2 },
  'quota.writes_per_1000_recipients': { max: 20 },
  'quota.race.overspend': { max: 0 },
  'e2e.webhook_to_inbox.p99_ms': { max: 250 },
};

export function budgetOf(name: string): string {
  const budget = BUDGETS[name];
  if (!budget) return '';
  return budget.max !== undefined ? `≤ ${budget.max}` : `≥ ${budget.min}`;
}

export function meets(name: string, value: number): boolean | undefined {
  const budget = BUDGETS[name];
  if (!budget) return undefined;
  return (budget.max === undefined || value <= budget.max) && (budget.min === undefined || value >= budget.min);
}

/** Collects figures in the order they were measured. */
export class FigureBook {
  readonly figures: Results = {};

  set(name: string, value: number, unit: string, note: string): void {
    this.figures[name] = { value: round(value), unit, note };
  }
}

const started = performance.now();

/** One line on stderr with the elapsed time, so a long run shows where it is. */
export function progress(message: string): void {
  const seconds = Math.round((performance.now() - started) / 1000);
  process.stderr.write(`[${String(Math.floor(seconds / 60)).padStart(2, '0')}:${String(seconds % 60).padStart(2, '0')}] ${message}\n`);
}

export function elapsedSeconds(): number {
  return (performance.now() - started) / 1000;
}

/** Three significant digits, enough for a figure read on a noisy machine. */
export function round(value: number): number {
  if (!Number.isFinite(value) || value === 0) return value;
  const digits = Math.max(0, 2 - Math.floor(Math.log10(Math.abs(value))));
  return Number(value.toFixed(Math.min(digits, 4)));
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function median(values: number[]): number {
  return percentile([...values].sort((a, b) => a - b), 50);
}
