// `bpfkit batch file FILE|-`: bpftool's batch mode. Each line of the file (or stdin) is one command, split as bpftool
// splits it (blanks separate words, '…' or "…" quote one word with no escapes, `#` starts a comment anywhere, a
// trailing backslash continues the line) and run with the batch's global options; the first failure stops the batch
// with its exit status. Text mode ends with `processed N commands`; under -j the whole batch is one JSON array of
// {"command": [...], "output": …} objects.
import { readFileSync } from "node:fs";
import { JsonWriter } from "../kernel/json-writer.ts";
import { strerror } from "../kernel/libc.ts";
import { errnoOf } from "../kernel/map-commands.ts";
import { isPrefix, optionArgs, parseBpftoolArgs, type BpftoolOptions } from "./bpftool.ts";

/** bpftool's limits: BATCH_ARG_NB_MAX words a command, BATCH_LINE_LEN_MAX bytes a line. */
const MAX_ARGS = 4096, MAX_LINE = 65536;

/** bpftool's make_args: the words of one line, or an error message. */
export function splitBatchLine(line: string, lineNo: number): string[] | string {
  const words: string[] = [];
  const ws = " \t\r\n";
  let i = 0;
  while (i < line.length) {
    while (i < line.length && ws.includes(line[i]!)) i++;
    if (i >= line.length) break;
    if (words.length >= MAX_ARGS - 1) return `too many arguments to command ${lineNo}`;
    const c = line[i]!;
    if (c === "'" || c === '"') {
      const end = line.indexOf(c, i + 1);
      if (end < 0) return `unterminated quoted string in command ${lineNo}`;
      words.push(line.slice(i + 1, end));
      i = end + 1;
    } else {
      let end = i;
      while (end < line.length && !ws.includes(line[end]!)) end++;
      words.push(line.slice(i, end));
      i = end + 1;
    }
  }
  return words;
}

/** The batch file as bpftool's fgets loop reads it: comments cut, continuation lines joined. */
function batchLines(text: string): { lines: string[]; error?: (n: number) => string; at?: number } {
  const raw = text.split(/(?<=\n)/);
  const lines: string[] = [];
  const cut = (l: string) => { const h = l.indexOf("#"); return h >= 0 ? l.slice(0, h) : l; };
  for (let k = 0; k < raw.length; k++) {
    let buf = cut(raw[k]!);
    // fgets into a 64 KiB buffer: a line that fills it stops the batch (E2BIG)
    if (buf.length >= MAX_LINE - 1) return { lines, error: () => "reading batch file failed: Argument list too long", at: lines.length };
    while (buf.includes("\\\n")) {
      const next = raw[++k];
      if (next === undefined || next.length === 0) return { lines, error: (n) => `missing continuation line on command ${n}`, at: lines.length };
      buf = buf.slice(0, buf.indexOf("\\\n")) + cut(next);
    }
    lines.push(buf);
  }
  return { lines };
}

type RunLine = (argv: string[]) => Promise<number>;

export default async function batch(args: string[]): Promise<number> {
  const parsed = parseBpftoolArgs(args);
  if (!parsed.ok) return 255;
  const o = parsed.options;
  const words = parsed.words;
  const j = o.json ? new JsonWriter(o.pretty) : undefined;
  const fail = (msg: string, code = 255): number => {
    if (j) j.startObject().name("error").raw(`"${msg}"`).endObject();
    else process.stderr.write(`Error: ${msg}\n`);
    if (j) process.stdout.write(j.finish());
    return code;
  };
  if (words.length < 2) return fail("too few parameters for batch");
  if (words.length > 2) return fail("too many parameters for batch");
  if (!isPrefix(words[0]!, "file")) return fail(`expected 'file', got: ${words[0]}`);
  const file = words[1]!;
  let text: string;
  try {
    text = readFileSync(file === "-" ? 0 : file, "latin1");
  } catch (e) {
    return fail(`Can't open file (${file}): ${strerror(errnoOf(e))}`);
  }
  const { runBpftoolArgv } = (await import("./main.ts")) as { runBpftoolArgv: RunLine };
  return runBatch(o, text, runBpftoolArgv, j);
}

async function runBatch(o: BpftoolOptions, text: string, runLine: RunLine, j: JsonWriter | undefined): Promise<number> {
  const { lines, error, at } = batchLines(text);
  const globals = optionArgs(o);
  j?.startArray();
  let count = 0;
  let code = 0;
  const errorOut = (msg: string) => {
    if (j) j.startObject().name("error").raw(`"${msg}"`).endObject();
    else process.stderr.write(`Error: ${msg}\n`);
  };
  let stopped = false;
  for (const [k, line] of lines.entries()) {
    if (at !== undefined && k >= at) break;
    const argv = splitBatchLine(line, count);
    if (typeof argv === "string") { errorOut(argv); code = 255; stopped = true; break; }
    if (argv.length === 0) continue;
    let status: number;
    if (j) {
      j.startObject().name("command").startArray();
      for (const w of argv) j.string(w);
      j.endArray().name("output");
      const captured = await capture(() => runLine([...globals, "--", ...argv]));
      status = captured.status;
      // the command's own JSON document, indented as the batch's writer would have written it in place
      const doc = captured.stdout.replace(/\n$/, "");
      j.raw(o.pretty ? doc.replaceAll("\n", "\n        ") : doc);
      j.endObject();
    } else {
      status = await runLine([...globals, "--", ...argv]);
    }
    if (status !== 0) { code = status; stopped = true; break; }
    count++;
  }
  if (!stopped && at !== undefined && error) { errorOut(error(count)); code = 255; stopped = true; }
  if (!stopped && !j) process.stdout.write(`processed ${count} commands\n`);
  if (j) process.stdout.write(j.endArray().finish());
  return code;
}

/** Runs one command with its stdout captured (stderr passes through). */
async function capture(fn: () => Promise<number>): Promise<{ stdout: string; status: number }> {
  const write = process.stdout.write;
  let stdout = "";
  process.stdout.write = ((chunk: string | Uint8Array) => { stdout += String(chunk); return true; }) as typeof process.stdout.write;
  try {
    return { status: await fn(), stdout };
  } finally {
    process.stdout.write = write;
  }
}
