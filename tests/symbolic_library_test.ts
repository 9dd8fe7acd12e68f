// The symbolic library: pykan's names and complexities, derivatives against central differences, and the
// singularity-avoiding versions: finite everywhere, continuous, equal to the exact function away from poles.
import { SYMBOLIC_LIBRARY, symbolicFunction } from "../src/symbolic/library.ts";
import { assert, assertEquals, assertThrows } from "./assert.ts";

Deno.test("library: pykan's names and complexities (kan/utils.py SYMBOLIC_LIB at ecde4ec), the issue's aliases", () => {
  const pykan: Record<string, number> = {
    "x": 1,
    "x^2": 2,
    "x^3": 3,
    "x^4": 3,
    "x^5": 3,
    "1/x": 2,
    "1/x^2": 2,
    "1/x^3": 3,
    "1/x^4": 4,
    "1/x^5": 5,
    "sqrt": 2,
    "x^0.5": 2,
    "x^1.5": 4,
    "1/sqrt(x)": 2,
    "1/x^0.5": 2,
    "exp": 2,
    "log": 2,
    "abs": 3,
    "sin": 2,
    "cos": 2,
    "tan": 3,
    "tanh": 3,
    "sgn": 3,
    "arcsin": 4,
    "arccos": 4,
    "arctan": 4,
    "arctanh": 4,
    "0": 0,
    "gaussian": 3,
  };
  for (const [name, complexity] of Object.entries(pykan)) {
    assertEquals(symbolicFunction(name).complexity, complexity, name);
  }
  assertEquals(SYMBOLIC_LIBRARY.length, 27);
  for (const alias of ["x²", "x³", "x⁴", "√x", "sign", "atan", "1/x^0.5"]) symbolicFunction(alias);
  assertEquals(symbolicFunction("x²").name, "x^2");
  assertThrows(
    () => symbolicFunction("cosh", "demo"),
    /demo: the symbolic function must be one of .*got "cosh"/,
  );
});

Deno.test("library: every derivative matches a central difference, exact and safe versions", () => {
  const xs = [-2.3, -1.7, -0.6, -0.35, 0.27, 0.45, 0.8, 1.3, 2.9];
  let checked = 0;
  for (const f of SYMBOLIC_LIBRARY) {
    for (const x of xs) {
      for (
        const [value, derivative] of [[f.value, f.derivative], [
          (u: number) => f.safeValue(u, 10),
          (u: number) => f.safeDerivative(u, 10),
        ]] as const
      ) {
        const h = 1e-6, y0 = value(x - h), y1 = value(x + h), want = (y1 - y0) / (2 * h);
        if (!Number.isFinite(want)) continue;
        const got = derivative(x);
        assert(
          Math.abs(got - want) <= 1e-5 * Math.max(1, Math.abs(want)),
          `${f.name}'(${x}): ${got} vs ${want}`,
        );
        checked++;
      }
    }
  }
  console.log(`  ${checked} derivatives checked`);
  assert(checked > 400, `${checked}`);
});

Deno.test("library: the safe versions are finite and continuous, and exact away from the poles", () => {
  const yTh = 10;
  for (const f of SYMBOLIC_LIBRARY) {
    let previous = f.safeValue(-2.5, yTh), slope = Math.abs(f.safeDerivative(-2.5, yTh));
    for (let k = 1; k <= 50000; k++) {
      const x = -2.5 + k * 1e-4;
      const y = f.safeValue(x, yTh), s = Math.abs(f.safeDerivative(x, yTh));
      if (!Number.isFinite(y) || !Number.isFinite(s)) assert(false, `${f.name}(${x}) = ${y}, slope ${s}`);
      if (f.name.startsWith("1/") && !(Math.abs(y) <= yTh + 1e-9)) {
        assert(false, `${f.name}(${x}) = ${y} > yTh`);
      }
      // Continuous: no step beyond what the slope at either end allows, with room for arcsin's square-root
      // ends (sgn at 0 and tan's period excepted).
      const jump = Math.abs(y - previous);
      const allowed = f.name === "sgn" && Math.abs(x) < 2e-4 ||
        f.name === "tan" && Math.abs(Math.cos(x)) < 0.2;
      if (!allowed && jump > 2.5e-4 * Math.max(s, slope) + 1e-9) {
        assert(false, `${f.name} jumps by ${jump} at ${x}`);
      }
      previous = y;
      slope = s;
    }
    // Where the exact function is finite and moderate, the safe one equals it (exp excepted above log(yTh)).
    for (const x of [0.5, 0.9, 1.5, -0.7]) {
      const exact = f.value(x);
      if (Number.isFinite(exact) && Math.abs(exact) < 5 && !(f.name === "tan" && Math.abs(exact) > 5)) {
        assert(
          Math.abs(f.safeValue(x, yTh) - exact) < 1e-15 || f.name === "x^1.5" && x < 0,
          `${f.name}(${x})`,
        );
      }
    }
  }
  // The thresholds: 1/x is cut where |1/x| reaches yTh, log at -yTh, exp at yTh.
  const inv = symbolicFunction("1/x"), log = symbolicFunction("log"), exp = symbolicFunction("exp");
  assertEquals([inv.safeValue(0.05, 10), inv.safeValue(0, 10), inv.safeValue(-0.2, 10)], [5, 0, -5]);
  assertEquals([log.safeValue(0, 10), log.safeValue(-Math.E, 10)], [-10, 1]);
  assertEquals([exp.safeValue(5, 10), exp.safeValue(0, 10)], [10, 1]);
});

Deno.test("library: the parity of each entry holds", () => {
  let checked = 0;
  for (const f of SYMBOLIC_LIBRARY) {
    if (f.parity === undefined) continue;
    for (const x of [0.3, 0.77, 0.95]) {
      const sign = f.parity === "odd" ? -1 : 1;
      assert(Math.abs(f.value(-x) - sign * f.value(x)) <= 1e-15 * Math.abs(f.value(x)), `${f.name} at ${x}`);
      checked++;
    }
  }
  assertEquals(checked, 3 * 20); // x, x^2..x^5, 1/x..1/x^5, sin tan tanh sgn arcsin arctan arctanh, cos abs gaussian
});
