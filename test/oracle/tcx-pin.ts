// Test helper, run inside a network namespace: attaches a pinned tc program to IFINDEX's tcx hook (BPF_LINK_CREATE,
// BPF_TCX_INGRESS/EGRESS) and pins the link, so the attachment outlives this process.
// Usage: node --import tsx test/oracle/tcx-pin.ts PROG_PIN IFINDEX ingress|egress LINK_PIN
import { linux } from "../../src/kernel/backend.ts";

const [prog, ifindex, direction, linkPin] = process.argv.slice(2);
const fd = linux.objGet(prog!);
const a = linux.attach(fd, { kind: "tcx", ifindex: Number(ifindex), direction: direction === "egress" ? "egress" : "ingress" });
linux.objPin((a as unknown as { fd: number }).fd, linkPin!);
