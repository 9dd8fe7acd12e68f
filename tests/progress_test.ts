/**
 * Training progress: on stderr under Deno (the CLI tests check that a
 * command's stdout holds no progress), and without `Deno` (a browser page)
 * lines on `console.log`, a bar shown as lines, nothing for "none", no crash.
 */

import { Progress } from "../src/train/progress.ts";
import { assert, assertEquals } from "./assert.ts";

Deno.test("progress: where Deno does not exist, lines go to console.log and nothing crashes", async () => {
  const progress = new URL("../src/train/progress.ts", import.meta.url).href;
  const script = `
    delete globalThis.Deno;
    const { Progress } = await import(${JSON.stringify(progress)});
    const modes = [];
    for (const mode of ["auto", "lines", "bar", "none"]) {
      const p = new Progress(4, mode);
      modes.push(p.mode);
      p.update(2, 0.5);
      p.done();
    }
    console.log("modes " + modes.join(","));`;
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["eval", script],
    env: { NO_COLOR: "1" },
  }).output();
  const out = new TextDecoder().decode(stdout);
  assertEquals(code, 0, new TextDecoder().decode(stderr));
  const lines = out.trim().split("\n");
  // auto, lines and bar each print one line; none prints nothing.
  assertEquals(lines.length, 4, out);
  for (const line of lines.slice(0, 3)) assert(/^step 2\/4 .* loss 5\.000e-1 /.test(line), line);
  assertEquals(lines[3], "modes lines,lines,lines,none");
  assertEquals(new TextDecoder().decode(stderr), "");
});

Deno.test("progress: under Deno, auto is lines when stderr is not a terminal", () => {
  assertEquals(new Progress(4, "auto").mode, Deno.stderr.isTerminal() ? "bar" : "lines");
  assertEquals(new Progress(4, "none").mode, "none");
});
