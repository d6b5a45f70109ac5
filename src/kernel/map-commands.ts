// bpftool 7.1's map commands that read or change one element or the map itself — lookup, getnext, update, delete,
// pin, freeze, peek, push/enqueue, pop/dequeue, create — over either backend (the kernel, or a VM System), with
// bpftool's argument grammar (`key [hex] BYTES`, `value …`, `any|exist|noexist`, each by prefix), its output (the
// same entry printers as `map dump`) and its errors and exit statuses (-errno for failed bpf() commands, 255 else).
import { strerror } from "./libc.ts";
import { errnoOf as backendErrno } from "../runtime/backend.ts";
import type { MapInfo } from "../runtime/backend.ts";
import { Printer, selectFds, isPrefix, type OutputMode, type ToolOutput } from "./listing.ts";
import { entryJson, entryPlain, fprintHex } from "./map-dump.ts";
import { JsonWriter } from "./json-writer.ts";
import { loadMapBtf, dumpBtfEntry } from "./btf-value-dump.ts";
import { MAP_TYPE_NAMES } from "../uapi/index.ts";

const PER_CPU = new Set([5, 6, 10, 21]);
const PROG_ARRAY = 3, ARRAY_OF_MAPS = 12, HASH_OF_MAPS = 13;
const BPF_ANY = 0, BPF_NOEXIST = 1, BPF_EXIST = 2;

/** A failed command: bpftool has already printed its error; `code` is its exit status. */
export class Stop {
  /** `usage`: bpftool called usage() — its help (or JSON `null`) instead of an error */
  constructor(readonly code: number, readonly usage = false) {}
}

export function errnoOf(e: unknown): number {
  // Node's fs errors carry errno negated
  const sys = (e as { syscall?: unknown; errno?: unknown }).errno;
  if (typeof sys === "number" && sys < 0 && typeof (e as { syscall?: unknown }).syscall === "string") return -sys;
  const n = backendErrno(e);
  if (n === undefined) throw e;
  return n;
}

/** bpftool returns -errno from a failed bpf() command: the shell sees it modulo 256. */
export const exitFor = (errno: number): number => (-errno) & 0xff;

export function fail(out: Printer, msg: string, code = 255): never {
  out.error(msg);
  throw new Stop(code);
}

/** strtoul(s, &end, base) accepting the whole string (base 0: 0x hex, 0 octal, else decimal). */
function strtoul(s: string, base: 0 | 16): number | undefined {
  const t = s.trim();
  let m: RegExpExecArray | null;
  if (base === 16) m = /^[+-]?(?:0[xX])?([0-9a-fA-F]+)$/.exec(t);
  else m = /^[+-]?(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(t);
  if (m === null) return undefined;
  const body = base === 16 ? "0x" + m[1]! : m[1]!;
  const v = /^0[xX]/.test(body) ? BigInt(body) : body.length > 1 && body[0] === "0" ? BigInt("0o" + body.slice(1)) : BigInt(body);
  return Number((t.startsWith("-") ? -v : v) & 0xffn);
}

/** bpftool's parse_bytes: exactly n bytes, `hex` switching to base 16; returns the words after them. */
function parseBytes(out: Printer, words: readonly string[], name: string, into: Uint8Array): readonly string[] {
  let base: 0 | 16 = 0;
  let w = words;
  if (w[0] !== undefined && isPrefix(w[0], "hex")) { base = 16; w = w.slice(1); }
  let i = 0;
  for (; i < into.length && w[i] !== undefined; i++) {
    const v = strtoul(w[i]!, base);
    if (v === undefined) fail(out, `error parsing byte: ${w[i]}`);
    into[i] = v;
  }
  if (i !== into.length) fail(out, `${name} expected ${into.length} bytes got ${i}`);
  return w.slice(i);
}

interface ElemWanted {
  /** set when the value named a map or program: its fd (closed after the update) */
  valueFd?: number;
  key?: Uint8Array;
  value?: Uint8Array;
  flags?: { v: number };
}

/** bpftool's parse_elem: `key …`, `value …` and one update flag, in any order, each at most once. */
function parseElem(out: Printer, info: MapInfo, words: readonly string[], want: ElemWanted, cpus: number): void {
  let w = words;
  let { key, value, flags } = want;
  for (;;) {
    const word = w[0];
    if (word === undefined) {
      if (key) fail(out, "did not find key");
      if (value) fail(out, "did not find value");
      return;
    }
    if (isPrefix(word, "key")) {
      if (!key) fail(out, info.keySize ? "duplicate key" : "unnecessary key");
      w = parseBytes(out, w.slice(1), "key", key);
      key = undefined;
    } else if (isPrefix(word, "value")) {
      if (!value) fail(out, info.valueSize ? "duplicate value" : "unnecessary value");
      if (info.type === ARRAY_OF_MAPS || info.type === HASH_OF_MAPS || info.type === PROG_ARRAY) {
        // the value is a map or program named as on the command line; its fd goes into the value
        const progs = info.type === PROG_ARRAY;
        const what = progs ? "map of progs" : "map in map";
        if (info.valueSize !== 4) fail(out, `value smaller than 4B for ${what}?`);
        if (w[1] === undefined || w[2] === undefined) fail(out, `not enough value arguments for ${what}`);
        if (progs && isPrefix(w[1], "id") && !out.json) {
          out.err += "Warning: updating program array via MAP_ID, make sure this map is kept open\n" +
            "         by some process or pinned otherwise update will be lost\n";
        }
        const fd = oneFd(out, progs ? "prog" : "map", w.slice(1, 3));
        want.valueFd = fd;
        new DataView(value.buffer, value.byteOffset).setUint32(0, fd, true);
        w = w.slice(3);
        value = undefined;
        continue;
      }
      const one = value.subarray(0, info.valueSize);
      w = parseBytes(out, w.slice(1), "value", one);
      // bpftool's fill_per_cpu_value: the value is copied to every possible CPU
      if (PER_CPU.has(info.type)) {
        const step = (info.valueSize + 7) & ~7;
        for (let c = 1; c < cpus; c++) value.set(one, c * step);
      }
      value = undefined;
    } else if (isPrefix(word, "any") || isPrefix(word, "noexist") || isPrefix(word, "exist")) {
      if (!flags) fail(out, `flags specified multiple times: ${word}`);
      flags.v = isPrefix(word, "any") ? BPF_ANY : isPrefix(word, "noexist") ? BPF_NOEXIST : BPF_EXIST;
      flags = undefined;
      w = w.slice(1);
    } else {
      fail(out, `expected key or value, got: ${word}`);
    }
  }
}

/** One element printed as `map lookup` prints it (the dump's entry printers; BTF maps as formatted JSON). */
function printElem(out: Printer, info: MapInfo, key: Uint8Array, value: Uint8Array, cpus: number): void {
  const btf = loadMapBtf(out.b, info);
  if (out.json) entryJson(out.json, info, key, value, cpus, btf);
  else if (btf) {
    const w = new JsonWriter(true);
    dumpBtfEntry(w, btf, info, key, value, cpus, true);
    out.print(w.finish());
  } else out.print(entryPlain(info, key, value, cpus));
}

function valueBuffer(info: MapInfo, cpus: number): Uint8Array {
  return new Uint8Array(PER_CPU.has(info.type) ? ((info.valueSize + 7) & ~7) * cpus : info.valueSize);
}

/**
 * Resolves the MAP argument (two words) to one fd; the rest of the words follow. Fewer than two words: bpftool's
 * usage(), or with `typed` (commands that check with REQ_ARGS) its argument-count error echoing the command word.
 */
function oneMap(out: Printer, words: readonly string[], typed?: string): { fd: number; info: MapInfo; rest: readonly string[] } {
  if (words.length < 2) {
    if (typed !== undefined) fail(out, `'${typed}' needs at least 2 arguments, ${words.length} found`);
    throw new Stop(255, true);
  }
  const fd = oneFd(out, "map", words);
  return { fd, info: out.b.mapInfo(fd), rest: words.slice(2) };
}

/** bpftool's prog_parse_fd / map_parse_fd: the two words must name exactly one object (none: a silent failure). */
export function oneFd(out: Printer, kind: "prog" | "map", words: readonly string[]): number {
  const fds = selectFds(out, kind, words);
  if (fds === undefined) throw new Stop(255);
  if (fds.length !== 1) {
    for (const fd of fds) out.b.close(fd);
    if (fds.length > 1) fail(out, kind === "map" ? "several maps match this handle" : "several programs match this handle");
    if (kind === "map") fail(out, "no map with that name found");
    throw new Stop(255);
  }
  return fds[0]!;
}

/** `typed`: the command word as the user typed it (bpftool's REQ_ARGS messages echo it). */
type Verb = (out: Printer, words: readonly string[], typed: string) => void;

/** lookup/peek and pop/dequeue: one element read (pop also removes it) and printed; ENOENT is reported on stdout. */
function readElem(remove: boolean): Verb {
  return (out, words) => {
    const { fd, info, rest } = oneMap(out, words);
    const cpus = out.b.possibleCpus();
    const key = new Uint8Array(info.keySize);
    const value = valueBuffer(info, cpus);
    parseElem(out, info, rest, info.keySize ? { key } : {}, cpus);
    const k = info.keySize ? key : null;
    try {
      if (remove) out.b.mapLookupAndDeleteElem(fd, k, value);
      else out.b.mapLookupElem(fd, k, value);
    } catch (e) {
      const n = errnoOf(e);
      if (n !== 2) fail(out, `${remove ? "pop" : "lookup"} failed: ${strerror(n)}`, exitFor(n));
      if (out.json) out.json.raw("null");
      else out.print(remove ? "Error: empty map\n" : `key:\n${fprintHex(key)}\n\nNot found\n`);
      throw new Stop(exitFor(n));
    }
    printElem(out, info, key, value, cpus);
  };
}
const lookup = readElem(false);
const pop = readElem(true);

const getnext: Verb = (out, words) => {
  const { fd, info, rest } = oneMap(out, words);
  const key = new Uint8Array(info.keySize);
  const next = new Uint8Array(info.keySize);
  const haveKey = rest.length > 0;
  if (haveKey) parseElem(out, info, rest, { key }, out.b.possibleCpus());
  let more: boolean;
  try {
    more = out.b.mapGetNextKey(fd, haveKey ? key : null, next);
  } catch (e) {
    const n = errnoOf(e);
    fail(out, `can't get next key: ${strerror(n)}`, exitFor(n));
  }
  if (!more) fail(out, `can't get next key: ${strerror(2)}`, exitFor(2));
  const j = out.json;
  if (j) {
    j.startObject().name("key");
    if (haveKey) hexJson(j, key); else j.raw("null");
    j.name("next_key");
    hexJson(j, next);
    j.endObject();
  } else {
    out.print(haveKey ? `key:\n${fprintHex(key)}\n` : "key: None\n");
    out.print(`next key:\n${fprintHex(next)}\n`);
  }
};

function hexJson(j: JsonWriter, bytes: Uint8Array): void {
  j.startArray();
  for (const b of bytes) j.raw(`"0x${b.toString(16).padStart(2, "0")}"`);
  j.endArray();
}

const update: Verb = (out, words) => {
  const { fd, info, rest } = oneMap(out, words);
  const cpus = out.b.possibleCpus();
  const key = new Uint8Array(info.keySize);
  const value = valueBuffer(info, cpus);
  const flags = { v: BPF_ANY };
  const want: ElemWanted = { key, value, flags };
  parseElem(out, info, rest, want, cpus);
  try {
    out.b.mapUpdateElem(fd, info.keySize ? key : null, value, flags.v);
  } catch (e) {
    const n = errnoOf(e);
    fail(out, `update failed: ${strerror(n)}`, exitFor(n));
  } finally {
    if (want.valueFd !== undefined) out.b.close(want.valueFd);
  }
  if (out.json) out.json.raw("null");
};

/** push and enqueue: a value with no key (queue and stack maps). */
const push: Verb = (out, words) => {
  const { fd, info, rest } = oneMap(out, words);
  const cpus = out.b.possibleCpus();
  const value = valueBuffer(info, cpus);
  parseElem(out, info, rest, { value }, cpus);
  try {
    out.b.mapUpdateElem(fd, null, value, BPF_ANY);
  } catch (e) {
    const n = errnoOf(e);
    fail(out, `update failed: ${strerror(n)}`, exitFor(n));
  }
  if (out.json) out.json.raw("null");
};

const del: Verb = (out, words) => {
  const { fd, info, rest } = oneMap(out, words);
  const key = new Uint8Array(info.keySize);
  parseElem(out, info, rest, { key }, out.b.possibleCpus());
  try {
    out.b.mapDeleteElem(fd, key);
  } catch (e) {
    const n = errnoOf(e);
    fail(out, `delete failed: ${strerror(n)}`, exitFor(n));
  }
  if (out.json) out.json.raw("null");
};

export function pinFd(out: Printer, fd: number, path: string): void {
  try {
    out.b.objPin(fd, path);
  } catch (e) {
    const n = errnoOf(e);
    fail(out, `can't pin the object (${path}): ${strerror(n)}`, exitFor(n));
  }
}

const pin: Verb = (out, words, typed) => {
  if (words.length < 3) fail(out, `'${typed}' needs at least 3 arguments, ${words.length} found`, 234);
  const { fd, rest } = oneMap(out, words);
  pinFd(out, fd, rest[0]!);
  if (out.json) out.json.raw("null");
};

const freeze: Verb = (out, words, typed) => {
  const { fd, rest } = oneMap(out, words, typed);
  if (rest.length) fail(out, `expected key or value, got: ${rest[0]}`);
  try {
    out.b.mapFreeze(fd);
  } catch (e) {
    const n = errnoOf(e);
    fail(out, `failed to freeze map: ${strerror(n)}`);
  }
  if (out.json) out.json.raw("null");
};

/** `map create FILE type TYPE key N value N entries N name NAME [flags F] [inner_map MAP] [dev NAME]`. */
const create: Verb = (out, words) => {
  const [file, ...opts] = words;
  if (file === undefined) fail(out, `'create' needs at least 7 arguments, 0 found`);
  let type: number | undefined, key: number | undefined, value: number | undefined, entries: number | undefined;
  let name: string | undefined, flags = 0, innerFd: number | undefined;
  const num = (what: string, s: string | undefined): number => {
    const v = s === undefined ? undefined : parseUint(s);
    if (v === undefined) fail(out, `can't parse ${what}`);
    return v;
  };
  for (let i = 0; i < opts.length; i += 2) {
    const k = opts[i]!, v = opts[i + 1];
    if (isPrefix(k, "type")) {
      if (type !== undefined) fail(out, "map type already specified");
      const t = MAP_TYPE_NAMES.indexOf(v as never);
      if (v === undefined || t <= 0) fail(out, `unrecognized map type: ${v}`);
      type = t;
    } else if (isPrefix(k, "name")) name = v;
    else if (isPrefix(k, "key")) key = num("key size", v);
    else if (isPrefix(k, "value")) value = num("value size", v);
    else if (isPrefix(k, "entries")) entries = num("max entries", v);
    else if (isPrefix(k, "flags")) flags = num("flags", v);
    else if (isPrefix(k, "dev")) fail(out, "bpfkit does not offload maps to devices");
    else if (isPrefix(k, "inner_map")) {
      const fds = selectFds(out, "map", opts.slice(i + 1, i + 3));
      if (fds === undefined) throw new Stop(255);
      innerFd = fds[0];
      i++;
    } else fail(out, `unknown arg ${k}`);
  }
  if (name === undefined) fail(out, "map name not specified");
  if (type === undefined) fail(out, "map type not specified");
  let fd: number;
  try {
    fd = out.b.mapCreate({
      mapType: type, keySize: key ?? 0, valueSize: value ?? 0, maxEntries: entries ?? 0, mapFlags: flags,
      name: name.slice(0, 15), ...(innerFd !== undefined ? { innerMapFd: innerFd } : {}),
    });
  } catch (e) {
    fail(out, `map create failed: ${strerror(errnoOf(e))}`);
  }
  try {
    pinFd(out, fd, file);
  } finally {
    out.b.close(fd);
  }
  if (out.json) out.json.raw("null");
};

function parseUint(s: string): number | undefined {
  const m = /^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(s.trim());
  if (m === null) return undefined;
  const v = Number(/^0[xX]/.test(m[1]!) ? BigInt(m[1]!) : m[1]!.length > 1 && m[1]![0] === "0" ? BigInt("0o" + m[1]!.slice(1)) : BigInt(m[1]!));
  return v > 0xffffffff ? 0xffffffff : v;
}

export const MAP_COMMANDS: Readonly<Record<string, Verb>> = {
  lookup, getnext, update, delete: del, pin, freeze, create,
  peek: lookup, push, enqueue: push, pop, dequeue: pop,
};

/** Runs one map command (its full name) with the words after it. */
export function mapCommand(mode: OutputMode, verb: string, words: readonly string[], typed = verb): ToolOutput {
  const out = new Printer(mode);
  const run = MAP_COMMANDS[verb];
  if (run === undefined) {
    out.error(`'map ${verb}' is not supported by bpfkit yet`);
    return out.result();
  }
  try {
    run(out, words, typed);
  } catch (e) {
    if (e instanceof Stop) return e.usage ? out.usage() : out.result(e.code);
    throw e;
  }
  return out.result();
}
