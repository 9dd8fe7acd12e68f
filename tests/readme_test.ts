/**
 * Every TypeScript snippet of README.md runs as a user would run it: copied
 * into a folder outside the repository, with an import map that resolves
 * `@kan/gpu` to this checkout's `mod.ts` (as a project that depends on the
 * module has), in its own Deno process, which must exit with code 0. It runs
 * with the permissions its first line states (`// deno run --allow-read
 * main.ts`), and with none when it states none, so that the README's flags
 * are the ones its code needs.
 */

import { assert } from "./assert.ts";

const root = new URL("../", import.meta.url);
const readme = await Deno.readTextFile(new URL("README.md", root));
const snippets = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);

Deno.test("README: it has TypeScript snippets", () => {
  assert(snippets.length >= 4, `only ${snippets.length} snippets`);
});

/** The `--allow-*` flags a snippet's first line states (`// deno run --allow-read --allow-write main.ts`). */
function statedFlags(code: string): string[] {
  const first = code.split("\n")[0].match(/^\/\/ deno run ((?:--allow-[a-z]+(?:=\S+)? )*)\S+\.ts\s*$/);
  return first ? first[1].trim().split(/\s+/).filter((f) => f !== "") : [];
}

Deno.test("README: a snippet's stated flags are read", () => {
  assert(
    statedFlags("// deno run --allow-read --allow-write main.ts\nx").join(" ") ===
      "--allow-read --allow-write",
  );
  assert(statedFlags("// deno run main.ts\n").length === 0);
  assert(statedFlags("import x\n").length === 0);
});

snippets.forEach((code, i) => {
  const title = code.split("\n").find((line) => line.includes('from "@kan/gpu"')) ?? code.split("\n")[0];
  Deno.test(`README snippet ${i + 1} runs from a folder outside the repository (${title.trim()})`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "kan-readme-" });
    try {
      const mod = new URL("mod.ts", root).href;
      await Deno.writeTextFile(`${dir}/deno.json`, JSON.stringify({ imports: { "@kan/gpu": mod } }));
      await Deno.writeTextFile(`${dir}/snippet.ts`, code);
      const { code: status, stderr } = await new Deno.Command(Deno.execPath(), {
        args: ["run", "--no-prompt", ...statedFlags(code), "--config", "deno.json", "snippet.ts"],
        cwd: dir,
        env: { XDG_RUNTIME_DIR: "/tmp", NO_COLOR: "1" },
        stdout: "null",
        stderr: "piped",
      }).output();
      const message = new TextDecoder().decode(stderr);
      assert(status === 0, `snippet ${i + 1} exited with ${status}:\n${message}\n--- snippet ---\n${code}`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});
