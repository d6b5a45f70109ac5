// bpftool 7.1's program and link commands that act on an object rather than list it — prog pin, attach, detach,
// run, profile; link pin, detach — over either backend (the kernel, or a VM System), with bpftool's argument
// grammar, its output and its error texts and exit statuses. `prog tracelog` streams the kernel's trace pipe
// (Node-only, src/cli/prog.ts).
import { readFileSync, writeFileSync } from "node:fs";
import { strerror } from "./libc.ts";
import { Printer, isPrefix, parseId, pinnedFd, type OutputMode, type ToolOutput } from "./listing.ts";
import { Stop, errnoOf, exitFor, fail, oneFd, pinFd } from "./map-commands.ts";
import { ATTACH_TYPE_NAMES } from "../uapi/index.ts";
import type { Attachment, TestRunResult } from "../runtime/backend.ts";
import { openObject, type LoadedObject } from "../runtime/object.ts";
import { BpfError } from "../errors.ts";

type Verb = (out: Printer, words: readonly string[], typed: string) => number | void;

/** bpftool's REQ_ARGS: `'VERB' needs at least N arguments, M found`. */
function reqArgs(out: Printer, words: readonly string[], n: number, typed: string, code = 255): void {
  if (words.length < n) fail(out, `'${typed}' needs at least ${n} arguments, ${words.length} found`, code);
}

/** libbpf 1.1's attach type names end at lsm_cgroup; bpftool 7.1 knows no later ones. */
const LIBBPF_ATTACH_TYPES = 44;
const SK_SKB_STREAM_PARSER = 4, SK_SKB_STREAM_VERDICT = 5, SK_MSG_VERDICT = 7, FLOW_DISSECTOR = 17, SK_SKB_VERDICT = 38;
/** The attach types `prog attach` takes by their full name, and the older short names it takes by prefix. */
const PROG_ATTACH_TYPES = new Set([SK_SKB_STREAM_PARSER, SK_SKB_STREAM_VERDICT, SK_SKB_VERDICT, SK_MSG_VERDICT, FLOW_DISSECTOR]);
const LEGACY_NAMES: Readonly<Record<number, string>> = {
  [SK_SKB_STREAM_PARSER]: "stream_parser", [SK_SKB_STREAM_VERDICT]: "stream_verdict", [SK_SKB_VERDICT]: "skb_verdict",
  [SK_MSG_VERDICT]: "msg_verdict",
};

function progAttachType(word: string): number | undefined {
  for (let t = 0; t < LIBBPF_ATTACH_TYPES; t++) {
    if (PROG_ATTACH_TYPES.has(t) && word === ATTACH_TYPE_NAMES[t]) return t;
    const legacy = LEGACY_NAMES[t];
    if (legacy !== undefined && isPrefix(word, legacy)) return t;
  }
  return undefined;
}

/** `prog pin PROG FILE` and `link pin LINK FILE` (bpftool's do_pin_any). */
function pinWith(open: (out: Printer, words: readonly string[]) => number): Verb {
  return (out, words, typed) => {
    reqArgs(out, words, 3, typed, exitFor(22));
    const fd = open(out, words);
    try {
      pinFd(out, fd, words[2]!);
    } finally {
      out.b.close(fd);
    }
    if (out.json) out.json.raw("null");
  };
}

const progFd = (out: Printer, words: readonly string[]): number => oneFd(out, "prog", words);

/** `prog attach|detach PROG ATTACH_TYPE [MAP]`: to a sockmap/sockhash, or the network namespace's flow dissector. */
function attachDetach(detach: boolean): Verb {
  return (out, words, typed) => {
    reqArgs(out, words, 3, typed, exitFor(22));
    const prog = progFd(out, words);
    const type = progAttachType(words[2]!);
    if (type === undefined) fail(out, "invalid attach/detach type", exitFor(22));
    let target = 0;
    if (type !== FLOW_DISSECTOR) {
      const rest = words.slice(3);
      reqArgs(out, rest, 2, words[2]!, exitFor(22));
      target = oneFd(out, "map", rest);
    }
    try {
      const b = out.b;
      if (detach ? b.progDetach === undefined : b.progAttach === undefined) throw Object.assign(new Error(), { errno: 95 });
      if (detach) b.progDetach!(target, prog, type);
      else b.progAttach!(target, prog, type, 0);
    } catch (e) {
      errnoOf(e);
      fail(out, detach ? "failed prog detach from map" : "failed prog attach to map", exitFor(22));
    } finally {
      out.b.close(prog);
      if (target) out.b.close(target);
    }
    if (out.json) out.json.raw("null");
  };
}

/** bpftool's detect_common_prefix: a word that abbreviates two of the names is an error. */
function ambiguous(out: Printer, word: string, names: readonly string[]): void {
  const hits = names.filter((n) => isPrefix(word, n));
  if (hits.length >= 2) fail(out, `ambiguous prefix: '${word}' could be '${hits.join("' or '")}'`);
}

/** strtoul(s, &end, 0) requiring the whole word, as an unsigned 32-bit value (bpftool stores it in a __u32). */
function strtoulWhole(s: string): number | undefined {
  const id = parseId(s);
  return id;
}

/** bpftool's hex_print: offset, 16 bytes in pairs, and their printable characters. */
function hexPrint(data: Uint8Array): string {
  let s = "";
  for (let i = 0; i < data.length; i += 16) {
    s += `${i.toString(16).padStart(7, "0")}\t`;
    let j = i;
    for (; j < i + 16 && j < data.length; j++) s += data[j]!.toString(16).padStart(2, "0") + (j % 2 ? " " : "");
    for (; j < i + 16; j++) s += "  " + (j % 2 ? " " : "");
    s += "| ";
    for (j = i; j < i + 16 && j < data.length; j++) {
      const c = data[j]!;
      s += (c < 0x20 || c > 0x7e ? "." : String.fromCharCode(c)) + (j === i + 7 ? " " : "");
    }
    s += "\n";
  }
  return s;
}

/** bpftool's get_run_data: a file's bytes, or standard input for `-`. */
function readRunData(out: Printer, name: string | undefined): Uint8Array | undefined {
  if (name === undefined) return undefined;
  try {
    return new Uint8Array(readFileSync(name === "-" ? 0 : name));
  } catch (e) {
    fail(out, `failed to open ${name}: ${strerror(errnoOf(e))}`);
  }
}

const run: Verb = (out, words, typed) => {
  reqArgs(out, words, 4, typed);
  const fd = progFd(out, words);
  let dataIn: string | undefined, dataOut: string | undefined, ctxIn: string | undefined, ctxOut: string | undefined;
  let dataSizeOut = 0, ctxSizeOut = 0, repeat = 1;
  const w = words.slice(2);
  const single = () => {
    if (dataIn === "-" && ctxIn === "-") fail(out, "cannot use standard input for both data_in and ctx_in");
  };
  const number = (what: string): number => {
    const v = w[1] === undefined ? undefined : strtoulWhole(w[1]);
    if (v === undefined) fail(out, `can't parse ${w[1]} as ${what}`);
    return v;
  };
  while (w.length) {
    const word = w[0]!;
    ambiguous(out, word, ["data_in", "data_out", "data_size_out"]);
    ambiguous(out, word, ["ctx_in", "ctx_out", "ctx_size_out"]);
    const known = ["data_in", "data_out", "data_size_out", "ctx_in", "ctx_out", "ctx_size_out", "repeat"].find((n) => isPrefix(word, n));
    if (known === undefined) {
      fail(out, `expected no more arguments, 'data_in', 'data_out', 'data_size_out', 'ctx_in', 'ctx_out', 'ctx_size_out' or 'repeat', got: '${word}'?`);
    }
    reqArgs(out, w.slice(1), 1, word);
    if (known === "data_in") { dataIn = w[1]; single(); }
    else if (known === "data_out") dataOut = w[1];
    else if (known === "ctx_in") { ctxIn = w[1]; single(); }
    else if (known === "ctx_out") ctxOut = w[1];
    else if (known === "data_size_out") dataSizeOut = number("output data size");
    else if (known === "ctx_size_out") ctxSizeOut = number("output context size");
    else repeat = number("repeat number");
    w.splice(0, 2);
  }
  const data = readRunData(out, dataIn);
  const ctx = readRunData(out, ctxIn);
  let r: TestRunResult;
  try {
    r = out.b.progTestRun(fd, {
      ...(data ? { dataIn: data, dataOutSize: dataSizeOut || 32768 } : {}),
      ...(ctx ? { ctxIn: ctx, ctxOutSize: ctxSizeOut || 32768 } : {}),
      repeat,
    });
  } catch (e) {
    const n = errnoOf(e);
    fail(out, `failed to run program: ${strerror(n)}`, exitFor(n));
  } finally {
    out.b.close(fd);
  }
  const j = out.json;
  j?.startObject();
  let failed = 0;
  const emitOut = (bytes: Uint8Array, file: string | undefined, key: string) => {
    if (file === undefined) return;
    if (file === "-") {
      if (j) {
        j.name(key).startArray();
        for (const b of bytes) j.raw(String(b));
        j.endArray();
      } else out.print(hexPrint(bytes));
      return;
    }
    try {
      writeFileSync(file, bytes);
    } catch (e) {
      out.error(`failed to open ${file}: ${strerror(errnoOf(e))}`);
      failed++;
    }
  };
  if (data && r.dataOut.length) emitOut(r.dataOut, dataOut, "data_out");
  if (ctx && r.ctxOut.length) emitOut(r.ctxOut, ctxOut, "ctx_out");
  if (j) {
    j.name("retval").raw(String(r.retval >>> 0)).name("duration").raw(String(r.duration >>> 0));
    j.endObject();
  } else {
    out.print(`Return value: ${r.retval >>> 0}, duration${repeat > 1 ? " (average)" : ""}: ${r.duration >>> 0}ns\n`);
  }
  return failed ? (-failed) & 0xff : 0;
};

/** bpftool 7.1 as packaged here is built without skeletons: `prog profile` only says so (and exits 0). */
const profile: Verb = (out) => {
  out.error("bpftool prog profile command is not supported. Please build bpftool with clang >= 10.0.0");
  return 0;
};

export const PROG_COMMANDS: Readonly<Record<string, Verb>> = {
  pin: pinWith(progFd), attach: attachDetach(false), detach: attachDetach(true), run, profile,
};

/** bpftool's link_parse_fd: `id N` or `pinned FILE`, one link. */
function linkFd(out: Printer, words: readonly string[]): number {
  const [sel, value] = words;
  if (isPrefix(sel, "id")) {
    const id = parseId(value!);
    if (id === undefined) fail(out, `can't parse ${value} as ID`);
    try {
      return out.b.getFdById("link", id);
    } catch (e) {
      const n = errnoOf(e);
      fail(out, `failed to get link with ID ${id | 0}: ${strerror(n)}`, exitFor(n));
    }
  }
  if (isPrefix(sel, "pinned")) {
    const fd = pinnedFd(out, value!, "link");
    if (fd === undefined) throw new Stop(255);
    return fd;
  }
  fail(out, `expected 'id' or 'pinned', got: '${sel}'?`);
}

const linkDetach: Verb = (out, words) => {
  if (words.length !== 2) fail(out, "link specifier is invalid or missing\n", 1);
  let fd: number;
  try {
    fd = linkFd(out, words);
  } catch (e) {
    if (e instanceof Stop) throw new Stop(1);
    throw e;
  }
  try {
    out.b.linkDetach(fd);
  } catch (e) {
    fail(out, `failed link detach: ${strerror(errnoOf(e))}`, 1);
  } finally {
    out.b.close(fd);
  }
  if (out.json) out.json.raw("null");
};

export const LINK_COMMANDS: Readonly<Record<string, Verb>> = { pin: pinWith(linkFd), detach: linkDetach };

/** Runs one command (its full name, and the word as typed for bpftool's messages) of a table. */
export function objectCommand(mode: OutputMode, table: Readonly<Record<string, Verb>>, verb: string, words: readonly string[], typed = verb): ToolOutput {
  const out = new Printer(mode);
  const cmd = table[verb];
  if (cmd === undefined) {
    out.error(`'${verb}' is not supported by bpfkit yet`);
    return out.result();
  }
  try {
    const code = cmd(out, words, typed);
    return out.result(code ?? undefined);
  } catch (e) {
    if (e instanceof Stop) return out.result(e.code);
    throw e;
  }
}

/**
 * `iter pin OBJ PATH [map MAP]`: the object is loaded, its first program attached as an iterator and the link pinned
 * at PATH; everything else goes away with the command, as bpftool's exit closes it. libbpf's messages on stderr.
 */
const iterPin: Verb = (out, words) => {
  const [file, path] = words;
  let mapFd: number | undefined;
  if (words.length > 2 && isPrefix(words[2], "map")) {
    const spec = words.slice(3);
    if (spec.length < 2) {
      out.error(`'map' needs at least 2 arguments, ${spec.length} found`);
      fail(out, "incorrect map spec");
    }
    mapFd = oneFd(out, "map", spec);
  }
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(file!));
  } catch (e) {
    const n = errnoOf(e);
    out.err += `libbpf: elf: failed to open ${file}: ${strerror(n)}\n`;
    fail(out, `can't open objfile ${file}`, exitFor(n));
  }
  if (bytes.length < 4 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
    out.err += `libbpf: elf: '${file}' is not a proper ELF object\n`;
    fail(out, `can't open objfile ${file}`, exitFor(4001));
  }
  let obj: LoadedObject;
  try {
    obj = openObject(out.b, bytes, { fileName: file });
  } catch (e) {
    if (!(e instanceof BpfError)) throw e;
    fail(out, `can't load objfile ${file}`, exitFor(errnoOf(e)));
  }
  try {
    const first = obj.object.programs[0];
    const prog = first && obj.programs.get(first.name);
    if (first === undefined) fail(out, `can't find bpf program in objfile ${file}`, exitFor(2));
    if (prog === undefined) fail(out, `can't load objfile ${file}`, exitFor(22));
    let link: Attachment;
    try {
      if (!first.section.startsWith("iter/") && !first.section.startsWith("iter.s/")) throw Object.assign(new Error(), { errno: 22 });
      link = out.b.attach(prog.fd, { kind: "iter", ...(mapFd !== undefined ? { mapFd } : {}) });
    } catch (e) {
      const n = errnoOf(e);
      out.err += `libbpf: prog '${first.name}': failed to attach to iterator: ${strerror(n)}\n`;
      fail(out, `attach_iter failed for program ${first.name}`, exitFor(n));
    }
    try {
      out.b.objPin(link.linkFd!, path!);
    } catch (e) {
      const n = errnoOf(e);
      fail(out, `pin_iter failed for program ${first.name} to path ${path}`, exitFor(n));
    } finally {
      link.close();
    }
  } finally {
    obj.close();
    if (mapFd !== undefined) out.b.close(mapFd);
  }
};

export const ITER_COMMANDS: Readonly<Record<string, Verb>> = { pin: iterPin };
