// Snapping sampled curves to symbols (fitSymbol, suggestSymbols) on exact cases, and against pykan's
// fit_params / suggest_symbolic (tests/testdata/symbolic/pykan_reference.json, made by the script beside it).
import { KanError } from "../src/errors.ts";
import { fitSymbol, suggestSymbols } from "../src/symbolic/fit_symbol.ts";
import { symbolicFunction } from "../src/symbolic/library.ts";
import { assert, assertEquals, assertThrows } from "./assert.ts";
import { maxAbsDiff, seededUniform } from "./helpers.ts";

const grid = (n: number) => Array.from({ length: n }, (_, k) => -1 + 2 * k / (n - 1));
const curveOf = (fit: { name: string; a: number; b: number; c: number; d: number }, xs: number[]) => {
  const f = symbolicFunction(fit.name);
  return xs.map((x) => fit.c * f.value(fit.a * x + fit.b) + fit.d);
};

Deno.test("fitSymbol: 2*sin(3x - 1) + 0.5 comes back as sin with the same curve", () => {
  const random = seededUniform(3);
  const xs = Array.from({ length: 300 }, () => random() * 2 - 1);
  const ys = xs.map((x) => 2 * Math.sin(3 * x - 1) + 0.5);
  const fit = fitSymbol(xs, ys, "sin");
  console.log(`  sin: a=${fit.a} b=${fit.b} c=${fit.c} d=${fit.d} r2=${fit.r2}`);
  assert(fit.r2 > 0.9999, `r2 ${fit.r2}`);
  // The parameters are only defined up to sin's symmetries (a, b, c → -a, -b, -c; b → b + 2πk): check the curve.
  const error = maxAbsDiff(curveOf(fit, xs), ys);
  assert(error < 1e-8, `curve off by ${error}`);
  // sin is odd: the fit is returned with a > 0.
  assert(Math.abs(fit.a - 3) < 1e-8 && Math.abs(Math.abs(fit.c) - 2) < 1e-8, "a = 3, |c| = 2");
  assert(Math.abs(fit.d - 0.5) < 1e-8, `d ${fit.d}`);
  // cos fits the same curve with a shifted phase.
  const cos = fitSymbol(xs, ys, "cos");
  assert(cos.r2 > 0.9999 && maxAbsDiff(curveOf(cos, xs), ys) < 1e-8, `cos r2 ${cos.r2}`);
});

Deno.test("suggestSymbols: x^2, 1/x, exp, gaussian, a constant and a line, each ranked first", () => {
  const xs = grid(201);
  const cases: [string, (x: number) => number, string][] = [
    ["0.3*(x + 0.5)^2 - 1", (x) => 0.3 * (x + 0.5) ** 2 - 1, "x^2"],
    ["-2*(0.5*x + 1.2)^3", (x) => -2 * (0.5 * x + 1.2) ** 3, "x^3"],
    ["1/(x + 1.5)", (x) => 1 / (x + 1.5), "1/x"],
    ["3*exp(1.3*x) - 1", (x) => 3 * Math.exp(1.3 * x) - 1, "exp"],
    ["exp(-(1.5*x - 0.3)^2)", (x) => Math.exp(-((1.5 * x - 0.3) ** 2)), "gaussian"],
    ["2*x - 1", (x) => 2 * x - 1, "x"],
    ["sqrt(x + 1.2)", (x) => Math.sqrt(x + 1.2), "sqrt"],
    ["log(2*x + 2.5)", (x) => Math.log(2 * x + 2.5), "log"],
  ];
  for (const [text, f, want] of cases) {
    const ys = xs.map(f);
    const [best, second] = suggestSymbols(xs, ys, { topK: 2 });
    console.log(
      `  ${text}: ${best.name} (r2 ${best.r2}, score ${best.score.toFixed(3)}), then ${second.name}`,
    );
    assertEquals(best.name, want, text);
    assert(best.r2 > 1 - 1e-9, `${text}: r2 ${best.r2}`);
    assert(maxAbsDiff(curveOf(best, xs), ys) < 1e-5, `${text}: curve`);
    assert(best.score <= second.score, "ranked by score");
  }
  // A flat curve: nothing explains it; "0" (complexity 0) wins and carries the constant in d.
  const [flat] = suggestSymbols(xs, xs.map(() => 0.7), { topK: 1 });
  assertEquals([flat.name, flat.c, flat.r2], ["0", 0, 0]);
  assert(Math.abs(flat.d - 0.7) < 1e-15, `d ${flat.d}`);
  // A weak line under noise still gives "x" with a small c, and its r2 below 1.
  const random = seededUniform(5);
  const noisy = xs.map((x) => 0.01 * x + 0.05 * (random() - 0.5));
  const x = fitSymbol(xs, noisy, "x");
  assert(Math.abs(x.c - 0.01) < 0.01 && x.r2 < 0.9, `x: c ${x.c}, r2 ${x.r2}`);
});

Deno.test("suggestSymbols: the score is pykan's, weightSimple and lib are honoured", () => {
  const xs = grid(101), ys = xs.map((x) => Math.sin(Math.PI * x));
  const all = suggestSymbols(xs, ys, { topK: 100 });
  assertEquals(all.length, 27); // pykan's 29 names, "x^0.5" and "1/x^0.5" being aliases
  for (const s of all) {
    const want = 0.8 * s.complexity + 0.2 * Math.log2(1 + 1e-5 - s.r2);
    assert(Math.abs(s.score - want) < 1e-12, `${s.name}: score ${s.score} vs ${want}`);
  }
  for (let k = 1; k < all.length; k++) assert(all[k - 1].score <= all[k].score, "sorted");
  // Without the simplicity weight the best R² wins; with weight 1 the simplest ("0").
  assertEquals(suggestSymbols(xs, ys, { topK: 1, weightSimple: 1 })[0].name, "0");
  const onlyFit = suggestSymbols(xs, ys, { topK: 1, weightSimple: 0, lib: ["x^2", "tanh", "sin"] })[0];
  assertEquals(onlyFit.name, "sin");
  assertEquals(suggestSymbols(xs, ys, { lib: ["x²", "x^2"] }).length, 1);
});

interface Reference {
  curves: {
    curve: string;
    x: number[];
    y: number[];
    fits: Record<string, { a: number; b: number; c: number; d: number; r2: number }>;
    best: string;
    ranking: string[];
  }[];
}

Deno.test("fitSymbol and suggestSymbols against pykan's fit_params and suggest_symbolic", async () => {
  const reference: Reference = JSON.parse(
    await Deno.readTextFile(new URL("./testdata/symbolic/pykan_reference.json", import.meta.url)),
  );
  assertEquals(reference.curves.length, 7);
  let compared = 0, better = 0;
  for (const { curve, x, y, fits, best, ranking } of reference.curves) {
    for (const [name, theirs] of Object.entries(fits)) {
      // pykan's sgn fits put a·x + b exactly on a sample (sign 0 there: a third level, e.g. a = -10, b = 4
      // at x = 0.4 of the first curve); ours is the best two-level step. Not comparable: skipped.
      if (name === "0" || name === "sgn") continue;
      const mine = fitSymbol(x, y, name);
      // pykan's R² carries +1e-4 in its denominator and stops at its grid's resolution; ours is exact and
      // refined, so it is at least as high up to that difference (a few functions with poles excepted
      // where pykan's finer grid sits closer to the pole: 1e-3 covers them).
      assert(mine.r2 >= theirs.r2 - 1e-3, `${curve}, ${name}: r2 ${mine.r2} vs pykan's ${theirs.r2}`);
      if (mine.r2 > theirs.r2 + 1e-4) better++;
      if (theirs.r2 > 0.9999) {
        // Where pykan's fit is near exact, both describe the same curve.
        const diff = maxAbsDiff(
          curveOf(mine, x),
          curveOf(theirs.a === undefined ? mine : { name, ...theirs }, x),
        );
        assert(diff < 0.05, `${curve}, ${name}: curves differ by ${diff}`);
      }
      compared++;
    }
    const mine = suggestSymbols(x, y, { topK: 5 }).map((s) => s.name);
    console.log(`  ${curve}: ours ${mine.join(" ")} | pykan ${ranking.join(" ")}`);
    if (curve === "exp(-(1.5*x - 0.3)^2)") {
      // pykan's zoomed grid reaches r2 0.9985 for the gaussian, and so ranks cos first; ours finds the
      // exact fit and ranks the gaussian first.
      assertEquals([mine[0], best], ["gaussian", "cos"]);
    } else {
      assertEquals(mine[0], best, curve);
    }
  }
  console.log(`  ${compared} fits compared, ${better} with an R² above pykan's by more than 1e-4`);
});

Deno.test("fitSymbol, suggestSymbols: bad input is a KanError naming it", () => {
  const xs = [0, 0.5, 1], ys = [1, 2, 3];
  assertThrows(() => fitSymbol(xs, ys, "nope"), /must be one of x, x\^2, .*, got "nope"/);
  assertThrows(() => fitSymbol([0, NaN, 1], ys, "sin"), /xs must hold finite numbers, got NaN at index 1/);
  assertThrows(
    () => fitSymbol(xs, [1, 2, Infinity], "sin"),
    /ys must hold finite numbers, got Infinity at index 2/,
  );
  assertThrows(() => fitSymbol(xs, [1, 2], "sin"), /one length, got 3 and 2/);
  assertThrows(() => fitSymbol([], [], "sin"), /at least 2 samples, got 0/);
  assertThrows(() => fitSymbol(xs, ys, "sin", { aRange: [1, -1] }), /aRange must be \[low, high\]/);
  assertThrows(
    () => fitSymbol(xs, ys, "sin", { gridNumber: 2 }),
    /gridNumber must be an integer in 3\.\.1001/,
  );
  assertThrows(() => fitSymbol(xs, ys, "sin", { grid: 3 } as never), /unknown option "grid"/);
  assertThrows(() => suggestSymbols(xs, ys, { topK: 0 }), /topK must be an integer >= 1, got 0/);
  assertThrows(
    () => suggestSymbols(xs, ys, { weightSimple: 2 }),
    /weightSimple must be a number in \[0, 1\]/,
  );
  assertThrows(() => suggestSymbols(xs, ys, { lib: [] }), /lib must be a non-empty array/);
  assertThrows(() => suggestSymbols(xs, ys, { lib: ["sin", "sinh"] }), KanError);
});
