// bpftool's JSON output, reproduced byte for byte: compact with -j, and with -p its own indentation (4 spaces per
// level, `[{` on one line, array items without line breaks, the closing bracket of a non-empty container on its own
// line), then one trailing newline when the writer is finished.

export class JsonWriter {
  private out = "";
  private depth = 0;
  private sep = "";
  constructor(private readonly pretty: boolean) {}

  private eol(): void {
    if (this.pretty) this.out += "\n" + "    ".repeat(this.depth);
  }
  private eor(): void {
    this.out += this.sep;
    this.sep = ",";
  }
  private begin(c: string): void {
    this.eor();
    this.out += c;
    this.depth++;
    this.sep = "";
  }
  private end(c: string): void {
    this.depth--;
    if (this.sep !== "") this.eol();
    this.out += c;
    this.sep = ",";
  }

  startObject(): this { this.begin("{"); return this; }
  endObject(): this { this.end("}"); return this; }
  startArray(): this { this.begin("["); return this; }
  endArray(): this { this.end("]"); return this; }

  name(n: string): this {
    this.eor();
    this.eol();
    this.sep = "";
    this.out += quote(n) + (this.pretty ? ": " : ":");
    return this;
  }
  /** A literal value (number, true/false, or pre-quoted text). */
  raw(v: string): this { this.eor(); this.out += v; return this; }
  string(s: string): this { return this.raw(quote(s)); }
  uint(v: number | bigint): this { return this.raw(String(v)); }
  bool(v: boolean): this { return this.raw(v ? "true" : "false"); }

  field(n: string, v: string | number | bigint | boolean): this {
    this.name(n);
    if (typeof v === "string") return this.string(v);
    if (typeof v === "boolean") return this.bool(v);
    return this.uint(v);
  }
  uintArray(n: string, values: readonly (number | bigint)[]): this {
    this.name(n).startArray();
    for (const x of values) this.uint(x);
    return this.endArray();
  }

  /** The text written since the last take (for output streamed as it is produced); finish() then gives the rest. */
  take(): string {
    const s = this.out;
    this.out = "";
    return s;
  }

  /** The text written, with bpftool's final newline. */
  finish(): string {
    return this.out + "\n";
  }
}

// bpftool's jsonw_puts escapes these (including ' and, by its own quirk, backslash as \n).
function quote(s: string): string {
  let r = '"';
  for (const ch of s) {
    switch (ch) {
      case "\t": r += "\\t"; break;
      case "\n": r += "\\n"; break;
      case "\r": r += "\\r"; break;
      case "\f": r += "\\f"; break;
      case "\b": r += "\\b"; break;
      case "\\": r += "\\n"; break;
      case '"': r += '\\"'; break;
      case "'": r += "\\'"; break;
      default: r += ch;
    }
  }
  return r + '"';
}
