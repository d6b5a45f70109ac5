// JIT speed: ns per executed instruction and ns per run for bpfkit's interpreter and WebAssembly JIT, uBPF's
// interpreter and x86-64 JIT (built from ../shared/peers/ubpf into a temporary folder), and the kernel JIT
// (BPF_PROG_TEST_RUN with repeat), all in this run; then the JIT's compile time per 1,000 instructions.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { assemble, encodeProgram } from "../src/isa/ebpf/index.ts";
import type { Insn } from "../src/isa/ebpf/insn.ts";
import { AddressSpace } from "../src/vm/index.ts";
import { defaultHelpers, hostEnv } from "../src/helpers/index.ts";
import { buildSkbContext } from "../src/runtime/index.ts";
import { createEngine, compileModule, type EngineKind } from "../src/jit/index.ts";
import { verify } from "../src/verifier/index.ts";
import { createMap } from "../src/maps/index.ts";
import { PROGRAMS, cpuMs, withMapRef } from "./interp.bench.ts";

// An IPv4/TCP port-80 filter over LD_ABS/LD_IND, the shape tcpdump filters take in eBPF. A socket filter's skb data
// starts at the network header (test_run pulls the Ethernet header), so the EtherType comes from skb->protocol.
const FILTER = `mov %r6, %r1\nldxw %r0, [%r6+16]\njne %r0, 0x8, drop\nldabsb 9\njne %r0, 6, drop\nldabsh 6\njset %r0, 0x1fff, drop\n`
  + `ldabsb 0\nand %r0, 0xf\nlsh %r0, 2\nmov %r7, %r0\nldindh %r7, 2\njeq %r0, 80, accept\nldindh %r7, 0\n`
  + `jeq %r0, 80, accept\ndrop:\nmov %r0, 0\nexit\naccept:\nmov %r0, 65535\nexit`;

function tcpPacket(): Uint8Array {
  const p = new Uint8Array(64);
  p.set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00], 0);
  p.set([0x45, 0, 0, 50, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2], 14);
  p.set([0x30, 0x39, 0, 80], 34);
  return p;
}

/** `mapType`: the map behind lddw 0 (2 array by default; 1 hash, holding key 0). */
interface Bench { name: string; insns: Insn[]; usesMap?: boolean; mapType?: 1 | 2; packet?: Uint8Array; ubpf?: boolean }

function ubpfDriver(tmp: string): string | { note: string } {
  const src = fileURLToPath(new URL("../../shared/peers/ubpf/src", import.meta.url));
  const peers = existsSync(src) ? src : "/work/shared/peers/ubpf/src";
  if (!existsSync(peers)) return { note: "uBPF source absent (../shared/peers/ubpf)" };
  try {
    execFileSync("cmake", ["-S", peers, "-B", join(tmp, "ubpf"), "-DCMAKE_BUILD_TYPE=Release", "-DUBPF_SKIP_EXTERNAL=ON",
      "-DUBPF_ENABLE_TESTS=OFF", "-DUBPF_INSTALL_GIT_HOOKS=OFF"], { stdio: "pipe" });
    execFileSync("cmake", ["--build", join(tmp, "ubpf"), "-j2"], { stdio: "pipe" });
    const drv = join(tmp, "ubpf-driver");
    execFileSync("gcc", ["-O2", "-o", drv, fileURLToPath(new URL("./ubpf-driver.c", import.meta.url)),
      `-I${join(peers, "vm/inc")}`, `-I${join(tmp, "ubpf/vm")}`, join(tmp, "ubpf/lib/libubpf.a")], { stdio: "pipe" });
    return drv;
  } catch (e) {
    return { note: `uBPF did not build: ${(e as Error).message.split("\n")[0]}` };
  }
}

async function kernelNsPerRun(b: Bench): Promise<number | string> {
  try {
    const k = await import("../test/oracle/kernel.ts");
    const avail = k.kernelAvailable();
    if (avail !== true) return avail;
    const loaded = k.kernelLoad(b.insns, {
      progType: "socket_filter", name: "jit_bench",
      ...(b.usesMap ? { maps: [{ type: b.mapType === 1 ? "hash" : "array", keySize: 4, valueSize: 8, maxEntries: 1 }] } : {}),
    });
    if (!loaded.accepted) return `kernel rejected it: ${loaded.log.trim().split("\n").pop()}`;
    if (b.mapType === 1) (await import("../src/kernel/bpf.ts")).mapUpdateElem(loaded.mapFds[0]!, new Uint8Array(4), new Uint8Array(8));
    try {
      let best = Infinity;
      for (let t = 0; t < 3; t++) best = Math.min(best, k.kernelTestRun(loaded.fd!, { data: b.packet ?? new Uint8Array(64), repeat: 5000 }).duration);
      return best;
    } finally { loaded.close(); }
  } catch (e) {
    return `kernel unavailable: ${(e as Error).message}`;
  }
}

/** ns per run of `b` on one engine (process CPU time, best of 7 trials), and instructions per run. */
function measure(kind: EngineKind, b: Bench): { ns: number; insns: number; r0: string } {
  const space = new AddressSpace();
  // the maps layer's ARRAY map (its default map registry resolves the pointer on both engines)
  const spec = { type: b.mapType ?? 2, keySize: 4, valueSize: 8, maxEntries: 1 };
  const map = createMap(space, spec);
  if (spec.type === 1) map.update(new Uint8Array(4), new Uint8Array(8));
  const handle = map.address;
  const e = createEngine(kind, space, { helpers: defaultHelpers, env: hostEnv() });
  const skb = buildSkbContext(space, b.packet ?? new Uint8Array(64));
  const v = verify(b.insns, { progType: "socket_filter", maps: b.usesMap ? [spec] : [] });
  const prog = e.load(b.insns, { name: b.name, resolve: { map: () => handle }, ...(v.accepted ? { facts: v.facts } : {}) });
  // both engines through run32 (r0's low half, no result object), as BPF_PROG_TEST_RUN's loop keeps only retval
  for (let k = 0; k < 200; k++) e.run32(prog, skb.run);
  const r = e.lastRun();
  const runs = Math.max(50, Math.round((kind === "jit" ? 2e8 : 1.5e7) / Math.max(r.insns, 20)));
  let best = Infinity;
  for (let t = 0; t < 7; t++) {
    const t0 = cpuMs();
    for (let k = 0; k < runs; k++) e.run32(prog, skb.run);
    best = Math.min(best, ((cpuMs() - t0) * 1e6) / runs);
  }
  return { ns: best, insns: r.insns, r0: r.toString() };
}

/**
 * A clang-built object from the ELF samples, loaded by the runtime's one object loader (openObject) into a VM system
 * on each engine or into the kernel, and timed as BPF_PROG_TEST_RUN repeat times it (Program.testRun: the context
 * built once, the clock read around the whole loop): ns/run, best of 5 after a warm-up, and r0.
 */
async function objectFigure(backend: "interp" | "jit" | "kernel", bytes: Uint8Array, prog: string, packet: Uint8Array): Promise<{ ns: number; r0: number } | string> {
  const { System, openObject } = await import("../src/runtime/index.ts");
  let be;
  if (backend === "kernel") {
    const k = await import("../test/oracle/kernel.ts");
    const avail = k.kernelAvailable();
    if (avail !== true) return avail;
    be = new (await import("../src/kernel/backend.ts")).LinuxBackend();
  } else be = new System({ engine: backend });
  try {
    const obj = openObject(be, bytes);
    try {
      const p = obj.programs.get(prog);
      if (p === undefined) return `${prog} not loaded: ${obj.skipped.get(prog) ?? "absent"}`;
      const repeat = backend === "interp" ? 20000 : 100000;
      let best = Infinity, r0 = 0;
      p.testRun(packet, { repeat: 20000 }); // warm-up: the interpreter's exec and the wasm reach their optimised tiers
      for (let t = 0; t < 5; t++) {
        const r = p.testRun(packet, { repeat });
        best = Math.min(best, r.duration); r0 = r.retval;
      }
      return { ns: best, r0 };
    } finally { obj.close(); }
  } catch (e) {
    return `${backend}: ${(e as Error).message}`;
  }
}

function compileTime(): { gen: number; wasm: number } {
  // a 10,000-slot program of ALU, loads/stores and forward branches, compiled (codegen + WebAssembly.Module) repeatedly
  const lines: string[] = ["mov %r0, 0", "mov %r1, 1", "mov %r2, 2"];
  for (let i = 0; lines.length < 9990; i++) {
    lines.push(`add %r0, ${i}`, `xor %r1, %r0`, `stxdw [%r10-${8 + (i % 8) * 8}], %r1`, `ldxdw %r2, [%r10-${8 + (i % 8) * 8}]`,
      `jgt %r2, ${i}, l${i}`, `mul %r1, 3`, `l${i}:`);
  }
  lines.push("exit");
  const insns = assemble(lines.join("\n"));
  const space = new AddressSpace();
  const e = createEngine("jit", space, {});
  const p = e.load(insns);
  let gen = Infinity, wasm = Infinity;
  for (let t = 0; t < 15; t++) {
    const t0 = cpuMs();
    const m = compileModule(p, 0, { scratch: 65536 });
    const t1 = cpuMs();
    new WebAssembly.Module(m.bytes as BufferSource);
    gen = Math.min(gen, t1 - t0); wasm = Math.min(wasm, cpuMs() - t1);
  }
  return { gen: (gen / insns.length) * 1000, wasm: (wasm / insns.length) * 1000 };
}

export async function main(): Promise<void> {
  const benches: Bench[] = PROGRAMS.map((p) => ({ name: p.name, insns: withMapRef(assemble(p.asm)), ...(p.usesMap ? { usesMap: true } : {}), ubpf: true }));
  // the ALU loop in ALU32/JMP32 (what i32 narrowing would speed up: V8 already emits 32-bit operations for it)
  const alu32 = `mov32 %r0, 0\nmov32 %r1, 10000\nmov32 %r2, 7\nloop:\nadd32 %r0, %r1\nmov32 %r3, %r1\nlsh32 %r3, 3\nxor32 %r0, %r3\n`
    + `mul32 %r2, 13\nadd32 %r2, %r0\nrsh32 %r0, 1\nsub32 %r1, 1\njne32 %r1, 0, loop\nadd32 %r0, %r2\nexit`;
  benches.splice(1, 0, { name: "alu32 loop", insns: assemble(alu32), ubpf: true });
  // the map-lookup loop on a hash map (1,000 trips: the verifier walks each trip's null check)
  const hashLoop = PROGRAMS.find((p) => p.name === "map lookup loop")!.asm.replace(/mov %r6, \d+/, "mov %r6, 1000");
  benches.push({ name: "hash lookup loop", insns: withMapRef(assemble(hashLoop)), usesMap: true, mapType: 1, ubpf: true });
  benches.push({ name: "packet filter", insns: assemble(FILTER), packet: tcpPacket(), ubpf: false });
  const tmp = mkdtempSync(join(tmpdir(), "bpfkit-ubpf-"));
  const drv = ubpfDriver(tmp);
  if (typeof drv !== "string") console.log(`NOTE uBPF skipped: ${drv.note}`);
  console.log("program            insns/run | ns/insn: interp     jit  uBPF-int  uBPF-jit  kernel | jit vs kernel  vs uBPF-jit  vs interp | ns/run jit  kernel");
  try {
    for (const b of benches) {
      const i = measure("interp", b), j = measure("jit", b);
      if (i.r0 !== j.r0) console.log(`MISMATCH ${b.name}: interp r0 ${i.r0}, jit r0 ${j.r0}`);
      let ui = NaN, uj = NaN, unote = "";
      if (typeof drv === "string" && b.ubpf) {
        const bin = join(tmp, "prog.bin");
        // uBPF has no map fds: the lddw of map 0 becomes a plain constant (its helper ignores r1)
        writeFileSync(bin, encodeProgram(b.insns.map((x) => (x.code === 0x18 ? { ...x, src: 0 } : x))));
        const out = execFileSync(drv, [bin, "64", String(Math.max(20, Math.round(2e6 / i.insns)))], { encoding: "utf8" }).trim().split(/\s+/);
        ui = Number(out[0]) / i.insns; uj = Number(out[1]) / i.insns;
      } else if (!b.ubpf) unote = "uBPF has no LD_ABS/LD_IND";
      const kr = await kernelNsPerRun(b);
      const kn = typeof kr === "number" ? kr / i.insns : NaN;
      const f = (x: number, w = 8, d = 2): string => (Number.isNaN(x) ? "n/a" : x.toFixed(d)).padStart(w);
      const ratio = (a: number, b: number): string => (Number.isNaN(a) || Number.isNaN(b) ? "n/a" : `${(a / b).toFixed(2)}x`).padStart(11);
      console.log(`${b.name.padEnd(18)} ${String(i.insns).padStart(9)} | ${f(i.ns / i.insns, 14)}${f(j.ns / j.insns)}${f(ui, 10)}${f(uj, 10)}${f(kn, 8, 3)} |`
        + `${ratio(j.ns / j.insns, kn)} ${ratio(j.ns / j.insns, uj)} ${ratio(i.ns, j.ns)} |${f(j.ns, 11, 0)}${f(typeof kr === "number" ? kr : NaN, 8, 0)}`
        + (typeof kr === "string" ? `  (kernel: ${kr})` : "") + (unote ? `  (${unote})` : ""));
    }
    const samples = process.env.BPFKIT_ELF_SAMPLES ?? "/work/elf-samples";
    const obj = join(samples, "libxdp1__xdpfilt_alw_tcp.o");
    if (existsSync(obj)) {
      const bytes = new Uint8Array(readFileSync(obj));
      const fig = { interp: await objectFigure("interp", bytes, "xdpfilt_alw_tcp", tcpPacket()), jit: await objectFigure("jit", bytes, "xdpfilt_alw_tcp", tcpPacket()),
        kernel: await objectFigure("kernel", bytes, "xdpfilt_alw_tcp", tcpPacket()) };
      const ns = (x: { ns: number } | string): string => (typeof x === "string" ? `n/a (${x})` : String(x.ns));
      const r0 = (x: { r0: number } | string): string => (typeof x === "string" ? "-" : String(x.r0));
      const i = fig.interp, j = fig.jit, k = fig.kernel;
      console.log(`clang object (libxdp xdpfilt_alw_tcp.o, xdp, TCP packet; Program.testRun repeat, as BPF_PROG_TEST_RUN): ns/run interp ${ns(i)}, jit ${ns(j)}, kernel ${ns(k)}`
        + (typeof i !== "string" && typeof j !== "string" ? `; interp ÷ jit ${(i.ns / j.ns).toFixed(2)}x` : "")
        + (typeof j !== "string" && typeof k !== "string" ? `; jit vs kernel ${(j.ns / k.ns).toFixed(2)}x` : "")
        + `; r0 ${r0(i)}/${r0(j)}/${r0(k)}  (uBPF n/a: needs the object's maps and an xdp context)`);
    } else console.log(`NOTE clang object skipped: ${obj} absent (set BPFKIT_ELF_SAMPLES)`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  console.log("(\"jit vs kernel\"/\"vs uBPF-jit\": bpfkit JIT time over theirs, lower is better; \"vs interp\": interpreter time over JIT time)");
  const ct = compileTime();
  console.log(`JIT compile time per 1,000 instructions (process CPU, best of 15, 8.5k-slot program): ${(ct.gen + ct.wasm).toFixed(3)} ms`
    + ` = bpfkit codegen ${ct.gen.toFixed(3)} ms + V8 WebAssembly.Module ${ct.wasm.toFixed(3)} ms`);
}
