/// <reference lib="dom" />
/**
 * The page entry of the browser example: trains the demo KAN on the
 * visitor's GPU through WebGPU and writes the losses into the page. Bundle it
 * with `deno bundle --platform browser -o app.js examples/browser/main.ts`
 * and serve `app.js` beside `index.html` from any static server (WebGPU needs
 * a secure context: https, or http on localhost / 127.0.0.1).
 *
 * When the run ends, `<body>` gets `data-state="done"` (or `"error"`), and
 * `<pre id="result">` holds the {@linkcode DemoResult} as JSON (or the error).
 *
 * @module
 */

import { Gpu } from "../../mod.ts";
import { type DemoResult, trainDemo } from "./demo.ts";

const status = document.getElementById("status")!;
const table = document.getElementById("losses") as HTMLTableSectionElement;
const result = document.getElementById("result")!;

function show(r: DemoResult): void {
  status.textContent = `${r.adapter}: loss ${r.initialLoss.toExponential(3)} → ${
    r.finalLoss.toExponential(3)
  } in ${r.steps.at(-1)} steps, ${r.stepsPerSecond.toFixed(1)} steps/s`;
  for (let i = 0; i < r.steps.length; i++) {
    const row = table.insertRow();
    row.insertCell().textContent = String(r.steps[i]);
    row.insertCell().textContent = r.losses[i].toExponential(4);
  }
  result.textContent = JSON.stringify(r);
}

async function main(): Promise<void> {
  const params = new URLSearchParams(location.search);
  const steps = Number(params.get("steps") ?? 200);
  const logEvery = Number(params.get("logEvery") ?? 20);
  status.textContent = "training…";
  try {
    const gpu = await Gpu.request();
    try {
      show(await trainDemo(gpu, { steps, logEvery }));
      document.body.dataset.liveBuffers = String(gpu.stats().liveBuffers);
    } finally {
      gpu.destroy();
    }
    document.body.dataset.state = "done";
  } catch (e) {
    status.textContent = "failed";
    result.textContent = e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ""}` : String(e);
    document.body.dataset.state = "error";
  }
}

main();
