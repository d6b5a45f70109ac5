// `feature probe` against bpftool 7.1 on this kernel: every form (kernel, dev, full, unprivileged, macros, prefix,
// abbreviations, -j/-p, options after the command) and its argument errors, byte for byte with the exit status; as
// root, and as an unprivileged user (setpriv) with and without `unprivileged`. `unprivileged` drops capabilities for
// the rest of the process, as bpftool's does, so those lines run in processes of their own. Then the same forms on
// bpfkit's VM (--vm): bpftool's sections, keys and macro names, with the VM's own answers.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { runBpfkitLines } from "./cli.ts";

const haveBpftool = spawnSync("bpftool", ["version"]).status === 0;
const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
const haveSetpriv = spawnSync("setpriv", ["--version"]).status === 0;
const NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"];

const LINES: readonly string[] = [
  "feature probe", "feature probe full", "feature probe kernel", "feature probe kernel full", "f p k f",
  "feature probe macros", "feature probe full macros", "feature probe macros prefix BPF_", "f p m p X_",
  "-j feature probe", "-p feature probe", "feature -j probe full", "feature probe -p kernel", "-j feature probe macros",
  "-p feature probe macros prefix Y_", "feature probe dev lo", "-j feature probe dev lo", "f p d lo m",
  "-p feature probe d lo full",
  // argument errors, plain and JSON
  "feature probe dev", "feature probe d", "-j feature probe dev", "feature probe dev lo kernel", "feature probe kernel kernel",
  "feature probe kernel dev lo", "feature probe macros prefix", "feature probe prefix X", "feature probe macros prefix A prefix B",
  "feature probe macros macros", "feature probe bogus", "-j feature probe bogus", "feature probe dev nosuchdev0",
  "-j feature probe dev nosuchdev0", "feature probe full full", "feature pro",
];
const UNPRIVILEGED: readonly string[] = ["feature probe unprivileged", "-j feature probe unprivileged full", "f p u m"];
const AS_NOBODY: readonly string[] = ["feature probe", "-j feature probe", "feature probe unprivileged", "-p feature probe u kernel"];

function compare(lines: readonly string[], ours: readonly { stdout: string; stderr: string; status: number }[], wrap: readonly string[]): string[] {
  const diffs: string[] = [];
  lines.forEach((line, i) => {
    const argv = [...wrap, "bpftool", ...line.split(" ")];
    const ref = spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8", timeout: 60_000, maxBuffer: 1 << 26 });
    const o = ours[i]!;
    if (ref.stdout !== o.stdout || ref.stderr !== o.stderr || ref.status !== o.status) {
      const at = [...ref.stdout].findIndex((c, k) => c !== o.stdout[k]);
      diffs.push(`${wrap.length ? "(nobody) " : ""}${line}: bpftool ${ref.status} vs bpfkit ${o.status}; stdout differs at ${at}: ` +
        `${JSON.stringify(ref.stdout.slice(Math.max(0, at - 40), at + 40))} vs ${JSON.stringify(o.stdout.slice(Math.max(0, at - 40), at + 40))}; ` +
        `stderr ${JSON.stringify(ref.stderr.slice(0, 200))} vs ${JSON.stringify(o.stderr.slice(0, 200))}`);
    }
  });
  return diffs;
}

test("feature probe: every form identical to bpftool 7.1 on this kernel", (t) => {
  if (!haveBpftool || !isRoot) {
    console.log(`SKIP: feature probe differential needs ${haveBpftool ? "root" : "bpftool"}`);
    t.skip("bpftool or root absent");
    return;
  }
  const split = (ls: readonly string[]) => ls.map((l) => l.split(" "));
  const diffs = compare(LINES, runBpfkitLines(split(LINES)), []);
  for (const line of UNPRIVILEGED) diffs.push(...compare([line], runBpfkitLines(split([line])), []));
  let n = LINES.length + UNPRIVILEGED.length;
  if (haveSetpriv) {
    for (const line of AS_NOBODY) diffs.push(...compare([line], runBpfkitLines(split([line]), {}, NOBODY), NOBODY));
    n += AS_NOBODY.length;
  } else console.log("SKIP: feature probe as an unprivileged user needs setpriv (util-linux)");
  console.log(`feature probe: ${n - diffs.length}/${n} command lines identical to bpftool`);
  assert.deepEqual(diffs, []);
});

/** A probe's output with the answers taken out: what must be the same for any backend. */
function shape(plain: string): string[] {
  return plain.split("\n")
    .filter((l) => !l.startsWith("\t") && !/^(bpf\(\) syscall (for|restrict)|JIT|Unable to|Global memory)/.test(l))
    .map((l) => l.replace(/ is (NOT )?available$/, " is available").replace(/ is (set to .*|not set)$/, " is set"));
}
const macroNames = (m: string): string[] =>
  m.split("\n").map((l) => l.replace(/^#define (NO_)?(\S+).*$/, "$2").replace(/^\/\* (\S+) is not set \*\/$/, "$1"));
function jsonKeys(j: string): string[] {
  const o = JSON.parse(j) as Record<string, Record<string, unknown>>;
  return Object.entries(o).flatMap(([k, v]) => [k, ...Object.keys(v).map((x) => `${k}.${x}`)]);
}

test("feature probe --vm: bpftool's formats, with what bpfkit's VM supports", (t) => {
  const forms = ["feature probe", "feature probe macros", "-j feature probe", "-p feature probe full", "feature probe macros prefix P_"];
  const [plain, macros, json, pretty, prefixed] = runBpfkitLines(forms.map((l) => ["--vm", ...l.split(" ")]));
  for (const r of [plain, macros, json, pretty, prefixed]) assert.equal(r!.status, 0, r!.stderr);
  // the VM's own answers: its program types, map types and helpers
  assert.match(plain!.stdout, /^eBPF program_type xdp is available$/m);
  assert.match(plain!.stdout, /^eBPF program_type lirc_mode2 is NOT available$/m);
  assert.match(plain!.stdout, /^eBPF map_type ringbuf is available$/m);
  const helpersOf = (type: string) => /eBPF helpers supported for program type (\S+):\n((?:\t- .*\n)*)/g[Symbol.matchAll](plain!.stdout);
  const lists = new Map([...helpersOf("")].map((m) => [m[1]!, m[2]!.split("\n").filter(Boolean).map((l) => l.slice(3))]));
  assert.ok(lists.get("xdp")!.includes("bpf_xdp_adjust_head"));
  assert.ok(!lists.get("socket_filter")!.includes("bpf_xdp_adjust_head"), "socket filters cannot adjust XDP heads");
  assert.ok(lists.get("kprobe")!.includes("bpf_probe_read_kernel"));
  assert.match(plain!.stdout, /program type lirc_mode2:\n\tProgram type not supported\n/);
  assert.ok(JSON.parse(pretty!.stdout).helpers.xdp_available_helpers.includes("bpf_xdp_adjust_tail"));
  assert.match(prefixed!.stdout, /^#define P_HAVE_XDP_PROG_TYPE$/m);
  if (!haveBpftool || !isRoot) {
    console.log(`SKIP: feature probe --vm format comparison needs ${haveBpftool ? "root" : "bpftool"}`);
    t.skip("bpftool or root absent");
    return;
  }
  const ref = (l: string) => spawnSync("bpftool", l.split(" "), { encoding: "utf8", maxBuffer: 1 << 26 }).stdout;
  assert.deepEqual(shape(plain!.stdout), shape(ref("feature probe")));
  assert.deepEqual(macroNames(macros!.stdout), macroNames(ref("feature probe macros")));
  assert.deepEqual(jsonKeys(json!.stdout), jsonKeys(ref("-j feature probe")));
  assert.deepEqual(jsonKeys(pretty!.stdout), jsonKeys(ref("-p feature probe full")));
});
