// The expression language of the symbolic workflow: parsing (precedence, errors with positions),
// evaluation against hand-written float64 functions, and printing that parses back to the same values.
import { KanError } from "../src/errors.ts";
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
import { assert, assertEquals, assertThrows } from "./assert.ts";
import { seededUniform } from "./helpers.ts";

const rows2 = (pairs: [number, number][]) => new Float64Array(pairs.flat());

function values(text: string, pairs: [number, number][]): number[] {
  return [...evaluateExpression(parseExpression(text, 2), rows2(pairs), 2)];
}

Deno.test("parseExpression: precedence, associativity, constants and the KAN paper's formulas", () => {
  const at: [number, number][] = [[0.3, -0.7], [-0.9, 0.4], [0.5, 0.5]];
  const check = (text: string, f: (x1: number, x2: number) => number) => {
    const got = values(text, at), want = at.map(([p, q]) => f(p, q));
    // Same operations in the same order: equal to the last bit.
    assertEquals(got, want, text);
  };
  check("exp(sin(pi*x1)+x2^2)", (p, q) => Math.exp(Math.sin(Math.PI * p) + q ** 2));
  check("x1*x2", (p, q) => p * q);
  check("sqrt(x1^2+x2^2)", (p, q) => Math.sqrt(p ** 2 + q ** 2));
  check("-x1^2", (p) => -(p ** 2));
  check("2^3^x2", (_, q) => 2 ** (3 ** q));
  check("x1^-2", (p) => p ** -2);
  check("x1 - x2 - 1", (p, q) => p - q - 1);
  check("x1 / x2 / 2", (p, q) => p / q / 2);
  check("-2*x1 + +x2", (p, q) => -2 * p + q);
  check("1e-3*x1 + .5 + 2.", (p) => 1e-3 * p + 0.5 + 2);
  check("x1**2 * e", (p) => p ** 2 * Math.E);
  check(
    "gaussian(x1) + arctan(x2) + sgn(x1) + abs(x2) + tanh(x1)",
    (p, q) => Math.exp(-p * p) + Math.atan(q) + Math.sign(p) + Math.abs(q) + Math.tanh(p),
  );
  check("atan(x1) + sign(x2) + ln(x1^2)", (p, q) => Math.atan(p) + Math.sign(q) + Math.log(p ** 2));
  check("cos(x1)*tan(x2) - log(x2+1)", (p, q) => Math.cos(p) * Math.tan(q) - Math.log(q + 1));
  // `x` is x1 when there is one input.
  assertEquals([...evaluateExpression(parseExpression("x^3", 1), new Float64Array([2]), 1)], [8]);
  // Outside the domain: NaN, as Math says.
  assert(Number.isNaN(values("sqrt(x1)", [[-1, 0]])[0]), "sqrt(-1) must be NaN");
});

Deno.test("parseExpression: a bad text is a KanError naming the character and what was expected", () => {
  const cases: [string, RegExp][] = [
    ["x1 +", /character 5 .*expected a number, x1\.\.x2.*got the end of the text/],
    ["x3", /character 1 .*expected an input among x1\.\.x2, got "x3"/],
    ["x0 + 1", /character 1 .*got "x0"/],
    ["x01", /got "x01"/],
    ["foo(x1)", /character 1 .*got the unknown name "foo"/],
    ["sin x1", /character 5 .*expected "\(" after the function sin, got "x1"/],
    ["(x1", /character 4 .*expected "\)" to close the "\(" at character 1/],
    ["x1 $ 2", /character 4 .*got "\$"/],
    ["2 x1", /character 3 .*expected an operator .* or the end of the text, got "x1"/],
    ["", /character 1 .*got the end of the text/],
    ["x", /unknown name "x"/],
    ["1e999*x1", /expected a finite number, got "1e999"/],
  ];
  for (const [text, pattern] of cases) {
    const error = assertThrows(() => parseExpression(text, 2), KanError);
    assert(pattern.test(error.message), `"${text}": ${error.message}`);
  }
  assertThrows(() => parseExpression("x1", 0), /inputs must be an integer >= 1, got 0/);
});

Deno.test("formatExpression: few parentheses, numbers to `digits` significant digits", () => {
  const show = (text: string, digits = 4) => formatExpression(parseExpression(text, 2), digits);
  assertEquals(show("(2.0*x1) + (-(0.5)) * sin((pi * x2))"), "2*x1 - 0.5*sin(pi*x2)");
  assertEquals(show("-x1^2"), "-x1^2");
  assertEquals(show("(-x1)^2"), "(-x1)^2");
  assertEquals(show("x1 - (x2 - 1)"), "x1 - (x2 - 1)");
  assertEquals(show("(x1 - x2) - 1"), "x1 - x2 - 1");
  assertEquals(show("x1/(x2*x1)"), "x1/(x2*x1)");
  assertEquals(show("x1 + -3"), "x1 - 3");
  assertEquals(show("x1 - -3*x2"), "x1 + 3*x2");
  assertEquals(show("exp(-(x1 + 1)^2)"), "exp(-(x1 + 1)^2)");
  assertEquals(show("3.14159265*x1", 4), "3.142*x1");
  assertEquals(show("0.000123456*x1", 3), "0.000123*x1");
  assertEquals(show("1.5e-9*x1", 4), "1.5e-9*x1");
  assertEquals(show("123456789.5", 4), "1.235e8");
  assertEquals(formatExpression(binary("*", variable(0), num(-2))), "x1*(-2)");
  assertEquals(formatExpression(negate(num(-2))), "-(-2)");
  assertEquals(formatExpression(binary("^", num(-2), num(2))), "(-2)^2");
  assertThrows(() => formatExpression(num(1), 0), /digits must be an integer in 1\.\.17, got 0/);
});

function randomExpr(random: () => number, depth: number): Expr {
  const pick = <T>(items: T[]) => items[Math.floor(random() * items.length)];
  if (depth === 0 || random() < 0.2) {
    const r = random();
    if (r < 0.4) return variable(Math.floor(random() * 3));
    if (r < 0.5) return { kind: "constant", name: pick(["pi", "e"] as const) };
    return num(Number(((random() - 0.5) * 10).toPrecision(1 + Math.floor(random() * 6))));
  }
  const r = random();
  if (r < 0.15) return negate(randomExpr(random, depth - 1));
  if (r < 0.35) {
    return call(
      pick(["sin", "cos", "tanh", "arctan", "exp", "gaussian", "abs"]),
      randomExpr(random, depth - 1),
    );
  }
  if (r < 0.45) return binary("^", randomExpr(random, depth - 1), num(pick([2, 3, -1, 0.5])));
  return binary(
    pick(["+", "-", "*", "/"] as const),
    randomExpr(random, depth - 1),
    randomExpr(random, depth - 1),
  );
}

Deno.test("formatExpression: 200 random expressions print, parse back and evaluate to the same bits", () => {
  const random = seededUniform(11);
  const rows = new Float64Array(3 * 16).map(() => random() * 2 - 1);
  let compared = 0;
  for (let k = 0; k < 200; k++) {
    const e = randomExpr(random, 5);
    const text = formatExpression(e, 17);
    const back = parseExpression(text, 3);
    const want = evaluateExpression(e, rows, 3), got = evaluateExpression(back, rows, 3);
    for (let r = 0; r < want.length; r++) {
      assert(
        Object.is(got[r], want[r]) || (Number.isNaN(got[r]) && Number.isNaN(want[r])),
        `${text} row ${r}`,
      );
      if (Number.isFinite(want[r])) compared++;
    }
    // Printing is stable: what was read back prints the same.
    assertEquals(formatExpression(back, 17), text);
  }
  console.log(`  ${compared} finite values compared bit for bit`);
  assert(compared > 1500, `only ${compared} finite values`);
});

Deno.test("evaluateExpression: bad rows and inputs are KanErrors", () => {
  const f = parseExpression("x1 + x2", 2);
  assertThrows(
    () => evaluateExpression(f, new Float64Array(3), 2),
    /whole number .* rows of 2 inputs, got 3 values/,
  );
  assertThrows(() => evaluateExpression(f, new Float64Array(0), 2), /got 0 values/);
  assertThrows(
    () => evaluateExpression(f, new Float64Array([1, NaN]), 2),
    /finite numbers, got NaN at row 0, input 2/,
  );
  assertThrows(() => evaluateExpression(f, new Float64Array([1]), 1), /uses x2 but inputs is 1/);
  assertThrows(
    () => evaluateExpression({ kind: "call", name: "nope", arg: num(1) }, [0], 1),
    /unknown function "nope"/,
  );
  assertThrows(() => call("nope", num(1)), /unknown function "nope"/);
  // A constant expression gives one value per row.
  assertEquals([...evaluateExpression(parseExpression("2*pi", 2), new Float64Array(4), 2)], [
    2 * Math.PI,
    2 * Math.PI,
  ]);
});
