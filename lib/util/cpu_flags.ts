/** CPU feature flags as Linux reports them (/proc/cpuinfo "flags"); empty elsewhere. */
import * as fs from 'node:fs';

let flags: Set<string> | undefined;

export function cpuFlag(name: string): boolean {
  if (!flags) {
    try {
      const m = /^flags\s*:(.*)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'));
      flags = new Set(m ? m[1].trim().split(/\s+/) : []);
    } catch {
      flags = new Set();
    }
  }
  return flags.has(name);
}
