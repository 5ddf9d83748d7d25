/**
 * Crash-safe file replacement: readers see either the old or the new file,
 * never a truncated one (a plain writeFile over an existing model can leave
 * a half-written file if the process dies mid-write).
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';

function tempPathFor(target: string): string {
  // Same directory so rename() stays on one filesystem and is atomic.
  return path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

/** Best effort: persists the rename itself. Unsupported on Windows and some filesystems, hence ignored errors. */
export async function fsyncDir(dir: string): Promise<void> {
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(dir, 'r');
    await fh.sync();
  } catch {
    // ignore: durability of the directory entry is a bonus, not a requirement
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

/** Writes data to a temp file beside `filePath`, fsyncs it, renames it over `filePath`, then fsyncs the directory. */
export async function writeFileAtomic(filePath: string, data: Buffer | Uint8Array | string): Promise<void> {
  const tmp = tempPathFor(filePath);
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(tmp, 'wx', 0o666);
    await fh.writeFile(data);
    await fh.sync();
    await fh.close();
    fh = undefined;
    await fsp.rename(tmp, filePath);
  } catch (err) {
    await fh?.close().catch(() => undefined);
    await fsp.unlink(tmp).catch(() => undefined);
    throw err;
  }
  await fsyncDir(path.dirname(filePath));
}

/** Synchronous variant of writeFileAtomic. */
export function writeFileAtomicSync(filePath: string, data: Buffer | Uint8Array | string): void {
  const tmp = tempPathFor(filePath);
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, 'wx', 0o666);
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, filePath);
  } catch (err) {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        // already failing; keep the original error
      }
    }
    try {
      fs.unlinkSync(tmp);
    } catch {
      // temp file may not exist
    }
    throw err;
  }
  try {
    const dfd = fs.openSync(path.dirname(filePath), 'r');
    try {
      fs.fsyncSync(dfd);
    } finally {
      fs.closeSync(dfd);
    }
  } catch {
    // best effort, see fsyncDir
  }
}
