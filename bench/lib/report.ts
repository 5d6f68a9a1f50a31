// Writes bench/results/latest.json, latest.md and one SVG bar chart per result with a baseline.
import fs from 'node:fs';
import path from 'node:path';
import type { BenchResult } from './result.js';
import { ANCHORS } from './anchors.js';

export interface Report {
  generated: string;
  machine: string;
  results: BenchResult[];
  skipped: Array<{ name: string; reason: string }>;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A two-bar chart: ours against the baseline, with the ratio in the title. */
export function barChartSvg(r: BenchResult): string {
  const bars: Array<[string, number]> = [['rkt', r.value]];
  if (r.baseline !== null && r.baseline_value !== null) bars.push([r.baseline, r.baseline_value]);
  const max = Math.max(...bars.map((b) => b[1]), 1e-9);
  const width = 560;
  const rowH = 34;
  const labelW = 190;
  const height = 40 + bars.length * rowH;
  const rows = bars
    .map(([label, v], i) => {
      const w = Math.max(1, ((width - labelW - 90) * v) / max);
      const y = 30 + i * rowH;
      const fill = i === 0 ? '#3b6ea5' : '#9aa5b1';
      return `<text x="4" y="${y + 16}" font-size="12">${esc(label.slice(0, 28))}</text>` +
        `<rect x="${labelW}" y="${y}" width="${w.toFixed(1)}" height="22" fill="${fill}"/>` +
        `<text x="${(labelW + w + 6).toFixed(1)}" y="${y + 16}" font-size="12">${v} ${esc(r.unit)}</text>`;
    })
    .join('');
  const title = `${r.name}${r.ratio !== null ? ` (ratio ${r.ratio})` : ''}${r.accel !== 'n/a' ? ` [${r.accel.toUpperCase()}]` : ''}`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">` +
    `<rect width="100%" height="100%" fill="white"/><text x="4" y="18" font-size="14" font-weight="bold">${esc(title)}</text>${rows}</svg>\n`;
}

export function renderMarkdown(rep: Report): string {
  const lines: string[] = [];
  lines.push('# Benchmark report', '');
  lines.push(`Generated ${rep.generated} on ${rep.machine}. Each figure is the median of the runs after a warm-up;`);
  lines.push('ratio = ours / baseline, both measured in the same run. VM figures say which accelerator they used;');
  lines.push('TCG (software emulation) figures are never compared with KVM anchors.', '');
  lines.push('| name | value | baseline | ratio | runs | min | max | accel |', '|---|---|---|---|---|---|---|---|');
  for (const r of rep.results) {
    const base = r.baseline === null ? '-' : `${r.baseline}: ${r.baseline_value} ${r.unit}`;
    lines.push(`| ${r.name} | ${r.value} ${r.unit} | ${base} | ${r.ratio ?? '-'} | ${r.runs} | ${r.min} | ${r.max} | ${r.accel} |`);
  }
  lines.push('');
  for (const r of rep.results) {
    lines.push(`## ${r.name}`, '');
    lines.push(`Command: \`${r.command}\``, '');
    if (r.notes) lines.push(r.notes, '');
    if (r.baseline !== null) lines.push(`![${r.name}](${r.name}.svg)`, '');
    for (const a of ANCHORS[r.name] ?? []) {
      if (a.accel === 'kvm' && r.accel === 'tcg') {
        lines.push(`- Published anchor (not comparable: ours ran under TCG, the anchor under KVM): ${a.text}`);
      } else {
        lines.push(`- Published anchor: ${a.text}`);
      }
    }
    lines.push('');
  }
  if (rep.skipped.length > 0) {
    lines.push('## Not measured in this run', '');
    for (const s of rep.skipped) lines.push(`- ${s.name}: ${s.reason}`);
    lines.push('');
  }
  return lines.join('\n');
}

export function writeReport(dir: string, rep: Report): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'latest.json'), JSON.stringify(rep, null, 2) + '\n');
  fs.writeFileSync(path.join(dir, 'latest.md'), renderMarkdown(rep));
  for (const r of rep.results) {
    if (r.baseline !== null) fs.writeFileSync(path.join(dir, `${r.name}.svg`), barChartSvg(r));
  }
}
