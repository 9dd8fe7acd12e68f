import { lineChart, logLabel, logTicks } from "../src/cli/svg.ts";
import { assert, assertEquals } from "./assert.ts";

const options = { title: "t", xLabel: "x", yLabel: "y" };
const series = [
  { name: "tame", x: [0, 1, 2], y: [0, 0.5, 1] },
  { name: "runaway", x: [0, 1, 2], y: [0, 50, 150] },
];

Deno.test("lineChart: a fixed y range labels its ends and clips the lines to the plot area", () => {
  const svg = lineChart(series, { ...options, yRange: [-0.5, 1.5] });
  const labels = [...svg.matchAll(/text-anchor="end">([^<]+)</g)].map((m) => m[1]);
  assert(labels[0] === "-0.5" && labels[4] === "1.5", `y labels ${labels}`);
  const clip = svg.match(/<clipPath id="([^"]+)"/)?.[1];
  assert(clip !== undefined, "no clipPath");
  // Both lines sit inside the group that the clip path cuts; the legend does not.
  const clipped = svg.split(`<g clip-path="url(#${clip})">`)[1]?.split("</g>")[0] ?? "";
  assert((clipped.match(/<path /g) ?? []).length === 2, "lines not inside the clipped group");
  assert(!clipped.includes("runaway") && svg.includes(">runaway<"), "legend inside the clipped group");
});

Deno.test("lineChart: without a range the axis spans the data, and every chart's clip id is its own", () => {
  const a = lineChart(series, options);
  const b = lineChart(series, options);
  const labels = [...a.matchAll(/text-anchor="end">([^<]+)</g)].map((m) => m[1]);
  assert(labels[0] === "0" && labels[4] === "150", `y labels ${labels}`);
  const id = (svg: string) => svg.match(/<clipPath id="([^"]+)"/)?.[1];
  assert(id(a) !== id(b), `both charts use ${id(a)}`);
});

Deno.test("lineChart: a log axis has ticks at whole decades or 1-2-5 steps, labelled 1e-3, 2e-4", () => {
  const labels = (y: number[]) => {
    const svg = lineChart([{ name: "loss", x: y.map((_, i) => i), y }], { ...options, logY: true });
    return [...svg.matchAll(/y="([^"]+)" text-anchor="end">([^<]+)</g)].map((m) =>
      [Number(m[1]), m[2]] as const
    );
  };
  // Three decades: one tick per decade, at the decade's height (plot area y 356 at 1e-4 to 32 at 1e-1).
  const decades = labels([1e-1, 1e-2, 1e-3, 1e-4]);
  assertEquals(decades.map((l) => l[1]), ["1e-4", "1e-3", "1e-2", "1e-1"]);
  assert(Math.abs(decades[1][0] - (356 - 324 / 3 + 4)) < 1e-9, `1e-3 at y ${decades[1][0]}`);
  // Under a decade: 1, 2 and 5 times a power of ten.
  assertEquals(labels([3e-3, 5e-4]).map((l) => l[1]), ["5e-4", "1e-3", "2e-3"]);
  // Twenty decades: every fifth.
  assertEquals(labels([1e-20, 1]).map((l) => l[1]), ["1e-20", "1e-15", "1e-10", "1e-5", "1e0"]);
  for (const [a, b] of [[1e-1, 1e-4], [0.7155, 0.7133], [2.1e-4, 9e-4], [3e-7, 3.1e-7]]) {
    for (const [, label] of labels([a, b])) {
      assert(
        /^\d(\.\d\d?)?e-?\d+$/.test(label) && !label.includes("e-3.6"),
        `label ${label} of [${a}, ${b}]`,
      );
    }
  }
  assertEquals(logTicks(-3, -3), [-3]);
  assertEquals(logLabel(Math.log10(2e-4)), "2e-4");
  assertEquals(logLabel(Math.log10(9.999e-4)), "1e-3");
});
