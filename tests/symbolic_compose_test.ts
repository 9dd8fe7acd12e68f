// Composing a network of symbolic edges into one formula, simplifying it, and refitting its constants.
import {
  composeNetwork,
  evaluateNetwork,
  simplifyExpression,
  type SymbolicLayer,
} from "../src/symbolic/compose.ts";
import { evaluateExpression, formatExpression, parseExpression } from "../src/symbolic/expression.ts";
import { nodeCount } from "../src/symbolic/expr.ts";
import { refitConstants } from "../src/symbolic/refit.ts";
import { assert, assertEquals, assertThrows } from "./assert.ts";
import { seededUniform } from "./helpers.ts";

const show = (text: string, inputs = 2) =>
  formatExpression(simplifyExpression(parseExpression(text, inputs)));

Deno.test("simplifyExpression: constants fold, affine chains merge, neutral terms go, f(a*x + b) stays", () => {
  assertEquals(show("2*(3*(0.5*x1 + 1) - 1) + 0*x2 + sin(2*(x2 + 1))^1"), "3*x1 + sin(2*x2 + 2) + 4");
  assertEquals(show("1*x1 + 0 + x2^1 - x2"), "x1");
  assertEquals(show("2*pi + e - e"), "6.283");
  assertEquals(show("-(-(x1))"), "x1");
  assertEquals(show("x1 + x1 + 0.5*x1"), "2.5*x1");
  assertEquals(show("3*exp(0*x1 + 2*(0.5*x2 - 1)) + 1 - 1"), "0.406*exp(x2)"); // 3*e^-2
  assertEquals(show("(2*x1)^2 + (-3*x2)^3"), "4*x1^2 - 27*x2^3");
  assertEquals(show("2/(4*x1 + 2)"), "2/(4*x1 + 2)"); // a sum's constants stay inside
  assertEquals(show("(6*x1)/(3*x2)"), "2*(x1/x2)");
  assertEquals(show("x1^0 + sin(pi/2)"), "2");
  assertEquals(show("(x1 + 1)/2"), "0.5*x1 + 0.5");
  assertEquals(show("-sin(x1)*2"), "-2*sin(x1)");
  // Idempotent.
  const once = simplifyExpression(parseExpression("2*(x1 + 3)*sin(4*(x2 - 1)) - 7/(2*x1)", 2));
  assertEquals(formatExpression(simplifyExpression(once), 17), formatExpression(once, 17));
});

function randomNetwork(random: () => number, widths: number[]): SymbolicLayer[] {
  // Functions finite on any input, so that the comparison is everywhere defined.
  const names = ["x", "x^2", "x^3", "sin", "cos", "tanh", "arctan", "gaussian", "abs", "0", "exp"];
  return widths.slice(1).map((outDim, l) => {
    const inDim = widths[l];
    const edges = Array.from({ length: inDim * outDim }, () => {
      if (random() < 0.2) return null;
      const name = names[Math.floor(random() * names.length)];
      const p = () => Math.round((random() * 2 - 1) * 1000) / 500;
      return { name, a: name === "exp" ? 0.3 * p() : p(), b: p(), c: p(), d: p() };
    });
    return {
      inDim,
      outDim,
      edges,
      bias: random() < 0.5 ? Array.from({ length: outDim }, () => random()) : undefined,
    };
  });
}

Deno.test("composeNetwork: the simplified formula evaluates to the network of edges, 40 random networks", () => {
  const random = seededUniform(21);
  let worst = 0, nodes = 0;
  for (let k = 0; k < 40; k++) {
    const widths = [1 + Math.floor(random() * 3), 1 + Math.floor(random() * 3), 1 + Math.floor(random() * 2)];
    if (random() < 0.5) widths.push(1);
    const layers = randomNetwork(random, widths);
    const inputs = widths[0], outputs = widths[widths.length - 1];
    const rows = new Float64Array(inputs * 64).map(() => random() * 2 - 1);
    const want = evaluateNetwork(layers, rows, inputs);
    const formulas = composeNetwork(layers, inputs);
    assertEquals(formulas.length, outputs);
    formulas.forEach((f, o) => {
      nodes += nodeCount(f);
      const got = evaluateExpression(f, rows, inputs);
      let scale = 0;
      for (let r = 0; r < 64; r++) scale = Math.max(scale, Math.abs(want[r * outputs + o]));
      for (let r = 0; r < 64; r++) {
        const d = Math.abs(got[r] - want[r * outputs + o]) / Math.max(scale, 1e-300);
        assert(d <= 1e-12, `network ${k}, output ${o}, row ${r}: relative ${d} in ${formatExpression(f)}`);
        worst = Math.max(worst, d);
      }
      // The printed formula reads back to the same values (17 digits).
      const back = evaluateExpression(parseExpression(formatExpression(f, 17), inputs), rows, inputs);
      for (let r = 0; r < 64; r++) {
        assert(Object.is(back[r], got[r]), `print/parse of ${formatExpression(f)}`);
      }
    });
  }
  console.log(`  worst relative difference ${worst.toExponential(2)}, ${nodes} formula nodes in all`);
});

Deno.test("composeNetwork: the KAN paper's [2, 1, 1] network reads exp(sin(pi*x1) + x2^2)", () => {
  const layers: SymbolicLayer[] = [
    {
      inDim: 2,
      outDim: 1,
      edges: [{ name: "sin", a: 2, b: 0, c: 0.5, d: 0.25 }, { name: "x^2", a: 3, b: 0, c: 1, d: -0.25 }],
    },
    { inDim: 1, outDim: 1, edges: [{ name: "exp", a: 2, b: 0.5, c: 3, d: -1 }], bias: [1] },
  ];
  assertEquals(formatExpression(composeNetwork(layers, 2)[0]), "4.946*exp(sin(2*x1) + 18*x2^2)");
  const pruned: SymbolicLayer[] = [
    { inDim: 2, outDim: 1, edges: [null, { name: "1/x", a: 1, b: 2, c: 4, d: 0 }] },
    { inDim: 1, outDim: 1, edges: [{ name: "0", a: 1, b: 0, c: 5, d: 0.5 }] },
  ];
  assertEquals(formatExpression(composeNetwork(pruned, 2)[0]), "0.5");
  assertEquals(formatExpression(composeNetwork(pruned.slice(0, 1), 2)[0]), "4/(x2 + 2)");
});

Deno.test("composeNetwork, evaluateNetwork: a malformed network is a KanError naming the place", () => {
  const edge = { name: "sin", a: 1, b: 0, c: 1, d: 0 };
  assertThrows(() => composeNetwork([], 1), /layers must be a non-empty array/);
  assertThrows(
    () => composeNetwork([{ inDim: 2, outDim: 1, edges: [edge, edge] }], 1),
    /layers\[0\]\.inDim must be 1/,
  );
  assertThrows(
    () => composeNetwork([{ inDim: 1, outDim: 2, edges: [edge] }], 1),
    /edges must be an array of .* = 2 edges, got 1/,
  );
  assertThrows(
    () => composeNetwork([{ inDim: 1, outDim: 1, edges: [{ ...edge, name: "sinh" }] }], 1),
    /layers\[0\]\.edges\[0\] \(output 0, input 0\): the symbolic function must be one of .*got "sinh"/,
  );
  assertThrows(
    () => composeNetwork([{ inDim: 1, outDim: 1, edges: [{ ...edge, c: NaN }] }], 1),
    /\.c must be a finite number, got NaN/,
  );
  assertThrows(
    () => composeNetwork([{ inDim: 1, outDim: 1, edges: [edge], bias: [1, 2] }], 1),
    /bias must be 1 finite numbers/,
  );
  assertThrows(
    () => evaluateNetwork([{ inDim: 1, outDim: 1, edges: [edge] }], [1, NaN], 1),
    /finite numbers, got NaN at row 1/,
  );
});

Deno.test("refitConstants: 2.1*exp(0.98*sin(3.1*x1) + 1.05*x2^2) - 0.1 refits to exp(sin(pi*x1) + x2^2)", () => {
  const random = seededUniform(7);
  const rows = new Float64Array(2 * 400).map(() => random() * 2 - 1);
  const targets = evaluateExpression(parseExpression("exp(sin(pi*x1) + x2^2)", 2), rows, 2);
  const start = parseExpression("2.1*exp(0.98*sin(3.1*x1) + 1.05*x2^2) - 0.1", 2);
  const fit = refitConstants(start, rows, targets, 2, { steps: 100 });
  console.log(
    `  MSE ${fit.mseBefore.toExponential(3)} -> ${fit.mseAfter.toExponential(3)} in ${fit.steps} steps`,
  );
  console.log(`  ${formatExpression(simplifyExpression(fit.expr), 10)}`);
  assertEquals(fit.parameters, 5); // 2.1, 0.98, 3.1, 1.05, 0.1; the exponent 2 stays
  assert(fit.mseBefore > 1, `before ${fit.mseBefore}`);
  assert(fit.mseAfter < 1e-10, `after ${fit.mseAfter}`);
  assert(formatExpression(fit.expr).includes("x2^2"), "the exponent was refit");
  // What is left of the -0.1 is below 1e-15.
  const text = formatExpression(simplifyExpression(fit.expr), 6);
  assert(/^exp\(sin\(3\.14159\*x1\) \+ x2\^2\)( [-+] \d(\.\d+)?e-(1[5-9]|[2-9]\d))?$/.test(text), text);
  // With exponents: a wrong exponent is refit too.
  const power = refitConstants(
    parseExpression("1.2*x1^2.5", 1),
    rows.subarray(0, 400).map(Math.abs),
    rows.subarray(0, 400).map((x) => 3 * Math.abs(x) ** 3),
    1,
    { exponents: true },
  );
  assert(power.mseAfter < 1e-20 && power.parameters === 2, `exponent refit: ${power.mseAfter}`);
  // Constants under a division and inside a function's argument.
  const xs = rows.subarray(0, 100).map((x) => x + 1);
  const quotient = refitConstants(
    parseExpression("1.3/(x1 + 1.5) + tanh(0.5*x1 - 0.2)", 1),
    xs,
    xs.map((x) => 1 / (x + 2) + Math.tanh(0.7 * x)),
    1,
  );
  assert(quotient.mseAfter < 1e-20, `quotient refit: ${quotient.mseAfter}`);
  // steps: 0 changes nothing.
  const none = refitConstants(start, rows, targets, 2, { steps: 0 });
  assertEquals([none.mseAfter, formatExpression(none.expr, 17)], [
    none.mseBefore,
    formatExpression(start, 17),
  ]);
});

Deno.test("refitConstants: bad input is a KanError", () => {
  const f = parseExpression("2*x1", 1);
  assertThrows(() => refitConstants(f, [1, 2], [1], 1), /targets must hold one number per row \(2\), got 1/);
  assertThrows(() => refitConstants(f, [1, 2], [1, NaN], 1), /targets must be finite, got NaN at row 1/);
  assertThrows(() => refitConstants(f, [], [], 1), /got 0 values/);
  assertThrows(
    () => refitConstants(parseExpression("log(x1)", 1), [-1], [0], 1),
    /expression is NaN at row 0/,
  );
  assertThrows(() => refitConstants(f, [1], [1], 1, { steps: -1 }), /steps must be an integer >= 0/);
  assertThrows(() => refitConstants(f, [1], [1], 1, { step: 3 } as never), /unknown option "step"/);
  assertThrows(() => refitConstants(parseExpression("x1*x2", 2), [1], [1], 1), /uses x2 but inputs is 1/);
});
