/**
 * The WGSL of a fused step, generated for one model: each workgroup takes a
 * block of `rows` rows; each of its first `rows` threads runs one row forward
 * through every layer, then the loss and its gradient, then backward through
 * every layer, keeping every activation and gradient the weights need in
 * workgroup memory; then all threads together sum, per weight, the block's
 * contributions into the block's row of partial gradients (laid out as the
 * parameter block), which the optimizer kernel sums in a fixed order. Modes:
 * 0 writes the outputs, 1 also the loss, 2 trains.
 *
 * @module
 */

import { basisLoopTrips } from "../basis/basis.ts";
import { loopTrips } from "../gpu/loop_trips.ts";
import { ACTIVATION_CODES } from "../layers/activation.ts";
import type { LossName } from "../train/loss.ts";
import { basisFunctions, renameWgsl } from "./basis_functions.ts";
import type { FusedLayer } from "./fused_layers.ts";
import activationSource from "../../shaders/activation_fn.wgsl" with { type: "text" };

/** Threads of a fused workgroup. */
export const FUSED_WG = 64;

/** Where a layer's per-row values live in a row's slice of workgroup memory. */
interface Slots {
  x: number; // the layer's input, [in]
  z: number; // pre-activation, [out] (Linear with an activation), else -1
  dz: number; // gradient of the loss by the layer's pre-activation output, [out]
  u: number; // LayerNorm output, [in], else -1
  du: number; // gradient by u, [in], else -1
  stats: number; // LayerNorm mean and 1/std, [2], else -1
}

/** The layout of one row's slice: each layer's slots and the model's output. */
export interface RowLayout {
  /** Per layer. */
  slots: Slots[];
  /** The model's output, `[out]`. */
  y: number;
  /** Floats per row. */
  stride: number;
}

/** Lays out one row's slice for `layers`. */
export function rowLayout(layers: readonly FusedLayer[]): RowLayout {
  let at = 0;
  const take = (n: number) => {
    const start = at;
    at += n;
    return start;
  };
  const slots = layers.map((l) => ({
    x: take(l.inDim),
    z: l.activation !== "none" ? take(l.outDim) : -1,
    dz: take(l.outDim),
    u: l.layerNorm ? take(l.inDim) : -1,
    du: l.layerNorm ? take(l.inDim) : -1,
    stats: l.layerNorm ? take(2) : -1,
  }));
  const y = take(layers[layers.length - 1].outDim);
  return { slots, y, stride: at };
}

/** Loop trips one thread of the fused kernel makes at most (as `loop_trips.ts` counts them). */
export function fusedTrips(layers: readonly FusedLayer[], rows: number, loss: LossName): number {
  const loop = loopTrips;
  let trips = loop(layers[0].inDim) + loop(rows); // the input row; the loss sums
  for (const l of layers) {
    const t = basisLoopTrips(l.basis);
    const tb = l.base ? basisLoopTrips(l.base) : null;
    const nb = l.basis.count;
    const { inDim: n, outDim: m } = l;
    const main = l.kind === "linear" ? loop(m) : t.range + loop(nb, t.value + loop(m)) + 2 * loop(m);
    const mainBack = l.kind === "linear" ? loop(m) : t.range + loop(nb, t.dx + loop(m));
    const base = tb ? tb.value + loop(m) : 0;
    const baseBack = tb ? loop(m) + tb.dx : 0;
    const norm = l.layerNorm ? 3 * loop(n) : 0;
    trips += loop(m) + norm + loop(n, main + base) + loop(m); // forward
    trips += loop(n, mainBack + baseBack) + (l.layerNorm ? 2 * loop(n) : 0) + loop(n); // backward
    // The gradient phase: each thread's share of each kind of task.
    const share = (tasks: number, body: number) => loop(Math.ceil(tasks / FUSED_WG), body);
    if (tb) trips += share(n * m, loop(rows, tb.value));
    if (l.kind === "linear") {
      trips += share(n * m, loop(rows));
    } else {
      const perRow = t.value + (l.basisParams ? loop(m) + 2 * t.dparam : 0) + loop(m);
      trips += share(n * nb, 2 * loop(m) + loop(rows, perRow));
      if (l.kind === "spline") trips += share(n * m, loop(nb));
    }
    if (l.layerNorm) trips += share(n, loop(rows));
    trips += share(m, loop(rows)); // bias
  }
  const outDim = layers[layers.length - 1].outDim;
  trips += loss === "mse" ? 2 * loop(outDim) : 4 * loop(outDim);
  return trips;
}

const f = (n: number) => `${n}u`;

/**
 * Zeroes a private array declared inside a loop: naga may hoist a declaration
 * without initializer to the function's start, zeroing it only once.
 */
function zero(name: string, n: string): string {
  return `      for (var z = 0u; z < ${n}; z++) { ${name}[z] = 0.0; }`;
}

/** The suffixed names of layer `l`'s basis, base basis and activation functions. */
function names(l: number) {
  return { main: `_l${l}`, base: `_l${l}b`, act: `_l${l}a` };
}

function forward(l: number, layer: FusedLayer, s: Slots, next: number): string {
  const { main, base, act } = names(l);
  const n = f(layer.inDim);
  const m = f(layer.outDim);
  const nb = f(layer.basis.count);
  const lines: string[] = [`  { // layer ${l}: forward`, `    var acc: array<f32, ${layer.outDim}>;`];
  if (layer.bias >= 0) {
    lines.push(`    for (var o = 0u; o < ${m}; o++) { acc[o] = params[${f(layer.bias)} + o]; }`);
  }
  if (layer.layerNorm) {
    const { weight, bias } = layer.layerNorm;
    lines.push(
      `    var mean = 0.0;`,
      `    for (var i = 0u; i < ${n}; i++) { mean += sh[rb + ${f(s.x)} + i]; }`,
      `    mean /= f32(${n});`,
      `    var m2 = 0.0;`,
      `    for (var i = 0u; i < ${n}; i++) { let d = sh[rb + ${f(s.x)} + i] - mean; m2 = fma(d, d, m2); }`,
      `    let rstd = 1.0 / sqrt(m2 / f32(${n}) + 1e-5);`,
      `    sh[rb + ${f(s.stats)}] = mean;`,
      `    sh[rb + ${f(s.stats)} + 1u] = rstd;`,
      `    for (var i = 0u; i < ${n}; i++) {`,
      `      let xhat = (sh[rb + ${f(s.x)} + i] - mean) * rstd;`,
      `      sh[rb + ${f(s.u)} + i] = xhat * params[${f(weight)} + i] + params[${f(bias)} + i];`,
      `    }`,
    );
  }
  lines.push(
    `    for (var i = 0u; i < ${n}; i++) {`,
    `      let xr = sh[rb + ${f(s.x)} + i];`,
    `      let xv = ${layer.layerNorm ? `sh[rb + ${f(s.u)} + i]` : "xr"};`,
  );
  if (layer.base) {
    lines.push(
      `      let sv = basis_value${base}(i, 0u, xr);`,
      `      for (var o = 0u; o < ${m}; o++) { acc[o] = fma(sv, params[${
        f(layer.baseWeight)
      } + o * ${n} + i], acc[o]); }`,
    );
  }
  if (layer.kind === "linear") {
    lines.push(
      `      for (var o = 0u; o < ${m}; o++) { acc[o] = fma(xv, params[${
        f(layer.weight)
      } + o * ${n} + i], acc[o]); }`,
    );
  } else {
    const target = layer.kind === "spline" ? "t" : "acc";
    if (layer.kind === "spline") lines.push(`      var t: array<f32, ${layer.outDim}>;`, zero("t", m));
    lines.push(
      `      let jr = basis_range${main}(i, xv);`,
      `      for (var j = jr.x; j < jr.y; j++) {`,
      `        let phi = basis_value${main}(i, j, xv);`,
      `        for (var o = 0u; o < ${m}; o++) {`,
      `          ${target}[o] = fma(phi, params[${
        f(layer.weight)
      } + (o * ${n} + i) * ${nb} + j], ${target}[o]);`,
      `        }`,
      `      }`,
    );
    if (layer.kind === "spline") {
      lines.push(
        `      for (var o = 0u; o < ${m}; o++) { acc[o] = fma(t[o], params[${
          f(layer.scaler)
        } + o * ${n} + i], acc[o]); }`,
      );
    }
  }
  lines.push(`    }`);
  if (layer.activation !== "none") {
    lines.push(
      `    for (var o = 0u; o < ${m}; o++) { sh[rb + ${f(s.z)} + o] = acc[o]; sh[rb + ${
        f(next)
      } + o] = act${act}(acc[o]); }`,
    );
  } else {
    lines.push(`    for (var o = 0u; o < ${m}; o++) { sh[rb + ${f(next)} + o] = acc[o]; }`);
  }
  lines.push(`  }`);
  return lines.join("\n");
}

function backward(
  l: number,
  layer: FusedLayer,
  s: Slots,
  previous: { layer: FusedLayer; slots: Slots } | null,
): string {
  const { main, base } = names(l);
  const n = f(layer.inDim);
  const m = f(layer.outDim);
  const nb = f(layer.basis.count);
  const dz = (o: string) => `sh[rb + ${f(s.dz)} + ${o}]`;
  const lines: string[] = [`  { // layer ${l}: backward`, `    for (var i = 0u; i < ${n}; i++) {`];
  lines.push(`      let xr = sh[rb + ${f(s.x)} + i];`, `      var du = 0.0;`);
  if (layer.kind === "linear") {
    lines.push(
      `      for (var o = 0u; o < ${m}; o++) { du = fma(${dz("o")}, params[${
        f(layer.weight)
      } + o * ${n} + i], du); }`,
    );
  } else {
    const scale = layer.kind === "spline" ? ` * params[${f(layer.scaler)} + o * ${n} + i]` : "";
    lines.push(
      `      let xv = ${layer.layerNorm ? `sh[rb + ${f(s.u)} + i]` : "xr"};`,
      `      let jr = basis_range${main}(i, xv);`,
      `      for (var j = jr.x; j < jr.y; j++) {`,
      `        var g = 0.0;`,
      `        for (var o = 0u; o < ${m}; o++) {`,
      `          g = fma(${dz("o")}, params[${f(layer.weight)} + (o * ${n} + i) * ${nb} + j]${scale}, g);`,
      `        }`,
      `        du = fma(g, basis_dx${main}(i, j, xv), du);`,
      `      }`,
    );
  }
  if (layer.layerNorm) lines.push(`      sh[rb + ${f(s.du)} + i] = du;`);
  lines.push(`      var dx = ${layer.layerNorm ? "0.0" : "du"};`);
  if (layer.base) {
    lines.push(
      `      var gb = 0.0;`,
      `      for (var o = 0u; o < ${m}; o++) { gb = fma(${dz("o")}, params[${
        f(layer.baseWeight)
      } + o * ${n} + i], gb); }`,
      `      dx = fma(gb, basis_dx${base}(i, 0u, xr), dx);`,
    );
  }
  if (previous) lines.push(`      sh[rb + ${f(previous.slots.dz)} + i] = dx;`);
  lines.push(`    }`);
  if (previous && layer.layerNorm) {
    const { weight } = layer.layerNorm;
    const xhat = (i: string) =>
      `(sh[rb + ${f(s.x)} + ${i}] - sh[rb + ${f(s.stats)}]) * sh[rb + ${f(s.stats)} + 1u]`;
    lines.push(
      `    var m1 = 0.0;`,
      `    var m2 = 0.0;`,
      `    for (var i = 0u; i < ${n}; i++) {`,
      `      let g = sh[rb + ${f(s.du)} + i] * params[${f(weight)} + i];`,
      `      m1 += g;`,
      `      m2 = fma(g, ${xhat("i")}, m2);`,
      `    }`,
      `    m1 /= f32(${n});`,
      `    m2 /= f32(${n});`,
      `    for (var i = 0u; i < ${n}; i++) {`,
      `      let g = sh[rb + ${f(s.du)} + i] * params[${f(weight)} + i];`,
      `      sh[rb + ${f(previous.slots.dz)} + i] += sh[rb + ${f(s.stats)} + 1u] * (g - m1 - ${
        xhat("i")
      } * m2);`,
      `    }`,
    );
  }
  if (previous && previous.layer.activation !== "none") {
    const act = names(l - 1).act;
    const p = previous.slots;
    lines.push(
      `    for (var i = 0u; i < ${n}; i++) { sh[rb + ${f(p.dz)} + i] *= act_grad${act}(sh[rb + ${
        f(p.z)
      } + i]); }`,
    );
  }
  lines.push(`  }`);
  return lines.join("\n");
}

function loss(kind: LossName, last: FusedLayer, s: Slots, y: number, l: number): string {
  const m = f(last.outDim);
  const out = (c: string) => `sh[rb + ${f(y)} + ${c}]`;
  const lines: string[] = [`  { // loss`];
  if (kind === "mse") {
    lines.push(
      `    var l = 0.0;`,
      `    for (var c = 0u; c < ${m}; c++) {`,
      `      let d = ${out("c")} - want[src * ${m} + c];`,
      `      l = fma(d, d, l);`,
      `      sh[rb + ${f(s.dz)} + c] = 2.0 * d * p.loss_scale;`,
      `    }`,
      `    red[r] = l * p.loss_scale;`,
      `    red[ROWS + r] = 0.0;`,
    );
  } else {
    lines.push(
      `    let label = u32(want[src]);`,
      `    var best = 0u;`,
      `    var zmax = ${out("0u")};`,
      `    for (var c = 1u; c < ${m}; c++) { if (${out("c")} > zmax) { zmax = ${out("c")}; best = c; } }`,
      `    var sum = 0.0;`,
      `    for (var c = 0u; c < ${m}; c++) { sum += exp(${out("c")} - zmax); }`,
      `    let lse = zmax + log(sum);`,
      `    for (var c = 0u; c < ${m}; c++) {`,
      `      sh[rb + ${f(s.dz)} + c] = (exp(${
        out("c")
      } - lse) - select(0.0, 1.0, c == label)) * p.loss_scale;`,
      `    }`,
      `    red[r] = (lse - ${out("label")}) * p.loss_scale;`,
      `    red[ROWS + r] = select(0.0, 1.0, best == label);`,
    );
  }
  if (last.activation !== "none") {
    lines.push(
      `    for (var c = 0u; c < ${m}; c++) { sh[rb + ${f(s.dz)} + c] *= act_grad${names(l).act}(sh[rb + ${
        f(s.z)
      } + c]); }`,
    );
  }
  lines.push(`  }`);
  return lines.join("\n");
}

/**
 * The partial gradients of layer `l`, the block's rows summed in row order,
 * the work spread over every thread: main weights per (input, function) (and,
 * for B-splines, after a barrier, the scaler per (output, input)), base and
 * `Linear` weights per (output, input), LayerNorm per input, bias per output.
 */
function gradients(l: number, layer: FusedLayer, s: Slots): string {
  const { main, base } = names(l);
  const n = f(layer.inDim);
  const m = f(layer.outDim);
  const nb = f(layer.basis.count);
  const at = (slot: number, i: string) => `sh[r * STRIDE + ${f(slot)} + ${i}]`;
  const dz = (o: string) => at(s.dz, o);
  const each = (tasks: string, body: string[]) => [
    `    for (var k = t; k < ${tasks}; k += ${f(FUSED_WG)}) {`,
    ...body,
    `    }`,
  ];
  const lines: string[] = [`  { // layer ${l}: partial gradients`];
  const pair = [`      let o = k / ${n};`, `      let i = k % ${n};`];
  if (layer.base) {
    lines.push(...each(f(layer.inDim * layer.outDim), [
      ...pair,
      `      var sb = 0.0;`,
      `      for (var r = 0u; r < count; r++) { sb = fma(${dz("o")}, basis_value${base}(i, 0u, ${
        at(s.x, "i")
      }), sb); }`,
      `      partials[pb + ${f(layer.baseWeight)} + k] = sb;`,
    ]));
  }
  if (layer.kind === "linear") {
    lines.push(...each(f(layer.inDim * layer.outDim), [
      ...pair,
      `      var sw = 0.0;`,
      `      for (var r = 0u; r < count; r++) { sw = fma(${dz("o")}, ${at(s.x, "i")}, sw); }`,
      `      partials[pb + ${f(layer.weight)} + k] = sw;`,
    ]));
  } else {
    const w = (o: string) => `params[${f(layer.weight)} + (${o} * ${n} + i) * ${nb} + j]`;
    const xv = layer.layerNorm ? at(s.u, "i") : at(s.x, "i");
    const body = [
      `      let i = k / ${nb};`,
      `      let j = k % ${nb};`,
      `      var a: array<f32, ${layer.outDim}>;`,
      zero("a", m),
      `      var pl = 0.0;`,
      `      var ph = 0.0;`,
      `      for (var r = 0u; r < count; r++) {`,
      `        let xv = ${xv};`,
      `        let phi = basis_value${main}(i, j, xv);`,
    ];
    if (layer.basisParams) {
      body.push(
        `        var g = 0.0;`,
        `        for (var o = 0u; o < ${m}; o++) { g = fma(${dz("o")}, ${w("o")}, g); }`,
        `        pl = fma(g, basis_dparam${main}(i, j, xv, 0u), pl);`,
        `        ph = fma(g, basis_dparam${main}(i, j, xv, 1u), ph);`,
      );
    }
    body.push(
      `        if (phi != 0.0) { for (var o = 0u; o < ${m}; o++) { a[o] = fma(${dz("o")}, phi, a[o]); } }`,
      `      }`,
      `      for (var o = 0u; o < ${m}; o++) { partials[pb + ${
        f(layer.weight)
      } + (o * ${n} + i) * ${nb} + j] = a[o]; }`,
    );
    if (layer.basisParams) {
      body.push(
        `      partials[pb + ${f(layer.data)} + k] = pl;`,
        `      partials[pb + ${f(layer.data)} + ${f(layer.inDim * layer.basis.count)} + k] = ph;`,
      );
    }
    lines.push(...each(f(layer.inDim * layer.basis.count), body));
    if (layer.kind === "spline") {
      // The gradient of the effective weight w * scaler is in place: split it into both.
      lines.push(`    storageBarrier();`);
      lines.push(...each(f(layer.inDim * layer.outDim), [
        `      var sc = 0.0;`,
        `      let scaler = params[${f(layer.scaler)} + k];`,
        `      for (var j = 0u; j < ${nb}; j++) {`,
        `        let at = pb + ${f(layer.weight)} + k * ${nb} + j;`,
        `        sc = fma(partials[at], params[${f(layer.weight)} + k * ${nb} + j], sc);`,
        `        partials[at] *= scaler;`,
        `      }`,
        `      partials[pb + ${f(layer.scaler)} + k] = sc;`,
      ]));
    }
  }
  if (layer.layerNorm) {
    lines.push(...each(n, [
      `      let i = k;`,
      `      var gg = 0.0;`,
      `      var gb = 0.0;`,
      `      for (var r = 0u; r < count; r++) {`,
      `        let xhat = (${at(s.x, "i")} - ${at(s.stats, "0u")}) * ${at(s.stats, "1u")};`,
      `        gg = fma(${at(s.du, "i")}, xhat, gg);`,
      `        gb += ${at(s.du, "i")};`,
      `      }`,
      `      partials[pb + ${f(layer.layerNorm.weight)} + i] = gg;`,
      `      partials[pb + ${f(layer.layerNorm.bias)} + i] = gb;`,
    ]));
  }
  if (layer.bias >= 0) {
    lines.push(...each(m, [
      `      let o = k;`,
      `      var sb = 0.0;`,
      `      for (var r = 0u; r < count; r++) { sb += ${dz("o")}; }`,
      `      partials[pb + ${f(layer.bias)} + o] = sb;`,
    ]));
  }
  lines.push(`  }`);
  return lines.join("\n");
}

/** The WGSL of the fused kernel for `layers` (one parameter block of `size` floats), `rows` rows per workgroup. */
export function fusedSource(
  layers: readonly FusedLayer[],
  rows: number,
  size: number,
  kind: LossName,
): string {
  const layout = rowLayout(layers);
  const functions: string[] = [];
  layers.forEach((layer, l) => {
    const { main, base, act } = names(l);
    if (layer.kind !== "linear") functions.push(basisFunctions(layer.basis, main, layer.inDim, layer.data));
    if (layer.base) functions.push(basisFunctions(layer.base, base, layer.inDim, -1));
    if (layer.activation !== "none") {
      functions.push(renameWgsl(activationSource, act, { ACT: ACTIVATION_CODES[layer.activation] }, {}, []));
    }
  });
  const first = layers[0];
  const last = layers.length - 1;
  const outDim = layers[last].outDim;
  const next = (l: number) => l === last ? layout.y : layout.slots[l + 1].x;
  const row = [
    `  let rb = r * STRIDE;`,
    `  var src = grow;`,
    `  if (p.indexed != 0u) { src = index[p.start + grow]; }`,
    `  for (var i = 0u; i < ${f(first.inDim)}; i++) { sh[rb + ${f(layout.slots[0].x)} + i] = x[src * ${
      f(first.inDim)
    } + i]; }`,
    ...layers.map((layer, l) => forward(l, layer, layout.slots[l], next(l))),
    `  if (p.mode == 0u) {`,
    `    for (var c = 0u; c < ${f(outDim)}; c++) { out[grow * ${f(outDim)} + c] = sh[rb + ${
      f(layout.y)
    } + c]; }`,
    `    return;`,
    `  }`,
    loss(kind, layers[last], layout.slots[last], layout.y, last),
    `  if (p.mode == 1u) { return; }`,
    ...layers.map((_, l) => l).reverse().map((l) =>
      backward(
        l,
        layers[l],
        layout.slots[l],
        l > 0 ? { layer: layers[l - 1], slots: layout.slots[l - 1] } : null,
      )
    ),
  ];
  return `// Fused step of a ${layers.length}-layer model (src/fused/fused_source.ts).
${functions.join("\n")}

struct Params {
  rows: u32,       // rows of this call
  mode: u32,       // 0 outputs, 1 loss, 2 train
  indexed: u32,    // rows of x and target through index[start + row]
  start: u32,
  loss_scale: f32, // mse: 1 / (rows * outputs); crossEntropy: 1 / rows
  correct_at: u32, // where the correct counts start in sums
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> want: array<f32>;
@group(0) @binding(3) var<storage, read> index: array<u32>;
@group(0) @binding(4) var<storage, read> params: array<f32>;
@group(0) @binding(5) var<storage, read_write> partials: array<f32>; // [blocks, ${size}]
@group(0) @binding(6) var<storage, read_write> sums: array<f32>;     // loss [blocks]; correct [blocks] from correct_at
@group(0) @binding(7) var<storage, read_write> out: array<f32>;      // mode 0: [rows, ${outDim}]

const ROWS: u32 = ${f(rows)};
const STRIDE: u32 = ${f(layout.stride)};
var<workgroup> sh: array<f32, ${rows * layout.stride}>;
var<workgroup> red: array<f32, ${2 * rows}>;

fn row_pass(r: u32, grow: u32) {
${row.join("\n")}
}

@compute @workgroup_size(${FUSED_WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) t: u32) {
  let block = wid.x + wid.y * nwg.x;
  let row0 = block * ROWS;
  if (row0 >= p.rows) { return; }
  let count = min(ROWS, p.rows - row0);
  if (t < count) { row_pass(t, row0 + t); }
  workgroupBarrier();
  if (p.mode == 0u) { return; }
  if (t == 0u) {
    var l = 0.0;
    var c = 0.0;
    for (var r = 0u; r < count; r++) { l += red[r]; c += red[ROWS + r]; }
    sums[block] = l;
    sums[p.correct_at + block] = c;
  }
  if (p.mode == 1u) { return; }
  let pb = block * ${f(size)};
${layers.map((layer, l) => gradients(l, layer, layout.slots[l])).join("\n")}
}
`;
}
