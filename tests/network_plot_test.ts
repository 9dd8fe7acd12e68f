/**
 * The network diagram (pykan's `plot`) as SVG: one group per edge with the
 * opacity `tanh(beta * score)`, faint masked and pruned edges, labelled
 * symbolic edges, valid and deterministic markup.
 */
import { BSplineKAN, type Gpu, HybridKAN, kan, Sequential, Tensor } from "../mod.ts";
import { edgeCurves, edgeFunction } from "../src/interpret/edge_curves.ts";
import { FAINT_OPACITY, plotNetwork } from "../src/interpret/network_plot.ts";
import { prune } from "../src/interpret/prune.ts";
import { assert, assertEquals, assertRejects, assertThrows } from "./assert.ts";
import { assertClose, seededUniform, testGpu } from "./helpers.ts";

const gpu: Gpu = await testGpu();

interface EdgeTag {
  layer: number;
  out: number;
  in: number;
  opacity: number;
  body: string;
}

function edgeTags(svg: string): EdgeTag[] {
  return [...svg.matchAll(
    /<g class="edge" data-layer="(\d+)" data-out="(\d+)" data-in="(\d+)" data-score="[^"]*" opacity="([^"]+)">([\s\S]*?)<\/g>/g,
  )].map((m) => ({ layer: +m[1], out: +m[2], in: +m[3], opacity: +m[4], body: m[5] }));
}

/** Every element is closed, in order (the SVG is well-formed XML as far as its tags go). */
function assertBalanced(svg: string): void {
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z]+)[^>]*?(\/?)>/g)) {
    if (m[3] === "/") continue;
    if (m[1] === "/") assertEquals(stack.pop(), m[2], `unbalanced </${m[2]}>`);
    else stack.push(m[2]);
  }
  assertEquals(stack, []);
}

Deno.test("plotNetwork: one box per edge, opacity tanh(beta score), faint masked and pruned edges, symbols", async () => {
  const model = kan(gpu, [2, 3, 1], { basis: "bspline", seed: 4 });
  (model.layers[0] as BSplineKAN).setEdgeMask([1, 1, 0, 1, 1, 1]); // edge (o 1, i 0) of layer 0 off
  const rand = seededUniform(9);
  const x = Tensor.from(gpu, Array.from({ length: 40 }, () => 2 * rand() - 1), [20, 2]);
  const curves = await edgeCurves(model, x, { samples: 21 });
  x.dispose();
  const scores = {
    edgeScores: [[0.9, 0.05, 0.3, 0.2, 0.01, 0.6], [0.7, 0.4, 0.001]],
    nodeScores: [[1, 1], [1, 0.5, 0], [1]],
  };
  const symbols = [[null, "x^2 < 1 & y", null, null, null, null], [null, "sin", null]];
  const kept = [[0, 1], [0, 1], [0]]; // hidden node 2 pruned
  const svg = plotNetwork(model, curves, scores, { symbols, kept, inputNames: ["a", "b"], title: "f" });
  assert(svg.startsWith(`<svg xmlns="http://www.w3.org/2000/svg"`), "no xmlns");
  assert(svg.trimEnd().endsWith("</svg>"), "not closed");
  assertBalanced(svg);
  assertEquals(
    plotNetwork(model, curves, scores, { symbols, kept, inputNames: ["a", "b"], title: "f" }),
    svg,
  );
  const edges = edgeTags(svg);
  assertEquals(edges.length, 2 * 3 + 3 * 1);
  assertEquals((svg.match(/class="wire"/g) ?? []).length, 9);
  assertEquals((svg.match(/<polyline class="curve" points="(\S+,\S+ ){20}\S+,\S+"/g) ?? []).length, 9);
  assertEquals((svg.match(/<circle class="node"/g) ?? []).length, 6);
  for (const e of edges) {
    const score = scores.edgeScores[e.layer][e.out * (e.layer === 0 ? 2 : 3) + e.in];
    const faint = (e.layer === 0 && e.out === 1 && e.in === 0) || (e.layer === 0 && e.out === 2) ||
      (e.layer === 1 && e.in === 2);
    const expected = faint ? FAINT_OPACITY : Math.round(Math.tanh(3 * score) * 1000) / 1000;
    assertEquals(e.opacity, expected, `edge ${e.layer} (${e.out}, ${e.in})`);
    assertEquals(e.body.includes(`stroke-dasharray`), faint, `dashes of edge ${e.layer} (${e.out}, ${e.in})`);
  }
  // Opacity grows with the score among the full edges.
  const full = edges.filter((e) => e.opacity !== FAINT_OPACITY);
  const byScore = full.map((
    e,
  ) => [scores.edgeScores[e.layer][e.out * (e.layer === 0 ? 2 : 3) + e.in], e.opacity])
    .sort((a, b) => a[0] - b[0]);
  assert(byScore.every((p, k) => k === 0 || p[1] >= byScore[k - 1][1]), `opacity not monotone ${byScore}`);
  // Symbols: escaped text in red, under their edges.
  const labels = [...svg.matchAll(/<text class="symbol"[^>]*fill="#d62728">([^<]*)<\/text>/g)].map((m) =>
    m[1]
  );
  assertEquals(labels, ["x^2 &lt; 1 &amp; y", "sin"]);
  const sinEdge = edges.find((e) => e.layer === 1 && e.in === 1)!;
  assert(sinEdge.body.includes(`stroke="#d62728"`) && sinEdge.body.includes(">sin<"), "sin edge not red");
  // Names: given inputs, default output; the pruned node hollow.
  assert(svg.includes(`text-anchor="middle">a</text>`) && svg.includes(`>b</text>`), "input names");
  assert(/class="output-name"[^>]*>y1<\/text>/.test(svg), "output name");
  assert(/data-level="1" data-node="2"[^>]*fill="#ffffff"/.test(svg), "pruned node not hollow");
  assert(/data-level="1" data-node="1"[^>]*fill="#000000"/.test(svg), "kept node hollow");
  // Without scores every unmasked edge is drawn at full strength.
  const plain = edgeTags(plotNetwork(model, curves, null));
  assertEquals(plain.filter((e) => e.opacity === 1).length, 8);
  model.dispose();
});

Deno.test("plotNetwork: curves, scores or symbols of another shape are refused", async () => {
  const model = kan(gpu, [2, 3, 1], { basis: "bspline", seed: 4 });
  const other = kan(gpu, [2, 2, 1], { basis: "bspline", seed: 4 });
  const x = Tensor.from(gpu, [0.1, 0.2, -0.5, 0.7], [2, 2]);
  const curves = await edgeCurves(model, x, { samples: 5 });
  const wrong = await edgeCurves(other, x, { samples: 5 });
  x.dispose();
  assertThrows(() => plotNetwork(model, wrong, null), /plotNetwork: curves\[0\] must hold 6 edges/);
  assertThrows(
    () => plotNetwork(model, curves, { edgeScores: [[1, 1], [1]], nodeScores: [] }),
    /plotNetwork: scores.edgeScores\[0\] must be an array of 6 finite numbers >= 0/,
  );
  assertThrows(
    () => plotNetwork(model, curves, null, { symbols: [[null], [null, null, null]] }),
    /plotNetwork: symbols\[0\] must be an array of 6 strings or null/,
  );
  assertThrows(() => plotNetwork(model, curves, null, { inputNames: ["a"] }), /plotNetwork: inputNames\[0\]/);
  assertThrows(() => plotNetwork(model, curves, null, { colour: "red" } as never), /unknown option "colour"/);
  model.dispose();
  other.dispose();
});

Deno.test("edgeCurves and plotNetwork on HybridKAN: symbolic edges are c f(a x + b) + d, labelled; prune refuses them", async () => {
  const hybrid = new HybridKAN(new BSplineKAN(gpu, 2, 1, { seed: 2 }));
  hybrid.fixSymbolic(1, 0, { name: "sin", a: 2, b: 0.5, c: 1.5, d: -0.25 });
  const model = new Sequential([hybrid]);
  const rand = seededUniform(5);
  const x = Tensor.from(gpu, Array.from({ length: 40 }, () => 2 * rand() - 1), [20, 2]);
  const [curves] = await edgeCurves(model, x, { samples: 9 });
  x.dispose();
  const sin = curves.edges[1];
  assertEquals([sin.symbol?.name, sin.masked, curves.edges[0].symbol, curves.edges[0].masked], [
    "sin",
    false,
    null,
    false,
  ]);
  const expected = Array.from(sin.xs, (v) => 1.5 * Math.sin(2 * v + 0.5) - 0.25);
  assertClose("symbolic curve vs c sin(a x + b) + d", sin.ys, expected, 1e-12);
  // The GPU layer with input 0 at 0: edge 0 gives phi_0(0), edge 1 the symbolic curve.
  const rows = Tensor.from(gpu, Array.from(sin.xs).flatMap((v) => [0, v]), [9, 2]);
  const y = model.forward(rows);
  const phi0 = edgeFunction(hybrid.numeric, await hybrid.numeric.stateDict(), 0, 0)(0);
  assertClose("HybridKAN forward vs curves", await y.read(), sin.ys.map((v) => v + phi0), 1e-5);
  rows.dispose();
  y.dispose();
  const svg = plotNetwork(model, [curves], null);
  const labels = [...svg.matchAll(/<text class="symbol"[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
  assertEquals(labels, ["sin"]);
  await assertRejects(
    () => prune(model, { edgeScores: [[1, 1]], nodeScores: [[1, 1], [1]] }),
    /prune: layer 0 is a HybridKAN/,
  );
  model.dispose();
});

Deno.test("network_plot_test teardown: nothing left live", () => {
  assertEquals(gpu.stats().liveBuffers, 0);
  gpu.destroy();
});
