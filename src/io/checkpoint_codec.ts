/**
 * The layout of a training checkpoint, one safetensors file: the model's
 * state dict under its own keys (as `model.stateDict()` gives them), the
 * optimizer's (see `OptimizerStateDict`) under `optimizer.`, and in
 * `__metadata__` the marker `kan_checkpoint: "1"`, the `step`, the
 * optimizer's name (`optimizer`) and the user's metadata. So the model part
 * of a checkpoint loads with `loadSafetensors` and `model.loadStateDict` once
 * the keys that start with `optimizer.` are dropped (or with
 * {@linkcode decodeCheckpoint}). Touches no Deno API: it runs in a browser.
 *
 * @module
 */

import { KanError } from "../errors.ts";
import type { StateDict } from "../layers/parameter.ts";
import { check, describe, integer, isPlainObject } from "../validate.ts";
import { decodeSafetensors, encodeFor } from "./safetensors.ts";

/** The prefix of the optimizer's entries in a checkpoint. */
export const OPTIMIZER_PREFIX = "optimizer.";

/** The metadata keys a checkpoint keeps for itself. */
export const RESERVED_METADATA: readonly string[] = ["kan_checkpoint", "step", "optimizer"];

/** The version written as `kan_checkpoint`. */
const VERSION = "1";

/** What a checkpoint holds. */
export interface CheckpointParts {
  /** The model's state dict. */
  model: StateDict;
  /** The optimizer's state dict (keys without the prefix). */
  optimizer: StateDict;
  /** The optimizer's name (`optimizer.name`). */
  optimizerName: string;
  /** The step it was saved at. */
  step: number;
  /** The user's metadata. */
  metadata: Record<string, string>;
}

const STEP = integer(0);

/**
 * The entries and metadata of a checkpoint file holding `parts`; a model key
 * that starts with `optimizer.`, a step that is not an integer >= 0 or user
 * metadata under a reserved key is a {@linkcode KanError} naming `caller`.
 */
export function checkpointEntries(
  caller: string,
  parts: CheckpointParts,
): { dict: StateDict; metadata: Record<string, string> } {
  const step = check(`${caller}: step`, parts.step, STEP);
  if (parts.metadata !== undefined && !isPlainObject(parts.metadata)) {
    throw new KanError(`${caller}: metadata must be an object of strings, got ${describe(parts.metadata)}`);
  }
  for (const key of Object.keys(parts.metadata ?? {})) {
    if (RESERVED_METADATA.includes(key)) {
      throw new KanError(
        `${caller}: metadata key ${JSON.stringify(key)} is the checkpoint's own (reserved: ${
          RESERVED_METADATA.join(", ")
        }); use another name`,
      );
    }
  }
  const dict: StateDict = {};
  for (const [key, entry] of Object.entries(parts.model)) {
    if (key.startsWith(OPTIMIZER_PREFIX)) {
      throw new KanError(
        `${caller}: the model's state-dict key ${JSON.stringify(key)} starts with "${OPTIMIZER_PREFIX}", ` +
          `the prefix of the optimizer's entries in a checkpoint`,
      );
    }
    dict[key] = entry;
  }
  for (const [key, entry] of Object.entries(parts.optimizer)) dict[OPTIMIZER_PREFIX + key] = entry;
  const metadata = {
    ...parts.metadata,
    kan_checkpoint: VERSION,
    step: String(step),
    optimizer: parts.optimizerName,
  };
  return { dict, metadata };
}

/**
 * Splits the entries and metadata of a checkpoint file into its parts; a file
 * without the checkpoint's metadata, or with a malformed step, is a
 * {@linkcode KanError} naming `caller`.
 */
export function checkpointParts(
  caller: string,
  dict: StateDict,
  metadata: Record<string, string>,
): CheckpointParts {
  const version = metadata.kan_checkpoint;
  if (version !== VERSION) {
    throw new KanError(
      version === undefined
        ? `${caller}: not a checkpoint (its metadata has no "kan_checkpoint"; a plain state dict loads with ` +
          `loadSafetensors and model.loadStateDict)`
        : `${caller}: checkpoint version ${JSON.stringify(version)} is not supported (expected "${VERSION}")`,
    );
  }
  const stepText = metadata.step;
  const step = typeof stepText === "string" && /^(0|[1-9][0-9]*)$/.test(stepText) ? Number(stepText) : NaN;
  if (!Number.isSafeInteger(step)) {
    throw new KanError(`${caller}: metadata "step" is ${describe(stepText)}, expected an integer >= 0`);
  }
  const optimizerName = metadata.optimizer;
  if (typeof optimizerName !== "string" || optimizerName === "") {
    throw new KanError(`${caller}: metadata "optimizer" is ${describe(optimizerName)}, expected its name`);
  }
  const model: StateDict = {};
  const optimizer: StateDict = {};
  for (const [key, entry] of Object.entries(dict)) {
    if (key.startsWith(OPTIMIZER_PREFIX)) optimizer[key.slice(OPTIMIZER_PREFIX.length)] = entry;
    else model[key] = entry;
  }
  const user = Object.fromEntries(Object.entries(metadata).filter(([k]) => !RESERVED_METADATA.includes(k)));
  return { model, optimizer, optimizerName, step, metadata: user };
}

/**
 * The bytes of a checkpoint file holding `parts` (see the module doc).
 *
 * @example
 * ```ts
 * import { decodeCheckpoint, encodeCheckpoint } from "./checkpoint_codec.ts";
 * const bytes = encodeCheckpoint({
 *   model: { w: { shape: [1], data: Float32Array.of(2) } },
 *   optimizer: {},
 *   optimizerName: "SGD",
 *   step: 10,
 *   metadata: { note: "example" },
 * });
 * console.log(decodeCheckpoint(bytes).step); // 10
 * ```
 */
export function encodeCheckpoint(parts: CheckpointParts): Uint8Array {
  const { dict, metadata } = checkpointEntries("encodeCheckpoint", parts);
  return encodeFor("encodeCheckpoint", dict, metadata);
}

/**
 * The parts of a checkpoint file's bytes: the model's state dict (for
 * `model.loadStateDict`), the optimizer's (for `optimizer.loadStateDict`), its
 * name, the step and the user's metadata. A malformed file, or one that is not
 * a checkpoint, is a {@linkcode KanError}.
 *
 * @example
 * ```ts
 * import { decodeCheckpoint, encodeCheckpoint } from "./checkpoint_codec.ts";
 * const bytes = encodeCheckpoint({ model: {}, optimizer: {}, optimizerName: "Adam", step: 3, metadata: {} });
 * console.log(decodeCheckpoint(bytes).optimizerName); // "Adam"
 * ```
 */
export function decodeCheckpoint(bytes: Uint8Array): CheckpointParts {
  const { dict, metadata } = decodeSafetensors(bytes);
  return checkpointParts("decodeCheckpoint", dict, metadata);
}
