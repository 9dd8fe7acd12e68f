/**
 * The documentation a user reads: `deno doc --lint` of each entry point is
 * clean, and every class and function they export has an `@example` (which
 * `deno test --doc`, part of `deno task test`, runs).
 */

import { assert, assertEquals } from "./assert.ts";

const ENTRY_POINTS = ["mod.ts", "kernels.ts"];
const root = new URL("..", import.meta.url);

async function deno(args: string[]): Promise<{ code: number; out: string }> {
  const result = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: root,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return { code: result.code, out: text.decode(result.stdout) + text.decode(result.stderr) };
}

interface DocDeclaration {
  kind: string;
  jsDoc?: { tags?: { kind: string }[] };
}

for (const entry of ENTRY_POINTS) {
  Deno.test(`docs: deno doc --lint ${entry} finds nothing`, async () => {
    const { code, out } = await deno(["doc", "--lint", entry]);
    assertEquals(code, 0, out);
    assert(!/error\[/.test(out), out);
  });
}

Deno.test("docs: every exported class and function has an @example", async () => {
  const { code, out } = await deno(["doc", "--json", ...ENTRY_POINTS]);
  assertEquals(code, 0, out.slice(0, 2000));
  const doc = JSON.parse(out) as {
    nodes: Record<string, { symbols: { name: string; declarations: DocDeclaration[] }[] }>;
  };
  const missing: string[] = [];
  let documented = 0;
  for (const [file, node] of Object.entries(doc.nodes)) {
    for (const symbol of node.symbols) {
      for (const d of symbol.declarations) {
        if (d.kind !== "class" && d.kind !== "function") continue;
        if (d.jsDoc?.tags?.some((t) => t.kind === "example")) documented++;
        else missing.push(`${file.split("/").pop()}: ${d.kind} ${symbol.name}`);
      }
    }
  }
  console.log(`${documented} exported classes and functions with an example`);
  assertEquals(missing, []);
  assert(documented >= 25, `only ${documented} classes and functions found: did the entry points change?`);
});
