// The Linux backend: src/runtime's Backend over the real bpf() syscall, perf events and sockets, so object loading,
// bpftool's listings and the CLI run unchanged against the kernel or bpfkit's VM (System).
import { readFileSync } from "node:fs";
import type { Btf } from "../btf/parse.ts";
import { btfFromFileBytes } from "../object/btf-file.ts";
import type { AttachTarget, Attachment, Backend, ObjectKind, ProgInfoWanted } from "../runtime/backend.ts";
import * as bpf from "./bpf.ts";
import { closeFd, possibleCpus } from "./libc.ts";
import { btfInfo, fdinfo, linkInfo, mapInfo, progInfo, progInfoExtras } from "./info.ts";
import { pinnedPathList } from "./pins.ts";
import { hostKconfig } from "./kconfig.ts";
import { PERF_TYPE_SOFTWARE } from "./perf.ts";
import { attachUsdt } from "./usdt.ts";
import { rtnetlinkLinux } from "./netlink.ts";
import {
  attachPerfEvent, attachPerfEventTimer, attachRawTracepoint, attachSocketFilter, attachTcx, attachTracepoint, attachUprobe, attachXdp,
} from "./loader.ts";

let vmlinux: Btf | null | undefined;
const BPF_TRACE_ITER = 28;

export class LinuxBackend implements Backend {
  readonly kind = "linux" as const;
  possibleCpus(): number { return possibleCpus(); }
  /** /sys/kernel/btf/vmlinux, parsed on first use (CO-RE needs it, listings do not). */
  kernelBtf(): Btf | undefined {
    if (vmlinux === undefined) {
      try { vmlinux = btfFromFileBytes(readFileSync("/sys/kernel/btf/vmlinux")); } catch { vmlinux = null; }
    }
    return vmlinux ?? undefined;
  }
  kconfig() { return hostKconfig(); }
  /** BPF_MAP_CREATE; names are cut to 15 bytes by the attr's 16-byte field, as libbpf's copy cuts them. */
  readonly mapCreate = bpf.mapCreate;
  readonly mapLookupElem = bpf.mapLookupElem;
  readonly mapUpdateElem = bpf.mapUpdateElem;
  readonly mapDeleteElem = bpf.mapDeleteElem;
  readonly mapLookupAndDeleteElem = bpf.mapLookupAndDeleteElem;
  readonly mapGetNextKey = bpf.mapGetNextKey;
  readonly mapFreeze = bpf.mapFreeze;
  readonly mapLookupBatch = bpf.mapLookupBatch;
  readonly mapLookupAndDeleteBatch = bpf.mapLookupAndDeleteBatch;
  readonly mapUpdateBatch = bpf.mapUpdateBatch;
  readonly mapDeleteBatch = bpf.mapDeleteBatch;
  readonly progLoad = bpf.progLoad;
  readonly progTestRun = bpf.progTestRun;
  readonly progBindMap = bpf.progBindMap;
  readonly objPin = bpf.objPin;
  readonly getNextId = bpf.getNextId;
  readonly linkDetach = bpf.linkDetach;
  progAttach(targetFd: number, progFd: number, attachType: number, flags = 0): void { bpf.progAttach(targetFd, progFd, attachType, flags); }
  progDetach(targetFd: number, progFd: number, attachType: number): void { bpf.progDetach(targetFd, progFd, attachType); }
  readonly progQuery = bpf.progQuery;
  readonly progInfo = progInfo;
  readonly mapInfo = mapInfo;
  readonly btfInfo = btfInfo;
  readonly linkInfo = linkInfo;
  readonly fdinfo = fdinfo;
  btfLoad(btf: Uint8Array): number { return bpf.btfLoad(btf); }
  objGet(path: string): number { return bpf.objGet(path); }
  getFdById(kind: ObjectKind, id: number): number { return bpf.getFdById(kind, id); }
  progInfoExtras(fd: number, want: ProgInfoWanted) { return progInfoExtras(fd, want); }
  pins(kind: "prog" | "map" | "link") { return pinnedPathList(kind); }
  close(fd: number): void { closeFd(fd); }
  rtnetlink(request: Uint8Array): Uint8Array[] { return rtnetlinkLinux(request); }

  attach(progFd: number, t: AttachTarget): Attachment {
    switch (t.kind) {
      case "tracepoint": return attachTracepoint(progFd, t.category, t.name);
      case "raw_tracepoint": return attachRawTracepoint(progFd, t.name);
      case "perf_event": {
        const cpus = t.cpus ?? Array.from({ length: possibleCpus() }, (_, i) => i);
        if (!t.event && t.period === undefined) return attachPerfEventTimer(progFd, cpus, t.freqHz);
        return attachPerfEvent(progFd, cpus, { type: t.event?.type ?? PERF_TYPE_SOFTWARE, config: t.event?.config ?? 0, freqHz: t.freqHz, period: t.period });
      }
      case "usdt": return attachUsdt(progFd, t.path, t.provider, t.name, t.pid);
      case "uprobe": return attachUprobe(progFd, t.path, t.symbol, { retprobe: t.retprobe, pid: t.pid });
      case "xdp": return attachXdp(progFd, t.ifindex, t.flags ?? 0);
      case "tcx": return attachTcx(progFd, t.ifindex, t.direction);
      case "iter": {
        const fd = bpf.linkCreate({ progFd, target: 0, attachType: BPF_TRACE_ITER, ...(t.mapFd !== undefined ? { iterMapFd: t.mapFd } : {}) });
        return { kind: "iter", linkId: linkInfo(fd).id, linkFd: fd, close: () => closeFd(fd) };
      }
      case "socket_filter":
        attachSocketFilter(progFd, t.socket);
        return { kind: "socket_filter", close: () => {} };
    }
  }
}

/** The one Linux backend of this process. */
export const linux: Backend = new LinuxBackend();
