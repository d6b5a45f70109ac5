import { test } from "node:test";
import assert from "node:assert/strict";
import { assemble } from "../isa/ebpf/index.ts";
import {
  System, BpfMap, fireTracepoint, replayTracepoints, tickPerfEvent, uprobe, runXdp, runSocketFilter, consumeRingBuffer,
  parseTracepointFormat, tracepointFormat, XDP_DROP, XDP_PASS,
} from "./index.ts";
import { writePcap } from "../capture/index.ts";
import { accumulateInsns } from "./programs.test-util.ts";

/** A program of `type` adding r6 (set by `load`) into array[0] of `mapFd`. */
const accumulate = (mapFd: number, load: string, type: number, sys: System): number =>
  sys.progLoad({ progType: type, insns: accumulateInsns(mapFd, load), license: "GPL" }).fd;

const total = (sys: System, fd: number): bigint => new DataView(BpfMap.fromFd(sys, fd).lookup(new Uint8Array(4))!.buffer).getBigUint64(0, true);

test("tracepoint: the record is laid out by the format file; a replayed stream fires attached programs", () => {
  const sys = new System();
  const m = sys.mapCreate({ mapType: 2, keySize: 4, valueSize: 8, maxEntries: 1 });
  const f = tracepointFormat("sched", "sched_switch");
  const nextPid = f.fields.find((x) => x.name === "next_pid")!;
  assert.equal(nextPid.offset, 56);
  const fd = accumulate(m, `ldxw r6, [r1+${nextPid.offset}]`, 5, sys);
  sys.attach(fd, { kind: "tracepoint", category: "sched", name: "sched_switch" });
  fireTracepoint(sys, { category: "sched", name: "sched_switch", values: { next_pid: 40, prev_comm: "swapper/0" } });
  replayTracepoints(sys, [1, 2].map((next_pid) => ({ category: "sched", name: "sched_switch", values: { next_pid } })));
  assert.equal(total(sys, m), 43n);
  assert.throws(() => fireTracepoint(sys, { category: "sched", name: "sched_switch", values: { nope: 1 } }), /no field 'nope'/);
  const own = parseTracepointFormat("ID: 7\n\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\tfield:__data_loc char[] name;\toffset:8;\tsize:4;\tsigned:0;\n");
  assert.deepEqual(own.fields.map((x) => [x.name, x.dataLoc]), [["common_type", false], ["common_pid", false], ["name", true]]);
});

test("perf_event ticks run on the ticking CPU; uprobes see a JavaScript function's arguments in pt_regs", () => {
  const sys = new System({ nCpus: 2 });
  const m = sys.mapCreate({ mapType: 2, keySize: 4, valueSize: 8, maxEntries: 1 });
  const fd = accumulate(m, "call 8\nmov r6, r0\nadd r6, 1", 7, sys); // bpf_get_smp_processor_id() + 1
  sys.attach(fd, { kind: "perf_event", freqHz: 99 });
  tickPerfEvent(sys, { cpu: 0 });
  tickPerfEvent(sys, { cpu: 1 });
  assert.equal(total(sys, m), 3n);
  const m2 = sys.mapCreate({ mapType: 2, keySize: 4, valueSize: 8, maxEntries: 1 });
  const up = accumulate(m2, "ldxdw r6, [r1+104]", 2, sys); // second argument (rsi)
  sys.attach(up, { kind: "uprobe", path: "js", symbol: "add" });
  const add = uprobe(sys, "add", (a: number, b: number) => a + b);
  assert.equal(add(1, 20), 21);
  assert.equal(add(2, 22), 24);
  assert.equal(total(sys, m2), 42n);
});

test("XDP and socket filters over packet arrays and pcap files; ring buffer samples and trace_printk reach user space", () => {
  const sys = new System();
  // XDP: drop packets longer than 100 bytes
  const xdp = sys.progLoad({ progType: 6, license: "GPL", insns: assemble(`
    ldxw r2, [r1+0]
    ldxw r3, [r1+4]
    sub r3, r2
    mov r0, ${XDP_PASS}
    jle r3, 100, +1
    mov r0, ${XDP_DROP}
    exit`) }).fd;
  sys.attach(xdp, { kind: "xdp", ifindex: 1 });
  const pkts = [new Uint8Array(60), new Uint8Array(200), new Uint8Array(90)];
  assert.deepEqual(runXdp(sys, 1, pkts).map((v) => v.verdict), [XDP_PASS, XDP_DROP, XDP_PASS]);
  const pcap = writePcap(pkts.map((data, i) => ({ data, ts: { sec: i, nsec: 0 } })), { linktype: 1 });
  assert.deepEqual(runXdp(sys, 1, { capture: pcap }).map((v) => v.verdict), [XDP_PASS, XDP_DROP, XDP_PASS]);
  // socket filter: keep 20 bytes
  const sf = sys.progLoad({ progType: 1, license: "GPL", insns: assemble("mov r0, 20\nexit") }).fd;
  sys.attach(sf, { kind: "socket_filter", socket: 5 });
  assert.deepEqual(runSocketFilter(sys, 5, [new Uint8Array(100)]).map((v) => v.data.length), [20]);
  // ring buffer output and trace_printk from a socket filter
  const rb = sys.mapCreate({ mapType: 27, keySize: 0, valueSize: 0, maxEntries: 4096 });
  const insns = assemble(`
    mov r1, 0x21216968
    stxdw [r10-8], r1
    mov r2, r10
    add r2, -8
    lddw r1, 0
    mov r3, 8
    mov r4, 0
    call 130
    mov r1, r10
    add r1, -8
    mov r2, 5
    call 6
    mov r0, 0
    exit`).map((x) => (x.code === 0x18 && x.dst === 1 ? { ...x, src: 1, imm: rb } : x));
  const p = sys.progLoad({ progType: 1, license: "GPL", insns }).fd;
  const lines: string[] = [];
  sys.readTracePipe((l) => lines.push(l));
  sys.attach(p, { kind: "socket_filter", socket: 6 });
  runSocketFilter(sys, 6, [new Uint8Array(60), new Uint8Array(60)]);
  const samples: string[] = [];
  assert.equal(consumeRingBuffer(sys, rb, (s) => samples.push(new TextDecoder().decode(s.subarray(0, 4)))), 2);
  assert.deepEqual(samples, ["hi!!", "hi!!"]);
  assert.deepEqual(lines, ["hi!!", "hi!!"]);
});
