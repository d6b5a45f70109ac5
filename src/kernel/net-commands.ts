// bpftool 7.1's `net show|list [dev NAME]`, `net attach ATTACH_TYPE PROG dev NAME [overwrite]` and `net detach
// ATTACH_TYPE dev NAME`: the same rtnetlink requests in the same order (the link dump for XDP; per device its classes,
// qdiscs, then the root and clsact ingress/egress filters; RTM_SETLINK with IFLA_XDP as libbpf's bpf_xdp_attach sends
// it) and BPF_PROG_QUERY for the namespace's flow dissector, printed as bpftool prints them. Runs over the backend's
// rtnetlink: the kernel's on Linux, the VM's devices (src/runtime/netdev.ts) with --vm.
import { closeSync, openSync } from "node:fs";
import { strerror } from "./libc.ts";
import { Printer, isPrefix, type OutputMode, type ToolOutput } from "./listing.ts";
import { Stop, errnoOf, fail, oneFd } from "./map-commands.ts";
import {
  NLMSG_ERROR, RTM_NEWLINK, RTM_GETQDISC, RTM_GETTCLASS, RTM_GETTFILTER, TC_H_CLSACT_EGRESS, TC_H_CLSACT_INGRESS, TC_H_ROOT,
  XDP_ATTACHED_DRV, XDP_ATTACHED_HW, XDP_ATTACHED_MULTI, XDP_ATTACHED_NONE, XDP_ATTACHED_SKB, XDP_FLAGS_DRV_MODE,
  XDP_FLAGS_HW_MODE, XDP_FLAGS_SKB_MODE, XDP_FLAGS_UPDATE_IF_NOEXIST, NetlinkParseError, linkDumpRequest, parseError,
  parseFilter, parseLink, parseMessages, parseTcHandle, tcDumpRequest, xdpSetLinkRequest,
  type Message, type NetDevice, type TcFilter, type TcHandle,
} from "../netlink/index.ts";
import { ERRNO, attachTypeOf } from "../uapi/index.ts";

/** bpftool's net attach types, in the order its prefix match tries them. */
const ATTACH_TYPES = ["xdp", "xdpgeneric", "xdpdrv", "xdpoffload"] as const;
const MODE_FLAGS = [0, XDP_FLAGS_SKB_MODE, XDP_FLAGS_DRV_MODE, XDP_FLAGS_HW_MODE];
const { EINVAL } = ERRNO, BPF_FLOW_DISSECTOR = attachTypeOf("flow_dissector");
/** bpftool returns -EINVAL from attach/detach argument errors: exit status 234. */
const EXIT_EINVAL = 256 - EINVAL;

class Net {
  private seq = Math.floor(Date.now() / 1000);
  constructor(readonly out: Printer) {}

  /** One request over the backend's rtnetlink: its messages, or the (negative) errno of its NLMSG_ERROR. */
  request(req: Uint8Array): Message[] | number {
    const replies = this.out.b.rtnetlink!(req).flatMap((r) => parseMessages(r));
    const out: Message[] = [];
    for (const m of replies) {
      if (m.type === NLMSG_ERROR) {
        const e = parseError(m);
        if (e.errno === 0) continue;
        // libbpf_nla_dump_errormsg: the kernel's extended-ack text as a libbpf warning
        if (e.extack !== undefined) this.out.err += `libbpf: Kernel error message: ${e.extack}\n`;
        return -e.errno;
      }
      out.push(m);
    }
    return out;
  }

  nextSeq(): number { return this.seq++ >>> 0; }

  devices(): NetDevice[] | number {
    const r = this.request(linkDumpRequest(this.nextSeq()));
    if (typeof r === "number") return r;
    return r.filter((m) => m.type === RTM_NEWLINK).map(parseLink).filter((d): d is NetDevice => d !== undefined);
  }

  /** if_nametoindex: 0 when no device has that name. */
  ifindex(name: string): number {
    const d = this.devices();
    if (typeof d === "number") return 0;
    return d.find((x) => x.name === name)?.ifindex ?? 0;
  }

  /** show_dev_tc_bpf: the bpf filters under every class and qdisc handle, then root, clsact ingress and egress. */
  tcFilters(dev: NetDevice): TcFilter[] {
    const handles: TcHandle[] = [];
    for (const [type, qdisc] of [[RTM_GETTCLASS, false], [RTM_GETQDISC, true]] as const) {
      const r = this.request(tcDumpRequest(type, this.nextSeq(), dev.ifindex));
      if (typeof r === "number") return [];
      for (const m of r) {
        const h = parseTcHandle(m);
        if (h === undefined) continue;
        // skip the clsact qdisc (its filters are listed by direction below) and handle 0
        if (qdisc && (h.kind === "clsact" || h.handle === 0)) continue;
        handles.push(h);
      }
    }
    const parents: TcHandle[] = [
      ...handles, { handle: TC_H_ROOT, kind: "root" }, { handle: TC_H_CLSACT_INGRESS, kind: "clsact/ingress" },
      { handle: TC_H_CLSACT_EGRESS, kind: "clsact/egress" },
    ];
    const rows: TcFilter[] = [];
    for (const p of parents) {
      const r = this.request(tcDumpRequest(RTM_GETTFILTER, this.nextSeq(), dev.ifindex, p.handle));
      if (typeof r === "number") return rows;
      try {
        for (const m of r) {
          const f = parseFilter(m, dev, p.kind);
          if (f !== undefined) rows.push(f);
        }
      } catch (e) {
        if (e instanceof NetlinkParseError) return rows;
        throw e;
      }
    }
    return rows;
  }
}

function xdpRow(out: Printer, dev: NetDevice): void {
  const x = dev.xdp;
  if (x === undefined || x.attached === XDP_ATTACHED_NONE) return;
  const j = out.json;
  const prog = (id: number | undefined, mode: string, object: boolean): void => {
    if (id === undefined) return;
    if (j) {
      if (object) j.startObject();
      j.field("mode", mode).field("id", id);
      if (object) j.endObject();
    } else out.print(` ${mode} id ${id}`);
  };
  if (j) j.startObject().field("devname", dev.name).field("ifindex", dev.ifindex);
  else out.print(`${dev.name}(${dev.ifindex})`);
  if (x.attached === XDP_ATTACHED_MULTI) {
    if (j) j.name("multi_attachments").startArray();
    prog(x.skbProgId, "generic", true);
    prog(x.drvProgId, "driver", true);
    prog(x.hwProgId, "offload", true);
    if (j) j.endArray();
  } else if (x.attached === XDP_ATTACHED_DRV) prog(x.progId, "driver", false);
  else if (x.attached === XDP_ATTACHED_SKB) prog(x.progId, "generic", false);
  else if (x.attached === XDP_ATTACHED_HW) prog(x.progId, "offload", false);
  if (j) j.endObject(); else out.print("\n");
}

function tcRow(out: Printer, f: TcFilter): void {
  const j = out.json;
  if (j) {
    j.startObject();
    if (f.devname !== "") j.field("devname", f.devname);
    j.field("ifindex", f.ifindex).field("kind", f.kind);
    if (f.name !== undefined) j.field("name", f.name);
    if (f.id !== undefined) j.field("id", f.id);
    if (f.actions) {
      j.name("act").startArray();
      for (const a of f.actions) {
        j.startObject();
        if (a.name !== undefined) j.field("name", a.name);
        if (a.id !== undefined) j.field("id", a.id);
        j.endObject();
      }
      j.endArray();
    }
    j.endObject();
    return;
  }
  let s = `${f.devname}(${f.ifindex}) ${f.kind}`;
  if (f.name !== undefined) s += ` ${f.name}`;
  if (f.id !== undefined) s += ` id ${f.id}`;
  if (f.actions) s += ` act [${f.actions.map((a) => `{${a.name ?? ""}${a.id !== undefined ? ` id ${a.id}` : ""}}`).join("")}] `;
  out.print(s + "\n");
}

/** net_parse_dev: `dev NAME` → its ifindex (0 after "invalid devname"), or -1 when the word is not `dev`. */
function parseDev(out: Printer, net: Net, words: readonly string[]): number {
  if (!isPrefix(words[0], "dev")) {
    out.error(`expected 'dev', got: '${words[0]}'?`);
    return -1;
  }
  const name = words[1]!;
  const ifindex = name.length < 16 ? net.ifindex(name) : 0;
  if (!ifindex) out.error(`invalid devname ${name}`);
  return ifindex;
}

/** The flow dissector attached to this network namespace (0 for none; a backend without BPF_PROG_QUERY has none). */
function flowDissector(out: Printer): number {
  const b = out.b;
  if (b.progQuery === undefined) return 0;
  let fd: number;
  try {
    fd = openSync("/proc/self/ns/net", "r");
  } catch (e) {
    fail(out, `can't open /proc/self/ns/net: ${strerror(errnoOf(e))}`);
  }
  try {
    const r = b.progQuery(fd, BPF_FLOW_DISSECTOR, 0);
    return r.progIds.length === 1 ? r.progIds[0]! : 0;
  } catch (e) {
    const n = errnoOf(e);
    if (n === EINVAL) return 0;
    fail(out, `can't query prog: ${strerror(n)}`);
  } finally {
    closeSync(fd);
  }
}

/** `net show`; false where bpftool calls usage(). */
function show(out: Printer, words: readonly string[]): boolean {
  const net = new Net(out);
  let filter = -1;
  if (words.length === 2) {
    filter = parseDev(out, net, words);
    if (filter < 1) throw new Stop(255);
  } else if (words.length !== 0) return false;
  const dissector = flowDissector(out);
  const j = out.json;
  if (j) j.startArray().startObject().name("xdp").startArray();
  else out.print("xdp:\n");
  const devs = net.devices();
  const shown = typeof devs === "number" ? [] : devs.filter((d) => filter <= 0 || d.ifindex === filter);
  for (const d of shown) xdpRow(out, d);
  if (j) j.endArray(); else out.print("\n");
  if (typeof devs !== "number") {
    if (j) j.name("tc").startArray(); else out.print("tc:\n");
    for (const d of shown) for (const f of net.tcFilters(d)) tcRow(out, f);
    if (j) j.endArray(); else out.print("\n");
  }
  if (j) j.name("flow_dissector").startArray(); else out.print("flow_dissector:\n");
  if (dissector > 0) { if (j) j.field("id", dissector); else out.print(`id ${dissector}`); }
  if (j) j.endArray().endObject().endArray(); else out.print("\n");
  if (typeof devs === "number") {
    if (j) j.raw("null");
    out.err += `Error: ${strerror(-devs)}\n`;
    throw new Stop((256 + devs) & 0xff);
  }
  return true;
}

function parseAttachType(out: Printer, word: string): number {
  const t = ATTACH_TYPES.findIndex((name) => isPrefix(word, name));
  if (t < 0) fail(out, `invalid net attach/detach type: ${word}`, EXIT_EINVAL);
  return t;
}

/** bpf_xdp_attach as bpftool calls it: UPDATE_IF_NOEXIST unless overwriting, the type's mode flag. */
function xdpAttach(out: Printer, net: Net, ifindex: number, progFd: number, type: number, overwrite: boolean, verb: string): void {
  const flags = (overwrite ? 0 : XDP_FLAGS_UPDATE_IF_NOEXIST) | MODE_FLAGS[type]!;
  const r = net.request(xdpSetLinkRequest(net.nextSeq(), ifindex, progFd, flags));
  if (typeof r === "number") fail(out, `interface ${ATTACH_TYPES[type]} ${verb} failed: ${strerror(-r)}`, r & 0xff);
}

function attach(out: Printer, words: readonly string[], typed: string): void {
  const net = new Net(out);
  if (words.length < 5) fail(out, `'${typed}' needs at least 5 arguments, ${words.length} found`, EXIT_EINVAL);
  const type = parseAttachType(out, words[0]!);
  let prog: number;
  try {
    prog = oneFd(out, "prog", words.slice(1, 3));
  } catch (e) {
    if (e instanceof Stop) throw new Stop(EXIT_EINVAL);
    throw e;
  }
  try {
    const ifindex = parseDev(out, net, words.slice(3));
    if (ifindex < 1) throw new Stop(EXIT_EINVAL);
    const extra = words[5];
    let overwrite = false;
    if (extra !== undefined) {
      if (isPrefix(extra, "overwrite")) overwrite = true;
      else fail(out, `expected 'overwrite', got: '${extra}'?`, EXIT_EINVAL);
    }
    xdpAttach(out, net, ifindex, prog, type, overwrite, "attach");
    if (out.json) out.json.raw("null");
  } finally {
    out.b.close(prog);
  }
}

function detach(out: Printer, words: readonly string[], typed: string): void {
  const net = new Net(out);
  if (words.length < 3) fail(out, `'${typed}' needs at least 3 arguments, ${words.length} found`, EXIT_EINVAL);
  const type = parseAttachType(out, words[0]!);
  const ifindex = parseDev(out, net, words.slice(1));
  if (ifindex < 1) throw new Stop(EXIT_EINVAL);
  xdpAttach(out, net, ifindex, -1, type, false, "detach");
  if (out.json) out.json.raw("null");
}

/** One `net` command (`usage` set where bpftool calls usage()). */
export function netCommand(mode: OutputMode, verb: string, words: readonly string[], typed = verb): ToolOutput {
  const out = new Printer(mode);
  if (out.b.rtnetlink === undefined) {
    out.error("this backend has no rtnetlink: `net` commands need the kernel or bpfkit's VM");
    return out.result();
  }
  try {
    if (verb === "show" || verb === "list") {
      if (!show(out, words)) return out.usage();
    } else if (verb === "attach") attach(out, words, typed);
    else if (verb === "detach") detach(out, words, typed);
    else out.error(`'net ${verb}' is not supported by bpfkit yet`);
  } catch (e) {
    if (e instanceof Stop) return out.result(e.code);
    throw e;
  }
  return out.result();
}
