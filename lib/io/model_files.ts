/**
 * The model directory format: model.json (architecture, layer configs, batch-norm conventions)
 * and weights.safetensors (tensors named "<layer>/<weight>", readable by Python's safetensors).
 * The JSON records the SHA-256 of the weights file, so a pair from two different saves or a
 * corrupted weights file is detected at load time. This module knows only the format and plain
 * ModelArtifacts (as tfjs io's handlers do); turning them into a model is lib/models' job.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DensenormError, ERR_MODEL_FILE } from '../errors';
import { MAX_FEATURES } from '../limits';
import { isPlainObject } from '../validate';
import { decodeSafetensorsWithMetadata, encodeSafetensors, MAX_HEADER_BYTES, NamedTensor } from './safetensors';
import { fsyncDir, writeFileAtomic } from './atomic';

export const FORMAT = 'densenorm-model';
export const FORMAT_VERSION = 1;
export const MODEL_FILE = 'model.json';
export const WEIGHTS_FILE = 'weights.safetensors';
/** Largest model.json read (a real one is a few KiB per layer). */
const MAX_MODEL_JSON_BYTES = 64 * 1024 * 1024;

/** One layer as model.json stores it: the registered class name and its getConfig() output. */
export interface LayerArtifact {
  className: string;
  config: Record<string, unknown>;
}

/** Everything a model directory holds, as plain data. */
export interface ModelArtifacts {
  /** Model name; undefined when model.json has none. */
  name?: string;
  /** Input feature count. */
  inputDim: number;
  /** Layers in model order. */
  layers: LayerArtifact[];
  /** Weights named "<layer>/<weight>". */
  tensors: NamedTensor[];
  /** numBatchesTracked of each batch-norm layer, by layer name. */
  bnState: Record<string, number>;
}

/** model.json's content without the weights: what is known before weights.safetensors is read. */
export type ModelTopology = Omit<ModelArtifacts, 'tensors'>;

/** The DensenormError for a problem in dir's model.json. */
export function modelFileError(dir: string, msg: string): DensenormError {
  return new DensenormError(`${path.join(dir, MODEL_FILE)}: ${msg}`, ERR_MODEL_FILE);
}

function fail(dir: string, msg: string): never {
  throw modelFileError(dir, msg);
}

/**
 * Crash safety of writeModelFiles. Each file is replaced atomically (temp file, fsync, rename), but
 * the pair is two renames, so a kill between them would leave new weights beside the old model.json.
 * The old weights are therefore kept, before weights.safetensors is replaced, under a name derived
 * from the SHA-256 that the old model.json records (`.weights-<sha256>.safetensors`, a hard link
 * or, where links are unsupported, a copy). The sequence is:
 *   1. back up the weights the current model.json names (skipped when no model.json exists);
 *   2. write the new weights to a temp file, fsync, rename over weights.safetensors;
 *   3. write the new model.json the same way (this rename is the commit point);
 *   4. delete the backups and stale temp files.
 * readModelFiles reads model.json, and when weights.safetensors does not have the SHA-256 it records,
 * falls back to `.weights-<sha256>.safetensors`. So a kill at any moment leaves the complete old
 * model (before step 3) or the complete new one (after it). Users only ever see model.json and
 * weights.safetensors; the dot-files exist only between step 1 and step 4.
 */
function backupName(sha256: string): string {
  return `.weights-${sha256}.safetensors`;
}

const BACKUP_RE = /^\.weights-[0-9a-f]{64}\.safetensors$/;
const TEMP_RE = /^\.(?:model\.json|weights\.safetensors|weights-[0-9a-f]{64}\.safetensors)\.(\d+)\.[0-9a-f]+\.tmp$/;

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Step 1: makes sure the weights the current model.json names survive the replacement of weights.safetensors. */
async function backupCurrentWeights(dir: string): Promise<void> {
  let sha: unknown;
  try {
    const stat = await fs.promises.stat(path.join(dir, MODEL_FILE));
    if (!stat.isFile() || stat.size > MAX_MODEL_JSON_BYTES) return;
    const old = JSON.parse(await fs.promises.readFile(path.join(dir, MODEL_FILE), 'utf8')) as unknown;
    sha = isPlainObject(old) && isPlainObject(old.weights) ? old.weights.sha256 : undefined;
  } catch {
    return; // no (readable) previous model: nothing to preserve
  }
  if (typeof sha !== 'string' || !/^[0-9a-f]{64}$/.test(sha)) return;
  const backup = path.join(dir, backupName(sha));
  if (await hashMatches(backup, sha)) return; // an earlier interrupted save already kept it
  const current = path.join(dir, WEIGHTS_FILE);
  let bytes: Buffer;
  try {
    if (!(await fs.promises.stat(current)).isFile()) return;
    bytes = await fs.promises.readFile(current);
  } catch {
    return; // the old model is already unloadable: nothing worth keeping
  }
  if (sha256Hex(bytes) !== sha) return;
  await fs.promises.unlink(backup).catch(() => undefined);
  try {
    await fs.promises.link(current, backup);
  } catch {
    await writeFileAtomic(backup, bytes); // filesystems without hard links
  }
  await fsyncDir(dir);
}

async function hashMatches(file: string, sha: string): Promise<boolean> {
  try {
    if (!(await fs.promises.stat(file)).isFile()) return false;
    return sha256Hex(await fs.promises.readFile(file)) === sha;
  } catch {
    return false;
  }
}

function sha256Hex(buf: Buffer): string {
  return createHash('sha256').update(buf).digest('hex');
}

/** Step 4: removes backups and temp files left by this save or by saves that were killed. */
async function cleanUp(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await fs.promises.readdir(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const t = TEMP_RE.exec(name);
    if (BACKUP_RE.test(name) || (t && !isAlive(Number(t[1])))) {
      await fs.promises.unlink(path.join(dir, name)).catch(() => undefined);
    }
  }
}

/** Writes the artifacts into dir (created if needed); a kill at any moment leaves the old or the new model. */
export async function writeModelFiles(dir: string, artifacts: ModelArtifacts): Promise<void> {
  await fs.promises.mkdir(dir, { recursive: true });
  const { tensors } = artifacts;
  const weights = encodeSafetensors(tensors, { format: 'pt', producer: 'densenorm' });
  const weightsSha = sha256Hex(weights);
  const json = {
    format: FORMAT,
    formatVersion: FORMAT_VERSION,
    className: 'Sequential',
    name: artifacts.name,
    inputDim: artifacts.inputDim,
    layers: artifacts.layers.map((l) => ({ className: l.className, config: l.config })),
    batchNormalization: {
      convention: 'moving = momentum * moving + (1 - momentum) * batch; the batch variance entering the moving average is unbiased (n/(n-1)); inference uses (x - movingMean) / sqrt(movingVariance + epsilon)',
      numBatchesTracked: artifacts.bnState,
    },
    weights: { file: WEIGHTS_FILE, sha256: weightsSha, tensors: tensors.map((t) => ({ name: t.name, shape: t.shape, dtype: 'float32' })) },
  };
  // See the comment above backupName(): backup, weights, model.json (the commit), clean-up.
  await backupCurrentWeights(dir);
  await writeFileAtomic(path.join(dir, WEIGHTS_FILE), weights);
  await writeFileAtomic(path.join(dir, MODEL_FILE), JSON.stringify(json, null, 2) + '\n');
  await cleanUp(dir);
}

/**
 * Reads dir's model.json and weights.safetensors. weightCount sees the checked topology before any
 * weight is read (it may throw, e.g. for an unknown layer class) and returns how many float32
 * weights the architecture has: a larger weights file is rejected unread.
 */
export async function readModelFiles(dir: string, weightCount: (topology: ModelTopology) => number): Promise<ModelArtifacts> {
  try {
    return await readOnce(dir, weightCount);
  } catch (e) {
    // A reader racing a save can pair an old model.json with weights replaced (and the backup
    // removed) a moment later; the second read sees the finished save. A corrupt file fails twice.
    if (!(e instanceof DensenormError) || !e.message.includes('SHA-256 differs')) throw e;
    await new Promise((r) => setTimeout(r, 20));
    return readOnce(dir, weightCount);
  }
}

async function readOnce(dir: string, weightCount: (topology: ModelTopology) => number): Promise<ModelArtifacts> {
  const modelPath = path.join(dir, MODEL_FILE);
  let text: string;
  try {
    const stat = await fs.promises.stat(modelPath);
    // A FIFO or device named model.json would block readFile forever.
    if (!stat.isFile()) fail(dir, 'not a regular file');
    if (stat.size > MAX_MODEL_JSON_BYTES) {
      fail(dir, `file is ${stat.size} bytes, more than the ${MAX_MODEL_JSON_BYTES}-byte limit for a model description`);
    }
    text = await fs.promises.readFile(modelPath, 'utf8');
  } catch (e) {
    if (e instanceof DensenormError) throw e;
    throw new DensenormError(`${dir} is not a densenorm model directory: cannot read ${MODEL_FILE} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, ERR_MODEL_FILE);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    fail(dir, `invalid JSON (${(e as Error).message})`);
  }
  if (!isPlainObject(json) || json.format !== FORMAT) fail(dir, `not a densenorm model (format is not "${FORMAT}")`);
  if (json.formatVersion !== FORMAT_VERSION) fail(dir, `unsupported formatVersion ${String(json.formatVersion)} (this version reads ${FORMAT_VERSION})`);
  if (json.className !== 'Sequential') fail(dir, `unsupported model class ${String(json.className)}`);
  const inputDim = json.inputDim;
  if (typeof inputDim !== 'number' || !Number.isSafeInteger(inputDim) || inputDim < 1 || inputDim > MAX_FEATURES) fail(dir, `invalid inputDim ${String(inputDim)}`);
  if (!Array.isArray(json.layers) || json.layers.length === 0) fail(dir, 'layers must be a non-empty array');
  const weightsInfo = json.weights;
  // weights.sha256 may be left out (a model.json written by hand beside weights exported from
  // Python); the safetensors file is then checked only structurally, and there is no crash fallback.
  if (weightsInfo !== undefined && !isPlainObject(weightsInfo)) fail(dir, 'weights must be an object');
  const rawSha = weightsInfo?.sha256;
  if (rawSha !== undefined && (typeof rawSha !== 'string' || !/^[0-9a-f]{64}$/.test(rawSha))) {
    fail(dir, `malformed weights.sha256 ${JSON.stringify(rawSha)?.slice(0, 80)} (expected 64 lowercase hex digits)`);
  }
  const sha: string | undefined = rawSha;
  const layers: LayerArtifact[] = json.layers.map((entry: unknown, i: number) => {
    if (!isPlainObject(entry) || typeof entry.className !== 'string' || !isPlainObject(entry.config)) {
      fail(dir, `layers[${i}] must be { className, config }`);
    }
    return { className: entry.className, config: { ...entry.config } };
  });
  const bn = isPlainObject(json.batchNormalization) && isPlainObject(json.batchNormalization.numBatchesTracked) ? json.batchNormalization.numBatchesTracked : {};
  const bnState = Object.fromEntries(
    Object.entries(bn).filter((e): e is [string, number] => typeof e[1] === 'number' && Number.isFinite(e[1]) && e[1] >= 0),
  );
  const topology: ModelTopology = { name: typeof json.name === 'string' ? json.name : undefined, inputDim, layers, bnState };
  const total = weightCount(topology);

  const weightsPath = path.join(dir, WEIGHTS_FILE);
  // Never read more than the architecture can use: the header cap plus 4 bytes per weight.
  const maxWeightsBytes = 8 + MAX_HEADER_BYTES + 4 * total;
  const readWeights = async (file: string): Promise<Buffer> => {
    const stat = await fs.promises.stat(file);
    if (!stat.isFile()) throw new DensenormError(`${file}: not a regular file`, ERR_MODEL_FILE);
    if (stat.size > maxWeightsBytes) {
      throw new DensenormError(
        `${file}: file is ${stat.size} bytes, more than the ${maxWeightsBytes} bytes that ${total} float32 weights and a header can take`,
        ERR_MODEL_FILE,
      );
    }
    return fs.promises.readFile(file);
  };
  let buf: Buffer;
  try {
    buf = await readWeights(weightsPath);
  } catch (e) {
    if (e instanceof DensenormError) throw e;
    throw new DensenormError(`${weightsPath}: cannot read weights (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, ERR_MODEL_FILE);
  }
  if (sha !== undefined && sha256Hex(buf) !== sha) {
    // A save killed between its two renames leaves the weights this model.json names here.
    const backup = await readWeights(path.join(dir, backupName(sha))).catch(() => undefined);
    if (backup && sha256Hex(backup) === sha) {
      buf = backup;
    } else {
      throw new DensenormError(`${weightsPath}: the weights file does not match ${MODEL_FILE} (SHA-256 differs: corrupted, or from another save)`, ERR_MODEL_FILE);
    }
  }
  const { tensors } = decodeSafetensorsWithMetadata(buf, weightsPath);
  return { ...topology, tensors: [...tensors].map(([name, t]) => ({ name, shape: t.shape, data: t.data })) };
}
