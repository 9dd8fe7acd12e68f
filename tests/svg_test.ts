import { lineChart } from "../src/cli/svg.ts";
import { assert } from "./assert.ts";

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
