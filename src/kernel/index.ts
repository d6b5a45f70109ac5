// The Linux backend (Node only): the bpf() syscall typed per command, perf events, mmap'd ring/perf buffers, loading
// and attaching bpfkit programs and clang-built objects in the real kernel, typed map access, and bpftool-identical
// listings (prog/map/btf/link/perf show, map dump, prog dump xlated). Imports isa, btf and object; nothing in the pure
// core imports this folder.
export * from "./bpf.ts";
export {
  KernelError, nativeUnavailable, errnoName, strerror, perfEventOpen, mmapShared, possibleCpus, openSocket, bindSocket,
  closeFd as closeNativeFd,
} from "./libc.ts";
export type { Mapping } from "./libc.ts";
export { PacketSocket, PACKET_OUTGOING, type ReceivedPacket } from "./packet-socket.ts";
export * from "./names.ts";
export { progInfo, progInfoExtras, mapInfo, btfInfo, linkInfo, fdinfo } from "./info.ts";
export type { ProgInfo, ProgInfoExtras, MapInfo, BtfInfo, LinkInfo } from "./info.ts";
export {
  tracepointId, openTracepoint, openUprobe, openCpuClock, openPerfEvent, perfEventSetBpf, perfEventEnable,
  perfEventDisable, tracefsRoot,
} from "./perf.ts";
export {
  loadProgram, createKernelMap, resolveMapIndices, attachTracepoint, attachRawTracepoint, attachTracing, attachUprobe,
  attachPerfEventTimer, attachXdp, attachTcx, attachSocketFilter, attachClassicFilter, vmlinuxFuncBtfId, ifindex,
} from "./loader.ts";
export type { KernelMapSpec, KernelProgramSpec, LoadedProgram, Attachment } from "./loader.ts";
export { loadObjectIntoKernel, type LoadedObject } from "./object-loader.ts";
export { LinuxBackend, linux } from "./backend.ts";
export { KernelMap, TypedKernelMap, u32, i32, u64, i64, bytes, type Codec } from "./map-access.ts";
export { RingBufferReader, type SampleCallback } from "./ringbuf.ts";
export { PerfBufferReader, type PerfSampleCallback } from "./perfbuf.ts";
export { elfFunctionOffset } from "./elf-symbol.ts";
export { progShow, mapShow, btfShow, linkShow, type ToolOutput, type OutputMode } from "./listing.ts";
export { perfShow } from "./perf-listing.ts";
export { mapDump } from "./map-dump.ts";
export { progDump, xlatedKernelPlain } from "./prog-dump.ts";
export { startBitesize, bitesizeProgram } from "./bitesize.ts";
export { formatBpftraceHist, formatBpftraceHistMap, formatBccLog2Hist, bpftraceHistSlot, bccLog2Slot } from "../trace/hist-format.ts";
