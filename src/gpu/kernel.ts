/**
 * Compute kernels: a WGSL source with its binding layout, compiled once per
 * (source, entry point, constants) and cached, its compilation errors caught
 * with an error scope and turned into a {@linkcode KanError} naming it.
 *
 * @module
 */

import { KanError } from "../errors.ts";

/**
 * What a binding of a kernel is: `"uniform"` (a parameter struct),
 * `"read"` (read-only storage) or `"storage"` (read-write storage).
 * Binding `i` of the list is `@group(0) @binding(i)` in the WGSL.
 */
export type BindingKind = "uniform" | "read" | "storage";

/** Everything needed to build a compute pipeline. */
export interface KernelSpec {
  /** A name for error messages and GPU labels, e.g. `"axpy"`. */
  readonly name: string;
  /** The WGSL source. */
  readonly source: string;
  /** The bindings of group 0 in order. */
  readonly bindings: readonly BindingKind[];
  /** The entry point; `"main"` by default. */
  readonly entryPoint?: string;
  /** Values of the shader's `override` constants. */
  readonly constants?: Readonly<Record<string, number>>;
}

/** A compiled kernel, ready to dispatch. */
export interface Kernel {
  /** A number unique to this kernel on its device (for caches). */
  readonly id: number;
  /** What it was built from. */
  readonly spec: KernelSpec;
  /** The pipeline. */
  readonly pipeline: GPUComputePipeline;
  /** The layout of its bind group 0. */
  readonly layout: GPUBindGroupLayout;
  /** Resolves to the compilation error, or `null` when the kernel is valid. */
  readonly checked: Promise<KanError | null>;
  /** The compilation error once known; `undefined` while unknown, `null` when valid. */
  error: KanError | null | undefined;
}

const BUFFER_TYPES: Record<BindingKind, GPUBufferBindingType> = {
  uniform: "uniform",
  read: "read-only-storage",
  storage: "storage",
};

function cacheKey(spec: KernelSpec): string {
  const constants = Object.entries(spec.constants ?? {}).sort(([a], [b]) => a < b ? -1 : 1);
  return [
    spec.name,
    spec.entryPoint ?? "main",
    spec.bindings.join(","),
    JSON.stringify(constants),
    spec.source,
  ].join("\u0000");
}

/** Builds kernels on one device and keeps each one for reuse. */
export class KernelCache {
  #device: GPUDevice;
  #kernels = new Map<string, Kernel>();
  #bySpec = new WeakMap<KernelSpec, Kernel>();

  /** A cache for `device`. */
  constructor(device: GPUDevice) {
    this.#device = device;
  }

  /** How many distinct kernels were compiled. */
  get size(): number {
    return this.#kernels.size;
  }

  /**
   * The kernel for `spec`, compiled now if it is new. Compilation errors are
   * known only later: see {@linkcode Kernel.checked}. A spec object seen before
   * is found without reading its source: callers that dispatch often keep
   * their spec objects (see {@linkcode KernelSpecs}).
   */
  get(spec: KernelSpec): Kernel {
    const seen = this.#bySpec.get(spec);
    if (seen) return seen;
    const key = cacheKey(spec);
    let kernel = this.#kernels.get(key);
    if (!kernel) {
      kernel = this.#build(spec);
      this.#kernels.set(key, kernel);
    }
    this.#bySpec.set(spec, kernel);
    return kernel;
  }

  #build(spec: KernelSpec): Kernel {
    const device = this.#device;
    device.pushErrorScope("validation");
    const module = device.createShaderModule({ label: spec.name, code: spec.source });
    const layout = device.createBindGroupLayout({
      label: spec.name,
      // A uniform parameter struct is bound with a dynamic offset into the
      // recording's uniform arena, so that bind groups can be reused.
      entries: spec.bindings.map((kind, binding) => ({
        binding,
        visibility: GPUShaderStage.COMPUTE,
        buffer: { type: BUFFER_TYPES[kind], hasDynamicOffset: kind === "uniform" },
      })),
    });
    const pipeline = device.createComputePipeline({
      label: spec.name,
      layout: device.createPipelineLayout({ label: spec.name, bindGroupLayouts: [layout] }),
      compute: {
        module,
        entryPoint: spec.entryPoint ?? "main",
        constants: spec.constants as Record<string, number> | undefined,
      },
    });
    const kernel: Kernel = {
      id: this.#kernels.size,
      spec,
      pipeline,
      layout,
      error: undefined,
      checked: device.popErrorScope().then(
        (err) => err ? compileError(spec.name, err.message) : null,
        (err) => compileError(spec.name, String(err)),
      ).then((error) => {
        kernel.error = error;
        return error;
      }),
    };
    return kernel;
  }
}

/**
 * Kernel specs built once per key and then reused, so that a kernel
 * dispatched thousands of times is looked up by identity, not by its source.
 *
 * @example
 * ```ts
 * import { KernelSpecs } from "./kernel.ts";
 * const specs = new KernelSpecs();
 * const make = () => ({ name: "k", source: "@compute @workgroup_size(1) fn main() {}", bindings: [] });
 * console.log(specs.get("k", make) === specs.get("k", make)); // true
 * ```
 */
export class KernelSpecs {
  #specs = new Map<string, KernelSpec>();

  /** The spec for `key`, made by `make` the first time. */
  get(key: string, make: () => KernelSpec): KernelSpec {
    let spec = this.#specs.get(key);
    if (!spec) {
      spec = make();
      this.#specs.set(key, spec);
    }
    return spec;
  }
}

function compileError(name: string, message: string): KanError {
  return new KanError(`kernel "${name}" failed to compile: ${message.trim()}`);
}
