// bpftool's front door: its global options as getopt_long sees them (GNU permutation, so they may come before or after
// the object and command; unambiguous prefixes of long options), objects and commands chosen by prefix in bpftool's
// table order (`p s` is `prog show`), `help` and usage texts, `version`, and bpftool's error rendering (`Error: …` on
// stderr, `{"error":…}` on stdout under -j, exit status 255). Each object's commands live in their own module
// (src/cli/<object>.ts); this file only parses, chooses and hands over.
import { JsonWriter } from "../kernel/json-writer.ts";
import { TYPED, TYPED_OBJECT } from "../kernel/tool-args.ts";
import { MAIN_USAGE, OBJECT_USAGE, renderUsage } from "./bpftool-usage.ts";

export const BIN = "bpfkit";
/** bpftool's exit status for every failure (it returns -1 from main). */
export const EXIT_ERROR = 255;

export interface BpftoolOptions {
  json: boolean;
  pretty: boolean;
  debug: boolean;
  bpffs: boolean;
  mapcompat: boolean;
  nomount: boolean;
  useLoader: boolean;
  legacy: boolean;
  help: boolean;
  version: boolean;
  /** bpfkit's own: run on bpfkit's VM backend instead of the kernel. Matched exactly, never as a prefix. */
  vm: boolean;
  baseBtf: string | undefined;
}

type BoolOption = Exclude<keyof BpftoolOptions, "baseBtf">;
type OptionName = BoolOption | "baseBtf";

// bpftool 7.1: getopt_long(argc, argv, "VhpjfLmndB:l", options, NULL)
const SHORT: Readonly<Record<string, OptionName>> = {
  V: "version", h: "help", p: "pretty", j: "json", f: "bpffs", L: "useLoader", m: "mapcompat", n: "nomount",
  d: "debug", B: "baseBtf", l: "legacy",
};
const LONG: readonly (readonly [string, OptionName])[] = [
  ["json", "json"], ["help", "help"], ["pretty", "pretty"], ["version", "version"], ["bpffs", "bpffs"],
  ["mapcompat", "mapcompat"], ["nomount", "nomount"], ["debug", "debug"], ["use-loader", "useLoader"],
  ["base-btf", "baseBtf"], ["legacy", "legacy"],
];

/** bpfkit's own per-command long options (matched exactly, with the number of values each takes): passed through as words. */
const EXTENSIONS: Readonly<Record<string, number>> = { "--runtime": 1, "--codecs": 1, "--engine": 1, "--c": 0 };

export type ParsedArgs =
  | { readonly ok: true; readonly options: BpftoolOptions; readonly words: string[]; readonly literal: boolean }
  | { readonly ok: false; readonly options: BpftoolOptions; readonly error: string };

function noOptions(): BpftoolOptions {
  return {
    json: false, pretty: false, debug: false, bpffs: false, mapcompat: false, nomount: false, useLoader: false,
    legacy: false, help: false, version: false, vm: false, baseBtf: undefined,
  };
}

/** Parses bpftool's global options out of argv wherever they stand; the rest, in order, are the words. */
export function parseBpftoolArgs(argv: readonly string[]): ParsedArgs {
  const o = noOptions();
  const words: string[] = [];
  let literal = false;
  const set = (name: OptionName, value?: string): void => {
    if (name === "baseBtf") o.baseBtf = value;
    else {
      o[name] = true;
      if (name === "pretty") o.json = true;
    }
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") { literal = argv.length > i + 1; words.push(...argv.slice(i + 1)); break; }
    if (a === "--vm") { o.vm = true; continue; }
    const ext = EXTENSIONS[a];
    if (ext !== undefined) { words.push(...argv.slice(i, i + 1 + ext)); i += ext; continue; }
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      const name = a.slice(2, eq < 0 ? undefined : eq);
      const exact = LONG.find(([n]) => n === name);
      const matches = exact ? [exact] : LONG.filter(([n]) => n.startsWith(name));
      if (matches.length !== 1) return { ok: false, options: o, error: `unrecognized option '${a}'` };
      const opt = matches[0]![1];
      if (opt === "baseBtf") {
        const value = eq >= 0 ? a.slice(eq + 1) : argv[++i];
        if (value === undefined) return { ok: false, options: o, error: `unrecognized option '${a}'` };
        set(opt, value);
      } else {
        if (eq >= 0) return { ok: false, options: o, error: `unrecognized option '${a}'` };
        set(opt);
      }
      continue;
    }
    if (a.length < 2 || a[0] !== "-") { words.push(a); continue; }
    for (let k = 1; k < a.length; k++) {
      const opt = SHORT[a[k]!];
      if (opt === undefined) return { ok: false, options: o, error: `unrecognized option '${a}'` };
      if (opt === "baseBtf") {
        const value = k + 1 < a.length ? a.slice(k + 1) : argv[++i];
        if (value === undefined) return { ok: false, options: o, error: `unrecognized option '${a}'` };
        set(opt, value);
        break;
      }
      set(opt);
    }
  }
  return { ok: true, options: o, words, literal };
}

/** bpftool's objects in its dispatch order: a word selects the first entry it is a prefix of. */
export const OBJECTS = [
  "help", "batch", "prog", "map", "link", "cgroup", "perf", "net", "feature", "btf", "gen", "struct_ops", "iter", "version",
] as const;

/** Each object's commands in bpftool's order; a missing command runs the first. */
export const COMMANDS: Readonly<Record<string, readonly string[]>> = {
  prog: ["show", "list", "help", "dump", "pin", "load", "loadall", "attach", "detach", "tracelog", "run", "profile"],
  map: ["show", "list", "help", "dump", "update", "lookup", "getnext", "delete", "pin", "event_pipe", "create", "peek",
    "push", "enqueue", "pop", "dequeue", "freeze"],
  link: ["show", "list", "help", "pin", "detach"],
  cgroup: ["show", "list", "tree", "attach", "detach", "help"],
  perf: ["show", "list", "help"],
  net: ["show", "list", "attach", "detach", "help"],
  feature: ["probe", "list_builtins", "help"],
  btf: ["show", "list", "help", "dump"],
  gen: ["object", "skeleton", "subskeleton", "min_core_btf", "help"],
  struct_ops: ["show", "list", "dump", "register", "unregister", "help"],
  iter: ["help", "pin"],
};

/** Objects whose commands bpfkit runs (src/cli/<object>.ts); the others are refused with a message saying so. */
const MODULES = new Set(["prog", "map", "link", "perf", "btf", "gen", "iter", "struct_ops", "cgroup", "feature", "net"]);

export const isPrefix = (arg: string, word: string): boolean => arg.length > 0 && word.startsWith(arg);

export function selectWord(word: string, table: readonly string[]): string | undefined {
  return table.find((w) => isPrefix(word, w));
}

/** What one bpftool invocation prints and returns; the CLI writes it out. */
export interface Outcome {
  stdout: string;
  stderr: string;
  code: number;
}

/**
 * bpftool's p_err: `Error: MSG` on stderr, or `{"error":"MSG"}` on stdout in JSON mode. `usage`: the p_err is followed
 * by usage(), which prints the object's help (plain) or a JSON `null` after the error object (`{…},null`).
 */
export function errorOutcome(options: Pick<BpftoolOptions, "json" | "pretty">, msg: string, usage?: string): Outcome {
  if (options.json) {
    // bpftool prints the message inside the quotes as it is, unescaped (jsonw_vprintf_enquote)
    const j = new JsonWriter(options.pretty).startObject().name("error").raw(`"${msg}"`).endObject();
    if (usage !== undefined) j.raw("null");
    return { stdout: j.finish(), stderr: "", code: EXIT_ERROR };
  }
  return { stdout: "", stderr: `Error: ${msg}\n${usage ?? ""}`, code: EXIT_ERROR };
}

/**
 * bpftool's do_help: the usage text on stderr (in JSON mode, `null` on stdout instead — except `perf`, whose help
 * ignores -j and leaves the JSON writer empty, so stdout gets only its closing newline).
 */
function helpOutcome(options: BpftoolOptions, text: string, code: number, object?: string): Outcome {
  if (options.json && (object === "perf" || object === "iter")) return { stdout: "\n", stderr: text, code };
  if (options.json) return { stdout: "null\n", stderr: "", code };
  return { stdout: "", stderr: text, code };
}

const VERSION = "0.1.0";

function versionOutcome(options: BpftoolOptions): Outcome {
  if (options.json) {
    const j = new JsonWriter(options.pretty).startObject()
      .field("version", VERSION).field("bpftool_version", "7.1.0").field("libbpf_version", "1.1")
      .name("features").startObject()
      .field("libbfd", false).field("libbpf_strict", !options.legacy).field("skeletons", true)
      .field("vm", true).field("kernel", true)
      .endObject().endObject();
    return { stdout: j.finish(), stderr: "", code: 0 };
  }
  const features = [...(options.legacy ? [] : ["libbpf_strict"]), "skeletons", "vm", "kernel"];
  return {
    stdout: `${BIN} v${VERSION}\nbpftool-compatible with bpftool v7.1.0, using libbpf v1.1 conventions (bpfkit's own loader)\nfeatures: ${features.join(", ")}\n`,
    stderr: "", code: 0,
  };
}

/** The global options as arguments again, for object modules that read them with parseToolArgs. */
export function optionArgs(o: BpftoolOptions): string[] {
  const out: string[] = [];
  if (o.json && !o.pretty) out.push("-j");
  if (o.pretty) out.push("-p");
  if (o.bpffs) out.push("-f");
  if (o.debug) out.push("-d");
  if (o.mapcompat) out.push("-m");
  if (o.nomount) out.push("-n");
  if (o.vm) out.push("--vm");
  if (o.baseBtf !== undefined) out.push("-B", o.baseBtf);
  return out;
}

/** The decision for one command line: an outcome to print, or an object module to run with these arguments. */
export type Route =
  | { readonly kind: "outcome"; readonly outcome: Outcome }
  | { readonly kind: "module"; readonly object: string; readonly args: string[]; readonly options: BpftoolOptions };

export function routeBpftool(argv: readonly string[]): Route {
  const parsed = parseBpftoolArgs(argv);
  const done = (outcome: Outcome): Route => ({ kind: "outcome", outcome });
  const o = parsed.options;
  if (!parsed.ok) {
    const err = errorOutcome(o, parsed.error);
    if (!o.json) err.stderr += renderUsage(MAIN_USAGE, BIN);
    return done(err);
  }
  if (o.version) return done(versionOutcome(o));
  const mainHelp = (code: number) => helpOutcome(o, renderUsage(MAIN_USAGE, BIN), code);
  if (o.help) return done(mainHelp(0));
  const [objectWord, ...rest] = parsed.words;
  if (objectWord === undefined) return done(mainHelp(0));
  const object = selectWord(objectWord, OBJECTS);
  if (object === undefined) return done(mainHelp(EXIT_ERROR));
  if (object === "help") return done(mainHelp(0));
  if (object === "version") return done(versionOutcome(o));
  if (object === "batch") return { kind: "module", object: "batch", args: [...optionArgs(o), "--", ...rest], options: o };
  const table = COMMANDS[object]!;
  const [verbWord, ...args] = rest;
  const verb = verbWord === undefined ? table[0]! : selectWord(verbWord, table);
  const usage = renderUsage(OBJECT_USAGE[object]!, BIN, objectWord);
  if (verb === undefined) return done(helpOutcome(o, usage, EXIT_ERROR, object));
  if (verb === "help") return done(helpOutcome(o, usage, 0, object));
  if (!MODULES.has(object)) return done(errorOutcome(o, `'${object} ${verb}' is not supported by bpfkit yet`));
  const words = [verb, ...args];
  // words that came after a literal `--` must not be read as options again by the module
  const sep = parsed.literal ? ["--"] : [];
  // gen's errors echo the word before its arguments as typed: the command (`sk`), or the object when none was given
  const typed = object === "gen" ? [TYPED, verbWord ?? objectWord]
    : verbWord !== undefined && verbWord !== verb && object !== "btf" ? [TYPED, verbWord] : [];
  // net's and map's usage() name the object as typed (`bpftool n { show | list }…`, `bpftool m { show | list }…`)
  const typedObject = (object === "net" || object === "map") && objectWord !== object ? [TYPED_OBJECT, objectWord] : [];
  // -L/--use-loader matters to gen (light skeletons) and prog load (the load run by a loader program) only
  const loader = o.useLoader && (object === "gen" || object === "prog") ? [USE_LOADER] : [];
  return { kind: "module", object, args: [...optionArgs(o), ...loader, ...typed, ...typedObject, ...sep, ...words], options: o };
}

/** How the front door tells `gen` that -L/--use-loader was given. */
export const USE_LOADER = "--use-loader";

/** For object modules: a command bpftool has that bpfkit does not run yet, said the bpftool way. */
export function notSupported(options: Pick<BpftoolOptions, "json" | "pretty">, object: string, verb: string): Outcome {
  return errorOutcome(options, `'${object} ${verb}' is not supported by bpfkit yet`);
}
