/**
 * Line charts as standalone SVG (axes, ticks, axis labels, panel titles, a legend), and the
 * same data drawn as text for the terminal. No dependencies.
 */

export interface Series {
  label: string;
  x: number[];
  y: number[];
  color: string;
  dashed?: boolean;
}

export interface Panel {
  title: string;
  series: Series[];
  /** Horizontal reference line (e.g. the target accuracy). */
  hline?: { y: number; label: string };
  /** This panel's y axis label (with independentY); default the chart's yLabel. */
  yLabel?: string;
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  /** y axis range; default from the data. */
  yMin?: number;
  yMax?: number;
  /** Format of y tick labels. */
  yFormat?: (v: number) => string;
  /** Each panel its own y range and y label (e.g. loss beside accuracy); default: shared. */
  independentY?: boolean;
  /** Log-scaled x axis (x > 0), ticks at the data's x values (e.g. batch sizes). */
  xLog?: boolean;
  /** A dot at each point, so one-point series still show. */
  markers?: boolean;
  /** Width of each panel's plot area in px (default 360). */
  panelWidth?: number;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** "Nice" tick step (1, 2 or 5 × 10^k) giving about `count` ticks over span. */
export function niceStep(span: number, count: number): number {
  if (!(span > 0)) return 1;
  const raw = span / count;
  const p = 10 ** Math.floor(Math.log10(raw));
  const m = raw / p;
  return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

function ticks(min: number, max: number, count: number): number[] {
  const step = niceStep(max - min, count);
  const out: number[] = [];
  for (let v = Math.ceil(min / step - 1e-9) * step; v <= max + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function fmtTick(v: number): string {
  if (Math.abs(v) >= 1000) return v.toLocaleString('en-US');
  return String(Number(v.toPrecision(6)));
}

export function yRange(panels: Panel[], opts: ChartOptions): [number, number] {
  const ys = panels.flatMap((p) => p.series.flatMap((s) => s.y.filter((v) => Number.isFinite(v))));
  let lo = opts.yMin ?? (ys.length ? Math.min(...ys) : 0);
  let hi = opts.yMax ?? (ys.length ? Math.max(...ys) : 1);
  if (hi - lo < 1e-9) {
    lo -= 0.5;
    hi += 0.5;
  }
  return [lo, hi];
}

/** Panels side by side, sharing the y range, with one legend under them. */
export function lineChartSvg(panels: Panel[], opts: ChartOptions): string {
  const pw = opts.panelWidth ?? 360;
  const ph = 260;
  const ml = 64;
  const mr = 20;
  const mt = 64;
  const mb = 56;
  const gap = opts.independentY ? 84 : 36;
  const width = ml + panels.length * pw + (panels.length - 1) * gap + mr;
  // Legend: the distinct series labels across panels, wrapped to the chart's width.
  const seen = new Map<string, Series>();
  for (const p of panels) for (const s of p.series) if (!seen.has(s.label)) seen.set(s.label, s);
  const legend: { s: Series; x: number; row: number }[] = [];
  let lx = ml;
  let row = 0;
  for (const s of seen.values()) {
    const w = 44 + s.label.length * 7;
    if (lx > ml && lx + w > width - mr) {
      lx = ml;
      row++;
    }
    legend.push({ s, x: lx, row });
    lx += w;
  }
  const legendH = 34 + row * 20;
  const height = mt + ph + mb + legendH;
  const shared = yRange(panels, opts);
  const yFmt = opts.yFormat ?? fmtTick;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
  );
  out.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="white"/>`);
  out.push(`<text x="${width / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold">${esc(opts.title)}</text>`);
  panels.forEach((panel, pi) => {
    const left = ml + pi * (pw + gap);
    const top = mt;
    const [y0, y1] = opts.independentY ? yRange([panel], opts) : shared;
    const fx = opts.xLog ? Math.log10 : (v: number) => v;
    const xs = panel.series.flatMap((s) => s.x);
    const x0 = xs.length ? Math.min(...xs) : opts.xLog ? 1 : 0;
    let x1 = xs.length ? Math.max(...xs) : opts.xLog ? 10 : 1;
    if (x1 <= x0) x1 = opts.xLog ? x0 * 10 : x0 + 1;
    const sx = (v: number) => left + ((fx(v) - fx(x0)) / (fx(x1) - fx(x0))) * pw;
    const sy = (v: number) => top + ph - ((Math.min(Math.max(v, y0), y1) - y0) / (y1 - y0)) * ph;
    out.push(`<g class="panel">`);
    out.push(`<text x="${left + pw / 2}" y="${top - 12}" text-anchor="middle" font-size="13" font-weight="bold">${esc(panel.title)}</text>`);
    // grid and ticks
    for (const t of ticks(y0, y1, 6)) {
      const y = sy(t).toFixed(1);
      out.push(`<line x1="${left}" y1="${y}" x2="${left + pw}" y2="${y}" stroke="#e5e5e5"/>`);
      out.push(`<line x1="${left - 5}" y1="${y}" x2="${left}" y2="${y}" stroke="black"/>`);
      out.push(`<text x="${left - 8}" y="${y}" text-anchor="end" dominant-baseline="middle">${esc(yFmt(t))}</text>`);
    }
    for (const t of opts.xLog ? [...new Set(xs)].sort((a, b) => a - b) : ticks(x0, x1, 5)) {
      const x = sx(t).toFixed(1);
      out.push(`<line x1="${x}" y1="${top + ph}" x2="${x}" y2="${top + ph + 5}" stroke="black"/>`);
      out.push(`<text x="${x}" y="${top + ph + 18}" text-anchor="middle">${esc(fmtTick(t))}</text>`);
    }
    // axes
    out.push(`<line class="axis" x1="${left}" y1="${top + ph}" x2="${left + pw}" y2="${top + ph}" stroke="black"/>`);
    out.push(`<line class="axis" x1="${left}" y1="${top}" x2="${left}" y2="${top + ph}" stroke="black"/>`);
    out.push(`<text x="${left + pw / 2}" y="${top + ph + 40}" text-anchor="middle">${esc(opts.xLabel)}</text>`);
    if (pi === 0 || opts.independentY) {
      const yl = (opts.independentY ? panel.yLabel : undefined) ?? opts.yLabel;
      out.push(`<text x="${left - 48}" y="${top + ph / 2}" text-anchor="middle" transform="rotate(-90 ${left - 48} ${top + ph / 2})">${esc(yl)}</text>`);
    }
    if (panel.hline && panel.hline.y >= y0 && panel.hline.y <= y1) {
      const y = sy(panel.hline.y).toFixed(1);
      out.push(`<line x1="${left}" y1="${y}" x2="${left + pw}" y2="${y}" stroke="#888" stroke-dasharray="2,3"/>`);
      out.push(`<text x="${left + pw - 4}" y="${Number(y) - 4}" text-anchor="end" fill="#666" font-size="10">${esc(panel.hline.label)}</text>`);
    }
    for (const s of panel.series) {
      const pts = s.x
        .map((x, i) => [x, s.y[i]] as const)
        .filter(([, y]) => Number.isFinite(y))
        .map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`);
      if (pts.length === 0) continue;
      out.push(
        `<polyline fill="none" stroke="${s.color}" stroke-width="1.8"${s.dashed ? ' stroke-dasharray="6,4"' : ''} points="${pts.join(' ')}"><title>${esc(s.label)}</title></polyline>`,
      );
      if (opts.markers) for (const p of pts) out.push(`<circle cx="${p.split(',')[0]}" cy="${p.split(',')[1]}" r="3" fill="${s.color}"/>`);
    }
    out.push(`</g>`);
  });
  out.push(`<g class="legend">`);
  for (const { s, x, row: r } of legend) {
    const ly = mt + ph + mb + 14 + r * 20;
    out.push(`<line x1="${x}" y1="${ly}" x2="${x + 28}" y2="${ly}" stroke="${s.color}" stroke-width="2.5"${s.dashed ? ' stroke-dasharray="6,4"' : ''}/>`);
    out.push(`<text x="${x + 34}" y="${ly}" dominant-baseline="middle">${esc(s.label)}</text>`);
  }
  out.push(`</g>`);
  out.push(`</svg>`);
  return out.join('\n') + '\n';
}

/** The panels as text: one character grid per panel, a letter per series, y axis labels. */
export function asciiChart(panel: Panel, opts: ChartOptions & { width?: number; height?: number; marks: string[] }): string[] {
  const w = opts.width ?? 60;
  const h = opts.height ?? 12;
  const [y0, y1] = yRange([panel], opts);
  const xs = panel.series.flatMap((s) => s.x);
  const x0 = xs.length ? Math.min(...xs) : 0;
  const x1 = Math.max(xs.length ? Math.max(...xs) : 1, x0 + 1);
  const grid = Array.from({ length: h }, () => new Array<string>(w).fill(' '));
  panel.series.forEach((s, si) => {
    const mark = opts.marks[si % opts.marks.length];
    // Sample each column at the nearest point so dense curves stay readable.
    for (let c = 0; c < w; c++) {
      const xv = x0 + ((x1 - x0) * c) / (w - 1);
      let best = -1;
      let bd = Infinity;
      for (let i = 0; i < s.x.length; i++) {
        const d = Math.abs(s.x[i] - xv);
        if (d < bd) {
          bd = d;
          best = i;
        }
      }
      if (best < 0 || !Number.isFinite(s.y[best])) continue;
      if (bd > (x1 - x0) / (w - 1)) continue;
      const yv = Math.min(Math.max(s.y[best], y0), y1);
      const r = h - 1 - Math.round(((yv - y0) / (y1 - y0)) * (h - 1));
      grid[r][c] = grid[r][c] === ' ' || grid[r][c] === mark ? mark : '*';
    }
  });
  const yFmt = opts.yFormat ?? fmtTick;
  const lines: string[] = [`  ${panel.title}`];
  for (let r = 0; r < h; r++) {
    const yv = y1 - ((y1 - y0) * r) / (h - 1);
    const label = r === 0 || r === h - 1 || r === Math.floor((h - 1) / 2) ? yFmt(yv) : '';
    lines.push(`${label.padStart(7)} |${grid[r].join('')}`);
  }
  lines.push(`${''.padStart(7)} +${'-'.repeat(w)}`);
  const left = fmtTick(x0);
  const right = fmtTick(x1);
  lines.push(`${''.padStart(8)} ${left}${opts.xLabel.padStart(Math.floor(w / 2) - left.length + Math.floor(opts.xLabel.length / 2))}${right.padStart(w - Math.floor(w / 2) - Math.floor(opts.xLabel.length / 2) - 1)}`);
  lines.push(`${''.padStart(9)}${panel.series.map((s, i) => `${opts.marks[i % opts.marks.length]} ${s.label}`).join('   ')}   (* overlap)`);
  return lines;
}
