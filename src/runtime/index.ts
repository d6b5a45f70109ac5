// The runtime: bpfkit's own kernel and the API both backends share. `System` is the VM's bpf() (verify on load, ids,
// tags, pins, links, test runs, map commands); `Backend` is that surface as an interface (LinuxBackend in src/kernel
// implements it too); `openObject` loads a clang-built object into either; `Program`/`BpfMap`/`Link` are the object
// model. Attach points fire VM programs from events (attach/). May import all of the core. Pure: no node: imports.
//
//   const sys = new System();                            // or: linux from "bpfkit/linux"
//   const obj = openObject(sys, elfBytes);               // maps created, globals set, programs verified + loaded
//   obj.attach("handle_switch");                         // SEC("tracepoint/sched/sched_switch")
//   fireTracepoint(sys, { category: "sched", name: "sched_switch", values: { prev_pid: 1, next_pid: 2 } });
//   const traced = uprobe(sys, "handler", handler);      // SEC("uprobe/js:handler") programs see its args in pt_regs
//   runXdp(sys, 1, { capture: pcapBytes });              // XDP programs attached to ifindex 1, packet by packet
//   consumeRingBuffer(sys, obj.maps.get("events")!.fd, (s) => ...); sys.readTracePipe((line) => ...);
//   for (const [k, v] of obj.maps.get("counts")!.entries()) ...
export { System, hookOf } from "./system.ts";
export { VmNet, VmNetDevice, deviceSpec, DEFAULT_DEVICES } from "./netdev.ts";
export type { DeviceSpec } from "./netdev.ts";
export type { Executor, SystemOptions, ProgObject, MapObject, BtfObject, LinkObject } from "./system.ts";
export { SyscallError, errnoOf, allIds, encodeInsns } from "./backend.ts";
export type {
  Backend, ObjectKind, AttachTarget, Attachment, MapCreateAttr, ProgLoadAttr, ProgLoadResult, TestRunAttr,
  TestRunResult as SyscallTestRunResult, BatchResult as SyscallBatchResult, LinkCreateAttr, ProgInfo, ProgInfoExtras,
  ProgInfoWanted, MapInfo as SyscallMapInfo, BtfInfo, LinkInfo,
} from "./backend.ts";
export { BpfMap, Program, Link } from "./model.ts";
export { openObject, sectionTarget, loadAndPin, refusalLine } from "./object.ts";
export { runLoader } from "./loader-run.ts";
export type { LoaderRunResult } from "./loader-run.ts";
export type { LoadedObject, OpenObjectOptions } from "./object.ts";
export { progTag } from "./tag.ts";
// attach points on the VM (each fires the programs attached at its hook; see System.attach and hookOf)
export { fireHook } from "./attach/hook.ts";
export { fireTracepoint, fireTracepointRecord, replayTracepoints, tracepointFormat, parseTracepointFormat, encodeRecord } from "./attach/tracepoint.ts";
export type { TraceEvent, TracepointFormat, TracepointField, FormatSource, FieldValue } from "./attach/tracepoint.ts";
export { tickPerfEvent, startPerfTimer, PERF_EVENT_DATA_SIZE } from "./attach/perf-event.ts";
export type { Tick } from "./attach/perf-event.ts";
export { uprobe, encodeRegs, PT_REGS } from "./attach/uprobe.ts";
export type { RegValues } from "./attach/uprobe.ts";
export { runSocketFilter, runXdp, XDP_ABORTED, XDP_DROP, XDP_PASS, XDP_TX, XDP_REDIRECT } from "./attach/packets.ts";
export type { PacketSource, PacketVerdict } from "./attach/packets.ts";
export { consumeRingBuffer, openPerfBuffer, tracePipeLine } from "./attach/output.ts";
export { sha1, sha256 } from "./digest.ts";
export { buildContext, buildSkbContext, buildXdpContext, buildMemContext, buildRegsContext } from "./contexts.ts";
export type { TestRunContext, SkbOptions } from "./contexts.ts";
export { testRun } from "./test-run.ts";
export type { TestRunOptions, TestRunResult } from "./test-run.ts";
export { PROGRAM_TYPES, PROG_TYPE_NAMES, PT_REGS_SIZE, SK_BUFF_FIELDS, SK_BUFF_SIZE, XDP_MD_FIELDS, XDP_MD_SIZE, fieldOf } from "./layouts.ts";
export type { CtxField, ContextKind, ProgramTypeInfo } from "./layouts.ts";
export { replay, parseReplay, sysEnterRecord } from "./attach/replay.ts";
export type { ReplayEvent } from "./attach/replay.ts";
