// The simplifier's readability rules (negligible constants, shifts out of exp, constant factors out of
// powers, odd/even symmetry, unit factors when printing), each on hand-made cases, and on 300 random
// compositions `c·f(a·u + b) + d`: the value stays within 1e-9, simplifying is idempotent and the
// printed result reads back to the same bits.
import {
  binary,
  call,
  evaluateExpression,
  type Expr,
  formatExpression,
  negate,
  num,
  parseExpression,
  variable,
} from "../src/symbolic/expression.ts";
import { NEGLIGIBLE, simplifyExpression } from "../src/symbolic/simplify.ts";
import { roundConstants } from "../src/symbolic/simplify_round.ts";
import { assert, assertEquals, assertThrows } from "./assert.ts";
import { seededUniform } from "./helpers.ts";

const show = (text: string, digits = 4, inputs = 2) =>
  formatExpression(simplifyExpression(parseExpression(text, inputs)), digits);

Deno.test("simplifyExpression: the KAN paper's refit formula reads exp(sin(pi*x1) + x2^2)", () => {
  // The shape the workflow printed before: signs inside sin, a 1e-17 shift, (-8.5*x2)^2 with its
  // reciprocal scale, a shift inside exp compensated by the factor in front, a 1e-17 constant.
  const c = Math.exp(9.293), s = 1 / 72.25;
  const text = `${c}*exp(-1*sin(-pi*x1 - 7.026e-18) + ${s}*(-8.5*x2 + 1.771e-17)^2 - 9.293) - 6.946e-17`;
  const simplified = simplifyExpression(parseExpression(text, 2));
  assertEquals(formatExpression(simplified), "exp(sin(3.142*x1) + x2^2)");
  assertEquals(formatExpression(simplified, 6), "exp(sin(3.14159*x1) + x2^2)");
  // The printed text as it came (4 digits): the same structure, its coefficients near 1.
  assertEquals(
    show("1.087e4*exp(-1*sin(-3.142*x1 - 7.026e-18) + 0.01384*(-8.5*x2 + 1.771e-17)^2 - 9.293) - 6.946e-17"),
    "1.001*exp(sin(3.142*x1) + 0.9999*x2^2)",
  );
});

Deno.test("simplifyExpression: a constant goes when at most 1e-9 of the sum's largest coefficient", () => {
  assertEquals(NEGLIGIBLE, 1e-9);
  assertEquals(show("sin(2*x1 + 2e-9)", 17), "sin(2*x1)"); // exactly 1e-9 of 2: dropped
  assertEquals(show("sin(2*x1 + 2.1e-9)"), "sin(2*x1 + 2.1e-9)"); // kept
  assertEquals(show("3*x1 - 0.5*x2 + 1e-12"), "3*x1 - 0.5*x2");
  assertEquals(show("1e-12*x1 + 1e-15"), "1e-12*x1 + 1e-15"); // 1e-3 of the coefficient: kept
  assertEquals(show("x1*(x2 + 1e-17)"), "x1*x2");
  assertEquals(show("1e-17"), "1e-17"); // a constant alone stays
  assertEquals(show("(x1 + 1e-3)^2"), "(x1 + 0.001)^2"); // (a*u + b)^n stays when b counts
  assertEquals(show("exp(x1 - 1e-12)", 17), "exp(x1)");
});

Deno.test("simplifyExpression: shifts leave exp, constant factors leave powers and sqrt", () => {
  assertEquals(show("3*exp(0*x1 + 2*(0.5*x2 - 1)) + 1 - 1"), "0.406*exp(x2)");
  assertEquals(show("2*exp(x1 + x2 + log(3))", 17), "6.0000000000000009*exp(x1 + x2)");
  assertEquals(show("exp(-x1 + 1000)"), "exp(-x1 + 1000)"); // e^1000 overflows: it stays inside
  assertEquals(show("0.5*(-2*x1)^3 + (3*x2)^-2"), "-4*x1^3 + 0.1111*x2^(-2)");
  assertEquals(show("(4*x1)^1.5 + (-4*x2)^1.5"), "8*x1^1.5 + (-4*x2)^1.5"); // real n: only a > 0
  assertEquals(show("3*sqrt(4*x1) - sqrt(-4*x2)"), "6*sqrt(x1) - sqrt(-4*x2)");
  assertEquals(show("(2*x1 + 1)^2"), "(2*x1 + 1)^2");
});

Deno.test("simplifyExpression: odd and even functions lead with a positive coefficient", () => {
  for (const f of ["sin", "tan", "tanh", "arctan", "arcsin", "arctanh", "sgn"]) {
    assertEquals(show(`2*${f}(-0.5*x1 + 0.25)`), `-2*${f}(0.5*x1 - 0.25)`, f);
  }
  for (const f of ["cos", "abs", "gaussian"]) {
    assertEquals(show(`2*${f}(-0.5*x1 + 0.25)`), `2*${f}(0.5*x1 - 0.25)`, f);
  }
  // Powers and reciprocals, as the library writes x^n and 1/x^n.
  assertEquals(show("(1 - x1)^3 + (2 - x2)^2"), "-(x1 - 1)^3 + (x2 - 2)^2");
  assertEquals(show("(-x1 - x2)^5 + (-x1 + 1)^4"), "-(x1 + x2)^5 + (x1 - 1)^4");
  assertEquals(
    show("1/(1 - x1) + 1/(2 - x2)^2 + 1/(-x1 - 1)^3"),
    "-1/(x1 - 1) + 1/(x2 - 2)^2 - 1/(x1 + 1)^3",
  );
  assertEquals(show("1/(-3*x1)^4 + 2/(-x2)^5"), "0.01235/x1^4 - 2/x2^5");
  // Neither odd nor even: the sign stays inside.
  assertEquals(
    show("exp(-x1 - x2) + log(1 - x1) + sqrt(-x2 + 1) + arccos(-x1)"),
    show(
      "exp(-x1 - x2) + log(-x1 + 1) + sqrt(-x2 + 1) + arccos(-x1)",
    ),
  );
  assertEquals(show("log(1 - x1) + arccos(-x1)"), "log(-x1 + 1) + arccos(-x1)");
  // The term whose atom sorts first leads (x1 before x2), so both spellings meet and add up.
  assertEquals(show("sin(x2 - x1) + sin(-x1 + x2)"), "-2*sin(x1 - x2)");
  assertEquals(show("cos(2 - x2 - x1) + 1/(x2 - x1)"), "cos(x1 + x2 - 2) - 1/(x1 - x2)");
});

Deno.test("simplifyExpression: sin, cos and tan shed whole periods; a shift of pi flips sin and cos", () => {
  assertEquals(show("exp(-sin(pi*x1 - 3*pi) + x2^2)"), "exp(sin(3.142*x1) + x2^2)");
  assertEquals(show("cos(2*x1 + 7)"), "cos(2*x1 + 0.7168)");
  assertEquals(show("cos(x1 - pi)"), "-cos(x1)");
  assertEquals(show("tan(x1 - 4)"), "tan(x1 - 0.8584)");
  assertEquals(show("2*sin(x1 + 1.6)"), "2*sin(x1 + 1.6)"); // inside (-pi, pi]: unchanged
  const random = seededUniform(5);
  const rows = new Float64Array(2 * 50).map(() => random() * 2 - 1);
  for (const text of ["sin(3*x1 - 20) * cos(x2 + 9.42477796076938)", "tan(0.5*x1 + 7) + sin(-x2 - 3*pi)"]) {
    const e = parseExpression(text, 2);
    const simple = simplifyExpression(e);
    const [a, b] = [evaluateExpression(e, rows, 2), evaluateExpression(simple, rows, 2)];
    a.forEach((v, k) =>
      assert(Math.abs(v - b[k]) <= 1e-12 * Math.max(1, Math.abs(v)), `${text} row ${k}: ${v} vs ${b[k]}`)
    );
    assertEquals(
      formatExpression(simplifyExpression(simple), 17),
      formatExpression(simple, 17),
      "idempotent",
    );
  }
});

Deno.test("simplifyExpression: exp of logs with integer coefficients is a product (the division example)", () => {
  assertEquals(show("0.9288*exp(log(6.996*x1) - log(6.498*x2))"), "x1/x2");
  assertEquals(show("exp(2*log(x1) + 1)"), "2.718*x1^2");
  assertEquals(show("exp(-log(x1 + 1) - log(x2 + 2))"), "1/((x1 + 1)*(x2 + 2))");
  assertEquals(show("exp(0.5*log(x1))"), "exp(0.5*log(x1))"); // not an integer power: stays
  assertEquals(show("exp(log(x1) + x2)"), "exp(log(x1) + x2)"); // not only logs: stays
  const rows = new Float64Array([0.3, 0.7, 1.2, 0.9, 0.81, 1.5]);
  for (const text of ["3*exp(log(2*x1) - log(x2 + 1) + 0.5)", "exp(3*log(x1) - 2*log(x2))"]) {
    const e = parseExpression(text, 2);
    const [a, b] = [evaluateExpression(e, rows, 2), evaluateExpression(simplifyExpression(e), rows, 2)];
    a.forEach((v, k) =>
      assert(Math.abs(v - b[k]) <= 1e-12 * Math.max(1, Math.abs(v)), `${text} row ${k}: ${v} vs ${b[k]}`)
    );
  }
});

Deno.test("formatExpression: unit factors print as a sign or nothing", () => {
  assertEquals(formatExpression(binary("*", num(-1), call("sin", variable(0)))), "-sin(x1)");
  assertEquals(formatExpression(binary("*", num(1), variable(1))), "x2");
  assertEquals(formatExpression(binary("^", variable(0), num(1))), "x1");
  assertEquals(formatExpression(parseExpression("x2 + -1*sin(x1)", 2)), "x2 - sin(x1)");
  assertEquals(formatExpression(parseExpression("2*(1*(x1 + 1))^1", 2)), "2*(x1 + 1)");
  // Near 1: dropped at 4 digits, written out at 17 (so that the text reads back to the same bits).
  const near = parseExpression("0.99999999997*exp(x1) - 1.00000000002*x2", 2);
  assertEquals(formatExpression(near), "exp(x1) - x2");
  assertEquals(formatExpression(near, 17), "0.99999999997*exp(x1) - 1.00000000002*x2");
  assertEquals(formatExpression(parseExpression("1.0002*x1", 2)), "1*x1".slice(2)); // 1.0002 -> "1" at 4 digits
  assertEquals(formatExpression(parseExpression("1.0002*x1", 2), 5), "1.0002*x1");
  assertEquals(formatExpression(negate(binary("*", num(-1), variable(0)))), "-(-x1)");
});

/** A random composition: sums of `c·f(a·u + b) + d` over inputs and inner compositions. */
function randomComposition(random: () => number, depth: number): Expr {
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)];
  const coefficient = () => {
    const r = random();
    if (r < 0.15) return pick([1, -1]);
    if (r < 0.25) return pick([1e-17, -7e-18, 3e-12]); // negligible next to unit terms
    if (r < 0.3) return 0;
    return Number(((random() * 2 - 1) * 4).toPrecision(4));
  };
  const leaf = (): Expr => variable(Math.floor(random() * 3));
  const inner = (): Expr => (depth === 0 || random() < 0.4 ? leaf() : randomComposition(random, depth - 1));
  const terms = 1 + Math.floor(random() * 2);
  let sum: Expr = num(coefficient());
  for (let t = 0; t < terms; t++) {
    const arg = binary("+", binary("*", num(coefficient() || 1), inner()), num(coefficient()));
    const kind = random();
    let value: Expr;
    if (kind < 0.5) {
      value = call(pick(["sin", "cos", "tanh", "arctan", "gaussian", "abs", "sgn", "exp"]), arg);
    } else if (kind < 0.75) value = binary("^", arg, num(pick([2, 3, 4, 5, 1, 0.5, 1.5])));
    else if (kind < 0.9) value = binary("/", num(1), binary("^", arg, num(pick([1, 2, 3]))));
    else value = call(pick(["sqrt", "log", "arcsin"]), arg);
    sum = binary("+", sum, binary("*", num(coefficient() || 0.5), value));
  }
  return sum;
}

Deno.test("simplifyExpression: 300 random compositions keep their value within 1e-9, idempotent", () => {
  const random = seededUniform(5);
  const n = 128;
  const rows = new Float64Array(3 * n).map(() => random() * 2 - 1);
  let compared = 0, worst = 0, shrunk = 0;
  for (let k = 0; k < 300; k++) {
    const e = randomComposition(random, 2);
    const s = simplifyExpression(e);
    const want = evaluateExpression(e, rows, 3), got = evaluateExpression(s, rows, 3);
    // The scale a dropped constant is measured against: the largest finite value over the rows.
    let scale = 0;
    for (const v of want) if (Number.isFinite(v)) scale = Math.max(scale, Math.abs(v));
    for (let r = 0; r < n; r++) {
      if (!Number.isFinite(want[r])) continue;
      const d = Math.abs(got[r] - want[r]) / Math.max(Math.abs(want[r]), 1e-3 * scale, 1e-300);
      assert(d <= 1e-9, `${formatExpression(e, 17)} -> ${formatExpression(s, 17)}, row ${r}: relative ${d}`);
      worst = Math.max(worst, d);
      compared++;
    }
    const text = formatExpression(s, 17);
    assertEquals(formatExpression(simplifyExpression(s), 17), text, "idempotent");
    const back = evaluateExpression(parseExpression(text, 3), rows, 3);
    for (let r = 0; r < n; r++) {
      assert(Object.is(back[r], got[r]) || (Number.isNaN(back[r]) && Number.isNaN(got[r])), text);
    }
    if (formatExpression(s).length < formatExpression(e).length) shrunk++;
  }
  console.log(
    `  ${compared} finite values, worst relative difference ${worst.toExponential(2)}, ${shrunk}/300 shorter`,
  );
  assert(compared > 15000, `only ${compared} finite values compared`);
});

Deno.test("roundConstants: pi, 1/3 and integers come back; a constant the data needs stays", () => {
  const random = seededUniform(9);
  const rows = new Float64Array(2 * 200).map(() => random() * 2 - 1);
  const f = (text: string) => evaluateExpression(parseExpression(text, 2), rows, 2);
  const targets = f("exp(sin(pi*x1) + x2^2)/3 + 0.73*x2");
  // The refit formula, its constants off by ~1e-8: pi, 1/3 and 1 snap, 0.73 stays (no simple value
  // within 5% keeps the MSE), the 1e-9 shift goes.
  const start = parseExpression(
    "0.33333334*exp(sin(3.14159266*x1) + 1.00000001*x2^2 + 1e-9) + 0.73*x2",
    2,
  );
  const r = roundConstants(start, rows, targets, 2);
  assertEquals(formatExpression(r.expr, 17), "1/3*exp(sin(pi*x1) + x2^2) + 0.72999999999999998*x2");
  assertEquals(r.snapped, 4);
  assert(r.mseBefore > 1e-18 && r.mseAfter < 1e-30, `${r.mseBefore} -> ${r.mseAfter}`);
  // A constant the data pins elsewhere does not move: 0.9 vs the data's 0.93, with tol 1e-6.
  const kept = roundConstants(parseExpression("0.93*x1", 2), rows, f("0.93*x1 + 1e-3*x2"), 2);
  assertEquals([formatExpression(kept.expr), kept.snapped], ["0.93*x1", 0]);
  // With tol 0.1 it snaps to 1 (MSE 3e-4, bound 0.1² times the targets' mean square), not to 0.
  const loose = roundConstants(parseExpression("0.97*x1", 2), rows, f("0.97*x1"), 2, { tol: 0.1 });
  assertEquals(formatExpression(loose.expr), "x1");
  // Bad input.
  assertThrows(
    () => roundConstants(start, rows, targets, 2, { tol: -1 }),
    /tol must be a finite number >= 0/,
  );
  assertThrows(
    () => roundConstants(start, rows, [1], 2),
    /targets must hold one number per row \(200\), got 1/,
  );
  assertThrows(
    () => roundConstants(parseExpression("log(x1)", 2), rows, targets, 2),
    /the expression is not finite on every row/,
  );
  assertThrows(
    () => roundConstants(start, rows, targets, 2, { maxDenominator: 0 }),
    /maxDenominator must be/,
  );
});
