/**
 * A KAN trained in a web page: examples/browser/main.ts is bundled with
 * `deno bundle --platform browser`, served from 127.0.0.1, and opened in
 * headless Chromium (Debian's `chromium`, whose SwiftShader gives WebGPU a
 * software adapter) driven by puppeteer-core. The page trains the demo model
 * of examples/browser/demo.ts and writes its losses and its safetensors-encoded
 * state dict into the page; this file runs the same training under Deno and
 * checks that the loss fell, that both runs agree within 1e-4, and that the
 * page's safetensors decode here to the weights of the Deno run.
 *
 * Needs `/usr/bin/chromium` (or `$CHROMIUM`); `.ci/run` installs it. Without
 * it the test fails, saying how to install it.
 */

// Pinned here, where only this test uses it (an import-map entry in deno.json would do as well).
// deno-lint-ignore no-import-prefix -- inline, so that only this test fetches it
import puppeteer from "npm:puppeteer-core@25.16.0";
import { decodeSafetensors, type Gpu } from "../mod.ts";
import { type DemoResult, fromBase64, trainDemo } from "../examples/browser/demo.ts";
import { assert, assertEquals } from "./assert.ts";
import { assertClose, testGpu } from "./helpers.ts";

const gpu: Gpu = await testGpu();
const CHROMIUM = Deno.env.get("CHROMIUM") ?? "/usr/bin/chromium";
const ROOT = new URL("../", import.meta.url);
const STEPS = 200;
const LOG_EVERY = 20;

/** Fails, saying how to install Chromium, when there is none at `CHROMIUM`. */
async function requireChromium(): Promise<void> {
  try {
    await Deno.stat(CHROMIUM);
  } catch (cause) {
    throw new Error(
      `no Chromium at ${CHROMIUM} (${cause}); this test needs Debian's chromium: ` +
        "`apt-get install -y --no-install-recommends chromium` (or set $CHROMIUM to a Chromium binary)",
    );
  }
}

/** Bundles the page's script into `dir/app.js` and copies `index.html` beside it. */
async function buildPage(dir: string): Promise<void> {
  const entry = new URL("examples/browser/main.ts", ROOT).pathname;
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["bundle", "--quiet", "--platform", "browser", "-o", `${dir}/app.js`, entry],
    cwd: ROOT.pathname,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (code !== 0) throw new Error(`deno bundle failed (${code}): ${new TextDecoder().decode(stderr)}`);
  await Deno.copyFile(new URL("examples/browser/index.html", ROOT), `${dir}/index.html`);
}

/** Serves `index.html` and `app.js` of `dir` on 127.0.0.1, on a free port. */
function servePage(dir: string): Deno.HttpServer<Deno.NetAddr> {
  const types: Record<string, string> = {
    "/": "text/html; charset=utf-8",
    "/index.html": "text/html; charset=utf-8",
    "/app.js": "text/javascript; charset=utf-8",
  };
  return Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const path = new URL(request.url).pathname;
    const type = types[path];
    if (!type) return new Response("not found", { status: 404 });
    const file = path === "/app.js" ? "app.js" : "index.html";
    return new Response(await Deno.readFile(`${dir}/${file}`), { headers: { "content-type": type } });
  });
}

/**
 * The `Deno.x` references in the page's bundle (minified, so that no comment
 * counts): calls a page cannot make, on a path the run may not take. A guarded
 * `globalThis.Deno?.x` does not count.
 */
async function denoCallsInBundle(): Promise<string[]> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["bundle", "--quiet", "--minify", "--platform", "browser", "examples/browser/main.ts"],
    cwd: ROOT.pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (code !== 0) throw new Error(`deno bundle failed (${code}): ${new TextDecoder().decode(stderr)}`);
  const source = new TextDecoder().decode(stdout);
  return [...source.matchAll(/(?<![\w$])Deno\.[\w$.]*/g)].map((m) => m[0]);
}

interface PageRun {
  state: string;
  result: string;
  liveBuffers: string | undefined;
  problems: string[];
}

/** Opens `url` in headless Chromium and waits for the page to say it is done. */
async function runPage(url: string, profile: string): Promise<PageRun> {
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    userDataDir: profile,
    args: [
      "--no-sandbox",
      "--enable-unsafe-webgpu",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-quic",
    ],
  });
  try {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on("pageerror", (e) => problems.push(`page error: ${e}`));
    page.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warn") problems.push(`console ${m.type()}: ${m.text()}`);
    });
    await page.goto(url);
    try {
      await page.waitForSelector("body[data-state]", { timeout: 45_000 });
    } catch (cause) {
      const status = await page.evaluate(`document.getElementById("status")?.textContent`);
      throw new Error(
        `the page did not finish: status "${status}"; ${problems.join("; ") || "no errors logged"}`,
        {
          cause,
        },
      );
    }
    // A string, evaluated in the page: this file is type-checked without the DOM's types.
    const read = `({ state: document.body.dataset.state, liveBuffers: document.body.dataset.liveBuffers,
      result: document.getElementById("result").textContent })`;
    const { state, liveBuffers, result } = await page.evaluate(read) as Omit<PageRun, "problems">;
    return { state, liveBuffers, result, problems };
  } finally {
    await browser.close();
  }
}

/** The largest of `|a - b| / |b|` over the pairs. */
function maxRelative(a: readonly number[], b: readonly number[]): number {
  assertEquals(a.length, b.length);
  return Math.max(...a.map((v, i) => Math.abs(v - b[i]) / Math.abs(b[i])));
}

Deno.test("browser: a KAN trains in headless Chromium's WebGPU as it does under Deno, within 1e-4", async () => {
  await requireChromium();
  const dir = await Deno.makeTempDir({ prefix: "kan_browser_" });
  const server = servePage(dir);
  try {
    const bundleStart = performance.now();
    await buildPage(dir);
    const bundleSeconds = (performance.now() - bundleStart) / 1000;
    const pageStart = performance.now();
    const run = await runPage(
      `http://127.0.0.1:${server.addr.port}/?steps=${STEPS}&logEvery=${LOG_EVERY}`,
      `${dir}/profile`,
    );
    const pageSeconds = (performance.now() - pageStart) / 1000;
    assertEquals(run.state, "done", `the page failed:\n${run.result}\n${run.problems.join("\n")}`);
    assertEquals(run.problems, [], "the page logged errors or warnings");
    assertEquals(run.liveBuffers, "0", "the page's GPU held buffers after the run");
    const page: DemoResult = JSON.parse(run.result);
    const local = await trainDemo(gpu, { steps: STEPS, logEvery: LOG_EVERY });
    console.log(
      `  bundle ${bundleSeconds.toFixed(1)} s, page ${pageSeconds.toFixed(1)} s (Chromium start included)\n` +
        `  Chromium (${page.adapter}, fallback ${page.fallbackAdapter}): loss ${page.initialLoss} → ` +
        `${page.finalLoss}, ${page.stepsPerSecond.toFixed(1)} steps/s\n` +
        `  Deno (${local.adapter}): loss ${local.initialLoss} → ${local.finalLoss}, ` +
        `${local.stepsPerSecond.toFixed(1)} steps/s`,
    );

    // The page trained: the loss fell by far more than a broken step would manage.
    assertEquals(page.steps, Array.from({ length: STEPS / LOG_EVERY }, (_, i) => (i + 1) * LOG_EVERY));
    assert(page.finalLoss < page.initialLoss / 100, `loss ${page.initialLoss} → ${page.finalLoss}`);
    assert(page.losses.every(Number.isFinite), `losses ${page.losses}`);

    // The same run under Deno gives the same losses.
    assertEquals(page.steps, local.steps);
    const all = (r: DemoResult) => [r.initialLoss, ...r.losses, r.finalLoss];
    const rel = maxRelative(all(page), all(local));
    console.log(`  losses: max relative difference Chromium vs Deno ${rel.toExponential(3)} (bound 1e-4)`);
    assert(rel <= 1e-4, `Chromium's losses differ from Deno's by ${rel} (relative) > 1e-4`);

    // The page's safetensors decode here to the Deno run's weights.
    const fromPage = decodeSafetensors(fromBase64(page.safetensors));
    const fromDeno = decodeSafetensors(fromBase64(local.safetensors));
    assertEquals(fromPage.metadata, { example: "browser" });
    assertEquals(Object.keys(fromPage.dict).sort(), Object.keys(fromDeno.dict).sort());
    assertEquals(Object.keys(fromPage.dict).length, 8);
    for (const [key, entry] of Object.entries(fromDeno.dict)) {
      assertEquals(fromPage.dict[key].shape, entry.shape, key);
      assertClose(key, fromPage.dict[key].data, entry.data, 1e-4);
    }
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("browser: the page's bundle of the module's core refers to no Deno API", async () => {
  const calls = await denoCallsInBundle();
  console.log(`  Deno references in the page's bundle: ${calls.length ? calls.join(", ") : "none"}`);
  assertEquals(calls, [], "the browser bundle refers to Deno APIs");
});

Deno.test("browser teardown", () => {
  assertEquals(gpu.stats().liveBuffers, 0);
  gpu.destroy();
});
