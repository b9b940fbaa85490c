// A small SVG line chart over time: gridlines, tick labels and axis titles on both axes, a legend,
// gaps where a value is missing, and a tooltip per point.

import { s } from './dom.js';
import { clock } from './format.js';

const WIDTH = 640;
const HEIGHT = 220;
const MARGIN = { left: 86, right: 16, top: 26, bottom: 40 };
const X_TICK_MS = 10 * 60_000;
/** Steps a nice axis maximum is made of, per power of 1024 (byte figures) or 10 (others). */
const NICE = [1, 1.25, 2, 2.5, 4, 5, 8, 10, 16, 20, 25, 32, 40, 50, 64, 80, 100, 128, 160, 200, 256, 320, 400, 512, 640, 800, 1024];

/** The smallest nice number at or above `value`, in the given base. */
function niceCeil(value, base) {
  if (!(value > 0)) return 1;
  const power = base ** Math.floor(Math.log(value) / Math.log(base));
  const scaled = value / power;
  return (NICE.find((n) => n >= scaled - 1e-9) ?? base) * power;
}

/**
 * An `<svg>` chart of `series` (`[{ name, className, points: [[timeMs, value|null]] }]`) between
 * `from` and `to` (ms). `yMax` fixes the top of the axis (else a nice number above the largest
 * value, in `base` 1024 or 10); `yFormat` labels the values; a gap longer than `gapMs` breaks a line.
 */
export function lineChart({ series, from, to, yMax, base = 10, yFormat, yTitle, xTitle = 'time', gapMs = Infinity, testid, emptyText = 'collecting…' }) {
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const values = series.flatMap((line) => line.points.map((p) => p[1]).filter((v) => v !== null && Number.isFinite(v)));
  const top = yMax ?? niceCeil(Math.max(0, ...values), base);
  const x = (t) => MARGIN.left + ((t - from) / (to - from)) * plotW;
  const y = (v) => MARGIN.top + plotH - (Math.min(v, top) / top) * plotH;
  const svg = s('svg', { class: 'chart', viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: 'img', 'aria-label': yTitle, 'data-testid': testid });

  for (let i = 0; i <= 4; i++) {
    const v = (top * i) / 4;
    svg.append(
      s('line', { class: 'grid', x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: y(v), y2: y(v) }),
      s('text', { class: 'tick', x: MARGIN.left - 6, y: y(v) + 4, 'text-anchor': 'end' }, yFormat(v)),
    );
  }
  for (let t = Math.ceil(from / X_TICK_MS) * X_TICK_MS; t <= to; t += X_TICK_MS) {
    svg.append(
      s('line', { class: 'grid grid-x', x1: x(t), x2: x(t), y1: MARGIN.top, y2: MARGIN.top + plotH }),
      s('text', { class: 'tick', x: x(t), y: MARGIN.top + plotH + 16, 'text-anchor': 'middle' }, clock(t).slice(0, 5)),
    );
  }
  svg.append(
    s('line', { class: 'axis', x1: MARGIN.left, x2: MARGIN.left, y1: MARGIN.top, y2: MARGIN.top + plotH }),
    s('line', { class: 'axis', x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: MARGIN.top + plotH, y2: MARGIN.top + plotH }),
    s('text', { class: 'axis-title', x: MARGIN.left + plotW / 2, y: HEIGHT - 4, 'text-anchor': 'middle' }, xTitle),
    s('text', { class: 'axis-title', x: 12, y: MARGIN.top + plotH / 2, 'text-anchor': 'middle', transform: `rotate(-90 12 ${MARGIN.top + plotH / 2})` }, yTitle),
  );

  series.forEach((line, i) => {
    const legendX = MARGIN.left + i * Math.min(150, (WIDTH - MARGIN.left - MARGIN.right) / series.length);
    svg.append(
      s('line', { class: `series ${line.className}`, x1: legendX, x2: legendX + 18, y1: 11, y2: 11 }),
      s('text', { class: 'legend', x: legendX + 24, y: 15 }, line.name),
    );
    // Runs of points without a gap: each a polyline, a lone point a dot.
    const runs = [];
    let previous;
    for (const [t, v] of line.points) {
      if (v === null || !Number.isFinite(v) || t < from) {
        previous = undefined;
        continue;
      }
      if (previous === undefined || t - previous > gapMs) runs.push([]);
      runs.at(-1).push([x(t).toFixed(1), y(v).toFixed(1)]);
      previous = t;
    }
    const d = runs.map((run) => `M${run.map(([px, py]) => `${px},${py}`).join(' L')}`).join(' ');
    if (d !== '') svg.append(s('path', { class: `series ${line.className}`, d, 'data-testid': `${testid}-${line.className}` }));
    for (const run of runs) if (run.length === 1) svg.append(s('circle', { class: `dot-point ${line.className}`, cx: run[0][0], cy: run[0][1], r: 3 }));
    if (line.points.length <= 400) {
      for (const [t, v] of line.points) {
        if (v === null || !Number.isFinite(v) || t < from) continue;
        svg.append(s('circle', { class: `point ${line.className}`, cx: x(t), cy: y(v), r: 2.5 }, s('title', {}, `${clock(t)}  ${line.name}: ${yFormat(v)}`)));
      }
    }
  });

  if (values.length === 0) {
    svg.append(s('text', { class: 'empty', x: MARGIN.left + plotW / 2, y: MARGIN.top + plotH / 2, 'text-anchor': 'middle', 'data-testid': `${testid}-empty` }, emptyText));
  }
  return svg;
}
