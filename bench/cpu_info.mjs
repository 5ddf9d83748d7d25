// What kind of CPU a bench figure comes from: vendor, family/model, cache sizes and (once the
// machine limits are measured) the fp32 FMA peaks of the AVX2 and AVX-512 loops, so that records
// from different machine kinds can be told apart. Linux only (/proc, /sys); fields it cannot read
// are left out.
import * as fs from 'node:fs';
import * as os from 'node:os';

const read = (p) => {
  try {
    return fs.readFileSync(p, 'utf8');
  } catch {
    return undefined;
  }
};

/** "48K" / "2048K" / "32M" → bytes. */
function sizeBytes(s) {
  const m = /^(\d+)\s*([KMG]?)/i.exec(s.trim());
  if (!m) return undefined;
  return Number(m[1]) * { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[m[2].toUpperCase()];
}

/** cpu0's data and unified caches by level: { l1d, l2, l3 } in bytes (per instance). */
export function cacheSizes(sysDir = '/sys/devices/system/cpu/cpu0/cache') {
  const out = {};
  let entries = [];
  try {
    entries = fs.readdirSync(sysDir).filter((e) => /^index\d+$/.test(e));
  } catch {
    return out;
  }
  for (const e of entries) {
    const level = read(`${sysDir}/${e}/level`)?.trim();
    const type = read(`${sysDir}/${e}/type`)?.trim();
    const size = read(`${sysDir}/${e}/size`);
    if (!level || !type || !size || type === 'Instruction') continue;
    const key = level === '1' ? 'l1d' : `l${level}`;
    out[key] = sizeBytes(size);
  }
  return out;
}

/** The first processor's vendor, family, model and model name from /proc/cpuinfo text. */
export function parseCpuinfo(text) {
  const first = (text ?? '').split(/\n\s*\n/)[0];
  const field = (name) => {
    const m = new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(first);
    return m ? m[1].trim() : undefined;
  };
  const num = (v) => (v === undefined || v === '' ? undefined : Number(v));
  return {
    vendor: field('vendor_id') ?? field('CPU implementer'),
    family: num(field('cpu family')),
    model: num(field('model')) ?? field('CPU part'),
    name: field('model name') ?? os.cpus()[0]?.model,
  };
}

const mib = (b) => (b === undefined ? '?' : b >= 1024 ** 2 ? `${+(b / 1024 ** 2).toFixed(1)}M` : `${Math.round(b / 1024)}K`);

/**
 * The CPU description. peaks: { avx2: {threads: gflops}, avx512: {...} } from the FMA probe.
 * `kind` is a short label that goes into every JSON line: vendor family/model and the caches.
 */
export function cpuInfo(peaks = {}) {
  const id = parseCpuinfo(read('/proc/cpuinfo'));
  const caches = cacheSizes();
  const fma = {};
  for (const isa of ['avx2', 'avx512']) {
    const p = peaks[isa];
    if (p && p[1] !== undefined) fma[`fma_${isa}_1t_gflops`] = p[1];
  }
  const ratio = fma.fma_avx512_1t_gflops && fma.fma_avx2_1t_gflops
    ? +(fma.fma_avx512_1t_gflops / fma.fma_avx2_1t_gflops).toFixed(2) : undefined;
  const kind = `${id.vendor ?? '?'} ${id.family ?? '?'}/${id.model ?? '?'} L1d ${mib(caches.l1d)} L2 ${mib(caches.l2)} L3 ${mib(caches.l3)}`;
  return {
    kind,
    vendor: id.vendor,
    family: id.family,
    model: id.model,
    name: id.name,
    l1d_bytes: caches.l1d,
    l2_bytes: caches.l2,
    l3_bytes: caches.l3,
    ...fma,
    ...(ratio !== undefined ? { fma_avx512_over_avx2: ratio } : {}),
  };
}

/** One header line for humans. */
export function cpuHeader(info) {
  const peaks = ['avx2', 'avx512']
    .map((isa) => (info[`fma_${isa}_1t_gflops`] !== undefined ? `${isa} ${info[`fma_${isa}_1t_gflops`]}` : undefined))
    .filter(Boolean);
  return `# cpu: ${info.name ?? '?'} — ${info.kind}` +
    (peaks.length ? `; fp32 FMA peak 1 thread (GFLOP/s): ${peaks.join(', ')}` : '') +
    (info.fma_avx512_over_avx2 !== undefined ? ` (AVX-512 : AVX2 = ${info.fma_avx512_over_avx2})` : '');
}
