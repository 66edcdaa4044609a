/**
 * Two small chart kinds for docs/benchmarks.md, written as SVG text: horizontal grouped bars (contenders
 * side by side) and lines over a numeric x axis. Hand-written rather than a charting package: the charts
 * are simple, the output must be a static file GitHub renders as an image (no script), and the benchmark
 * report should not pull a rendering stack (a headless browser, a canvas) into the dev dependencies.
 */

const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"';
const COLORS = ['#2563eb', '#f59e0b', '#10b981', '#ef4444', '#8b5cf6', '#6b7280'];
const HIGHLIGHT = '#1d4ed8';

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Roughly how wide `text` is at `size` px (no font metrics here: an average glyph width). */
function textWidth(text: string, size: number): number {
  return text.length * size * 0.56;
}

/** 1, 2 or 5 times a power of ten, so that about `count` ticks span [0, max]. */
function niceStep(max: number, count: number): number {
  const raw = max / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const m = raw / power;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * power;
}

export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return '-';
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : 2;
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

function legend(series: readonly string[], x: number, y: number): string {
  let at = x;
  return series
    .map((name, i) => {
      const item =
        `<rect x="${at}" y="${y - 9}" width="10" height="10" fill="${COLORS[i % COLORS.length]}"/>` +
        `<text x="${at + 14}" y="${y}" font-size="12" ${FONT}>${esc(name)}</text>`;
      at += 24 + textWidth(name, 12);
      return item;
    })
    .join('');
}

export interface BarChart {
  readonly title: string;
  readonly unit: string;
  /** Bar groups, top to bottom. */
  readonly categories: readonly string[];
  readonly series: readonly string[];
  /** values[category][series]; a missing value draws no bar. */
  readonly values: readonly (readonly (number | undefined)[])[];
  /** A category drawn in bold (the Flotilla kit). */
  readonly highlight?: string;
}

/** Horizontal grouped bars, one group per category, one bar per series, the value at the bar's end. */
export function barChart(chart: BarChart): string {
  const labelWidth = Math.ceil(Math.max(...chart.categories.map((c) => textWidth(c, 12)))) + 16;
  const plotWidth = 420;
  const barHeight = 14;
  const groupGap = 12;
  const top = 52;
  const groupHeight = chart.series.length * barHeight + groupGap;
  const height = top + chart.categories.length * groupHeight + 28;
  const width = labelWidth + plotWidth + 110;
  const max = Math.max(
    1,
    ...chart.values.flat().filter((v): v is number => v !== undefined && Number.isFinite(v)),
  );
  const step = niceStep(max, 5);
  const axisMax = Math.ceil(max / step) * step;
  const scale = (v: number) => (v / axisMax) * plotWidth;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="8" y="20" font-size="14" font-weight="bold" ${FONT}>${esc(chart.title)}</text>`,
    legend(chart.series, 8, 40),
  ];
  for (let tick = 0; tick <= axisMax + step / 2; tick += step) {
    const x = labelWidth + scale(tick);
    parts.push(
      `<line x1="${x}" y1="${top - 4}" x2="${x}" y2="${height - 24}" stroke="#e5e7eb"/>`,
      `<text x="${x}" y="${height - 10}" font-size="11" text-anchor="middle" fill="#4b5563" ${FONT}>${esc(formatNumber(tick))}</text>`,
    );
  }
  parts.push(
    `<text x="${labelWidth + plotWidth + 36}" y="${height - 10}" font-size="11" text-anchor="start" fill="#4b5563" ${FONT}>${esc(chart.unit)}</text>`,
  );
  chart.categories.forEach((category, ci) => {
    const y0 = top + ci * groupHeight;
    const bold = category === chart.highlight ? ' font-weight="bold"' : '';
    parts.push(
      `<text x="${labelWidth - 8}" y="${y0 + (chart.series.length * barHeight) / 2 + 4}" font-size="12" text-anchor="end"${bold} ${FONT}>${esc(category)}</text>`,
    );
    chart.series.forEach((_, si) => {
      const value = chart.values[ci]?.[si];
      if (value === undefined || !Number.isFinite(value)) return;
      const y = y0 + si * barHeight;
      const w = Math.max(1, scale(value));
      const fill = category === chart.highlight && si === 0 ? HIGHLIGHT : COLORS[si % COLORS.length];
      parts.push(
        `<rect x="${labelWidth}" y="${y}" width="${w.toFixed(1)}" height="${barHeight - 2}" fill="${fill}"/>`,
        `<text x="${labelWidth + w + 4}" y="${y + barHeight - 4}" font-size="11" fill="#111827" ${FONT}>${esc(formatNumber(value))}</text>`,
      );
    });
  });
  parts.push('</svg>');
  return parts.join('\n');
}

export interface LineChart {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly {
    readonly name: string;
    readonly points: readonly (readonly [number, number])[];
  }[];
  /** Logarithmic y axis (values spanning several orders of magnitude, such as latencies). @default false */
  readonly logY?: boolean;
}

/** Lines with markers over a numeric x axis, each point labelled with its value. */
export function lineChart(chart: LineChart): string {
  const width = 640;
  const height = 360;
  const left = 64;
  const right = 24;
  const top = 52;
  const bottom = 48;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const points = chart.series
    .flatMap((s) => s.points)
    .filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const xs = points.map(([x]) => x);
  const ys = points.map(([, y]) => y);
  const xMin = Math.min(0, ...xs);
  const xMax = Math.max(1, ...xs);
  const logY = chart.logY === true && ys.every((y) => y > 0);
  let yTicks: number[];
  let yScale: (y: number) => number;
  if (logY) {
    const lo = Math.floor(Math.log10(Math.min(...ys)));
    const hi = Math.ceil(Math.log10(Math.max(...ys)));
    const span = Math.max(1, hi - lo);
    yTicks = Array.from({ length: span + 1 }, (_, i) => 10 ** (lo + i));
    yScale = (y) => top + plotH - ((Math.log10(y) - lo) / span) * plotH;
  } else {
    const step = niceStep(Math.max(1, ...ys), 5);
    const yMax = Math.ceil(Math.max(1, ...ys) / step) * step;
    yTicks = Array.from({ length: Math.round(yMax / step) + 1 }, (_, i) => i * step);
    yScale = (y) => top + plotH - (y / yMax) * plotH;
  }
  const xScale = (x: number) => left + ((x - xMin) / (xMax - xMin || 1)) * plotW;
  const xStep = niceStep(xMax - xMin, 6);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="8" y="20" font-size="14" font-weight="bold" ${FONT}>${esc(chart.title)}</text>`,
    legend(
      chart.series.map((s) => s.name),
      8,
      40,
    ),
  ];
  for (const tick of yTicks) {
    const y = yScale(tick);
    parts.push(
      `<line x1="${left}" y1="${y}" x2="${width - right}" y2="${y}" stroke="#e5e7eb"/>`,
      `<text x="${left - 6}" y="${y + 4}" font-size="11" text-anchor="end" fill="#4b5563" ${FONT}>${esc(formatNumber(tick))}</text>`,
    );
  }
  for (let tick = Math.ceil(xMin / xStep) * xStep; tick <= xMax + xStep / 2; tick += xStep) {
    const x = xScale(tick);
    parts.push(
      `<line x1="${x}" y1="${top}" x2="${x}" y2="${top + plotH}" stroke="#f3f4f6"/>`,
      `<text x="${x}" y="${top + plotH + 16}" font-size="11" text-anchor="middle" fill="#4b5563" ${FONT}>${esc(formatNumber(tick))}</text>`,
    );
  }
  parts.push(
    `<line x1="${left}" y1="${top + plotH}" x2="${width - right}" y2="${top + plotH}" stroke="#9ca3af"/>`,
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${top + plotH}" stroke="#9ca3af"/>`,
    `<text x="${left + plotW / 2}" y="${height - 8}" font-size="12" text-anchor="middle" ${FONT}>${esc(chart.xLabel)}</text>`,
    `<text x="14" y="${top + plotH / 2}" font-size="12" text-anchor="middle" transform="rotate(-90 14 ${top + plotH / 2})" ${FONT}>${esc(chart.yLabel)}${logY ? ' (log scale)' : ''}</text>`,
  );
  chart.series.forEach((s, si) => {
    const color = COLORS[si % COLORS.length];
    const valid = [...s.points]
      .filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y))
      .sort((a, b) => a[0] - b[0]);
    if (valid.length === 0) return;
    const path = valid
      .map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${xScale(x).toFixed(1)},${yScale(y).toFixed(1)}`)
      .join(' ');
    parts.push(`<path d="${path}" fill="none" stroke="${color}" stroke-width="2"/>`);
    for (const [x, y] of valid)
      parts.push(
        `<circle cx="${xScale(x).toFixed(1)}" cy="${yScale(y).toFixed(1)}" r="3" fill="${color}"/>`,
        `<text x="${xScale(x).toFixed(1)}" y="${(yScale(y) - 7).toFixed(1)}" font-size="10" text-anchor="middle" fill="${color}" ${FONT}>${esc(formatNumber(y))}</text>`,
      );
  });
  parts.push('</svg>');
  return parts.join('\n');
}
