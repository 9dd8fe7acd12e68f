/**
 * A basis's WGSL functions made into one layer's copy for the fused kernel:
 * every name it declares gets the layer's suffix, its `override` constants
 * become constants with the layer's values, `NB` and the input width become
 * constants, and its data (`basis_data`) is read from the model's parameter
 * block at the layer's offset. The same files serve the layer kernels and the
 * fused step, so each basis is written once.
 *
 * @module
 */

import type { Basis } from "../basis/basis.ts";
import { KanError } from "../errors.ts";

/** A WGSL literal of type `type` for `value`. */
function literal(type: string, value: number): string {
  if (type === "u32") return `${value}u`;
  if (type === "i32") return `${value}i`;
  const text = Math.fround(value).toPrecision(9);
  return /[.e]/.test(text) ? text : `${text}.0`;
}

/**
 * `source` (WGSL declaring functions, structs, constants and `override`
 * constants) with every declared name suffixed by `suffix`, each `override`
 * replaced by a constant of `constants`' value, and `extra` constants (name
 * to `[type, value]`) declared first and renamed likewise; `replace` pairs
 * are applied to the text first.
 *
 * @example
 * ```ts
 * import { renameWgsl } from "./basis_functions.ts";
 * const out = renameWgsl("override K: f32 = 1.0;\nfn f(x: f32) -> f32 { return K * x; }", "_l0", { K: 2 }, {}, []);
 * console.log(out.includes("const K_l0: f32 = 2.00000000;"), out.includes("fn f_l0("));
 * ```
 */
export function renameWgsl(
  source: string,
  suffix: string,
  constants: Readonly<Record<string, number>>,
  extra: Readonly<Record<string, [string, number]>>,
  replace: readonly [string, string][],
): string {
  let code = source.replace(/\/\/[^\n]*/g, "");
  for (const [from, to] of replace) code = code.split(from).join(to);
  code = code.replace(/override\s+(\w+)\s*:\s*(\w+)\s*=\s*[^;]+;/g, (_, name: string, type: string) => {
    if (!(name in constants)) throw new KanError(`fused step: no value for the basis constant ${name}`);
    return `const ${name}: ${type} = ${literal(type, constants[name])};`;
  });
  const header = Object.entries(extra).map(([name, [type, value]]) =>
    `const ${name}: ${type} = ${literal(type, value)};`
  );
  code = `${header.join("\n")}\n${code}`;
  const names = new Set(Object.keys(extra));
  for (const match of code.matchAll(/\b(?:fn|struct|const)\s+(\w+)/g)) names.add(match[1]);
  if (names.size === 0) return code;
  const pattern = new RegExp(`\\b(${[...names].join("|")})\\b`, "g");
  return code.replace(pattern, `$1${suffix}`);
}

/**
 * The functions of `basis` (`basis_value`, `basis_dx`, `basis_dparam`,
 * `basis_range`, with `suffix`) for a layer of `inDim` inputs whose basis
 * data starts at float `data` of the fused kernel's `params` array.
 */
export function basisFunctions(basis: Basis, suffix: string, inDim: number, data: number): string {
  return renameWgsl(
    basis.source,
    suffix,
    basis.constants,
    { NB: ["u32", basis.count], IN_DIM: ["u32", inDim], BASIS_DATA: ["u32", Math.max(data, 0)] },
    [["basis_data[", "params[BASIS_DATA + "], ["p.in_dim", "IN_DIM"]],
  );
}
