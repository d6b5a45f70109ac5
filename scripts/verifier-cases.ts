// The verifier case corpus as source: every case is assembly (kernel syntax) + program type + maps. The expected
// verdicts, error lines and processed counts are recorded from the real kernel by scripts/record-verifier-cases.ts.

export interface CaseMap { type: number; keySize: number; valueSize: number; maxEntries: number; name?: string }
export interface CaseSource { name: string; progType: string; asm: string; maps?: CaseMap[] }

const ARRAY: CaseMap = { type: 2, keySize: 4, valueSize: 8, maxEntries: 4, name: "arr" };
const ARRAY48: CaseMap = { type: 2, keySize: 4, valueSize: 48, maxEntries: 1, name: "arr48" };
const HASH: CaseMap = { type: 1, keySize: 8, valueSize: 16, maxEntries: 16, name: "hash" };
const RINGBUF: CaseMap = { type: 27, keySize: 0, valueSize: 0, maxEntries: 4096, name: "rb" };
const PROGS: CaseMap = { type: 3, keySize: 4, valueSize: 4, maxEntries: 4, name: "progs" };

const cases: CaseSource[] = [];
const add = (name: string, progType: string, asm: string, maps?: CaseMap[]): void => {
  cases.push({ name, progType, asm: asm.trim().split("\n").map((l) => l.trim()).join("\n"), ...(maps ? { maps } : {}) });
};
const sz = (n: number): string => ({ 1: "u8", 2: "u16", 4: "u32", 8: "u64" } as Record<number, string>)[n]!;

// ---- ctx reads/writes per program type -------------------------------------------------------------------
const ctxSweep: [string, number[], number[]][] = [
  ["socket_filter", [0, 2, 3, 8, 48, 64, 66, 68, 72, 76, 80, 88, 140, 144, 152, 168, 188, 192, -4], [1, 2, 4, 8]],
  ["sched_cls", [0, 8, 48, 72, 76, 80, 88, 140, 144, 152, 168, 184], [4, 8]],
  ["cgroup_skb", [0, 8, 72, 76, 80, 88, 140, 160], [4, 2]],
  ["xdp", [0, 4, 8, 12, 16, 20, 24, 2], [4, 8, 2]],
  ["kprobe", [0, 8, 80, 160, 164, 168, 3], [8, 4, 1]],
  ["tracepoint", [0, 4, 8, 16, 2040, 2048], [8, 4]],
  ["raw_tracepoint", [0, 8, 88, 96, 4], [8, 4]],
  ["perf_event", [0, 160, 164, 168, 176, 184], [8, 4]],
];
for (const [t, offs, sizes] of ctxSweep) {
  for (const off of offs) for (const s of sizes) {
    add(`ctx-read ${t} off=${off} size=${s}`, t, `r0 = *(${sz(s)} *)(r1 ${off >= 0 ? "+" : ""}${off})\nr0 = 0\nexit`);
  }
}
const ctxWrites: [string, number[], number[]][] = [
  ["socket_filter", [0, 8, 48, 64, 68], [4, 8, 1]],
  ["sched_cls", [0, 8, 32, 48, 72, 76], [4]],
  ["cgroup_skb", [8, 32, 48, 0], [4]],
  ["xdp", [0, 12], [4]],
  ["kprobe", [0], [8]],
];
for (const [t, offs, sizes] of ctxWrites) {
  for (const off of offs) for (const s of sizes) {
    add(`ctx-write-reg ${t} off=${off} size=${s}`, t, `r2 = 1\n*(${sz(s)} *)(r1 +${off}) = r2\nr0 = 0\nexit`);
  }
}
add("ctx-write-imm socket_filter cb0", "socket_filter", "*(u32 *)(r1 +48) = 7\nr0 = 0\nexit");
add("ctx modified pointer read", "socket_filter", "r1 += 4\nr0 = *(u32 *)(r1 +0)\nr0 = 0\nexit");
add("ctx variable offset read", "socket_filter", "r2 = *(u32 *)(r1 +0)\nr2 &= 4\nr1 += r2\nr0 = *(u32 *)(r1 +0)\nr0 = 0\nexit");
add("ctx pointer returned", "socket_filter", "r0 = r1\nexit");
add("ctx copied then read", "socket_filter", "r6 = r1\nr0 = *(u32 *)(r6 +0)\nexit");

// ---- stack ---------------------------------------------------------------------------------------------------
for (const off of [-8, -16, -512, -520, 0, -4, -1, 8, -6]) for (const s of [1, 2, 4, 8]) {
  add(`stack write+read off=${off} size=${s}`, "socket_filter",
    `r1 = 5\n*(${sz(s)} *)(r10 ${off >= 0 ? "+" : ""}${off}) = r1\nr0 = *(${sz(s)} *)(r10 ${off >= 0 ? "+" : ""}${off})\nexit`);
}
add("stack uninit read", "socket_filter", "r0 = *(u64 *)(r10 -8)\nexit");
add("stack uninit read unaligned", "socket_filter", "r0 = *(u32 *)(r10 -6)\nexit");
add("stack spill ctx and fill", "socket_filter", "*(u64 *)(r10 -8) = r1\nr2 = *(u64 *)(r10 -8)\nr0 = *(u32 *)(r2 +0)\nexit");
add("stack spill ctx partial fill", "socket_filter", "*(u64 *)(r10 -8) = r1\nr2 = *(u32 *)(r10 -8)\nr0 = 0\nexit");
add("stack spill ctx partial overwrite then fill", "socket_filter", "*(u64 *)(r10 -8) = r1\n*(u32 *)(r10 -8) = 0\nr2 = *(u64 *)(r10 -8)\nr0 = *(u32 *)(r2 +0)\nexit");
add("stack spill ctx size 4", "socket_filter", "*(u32 *)(r10 -8) = r1\nr0 = 0\nexit");
add("stack spill scalar fill use as pointer", "socket_filter", "r1 = 0\n*(u64 *)(r10 -8) = r1\nr2 = *(u64 *)(r10 -8)\nr0 = *(u32 *)(r2 +0)\nexit");
add("stack st imm then read", "socket_filter", "*(u64 *)(r10 -8) = 42\nr0 = *(u64 *)(r10 -8)\nexit");
add("stack pointer arithmetic read", "socket_filter", "r2 = r10\nr2 += -16\nr1 = 1\n*(u64 *)(r2 +8) = r1\nr0 = *(u64 *)(r10 -8)\nexit");
add("stack pointer beyond", "socket_filter", "r2 = r10\nr2 += -600\nr0 = 0\nexit");
add("stack pointer beyond access", "socket_filter", "r2 = r10\nr2 += -600\nr0 = *(u64 *)(r2 +0)\nexit");
add("stack variable offset write", "socket_filter", "r2 = *(u32 *)(r1 +0)\nr2 &= 8\nr3 = r10\nr3 += -16\nr3 += r2\nr4 = 0\n*(u64 *)(r3 +0) = r4\nr0 = 0\nexit");
add("stack variable offset read", "socket_filter", "r2 = *(u32 *)(r1 +0)\nr2 &= 8\nr3 = r10\nr3 += -16\nr3 += r2\nr0 = *(u64 *)(r3 +0)\nexit");
add("stack variable offset unbounded", "socket_filter", "r2 = *(u32 *)(r1 +0)\nr3 = r10\nr3 += r2\nr0 = *(u64 *)(r3 +0)\nexit");
add("r10 write", "socket_filter", "r10 = 0\nr0 = 0\nexit");
add("r10 add", "socket_filter", "r10 += 8\nr0 = 0\nexit");
add("r10 load into", "socket_filter", "r10 = *(u64 *)(r1 +0)\nr0 = 0\nexit");
add("stack xadd", "socket_filter", "r1 = 0\n*(u64 *)(r10 -8) = r1\nr1 = 1\nlock *(u64 *)(r10 -8) += r1\nr0 = *(u64 *)(r10 -8)\nexit");
add("stack xadd misaligned", "socket_filter", "r1 = 0\n*(u64 *)(r10 -8) = r1\nr1 = 1\nlock *(u64 *)(r10 -4) += r1\nr0 = 0\nexit");
add("ctx xadd", "socket_filter", "r2 = 1\nlock *(u32 *)(r1 +48) += r2\nr0 = 0\nexit");

// ---- registers ------------------------------------------------------------------------------------------------
for (let r = 0; r <= 10; r++) add(`read uninit r${r}`, "socket_filter", `r0 = r${r}\nr0 = 0\nexit`);
add("exit without r0", "socket_filter", "exit");
add("exit with r0 from r2", "socket_filter", "r0 = r2\nexit");
add("r0 after call clobber", "kprobe", "r1 = 1\ncall bpf_ktime_get_ns#5\nr0 = r1\nexit");
add("r6 survives call", "kprobe", "r6 = 1\ncall bpf_ktime_get_ns#5\nr0 = r6\nexit");

// ---- ALU --------------------------------------------------------------------------------------------------------
const aluOps = ["+=", "-=", "*=", "/=", "|=", "&=", "<<=", ">>=", "%=", "^=", "s>>="];
for (const op of aluOps) {
  add(`alu64 ${op} on ctx`, "socket_filter", `r1 ${op} 2\nr0 = 0\nexit`);
  add(`alu32 ${op} on ctx`, "socket_filter", `w1 ${op} 2\nr0 = 0\nexit`);
  add(`alu64 ${op} scalar`, "socket_filter", `r0 = 7\nr0 ${op} 3\nexit`);
}
add("div by zero imm", "socket_filter", "r0 = 1\nr0 /= 0\nexit");
add("mod by zero imm", "socket_filter", "r0 = 1\nr0 %= 0\nexit");
add("div by zero reg", "socket_filter", "r0 = 1\nr1 = 0\nr0 /= r1\nexit");
add("shift 64 imm", "socket_filter", "r0 = 1\nr0 <<= 64\nexit");
add("shift 32 imm alu32", "socket_filter", "w0 = 1\nw0 <<= 32\nexit");
add("shift 63 imm", "socket_filter", "r0 = 1\nr0 <<= 63\nexit");
add("neg ctx", "socket_filter", "r1 = -r1\nr0 = 0\nexit");
add("bswap ctx", "socket_filter", "r1 = be16 r1\nr0 = 0\nexit");
add("pointer + pointer", "socket_filter", "r2 = r10\nr2 += r1\nr0 = 0\nexit");
add("pointer - pointer", "socket_filter", "r2 = r10\nr2 -= r1\nr0 = r2\nexit");
add("scalar - pointer", "socket_filter", "r2 = 5\nr2 -= r1\nr0 = 0\nexit");
add("scalar + pointer", "socket_filter", "r2 = 4\nr2 += r1\nr0 = *(u32 *)(r2 +0)\nexit");
add("mov32 pointer", "socket_filter", "w2 = w1\nr0 = r2\nexit");
add("ctx pointer too far", "socket_filter", "r1 += 0x20000000\nr0 = 0\nexit");
add("lddw const", "socket_filter", "r0 = 0x123456789 ll\nexit");
add("lddw to r10", "socket_filter", "r10 = 0x1 ll\nr0 = 0\nexit");

// ---- CFG ----------------------------------------------------------------------------------------------------------
add("unreachable tail", "socket_filter", "r0 = 0\nexit\nr0 = 1\nexit");
add("unreachable middle", "socket_filter", "r0 = 0\ngoto pc+1\nr0 = 1\nexit");
add("jump out of range forward", "socket_filter", "r0 = 0\ngoto pc+5\nexit");
add("jump out of range backward", "socket_filter", "r0 = 0\ngoto pc-5\nexit");
add("cond jump out of range", "socket_filter", "r0 = 0\nif r0 > 1 goto pc+7\nexit");
add("last insn not exit", "socket_filter", "r0 = 0");
add("last insn not exit 2", "socket_filter", "r0 = 0\nexit\nr0 = 1");
add("jump to self", "socket_filter", "r0 = 0\ngoto pc-1\nexit");
add("infinite loop const", "socket_filter", "r0 = 0\nr1 = 0\nif r1 == 0 goto pc-1\nexit");
add("bounded loop 10", "socket_filter", "r0 = 0\nr1 = 0\nr1 += 1\nr0 += 2\nif r1 < 10 goto pc-3\nexit");
add("bounded loop 100", "socket_filter", "r0 = 0\nr1 = 0\nr1 += 1\nif r1 < 100 goto pc-2\nexit");
add("bounded loop 1000", "socket_filter", "r0 = 0\nr1 = 0\nr1 += 1\nif r1 < 1000 goto pc-2\nexit");
add("unbounded loop on ctx value", "socket_filter", "r0 = 0\nr1 = *(u32 *)(r1 +0)\nr1 += 1\nif r1 != 0 goto pc-2\nexit");
add("loop counting down", "socket_filter", "r0 = 0\nr1 = 16\nr1 -= 1\nif r1 s> 0 goto pc-2\nexit");
add("loop with jmp32", "socket_filter", "r0 = 0\nw1 = 0\nw1 += 1\nif w1 < 20 goto pc-2\nexit");
add("jump into lddw middle", "socket_filter", "r0 = 0\nif r0 == 0 goto pc+1\nr1 = 0x100000000 ll\nexit");
add("lddw last", "socket_filter", "r0 = 0\nexit\nr1 = 0x1 ll");
add("both branches exit", "socket_filter", "r0 = *(u32 *)(r1 +0)\nif r0 > 3 goto pc+2\nr0 = 1\nexit\nr0 = 2\nexit");
add("dead branch const", "socket_filter", "r0 = 1\nif r0 == 2 goto pc+1\nexit\nr0 = *(u64 *)(r0 +0)\nexit");
add("dead branch range", "socket_filter", "r0 = *(u8 *)(r1 +0)\nif r0 > 300 goto pc+1\nexit\nr0 = *(u64 *)(r0 +0)\nexit");
add("live branch range", "socket_filter", "r0 = *(u8 *)(r1 +0)\nif r0 > 200 goto pc+1\nexit\nr0 = *(u64 *)(r0 +0)\nexit");
add("jmp32 dead branch", "socket_filter", "r0 = 0x100000001 ll\nif w0 == 1 goto pc+1\nr0 = *(u64 *)(r0 +0)\nexit");
add("jset branch", "socket_filter", "r0 = *(u32 *)(r1 +0)\nr0 &= 6\nif r0 & 1 goto pc+1\nexit\nr0 = *(u64 *)(r0 +0)\nexit");

// ---- encodings ------------------------------------------------------------------------------------------------------
const raw = (code: number, dst: number, src: number, off: number, imm: number): string =>
  `.raw ${code} ${dst} ${src} ${off} ${imm}`;
for (const code of [0x00, 0x06 | 0x80, 0x0e, 0x8f, 0xe7, 0xf4, 0x9c, 0xd7 | 0x08, 0x70, 0x68, 0xe1, 0x39, 0xdb - 0x18 + 0x08, 0x98, 0xe5]) {
  add(`opcode 0x${code.toString(16)}`, "socket_filter", `r0 = 0\n${raw(code, 0, 0, 0, 0)}\nexit`);
}
add("alu reserved src", "socket_filter", `r0 = 0\n${raw(0x07, 0, 1, 0, 1)}\nexit`);
add("alu reserved off", "socket_filter", `r0 = 0\n${raw(0x07, 0, 0, 3, 1)}\nexit`);
add("mov reserved off", "socket_filter", `${raw(0xb7, 0, 0, 1, 1)}\nexit`);
add("mov reg reserved imm", "socket_filter", `r1 = 1\n${raw(0xbf, 0, 1, 0, 5)}\nexit`);
add("exit reserved", "socket_filter", `r0 = 0\n${raw(0x95, 1, 0, 0, 0)}`);
add("ja reserved", "socket_filter", `r0 = 0\n${raw(0x05, 0, 0, 0, 3)}\nexit`);
add("call reserved", "socket_filter", `${raw(0x85, 1, 0, 0, 5)}\nr0 = 0\nexit`);
add("ldx reserved imm", "socket_filter", `${raw(0x61, 0, 1, 0, 5)}\nexit`);
add("stx reserved imm", "socket_filter", `r2 = 1\n${raw(0x63, 10, 2, -8, 5)}\nr0 = 0\nexit`);
add("st reserved src", "socket_filter", `${raw(0x62, 10, 1, -8, 5)}\nr0 = 0\nexit`);
add("jmp reserved src", "socket_filter", `r0 = 0\n${raw(0x15, 0, 1, 0, 0)}\nexit`);
add("jmp x reserved imm", "socket_filter", `r0 = 0\n${raw(0x1d, 0, 0, 0, 5)}\nexit`);
add("dst register 11", "socket_filter", `${raw(0xb7, 11, 0, 0, 0)}\nr0 = 0\nexit`);
add("src register 12", "socket_filter", `${raw(0xbf, 0, 12, 0, 0)}\nexit`);
add("lddw bad second half", "socket_filter", `${raw(0x18, 0, 0, 0, 1)}\n${raw(0x00, 1, 0, 0, 0)}\nexit`);
add("lddw unknown src", "socket_filter", `${raw(0x18, 0, 7, 0, 1)}\n${raw(0x00, 0, 0, 0, 0)}\nexit`);
add("atomic bad op", "socket_filter", `r1 = 0\n*(u64 *)(r10 -8) = r1\n${raw(0xdb, 10, 1, -8, 0x31)}\nr0 = 0\nexit`);
add("atomic size h", "socket_filter", `r1 = 0\n*(u64 *)(r10 -8) = r1\n${raw(0xcb, 10, 1, -8, 0)}\nr0 = 0\nexit`);
add("endian bad imm", "socket_filter", `r0 = 0\n${raw(0xd4, 0, 0, 0, 8)}\nexit`);
add("neg reserved", "socket_filter", `r0 = 0\n${raw(0x87, 0, 0, 0, 1)}\nexit`);

// ---- map values -----------------------------------------------------------------------------------------------------
const lookup = (after: string, pre = "r1 = 0\n*(u32 *)(r10 -4) = r1"): string =>
  `${pre}\nr2 = r10\nr2 += -4\nr1 = map[id:0]\ncall bpf_map_lookup_elem#1\n${after}`;
for (const off of [0, 4, 7, 8, -1, -8]) for (const s of [1, 4, 8]) {
  add(`map value read off=${off} size=${s}`, "socket_filter",
    lookup(`if r0 == 0 goto pc+1\nr0 = *(${sz(s)} *)(r0 ${off >= 0 ? "+" : ""}${off})\nr0 = 0\nexit`), [ARRAY]);
}
for (const off of [0, 8, 40, 44, 48]) {
  add(`map value write off=${off}`, "socket_filter",
    lookup(`if r0 == 0 goto pc+2\nr1 = 1\n*(u64 *)(r0 +${off}) = r1\nr0 = 0\nexit`), [ARRAY48]);
}
add("map value no null check", "socket_filter", lookup("r0 = *(u64 *)(r0 +0)\nr0 = 0\nexit"), [ARRAY]);
add("map value null check inverted", "socket_filter", lookup("if r0 != 0 goto pc+2\nr0 = *(u64 *)(r0 +0)\nexit\nr0 = 0\nexit"), [ARRAY]);
add("map value const key elided null", "socket_filter", lookup("r0 = *(u64 *)(r0 +0)\nr0 = 0\nexit", "*(u32 *)(r10 -4) = 0"), [ARRAY]);
add("map value const key out of range", "socket_filter", lookup("r0 = *(u64 *)(r0 +0)\nr0 = 0\nexit", "*(u32 *)(r10 -4) = 9"), [ARRAY]);
add("map value copy null check", "socket_filter", lookup("r6 = r0\nif r0 == 0 goto pc+1\nr0 = *(u64 *)(r6 +0)\nr0 = 0\nexit"), [ARRAY]);
add("map value arithmetic before null check", "socket_filter", lookup("r0 += 4\nr0 = 0\nexit"), [ARRAY]);
add("map value var offset bounded", "socket_filter",
  lookup("if r0 == 0 goto pc+5\nr1 = *(u32 *)(r0 +0)\nr1 &= 31\nr0 += r1\nr0 = *(u8 *)(r0 +0)\nr0 = 0\nexit"), [ARRAY48]);
add("map value var offset too big", "socket_filter",
  lookup("if r0 == 0 goto pc+5\nr1 = *(u32 *)(r0 +0)\nr1 &= 63\nr0 += r1\nr0 = *(u8 *)(r0 +0)\nr0 = 0\nexit"), [ARRAY48]);
add("map value var offset unbounded", "socket_filter",
  lookup("if r0 == 0 goto pc+4\nr1 = *(u32 *)(r0 +0)\nr0 += r1\nr0 = *(u8 *)(r0 +0)\nr0 = 0\nexit"), [ARRAY48]);
add("map value var offset signed", "socket_filter",
  lookup("if r0 == 0 goto pc+5\nr1 = *(u64 *)(r0 +0)\nif r1 s> 10 goto pc+2\nr0 += r1\nr0 = *(u8 *)(r0 +0)\nr0 = 0\nexit"), [ARRAY48]);
add("map value var offset by branch", "socket_filter",
  lookup("if r0 == 0 goto pc+5\nr1 = *(u32 *)(r0 +0)\nif r1 > 40 goto pc+2\nr0 += r1\nr0 = *(u64 *)(r0 +0)\nr0 = 0\nexit"), [ARRAY48]);
add("map value var offset by branch ok", "socket_filter",
  lookup("if r0 == 0 goto pc+5\nr1 = *(u32 *)(r0 +0)\nif r1 > 40 goto pc+2\nr0 += r1\nr1 = *(u64 *)(r0 +0)\nr0 = 0\nexit"), [ARRAY48]);
add("map value var offset jle", "socket_filter",
  lookup("if r0 == 0 goto pc+5\nr1 = *(u32 *)(r0 +0)\nif r1 <= 32 goto pc+1\nr1 = 0\nr0 += r1\nr1 = *(u64 *)(r0 +0)\nr0 = 0\nexit"), [ARRAY48]);
add("map lookup key uninit", "socket_filter", "r2 = r10\nr2 += -4\nr1 = map[id:0]\ncall bpf_map_lookup_elem#1\nr0 = 0\nexit", [ARRAY]);
add("map lookup key not pointer", "socket_filter", "r2 = 0\nr1 = map[id:0]\ncall bpf_map_lookup_elem#1\nr0 = 0\nexit", [ARRAY]);
add("map lookup map not map", "socket_filter", "r2 = r10\nr2 += -4\nr1 = 0\ncall bpf_map_lookup_elem#1\nr0 = 0\nexit", [ARRAY]);
add("map lookup key too small", "socket_filter", "r1 = 0\n*(u64 *)(r10 -8) = r1\nr2 = r10\nr2 += -4\nr1 = map[id:0]\ncall bpf_map_lookup_elem#1\nr0 = 0\nexit", [HASH]);
add("map lookup key overflow stack", "socket_filter", "r2 = r10\nr2 += -4\nr1 = map[id:0]\ncall bpf_map_lookup_elem#1\nr0 = 0\nexit", [HASH]);
add("hash lookup ok", "socket_filter", "r1 = 0\n*(u64 *)(r10 -8) = r1\nr2 = r10\nr2 += -8\nr1 = map[id:0]\ncall bpf_map_lookup_elem#1\nif r0 == 0 goto pc+1\nr0 = *(u64 *)(r0 +8)\nr0 = 0\nexit", [HASH]);
add("hash lookup read past", "socket_filter", "r1 = 0\n*(u64 *)(r10 -8) = r1\nr2 = r10\nr2 += -8\nr1 = map[id:0]\ncall bpf_map_lookup_elem#1\nif r0 == 0 goto pc+1\nr0 = *(u64 *)(r0 +12)\nr0 = 0\nexit", [HASH]);
add("map update ok", "socket_filter", "r1 = 0\n*(u64 *)(r10 -8) = r1\n*(u64 *)(r10 -16) = r1\n*(u64 *)(r10 -24) = r1\nr2 = r10\nr2 += -8\nr3 = r10\nr3 += -24\nr4 = 0\nr1 = map[id:0]\ncall bpf_map_update_elem#2\nr0 = 0\nexit", [HASH]);
add("map update value uninit", "socket_filter", "r1 = 0\n*(u64 *)(r10 -8) = r1\nr2 = r10\nr2 += -8\nr3 = r10\nr3 += -24\nr4 = 0\nr1 = map[id:0]\ncall bpf_map_update_elem#2\nr0 = 0\nexit", [HASH]);
add("map update flags missing", "socket_filter", "r1 = 0\n*(u64 *)(r10 -8) = r1\n*(u64 *)(r10 -16) = r1\n*(u64 *)(r10 -24) = r1\nr2 = r10\nr2 += -8\nr3 = r10\nr3 += -24\nr1 = map[id:0]\ncall bpf_map_update_elem#2\nr0 = 0\nexit", [HASH]);
add("map delete ok", "socket_filter", "r1 = 0\n*(u64 *)(r10 -8) = r1\nr2 = r10\nr2 += -8\nr1 = map[id:0]\ncall bpf_map_delete_elem#3\nr0 = 0\nexit", [HASH]);
add("map value direct lddw 4 entries", "socket_filter", "r1 = map[id:0][0]+4\nr0 = *(u32 *)(r1 +0)\nexit", [ARRAY]);
const ONE: CaseMap = { type: 2, keySize: 4, valueSize: 8, maxEntries: 1, name: "one" };
add("map value direct lddw", "socket_filter", "r1 = map[id:0][0]+4\nr0 = *(u32 *)(r1 +0)\nexit", [ONE]);
add("map value direct lddw past 1 entry", "socket_filter", "r1 = map[id:0][0]+4\nr0 = *(u64 *)(r1 +0)\nexit", [ONE]);
add("map value direct lddw bad off 1 entry", "socket_filter", "r1 = map[id:0][0]+8\nr0 = 0\nexit", [ONE]);
add("map value direct lddw hash", "socket_filter", "r1 = map[id:0][0]+0\nr0 = 0\nexit", [HASH]);
add("map value direct lddw past", "socket_filter", "r1 = map[id:0][0]+4\nr0 = *(u64 *)(r1 +0)\nexit", [ARRAY]);
add("map value direct lddw bad off", "socket_filter", "r1 = map[id:0][0]+8\nr0 = 0\nexit", [ARRAY]);
add("map ptr deref", "socket_filter", "r1 = map[id:0]\nr0 = *(u64 *)(r1 +0)\nexit", [ARRAY]);
add("map ptr arithmetic", "socket_filter", "r1 = map[id:0]\nr1 += 8\nr0 = 0\nexit", [ARRAY]);
add("map value store pointer", "socket_filter", lookup("if r0 == 0 goto pc+1\n*(u64 *)(r0 +0) = r10\nr0 = 0\nexit"), [ARRAY]);
add("map value xadd", "socket_filter", lookup("if r0 == 0 goto pc+2\nr1 = 1\nlock *(u64 *)(r0 +0) += r1\nr0 = 0\nexit"), [ARRAY]);
add("map value return", "socket_filter", lookup("exit"), [ARRAY]);
add("map lookup ringbuf", "socket_filter", lookup("r0 = 0\nexit"), [RINGBUF]);

// ---- packets ----------------------------------------------------------------------------------------------------
const pkt = (t: string, n: number, access: number, s: number, op = ">") => {
  const a = t === "xdp" ? ["r2 = *(u32 *)(r1 +0)", "r3 = *(u32 *)(r1 +4)"] : ["r2 = *(u32 *)(r1 +76)", "r3 = *(u32 *)(r1 +80)"];
  add(`pkt ${t} check ${n} ${op} read ${access}/${s}`, t,
    `${a[0]}\n${a[1]}\nr4 = r2\nr4 += ${n}\nif r4 ${op} r3 goto pc+1\nr0 = *(${sz(s)} *)(r2 +${access})\nr0 = 0\nexit`);
};
for (const [n, acc, s] of [[8, 0, 8], [8, 4, 4], [8, 4, 8], [14, 12, 2], [14, 13, 2], [1, 0, 1], [0, 0, 1], [64, 56, 8]] as const) {
  pkt("xdp", n, acc, s);
  pkt("sched_cls", n, acc, s);
}
for (const op of [">=", "<", "<="]) { pkt("xdp", 8, 0, 8, op); pkt("xdp", 8, 4, 4, op); }
add("pkt no check", "xdp", "r2 = *(u32 *)(r1 +0)\nr0 = *(u8 *)(r2 +0)\nr0 = 0\nexit");
add("pkt end deref", "xdp", "r3 = *(u32 *)(r1 +4)\nr0 = *(u8 *)(r3 +0)\nr0 = 0\nexit");
add("pkt end arithmetic", "xdp", "r3 = *(u32 *)(r1 +4)\nr3 += 1\nr0 = 0\nexit");
add("pkt reversed check", "xdp", "r2 = *(u32 *)(r1 +0)\nr3 = *(u32 *)(r1 +4)\nr4 = r2\nr4 += 4\nif r3 < r4 goto pc+1\nr0 = *(u32 *)(r2 +0)\nr0 = 0\nexit");
add("pkt write xdp", "xdp", "r2 = *(u32 *)(r1 +0)\nr3 = *(u32 *)(r1 +4)\nr4 = r2\nr4 += 4\nif r4 > r3 goto pc+2\nr5 = 1\n*(u32 *)(r2 +0) = r5\nr0 = 2\nexit");
add("pkt data socket_filter", "socket_filter", "r2 = *(u32 *)(r1 +76)\nr0 = 0\nexit");
add("pkt var offset", "xdp", "r2 = *(u32 *)(r1 +0)\nr3 = *(u32 *)(r1 +4)\nr4 = r2\nr4 += 8\nif r4 > r3 goto pc+5\nr5 = *(u8 *)(r2 +0)\nr5 &= 7\nr2 += r5\nr0 = *(u8 *)(r2 +0)\nr0 = 0\nexit");
add("pkt var offset then check", "xdp", "r2 = *(u32 *)(r1 +0)\nr3 = *(u32 *)(r1 +4)\nr4 = r2\nr4 += 8\nif r4 > r3 goto pc+8\nr5 = *(u8 *)(r2 +0)\nr5 &= 7\nr2 += r5\nr4 = r2\nr4 += 1\nif r4 > r3 goto pc+1\nr0 = *(u8 *)(r2 +0)\nr0 = 0\nexit");
add("pkt after adjust_head", "xdp", "r6 = r1\nr2 = *(u32 *)(r6 +0)\nr3 = *(u32 *)(r6 +4)\nr4 = r2\nr4 += 4\nif r4 > r3 goto pc+5\nr1 = r6\nr2 = 0\ncall bpf_xdp_adjust_head#44\nr2 = *(u32 *)(r6 +0)\nr0 = *(u8 *)(r2 +0)\nr0 = 2\nexit");
add("pkt meta", "xdp", "r2 = *(u32 *)(r1 +8)\nr3 = *(u32 *)(r1 +0)\nr4 = r2\nr4 += 4\nif r4 > r3 goto pc+1\nr0 = *(u32 *)(r2 +0)\nr0 = 2\nexit");
add("pkt compare with scalar", "xdp", "r2 = *(u32 *)(r1 +0)\nif r2 > 10 goto pc+1\nr0 = 0\nr0 = 2\nexit");
add("ld_abs socket", "socket_filter", "r6 = r1\nr0 = *(u8 *)skb[12]\nexit");
add("ld_abs without r6", "socket_filter", "r0 = *(u8 *)skb[12]\nexit");
add("ld_abs xdp", "xdp", "r6 = r1\nr0 = *(u8 *)skb[12]\nexit");
add("ld_ind socket", "socket_filter", "r6 = r1\nr7 = 2\nr0 = *(u16 *)skb[r7 + 12]\nexit");
add("ld_abs clobbers r1", "socket_filter", "r6 = r1\nr0 = *(u8 *)skb[12]\nr0 = r1\nexit");

// ---- helpers -------------------------------------------------------------------------------------------------
add("helper unknown id", "socket_filter", "call 100000\nr0 = 0\nexit");
add("helper not for socket_filter", "socket_filter", "call bpf_get_current_pid_tgid#14\nexit");
add("helper ktime kprobe", "kprobe", "call bpf_ktime_get_ns#5\nexit");
add("helper pid kprobe", "kprobe", "call bpf_get_current_pid_tgid#14\nexit");
add("helper comm ok", "kprobe", "r1 = r10\nr1 += -16\nr2 = 16\ncall bpf_get_current_comm#16\nr0 = 0\nexit");
add("helper comm too big", "kprobe", "r1 = r10\nr1 += -16\nr2 = 32\ncall bpf_get_current_comm#16\nr0 = 0\nexit");
add("helper comm zero", "kprobe", "r1 = r10\nr1 += -16\nr2 = 0\ncall bpf_get_current_comm#16\nr0 = 0\nexit");
add("helper comm var size", "kprobe", "r6 = r1\ncall bpf_get_prandom_u32#7\nr2 = r0\nr2 &= 15\nr2 += 1\nr1 = r10\nr1 += -16\ncall bpf_get_current_comm#16\nr0 = 0\nexit");
add("helper comm unbounded size", "kprobe", "call bpf_get_prandom_u32#7\nr2 = r0\nr1 = r10\nr1 += -16\ncall bpf_get_current_comm#16\nr0 = 0\nexit");
add("helper comm negative size", "kprobe", "call bpf_get_prandom_u32#7\nr2 = r0\nr2 -= 5\nr1 = r10\nr1 += -16\ncall bpf_get_current_comm#16\nr0 = 0\nexit");
add("helper probe_read ok", "kprobe", "r3 = *(u64 *)(r1 +0)\nr1 = r10\nr1 += -8\nr2 = 8\ncall bpf_probe_read_kernel#113\nr0 = *(u64 *)(r10 -8)\nexit");
add("helper probe_read zero", "kprobe", "r3 = 0\nr1 = r10\nr1 += -8\nr2 = 0\ncall bpf_probe_read_kernel#113\nr0 = 0\nexit");
add("helper probe_read to ctx", "kprobe", "r3 = 0\nr2 = 8\ncall bpf_probe_read_kernel#113\nr0 = 0\nexit");
add("helper trace_printk ok", "kprobe", "r1 = 0x0a6968 ll\n*(u64 *)(r10 -8) = r1\nr1 = r10\nr1 += -8\nr2 = 4\ncall bpf_trace_printk#6\nr0 = 0\nexit");
add("helper trace_printk uninit", "kprobe", "r1 = r10\nr1 += -8\nr2 = 4\ncall bpf_trace_printk#6\nr0 = 0\nexit");
add("helper skb_load_bytes", "socket_filter", "r2 = 0\nr3 = r10\nr3 += -8\nr4 = 8\ncall bpf_skb_load_bytes#26\nr0 = *(u64 *)(r10 -8)\nexit");
add("helper skb_load_bytes ctx wrong", "socket_filter", "r1 = r10\nr2 = 0\nr3 = r10\nr3 += -8\nr4 = 8\ncall bpf_skb_load_bytes#26\nr0 = 0\nexit");
add("helper get_socket_cookie", "socket_filter", "call bpf_get_socket_cookie#46\nexit");
add("helper arg uninit", "kprobe", "call bpf_get_current_comm#16\nr0 = 0\nexit");
add("helper redirect xdp", "xdp", "r1 = 1\nr2 = 0\ncall bpf_redirect#23\nexit");
add("helper tail call", "socket_filter", "r2 = map[id:0]\nr3 = 0\ncall bpf_tail_call#12\nr0 = 0\nexit", [PROGS]);
add("helper tail call wrong map", "socket_filter", "r2 = map[id:0]\nr3 = 0\ncall bpf_tail_call#12\nr0 = 0\nexit", [ARRAY]);
add("helper prandom socket", "socket_filter", "call bpf_get_prandom_u32#7\nexit");
add("helper smp id", "xdp", "call bpf_get_smp_processor_id#8\nr0 = 2\nexit");
add("helper ringbuf output", "kprobe", "r1 = 0\n*(u64 *)(r10 -8) = r1\nr1 = map[id:0]\nr2 = r10\nr2 += -8\nr3 = 8\nr4 = 0\ncall bpf_ringbuf_output#130\nr0 = 0\nexit", [RINGBUF]);
add("helper ringbuf output wrong map", "kprobe", "r1 = 0\n*(u64 *)(r10 -8) = r1\nr1 = map[id:0]\nr2 = r10\nr2 += -8\nr3 = 8\nr4 = 0\ncall bpf_ringbuf_output#130\nr0 = 0\nexit", [ARRAY]);
const reserve = "r1 = map[id:0]\nr2 = 16\nr3 = 0\ncall bpf_ringbuf_reserve#131";
add("ringbuf reserve submit", "kprobe", `${reserve}\nif r0 == 0 goto pc+5\nr1 = 7\n*(u64 *)(r0 +0) = r1\nr1 = r0\nr2 = 0\ncall bpf_ringbuf_submit#132\nr0 = 0\nexit`, [RINGBUF]);
add("ringbuf reserve discard", "kprobe", `${reserve}\nif r0 == 0 goto pc+3\nr1 = r0\nr2 = 0\ncall bpf_ringbuf_discard#133\nr0 = 0\nexit`, [RINGBUF]);
add("ringbuf reserve leak", "kprobe", `${reserve}\nr0 = 0\nexit`, [RINGBUF]);
add("ringbuf reserve leak after check", "kprobe", `${reserve}\nif r0 == 0 goto pc+1\nr0 = 0\nexit`, [RINGBUF]);
add("ringbuf submit without check", "kprobe", `${reserve}\nr1 = r0\nr2 = 0\ncall bpf_ringbuf_submit#132\nr0 = 0\nexit`, [RINGBUF]);
add("ringbuf write past", "kprobe", `${reserve}\nif r0 == 0 goto pc+5\nr1 = 7\n*(u64 *)(r0 +16) = r1\nr1 = r0\nr2 = 0\ncall bpf_ringbuf_submit#132\nr0 = 0\nexit`, [RINGBUF]);
add("ringbuf submit twice", "kprobe", `${reserve}\nif r0 == 0 goto pc+7\nr6 = r0\nr1 = r0\nr2 = 0\ncall bpf_ringbuf_submit#132\nr1 = r6\nr2 = 0\ncall bpf_ringbuf_submit#132\nr0 = 0\nexit`, [RINGBUF]);
add("ringbuf submit offset", "kprobe", `${reserve}\nif r0 == 0 goto pc+4\nr1 = r0\nr1 += 8\nr2 = 0\ncall bpf_ringbuf_submit#132\nr0 = 0\nexit`, [RINGBUF]);
add("ringbuf reserve var size", "kprobe", `call bpf_get_prandom_u32#7\nr2 = r0\nr2 &= 15\nr1 = map[id:0]\nr3 = 0\ncall bpf_ringbuf_reserve#131\nr0 = 0\nexit`, [RINGBUF]);
add("ringbuf submit scalar", "kprobe", "r1 = 0\nr2 = 0\ncall bpf_ringbuf_submit#132\nr0 = 0\nexit", [RINGBUF]);
add("ringbuf use after submit", "kprobe", `${reserve}\nif r0 == 0 goto pc+6\nr6 = r0\nr1 = r0\nr2 = 0\ncall bpf_ringbuf_submit#132\nr0 = *(u64 *)(r6 +0)\nr0 = 0\nexit`, [RINGBUF]);

// ---- bpf-to-bpf calls ------------------------------------------------------------------------------------------
add("subprog simple", "socket_filter", "call pc+2\nr0 = 0\nexit\nr0 = 1\nexit");
add("subprog returns value", "socket_filter", "r1 = 5\ncall pc+1\nexit\nr0 = r1\nexit");
add("subprog r0 uninit", "socket_filter", "call pc+2\nr0 = 0\nexit\nexit");
add("subprog caller regs clobbered", "socket_filter", "r1 = 5\ncall pc+2\nr0 = r1\nexit\nr0 = 1\nexit");
add("subprog r6 preserved", "socket_filter", "r6 = 5\ncall pc+2\nr0 = r6\nexit\nr0 = 1\nexit");
add("subprog stack pointer arg", "socket_filter", "r1 = 0\n*(u64 *)(r10 -8) = r1\nr1 = r10\nr1 += -8\ncall pc+2\nr0 = 0\nexit\nr0 = *(u64 *)(r1 +0)\nexit");
add("subprog returns stack pointer", "socket_filter", "call pc+2\nr0 = 0\nexit\nr0 = r10\nexit");
add("subprog bad target", "socket_filter", "call pc+9\nr0 = 0\nexit");
add("subprog jump across", "socket_filter", "call pc+2\ngoto pc+2\nexit\nr0 = 1\nexit");
add("subprog stack 2x300", "socket_filter", "r1 = 0\n*(u64 *)(r10 -300) = r1\ncall pc+2\nr0 = 0\nexit\nr1 = 0\n*(u64 *)(r10 -300) = r1\nr0 = 0\nexit");
add("subprog stack 2x200", "socket_filter", "r1 = 0\n*(u64 *)(r10 -200) = r1\ncall pc+2\nr0 = 0\nexit\nr1 = 0\n*(u64 *)(r10 -200) = r1\nr0 = 0\nexit");
{
  let s = "";
  for (let i = 0; i < 9; i++) s += "call pc+2\nr0 = 0\nexit\n";
  s += "r0 = 0\nexit";
  add("subprog 10 deep", "socket_filter", s);
  let t = "";
  for (let i = 0; i < 7; i++) t += "call pc+2\nr0 = 0\nexit\n";
  t += "r0 = 0\nexit";
  add("subprog 8 deep", "socket_filter", t);
}
add("subprog recursion", "socket_filter", "call pc+2\nr0 = 0\nexit\ncall pc-1\nr0 = 0\nexit");
add("subprog ctx passed", "socket_filter", "call pc+1\nexit\nr0 = *(u32 *)(r1 +0)\nexit");

// ---- branches and bounds ----------------------------------------------------------------------------------------
const vsel = (check: string, access: string) =>
  lookup(`if r0 == 0 goto pc+6\nr1 = *(u32 *)(r0 +0)\n${check}\nr0 += r1\n${access}\nr0 = 0\nexit\nr0 = 0\nexit`);
for (const [check, ok] of [["if r1 > 40 goto pc+3", 1], ["if r1 >= 40 goto pc+3", 1], ["if r1 > 41 goto pc+3", 0], ["if r1 s> 40 goto pc+3", 0],
  ["if w1 > 40 goto pc+3", 1], ["if r1 != 3 goto pc+3", 1], ["if r1 & 0xffffff00 goto pc+3", 0], ["if r1 >= 41 goto pc+3", 0]] as const) {
  add(`bounds ${check}${ok ? "" : " (too loose)"}`, "socket_filter", vsel(check, "r1 = *(u64 *)(r0 +0)"), [ARRAY48]);
}
add("bounds linked regs", "socket_filter", lookup("if r0 == 0 goto pc+6\nr1 = *(u32 *)(r0 +0)\nr2 = r1\nif r2 > 40 goto pc+3\nr0 += r1\nr1 = *(u64 *)(r0 +0)\nr0 = 0\nexit"), [ARRAY48]);
add("bounds mask and shift", "socket_filter", lookup("if r0 == 0 goto pc+6\nr1 = *(u32 *)(r0 +0)\nr1 &= 0xff\nr1 >>= 3\nr0 += r1\nr1 = *(u64 *)(r0 +0)\nr0 = 0\nexit"), [ARRAY48]);
add("bounds mul", "socket_filter", lookup("if r0 == 0 goto pc+6\nr1 = *(u32 *)(r0 +0)\nr1 &= 3\nr1 *= 8\nr0 += r1\nr1 = *(u64 *)(r0 +0)\nr0 = 0\nexit"), [ARRAY48]);
add("bounds mul too big", "socket_filter", lookup("if r0 == 0 goto pc+6\nr1 = *(u32 *)(r0 +0)\nr1 &= 7\nr1 *= 8\nr0 += r1\nr1 = *(u64 *)(r0 +0)\nr0 = 0\nexit"), [ARRAY48]);
add("bounds alu32 wrap", "socket_filter", lookup("if r0 == 0 goto pc+6\nr1 = *(u32 *)(r0 +0)\nw1 &= 7\nw1 -= 1\nr0 += r1\nr1 = *(u8 *)(r0 +0)\nr0 = 0\nexit"), [ARRAY48]);
add("bounds signed check", "socket_filter", lookup("if r0 == 0 goto pc+7\nr1 = *(u64 *)(r0 +0)\nif r1 s< 0 goto pc+5\nif r1 s> 40 goto pc+4\nr0 += r1\nr1 = *(u64 *)(r0 +0)\nr0 = 0\nexit"), [ARRAY48]);
add("bounds ctx len", "sched_cls", "r2 = *(u32 *)(r1 +0)\nif r2 > 64 goto pc+3\nr3 = r10\nr3 += -64\nr0 = 0\nexit\nr0 = 0\nexit");

// ---- return values ---------------------------------------------------------------------------------------------
add("cgroup_skb return 1", "cgroup_skb", "r0 = 1\nexit");
add("cgroup_skb return 2", "cgroup_skb", "r0 = 2\nexit");
add("cgroup_skb return unknown", "cgroup_skb", "r0 = *(u32 *)(r1 +0)\nexit");
add("cgroup_skb return masked", "cgroup_skb", "r0 = *(u32 *)(r1 +0)\nr0 &= 1\nexit");
add("cgroup_skb return pointer", "cgroup_skb", "r0 = r10\nexit");
add("xdp return any", "xdp", "r0 = 12345\nexit");
add("kprobe return pointer", "kprobe", "r0 = r1\nexit");

// ---- more instruction forms: sign extension, 32-bit bounds, atomics, byte swaps, long jumps, may_goto ----------
const mapOff = (pre: string, ok = true) =>
  lookup(`if r0 == 0 goto pc+${pre.split("\n").length + 3}\nr1 = *(u32 *)(r0 +0)\n${pre}\nr0 += r1\nr1 = *(u8 *)(r0 +0)\nr0 = 0\nexit`);
const shapes: [string, string][] = [
  ["movsx8", "r1 = (s8)r1"], ["movsx8 masked", "r1 &= 0x7f\nr1 = (s8)r1"], ["movsx16 masked", "r1 &= 0x1f\nr1 = (s16)r1"],
  ["movsx32", "r1 = (s32)r1"], ["w-and 31", "w1 &= 31"], ["w-and then sub", "w1 &= 31\nw1 -= 8"],
  ["arsh after mask", "r1 &= 0xff\nr1 s>>= 3"], ["rsh 59", "r1 >>= 59"], ["lsh then rsh", "r1 <<= 58\nr1 >>= 58"],
  ["le16", "r1 = le16 r1"], ["be16", "r1 = be16 r1"], ["bswap16", "r1 = bswap16 r1"], ["le64", "r1 = le64 r1"],
  ["mod 40", "r1 %= 40"], ["div 2 masked", "r1 &= 63\nr1 /= 2"], ["xor 31 masked", "r1 &= 15\nr1 ^= 16"],
  ["or masked", "r1 &= 15\nr1 |= 16"], ["neg masked", "r1 &= 15\nr1 = -r1\nr1 += 20"], ["mul signed", "r1 &= 7\nr1 *= -1\nr1 += 8"],
  ["jslt guard", "if r1 s< 0 goto pc+3\nif r1 s> 40 goto pc+2"], ["jsge guard", "r1 = (s32)r1\nif r1 s>= 40 goto pc+3\nif r1 s< 0 goto pc+2"],
  ["jmp32 guard", "if w1 > 40 goto pc+2"], ["jmp32 signed guard", "if w1 s> 40 goto pc+3\nif w1 s< 0 goto pc+2"],
  ["jne guard only", "if r1 != 5 goto pc+2"], ["jeq guard", "if r1 == 5 goto pc+1\nr1 = 0"],
];
for (const [n, pre] of shapes) add(`bounds shape ${n}`, "socket_filter", mapOff(pre), [ARRAY48]);
add("ldsx from ctx", "socket_filter", "r0 = *(s8 *)(r1 +0)\nexit");
add("ldsx from stack", "socket_filter", "r2 = -1\n*(u64 *)(r10 -8) = r2\nr0 = *(s16 *)(r10 -8)\nexit");
add("ldsx as offset", "socket_filter", lookup("if r0 == 0 goto pc+4\nr1 = *(s8 *)(r0 +0)\nr0 += r1\nr1 = *(u8 *)(r0 +0)\nr0 = 0\nexit"), [ARRAY48]);
add("atomic fetch add map value", "socket_filter", lookup("if r0 == 0 goto pc+3\nr1 = 1\nr1 = atomic64_fetch_add((u64 *)(r0 +0), r1)\nr0 = r1\nr0 = 0\nexit"), [ARRAY48]);
add("atomic xchg stack", "socket_filter", "r1 = 0\n*(u64 *)(r10 -8) = r1\nr1 = 3\nr1 = atomic64_xchg((u64 *)(r10 -8), r1)\nr0 = r1\nexit");
add("atomic cmpxchg stack", "socket_filter", "r1 = 0\n*(u64 *)(r10 -8) = r1\nr0 = 0\nr1 = 3\nr0 = atomic64_cmpxchg((u64 *)(r10 -8), r0, r1)\nexit");
add("atomic cmpxchg r0 uninit", "socket_filter", "r1 = 0\n*(u64 *)(r10 -8) = r1\nr1 = 3\nr0 = atomic64_cmpxchg((u64 *)(r10 -8), r0, r1)\nexit");
add("atomic on packet", "xdp", "r2 = *(u32 *)(r1 +0)\nr3 = *(u32 *)(r1 +4)\nr4 = r2\nr4 += 8\nif r4 > r3 goto pc+2\nr5 = 1\nlock *(u64 *)(r2 +0) += r5\nr0 = 2\nexit");
add("atomic 32 map value", "socket_filter", lookup("if r0 == 0 goto pc+2\nr1 = 1\nlock *(u32 *)(r0 +44) += r1\nr0 = 0\nexit"), [ARRAY48]);
add("atomic uninit stack", "socket_filter", "r1 = 1\nlock *(u64 *)(r10 -8) += r1\nr0 = 0\nexit");
add("gotol forward", "socket_filter", "r0 = 0\ngotol pc+1\nr0 = 1\nexit");
add("gotol out of range", "socket_filter", "r0 = 0\ngotol pc+9\nexit");
add("pointer compare map values", "socket_filter", lookup("if r0 == 0 goto pc+3\nr1 = r0\nif r1 == r0 goto pc+1\nr0 = 0\nr0 = 0\nexit"), [ARRAY48]);
add("non-null pointer compare 0", "socket_filter", "r2 = r10\nif r2 == 0 goto pc+1\nr0 = 0\nr0 = 0\nexit");
add("ctx compare 0 dead branch", "socket_filter", "if r1 != 0 goto pc+1\nr0 = *(u64 *)(r5 +0)\nr0 = 0\nexit");
add("pkt vs pkt compare", "xdp", "r2 = *(u32 *)(r1 +0)\nr3 = r2\nr3 += 4\nif r3 > r2 goto pc+1\nr0 = 0\nr0 = 2\nexit");
add("probe_read into map value", "kprobe", lookup("if r0 == 0 goto pc+5\nr1 = r0\nr2 = 48\nr3 = 0\ncall bpf_probe_read_kernel#113\nr0 = 0\nr0 = 0\nexit"), [ARRAY48]);
add("probe_read into map value too big", "kprobe", lookup("if r0 == 0 goto pc+5\nr1 = r0\nr2 = 49\nr3 = 0\ncall bpf_probe_read_kernel#113\nr0 = 0\nr0 = 0\nexit"), [ARRAY48]);
add("comm into map value at offset", "kprobe", lookup("if r0 == 0 goto pc+5\nr1 = r0\nr1 += 40\nr2 = 16\ncall bpf_get_current_comm#16\nr0 = 0\nr0 = 0\nexit"), [ARRAY48]);
add("skb_load_bytes into packet", "sched_cls", "r6 = r1\nr2 = *(u32 *)(r6 +76)\nr3 = *(u32 *)(r6 +80)\nr4 = r2\nr4 += 8\nif r4 > r3 goto pc+5\nr1 = r6\nr3 = r2\nr2 = 0\nr4 = 8\ncall bpf_skb_load_bytes#26\nr0 = 0\nexit");
add("tail call index var", "socket_filter", "r6 = r1\nr3 = *(u32 *)(r6 +0)\nr2 = map[id:0]\ncall bpf_tail_call#12\nr0 = 0\nexit", [PROGS]);
add("ringbuf reserve zero", "kprobe", "r1 = map[id:0]\nr2 = 0\nr3 = 0\ncall bpf_ringbuf_reserve#131\nif r0 == 0 goto pc+3\nr1 = r0\nr2 = 0\ncall bpf_ringbuf_discard#133\nr0 = 0\nexit", [RINGBUF]);
add("ringbuf output from map value", "kprobe", lookup("if r0 == 0 goto pc+6\nr2 = r0\nr1 = map[id:1]\nr3 = 48\nr4 = 0\ncall bpf_ringbuf_output#130\nr0 = 0\nexit", "r1 = 0\n*(u32 *)(r10 -4) = r1").replace("r1 = map[id:0]\ncall bpf_map_lookup_elem#1", "r1 = map[id:0]\ncall bpf_map_lookup_elem#1"), [ARRAY48, RINGBUF]);
add("alu32 div by reg zero", "socket_filter", "w0 = 7\nw1 = 0\nw0 /= w1\nexit");
add("signed div", "socket_filter", "r0 = -7\nr0 s/= 2\nexit");
add("signed mod imm zero", "socket_filter", "r0 = -7\nr0 s%= 0\nexit");

export const CASE_SOURCES: readonly CaseSource[] = cases;

import { assemble } from "../src/isa/ebpf/index.ts";
import type { Insn } from "../src/isa/ebpf/insn.ts";

/** Assembles a case: kernel-syntax lines, plus `.raw CODE DST SRC OFF IMM` for encodings no assembler emits. */
export function assembleCase(asm: string): Insn[] {
  const out: Insn[] = [];
  for (const line of asm.split("\n")) {
    const m = /^\.raw (\S+) (\S+) (\S+) (\S+) (\S+)$/.exec(line);
    if (m) out.push({ code: Number(m[1]), dst: Number(m[2]), src: Number(m[3]), off: Number(m[4]), imm: Number(m[5]) });
    else out.push(...assemble(line));
  }
  return out;
}
