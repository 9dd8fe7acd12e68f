/**
 * safetensors files: saving through a synced temporary file renamed over the
 * target, loading with the strict reader of `safetensors.ts`. The only part of
 * the format's code that needs Deno's file system.
 *
 * @module
 */

import { KanError } from "../errors.ts";
import type { StateDict } from "../layers/parameter.ts";
import { describe } from "../validate.ts";
import { decodeSafetensors, encodeFor } from "./safetensors.ts";

function permissionHint(cause: unknown, flags: string): string {
  if (cause instanceof Deno.errors.NotCapable) return ` (run Deno with ${flags} for this path)`;
  if (cause instanceof Deno.errors.PermissionDenied) {
    return " (the operating system denied access to this path)";
  }
  return "";
}

/**
 * Saves a state dict (with optional string metadata) as a safetensors file:
 * written to a temporary file beside `path`, synced to disk, closed, then
 * renamed over `path`; on any failure the temporary file is removed and
 * `path` is left as it was. It needs `--allow-write` and `--allow-read` (the
 * rename) for the folder of `path`.
 *
 * @example
 * ```ts
 * import { Gpu, kan, loadSafetensors, saveSafetensors } from "../../mod.ts";
 * const gpu = await Gpu.request();
 * const model = kan(gpu, [2, 3, 1], { basis: "bspline" });
 * const path = await Deno.makeTempFile({ suffix: ".safetensors" });
 * await saveSafetensors(path, await model.stateDict(), { note: "example" });
 * model.loadStateDict(await loadSafetensors(path));
 * gpu.destroy();
 * ```
 */
export async function saveSafetensors(
  path: string,
  dict: StateDict,
  metadata?: Record<string, string>,
): Promise<void> {
  if (typeof path !== "string" || path === "") {
    throw new KanError(`saveSafetensors: path must be a non-empty string, got ${describe(path)}`);
  }
  const bytes = encodeFor("saveSafetensors", dict, metadata);
  const temporary = `${path}.${Deno.pid}-${crypto.randomUUID().slice(0, 8)}.tmp`;
  let file: Deno.FsFile | undefined;
  let created = false;
  let step = "create the temporary file";
  try {
    file = await Deno.open(temporary, { write: true, createNew: true });
    created = true;
    step = "write the temporary file";
    for (let done = 0; done < bytes.length;) {
      const n = await file.write(bytes.subarray(done));
      if (!(n > 0)) throw new Error(`write returned ${n} with ${bytes.length - done} bytes left`);
      done += n;
    }
    step = "sync the temporary file";
    await file.sync();
    step = "close the temporary file";
    const closing = file;
    file = undefined;
    closing.close();
    step = "rename the temporary file over it";
    await Deno.rename(temporary, path);
  } catch (cause) {
    try {
      file?.close();
    } catch { /* already closed: the error that matters is `cause` */ }
    let left = "";
    if (created) {
      try {
        await Deno.remove(temporary);
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) {
          left = `; the temporary file "${temporary}" could not be removed either: ${(e as Error).message}`;
        }
      }
    }
    throw new KanError(
      `saveSafetensors: could not write "${path}" (failed to ${step}): ${(cause as Error).message}${
        permissionHint(cause, "--allow-write and --allow-read (the rename needs both)")
      }${left}`,
      { cause },
    );
  }
}

/**
 * Loads a safetensors file into a state dict; a missing, unreadable or
 * malformed file is a {@linkcode KanError}.
 *
 * @example
 * ```ts
 * import { loadSafetensors, saveSafetensors } from "../../mod.ts";
 * const path = await Deno.makeTempFile({ suffix: ".safetensors" });
 * await saveSafetensors(path, { w: { shape: [1], data: Float32Array.of(2) } });
 * console.log((await loadSafetensors(path)).w.data); // Float32Array [2]
 * ```
 */
export async function loadSafetensors(path: string): Promise<StateDict> {
  return (await readSafetensors(path)).dict;
}

/**
 * Loads a safetensors file with its metadata; a missing, unreadable or
 * malformed file is a {@linkcode KanError} naming the path.
 *
 * @example
 * ```ts
 * import { readSafetensors, saveSafetensors } from "../../mod.ts";
 * const path = await Deno.makeTempFile({ suffix: ".safetensors" });
 * await saveSafetensors(path, { w: { shape: [1], data: Float32Array.of(2) } }, { step: "10" });
 * console.log((await readSafetensors(path)).metadata); // { step: "10" }
 * ```
 */
export async function readSafetensors(
  path: string,
): Promise<{ dict: StateDict; metadata: Record<string, string> }> {
  if (typeof path !== "string" || path === "") {
    throw new KanError(`loadSafetensors: path must be a non-empty string, got ${describe(path)}`);
  }
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (cause) {
    throw new KanError(
      `loadSafetensors: could not read "${path}": ${(cause as Error).message}${
        permissionHint(cause, "--allow-read")
      }`,
      { cause },
    );
  }
  try {
    return decodeSafetensors(bytes);
  } catch (cause) {
    if (!(cause instanceof KanError)) throw cause;
    throw new KanError(`loadSafetensors: "${path}" is not a usable safetensors file: ${cause.message}`, {
      cause,
    });
  }
}
