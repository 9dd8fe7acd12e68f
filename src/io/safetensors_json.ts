/**
 * A strict JSON parser for safetensors headers. `JSON.parse` cannot be used:
 * it keeps the last of repeated keys, accepts lone surrogate escapes, rounds
 * every number to float64 (so `18446744073709551615` and `1.0` cannot be told
 * from their neighbours) and has no depth limit. This parser follows the
 * grammar of the reference implementation's parser (serde_json): whitespace
 * is space, tab, LF and CR only; no control characters inside strings; a
 * `\u` escape of a surrogate must form a pair; numbers are
 * `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?` and must be finite as
 * float64; at most 127 nested arrays and objects (serde_json's recursion
 * limit of 128 fails on the 128th); nothing but whitespace after
 * the value. It is stricter in one way: no object may repeat a key.
 *
 * @module
 */

import { KanError } from "../errors.ts";

/** A parsed JSON value; numbers keep their source text so integers stay exact. */
export type JsonValue =
  | { kind: "object"; entries: [string, JsonValue][] }
  | { kind: "array"; items: JsonValue[] }
  | { kind: "string"; value: string }
  | { kind: "number"; text: string }
  | { kind: "boolean"; value: boolean }
  | { kind: "null" };

/** Most nested arrays and objects the reference's parser (serde_json) accepts. */
export const MAX_JSON_DEPTH = 127;

/**
 * A key or tensor name quoted for an error message, cut at 80 characters (a
 * name can be megabytes long).
 *
 * @example
 * ```ts
 * import { quote } from "./safetensors_json.ts";
 * console.log(quote("layers.0.grid")); // "\"layers.0.grid\""
 * ```
 */
export function quote(name: string): string {
  return JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}...` : name);
}

const SPACE = 0x20, TAB = 0x09, LF = 0x0a, CR = 0x0d;
const QUOTE = 0x22, BACKSLASH = 0x5c, COMMA = 0x2c, COLON = 0x3a;
const OPEN_BRACE = 0x7b, CLOSE_BRACE = 0x7d, OPEN_BRACKET = 0x5b, CLOSE_BRACKET = 0x5d;
const MINUS = 0x2d, PLUS = 0x2b, DOT = 0x2e, ZERO = 0x30, NINE = 0x39;

const SIMPLE_ESCAPES: Record<string, string> = {
  '"': '"',
  "\\": "\\",
  "/": "/",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
};

class Parser {
  at = 0;
  constructor(readonly text: string) {}

  fail(what: string, at = this.at): never {
    throw new KanError(`safetensors: the header is not valid JSON: ${what} at character ${at}`);
  }

  skipSpace(): void {
    const t = this.text;
    let c = t.charCodeAt(this.at);
    while (c === SPACE || c === LF || c === CR || c === TAB) c = t.charCodeAt(++this.at);
  }

  value(depth: number): JsonValue {
    this.skipSpace();
    const c = this.text.charCodeAt(this.at);
    if (Number.isNaN(c)) this.fail("the text ended where a value was expected");
    if (c === OPEN_BRACE) return this.object(depth + 1);
    if (c === OPEN_BRACKET) return this.array(depth + 1);
    if (c === QUOTE) return { kind: "string", value: this.string() };
    if (c === MINUS || (c >= ZERO && c <= NINE)) return { kind: "number", text: this.number() };
    for (const [word, value] of [["true", true], ["false", false], ["null", null]] as const) {
      if (this.text.startsWith(word, this.at)) {
        this.at += word.length;
        return value === null ? { kind: "null" } : { kind: "boolean", value };
      }
    }
    this.fail(`unexpected ${JSON.stringify(this.text[this.at])} where a value was expected`);
  }

  enter(depth: number): void {
    if (depth > MAX_JSON_DEPTH) this.fail(`more than ${MAX_JSON_DEPTH} nested arrays and objects`);
    this.at++;
    this.skipSpace();
  }

  /** After an element: `,` (and another element must follow) or the closing character. */
  next(close: number, what: string): boolean {
    this.skipSpace();
    const c = this.text.charCodeAt(this.at);
    if (c === close) {
      this.at++;
      return false;
    }
    if (c !== COMMA) this.fail(`expected "," or "${String.fromCharCode(close)}" in ${what}`);
    this.at++;
    this.skipSpace();
    if (this.text.charCodeAt(this.at) === close) this.fail(`trailing comma in ${what}`);
    return true;
  }

  object(depth: number): JsonValue {
    this.enter(depth);
    const entries: [string, JsonValue][] = [];
    if (this.text.charCodeAt(this.at) === CLOSE_BRACE) {
      this.at++;
      return { kind: "object", entries };
    }
    const seen = new Set<string>();
    do {
      this.skipSpace();
      const keyAt = this.at;
      if (this.text.charCodeAt(this.at) !== QUOTE) this.fail("expected a string key in an object");
      const key = this.string();
      if (seen.has(key)) {
        this.fail(
          `an object repeats the key ${quote(key)} (a reader would silently keep one)`,
          keyAt,
        );
      }
      seen.add(key);
      this.skipSpace();
      if (this.text.charCodeAt(this.at) !== COLON) {
        this.fail(`expected ":" after the key ${quote(key)}`);
      }
      this.at++;
      entries.push([key, this.value(depth)]);
    } while (this.next(CLOSE_BRACE, "an object"));
    return { kind: "object", entries };
  }

  array(depth: number): JsonValue {
    this.enter(depth);
    const items: JsonValue[] = [];
    if (this.text.charCodeAt(this.at) === CLOSE_BRACKET) {
      this.at++;
      return { kind: "array", items };
    }
    do items.push(this.value(depth)); while (this.next(CLOSE_BRACKET, "an array"));
    return { kind: "array", items };
  }

  hex4(): number {
    const digits = this.text.slice(this.at, this.at + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(digits)) this.fail("a \\u escape needs four hexadecimal digits");
    this.at += 4;
    return parseInt(digits, 16);
  }

  string(): string {
    const t = this.text;
    const start = this.at;
    let out = "";
    let run = ++this.at;
    for (;;) {
      const c = t.charCodeAt(this.at);
      if (Number.isNaN(c)) this.fail("unterminated string", start);
      if (c === QUOTE) {
        out += t.slice(run, this.at++);
        return out;
      }
      if (c < 0x20) this.fail(`control character U+${c.toString(16).padStart(4, "0")} inside a string`);
      if (c !== BACKSLASH) {
        this.at++;
        continue;
      }
      out += t.slice(run, this.at);
      const e = t[this.at + 1];
      this.at += 2;
      if (e === "u") {
        const unit = this.hex4();
        if (unit >= 0xdc00 && unit <= 0xdfff) this.fail("a \\u escape is a lone low surrogate", this.at - 6);
        if (unit >= 0xd800 && unit <= 0xdbff) {
          if (t[this.at] !== "\\" || t[this.at + 1] !== "u") {
            this.fail("a \\u escape is a high surrogate without its low half", this.at - 6);
          }
          this.at += 2;
          const low = this.hex4();
          if (low < 0xdc00 || low > 0xdfff) {
            this.fail("a \\u escape is a high surrogate without its low half", this.at - 12);
          }
          out += String.fromCharCode(unit, low);
        } else {
          out += String.fromCharCode(unit);
        }
      } else if (e !== undefined && e in SIMPLE_ESCAPES) {
        out += SIMPLE_ESCAPES[e];
      } else {
        this.fail(`invalid escape "\\${e ?? ""}"`, this.at - 2);
      }
      run = this.at;
    }
  }

  digits(): number {
    const from = this.at;
    let c = this.text.charCodeAt(this.at);
    while (c >= ZERO && c <= NINE) c = this.text.charCodeAt(++this.at);
    return this.at - from;
  }

  number(): string {
    const t = this.text;
    const start = this.at;
    if (t.charCodeAt(this.at) === MINUS) this.at++;
    if (t.charCodeAt(this.at) === ZERO) {
      this.at++;
      const c = t.charCodeAt(this.at);
      if (c >= ZERO && c <= NINE) this.fail("a number has a leading zero", start);
    } else if (this.digits() === 0) {
      this.fail("a number has no digits", start);
    }
    if (t.charCodeAt(this.at) === DOT) {
      this.at++;
      if (this.digits() === 0) this.fail("a number has no digits after its decimal point", start);
    }
    const e = t.charCodeAt(this.at);
    if (e === 0x65 || e === 0x45) {
      this.at++;
      const sign = t.charCodeAt(this.at);
      if (sign === PLUS || sign === MINUS) this.at++;
      if (this.digits() === 0) this.fail("a number has no digits in its exponent", start);
    }
    const text = t.slice(start, this.at);
    if (!Number.isFinite(Number(text))) {
      this.fail(`the number ${text.slice(0, 40)} is out of float64 range`, start);
    }
    return text;
  }
}

/**
 * Parses a safetensors header (already decoded from UTF-8) with the rules in
 * the module doc; any violation is a {@linkcode KanError} naming it and its
 * character position.
 *
 * @example
 * ```ts
 * import { parseHeaderJson } from "./safetensors_json.ts";
 * const v = parseHeaderJson('{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}');
 * console.log(v.kind); // "object"
 * ```
 */
export function parseHeaderJson(text: string): JsonValue {
  const parser = new Parser(text);
  const value = parser.value(0);
  parser.skipSpace();
  if (parser.at < text.length) parser.fail("trailing characters after the JSON value");
  return value;
}
