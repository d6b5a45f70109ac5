// bpftool 7.1's `cgroup show|tree|attach|detach`: programs attached to cgroup v2 directories, queried attach type by
// attach type with BPF_PROG_QUERY (and `effective` for the inherited set), the tree walked as nftw(FTW_MOUNT) walks it
// (pre-order, readdir order, one file system), attach/detach with BPF_PROG_ATTACH/DETACH and `multi`/`override`.
// Linux only: cgroups are kernel directories; a backend without progQuery reports that it has none.
import { closeSync, lstatSync, openSync, opendirSync, readFileSync, statSync } from "node:fs";
import { strerror } from "./libc.ts";
import { Printer, isPrefix, progFullName, type OutputMode, type ToolOutput } from "./listing.ts";
import { Stop, errnoOf, fail, oneFd } from "./map-commands.ts";
import { ATTACH_TYPE_NAMES } from "../uapi/index.ts";
import type { Backend } from "../runtime/backend.ts";

/** __MAX_BPF_ATTACH_TYPE as bpftool 7.1 was built (Linux 6.1's uapi: up to BPF_LSM_CGROUP). */
const MAX_ATTACH_TYPE = 44;
const EFFECTIVE = 1;
const ALLOW_OVERRIDE = 1, ALLOW_MULTI = 2;
const EINVAL = 22;

/** bpftool's bpf_attach_type_input_str: the older short names, taken by prefix. */
const INPUT_NAMES: Readonly<Record<number, string>> = {
  0: "ingress", 1: "egress", 2: "sock_create", 34: "sock_release", 3: "sock_ops", 6: "device", 8: "bind4", 9: "bind6",
  10: "connect4", 11: "connect6", 12: "post_bind4", 13: "post_bind6", 29: "getpeername4", 30: "getpeername6",
  31: "getsockname4", 32: "getsockname6", 14: "sendmsg4", 15: "sendmsg6", 18: "sysctl", 19: "recvmsg4", 20: "recvmsg6",
  21: "getsockopt", 22: "setsockopt", 23: "raw_tp", 24: "fentry", 25: "fexit", 26: "mod_ret",
  39: "sk_skb_reuseport_select", 40: "sk_skb_reuseport_select_or_migrate",
};

function parseAttachType(word: string): number | undefined {
  for (let t = 0; t < MAX_ATTACH_TYPE; t++) if (word === ATTACH_TYPE_NAMES[t]) return t;
  for (let t = 0; t < MAX_ATTACH_TYPE; t++) {
    const name = INPUT_NAMES[t] ?? ATTACH_TYPE_NAMES[t]!;
    if (isPrefix(word, name)) return t;
  }
  return undefined;
}

function openDir(path: string): number | undefined {
  try {
    return openSync(path, "r");
  } catch {
    return undefined;
  }
}

class Query {
  flags = 0;
  private vmlinuxBtfId: number | undefined;
  constructor(readonly out: Printer) {}
  get b(): Backend { return this.out.b; }

  /** cgroup_has_attached_progs: 1, 0, or the errno of a query that failed with other than EINVAL. */
  hasAttached(fd: number): number | { errno: number } {
    for (let t = 0; t < MAX_ATTACH_TYPE; t++) {
      try {
        if (this.b.progQuery!(fd, t, this.flags).progIds.length > 0) return 1;
      } catch (e) {
        const n = errnoOf(e);
        if (n !== EINVAL) return { errno: n };
      }
    }
    return 0;
  }

  /** show_bpf_progs for one attach type; false when the query failed. */
  showType(fd: number, type: number, level: number): boolean {
    let r;
    try {
      r = this.b.progQuery!(fd, type, this.flags);
    } catch (e) {
      errnoOf(e);
      return false;
    }
    r.progIds.forEach((id, i) => {
      let flagsStr: string | undefined;
      if (!(this.flags & EFFECTIVE)) {
        const f = r.progAttachFlags[i] || r.attachFlags;
        flagsStr = f === ALLOW_MULTI ? "multi" : f === ALLOW_OVERRIDE ? "override" : f === 0 ? "" : `unknown(${f.toString(16)})`;
      }
      this.showProg(id, type, flagsStr, level);
    });
    return true;
  }

  private showProg(id: number, type: number, flagsStr: string | undefined, level: number): void {
    const b = this.b;
    let fd: number;
    try { fd = b.getFdById("prog", id); } catch { return; }
    try {
      const info = b.progInfo(fd);
      const typeStr = type < MAX_ATTACH_TYPE ? ATTACH_TYPE_NAMES[type] : undefined;
      const btfName = this.attachBtfName(info.attachBtfObjId, info.attachBtfId);
      const name = progFullName(b, info, fd);
      const j = this.out.json;
      if (j) {
        j.startObject().field("id", info.id);
        if (typeStr) j.field("attach_type", typeStr); else j.field("attach_type", type);
        if (flagsStr !== undefined) j.field("attach_flags", flagsStr);
        j.field("name", name);
        if (btfName !== undefined) j.field("attach_btf_name", btfName);
        j.field("attach_btf_obj_id", info.attachBtfObjId).field("attach_btf_id", info.attachBtfId).endObject();
      } else {
        let s = `${level ? "    " : ""}${String(info.id).padEnd(8)} `;
        s += typeStr ? typeStr.padEnd(15) : `type ${String(type).padEnd(10)}`;
        s += flagsStr === undefined ? ` ${name.padEnd(15)}` : ` ${flagsStr.padEnd(15)} ${name.padEnd(15)}`;
        if (btfName !== undefined) s += ` ${btfName.padEnd(15)}`;
        else if (info.attachBtfId) s += ` attach_btf_obj_id=${info.attachBtfObjId | 0} attach_btf_id=${info.attachBtfId | 0}`;
        this.out.print(s + "\n");
      }
    } finally {
      b.close(fd);
    }
  }

  /**
   * The vmlinux type a program attaches to, named. As bpftool's guess_vmlinux_btf_id, an attach_btf_obj_id of 0 (no
   * BTF object) still "matches" an unknown vmlinux id of 0, so such programs get type 0's empty name.
   */
  private attachBtfName(objId: number, typeId: number): string | undefined {
    if (!this.vmlinuxBtfId) this.vmlinuxBtfId = this.guessVmlinux(objId);
    if (this.vmlinuxBtfId !== objId) return undefined;
    // type 0 is void, nameless: no need to parse the kernel's BTF for it
    if (typeId === 0) return "";
    const btf = this.b.kernelBtf();
    if (btf === undefined) return undefined;
    return typeId < btf.typeCount ? btf.name(typeId) : undefined;
  }

  private guessVmlinux(objId: number): number {
    if (objId === 0) return 0;
    let fd: number;
    try { fd = this.b.getFdById("btf", objId); } catch { return 0; }
    try {
      const info = this.b.btfInfo(fd);
      return info.kernelBtf && info.name === "vmlinux" ? info.id : 0;
    } finally {
      this.b.close(fd);
    }
  }
}

function parseEffective(out: Printer, words: readonly string[], q: Query): void {
  for (const w of words) {
    if (!isPrefix(w, "effective")) fail(out, `expected no more arguments, 'effective', got: '${w}'?`);
    if (q.flags & EFFECTIVE) fail(out, `duplicated argument: ${w}`);
    q.flags |= EFFECTIVE;
  }
}

function header(q: Query): string {
  return q.flags & EFFECTIVE
    ? `${"ID".padEnd(8)} ${"AttachType".padEnd(15)} ${"Name".padEnd(15)}\n`
    : `${"ID".padEnd(8)} ${"AttachType".padEnd(15)} ${"AttachFlags".padEnd(15)} ${"Name".padEnd(15)}\n`;
}

function show(out: Printer, words: readonly string[], typed: string): void {
  const q = new Query(out);
  if (words.length < 1) fail(out, `'${typed}' needs at least 1 arguments, 0 found`);
  const [path, ...rest] = words;
  parseEffective(out, rest, q);
  const fd = openDir(path!);
  if (fd === undefined) fail(out, `can't open cgroup ${path}`);
  try {
    const has = q.hasAttached(fd);
    if (typeof has === "object") fail(out, `can't query bpf programs attached to ${path}: ${strerror(has.errno)}`);
    if (has === 0) return;
    if (out.json) out.json.startArray(); else out.print(header(q));
    let ok = false;
    for (let t = 0; t < MAX_ATTACH_TYPE; t++) if (q.showType(fd, t, 0)) ok = true;
    if (out.json) out.json.endArray();
    if (!ok) throw new Stop(255);
  } finally {
    closeSync(fd);
  }
}

/** The first cgroup2 mount in /proc/mounts (bpftool's find_cgroup_root). */
function cgroupRoot(): string | undefined {
  let text: string;
  try { text = readFileSync("/proc/mounts", "utf8"); } catch { return undefined; }
  for (const line of text.split("\n")) {
    const f = line.split(" ");
    if (f[2] === "cgroup2") return f[1]!.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  }
  return undefined;
}

/** nftw(root, fn, 1024, FTW_MOUNT) over directories: pre-order, readdir order, not leaving root's file system. */
function walk(root: string, visit: (path: string, level: number) => void): void {
  const dev = statSync(root).dev;
  const rec = (path: string, level: number): void => {
    visit(path, level);
    const dir = opendirSync(path);
    try {
      for (let e = dir.readSync(); e !== null; e = dir.readSync()) {
        const child = path.endsWith("/") ? path + e.name : `${path}/${e.name}`;
        let st;
        try { st = e.isSymbolicLink() ? statSync(child) : lstatSync(child); } catch { continue; }
        if (st.isDirectory() && st.dev === dev) rec(child, level + 1);
      }
    } finally {
      dir.closeSync();
    }
  };
  rec(root, 0);
}

function tree(out: Printer, words: readonly string[]): void {
  const q = new Query(out);
  let root: string;
  if (words.length === 0) {
    const r = cgroupRoot();
    if (r === undefined) fail(out, "cgroup v2 isn't mounted");
    root = r;
  } else {
    root = words[0]!;
    parseEffective(out, words.slice(1), q);
  }
  if (out.json) out.json.startArray();
  else out.print(`CgroupPath\n${header(q)}`);
  let failed = false;
  try {
    walk(root, (path, level) => {
      if (failed) return;
      const fd = openDir(path);
      if (fd === undefined) { out.error(`can't open cgroup ${path}: ${strerror(13)}`); failed = true; return; }
      try {
        const has = q.hasAttached(fd);
        if (typeof has === "object") { out.error(`can't query bpf programs attached to ${path}: ${strerror(has.errno)}`); failed = true; return; }
        if (has === 0) return;
        if (out.json) out.json.startObject().field("cgroup", path).name("programs").startArray();
        else out.print(`${path}\n`);
        for (let t = 0; t < MAX_ATTACH_TYPE; t++) q.showType(fd, t, level);
        if (out.json) out.json.endArray().endObject();
      } finally {
        closeSync(fd);
      }
    });
  } catch (e) {
    out.error(`can't iterate over ${root}: ${strerror(errnoOf(e))}`);
    failed = true;
  }
  if (out.json) out.json.endArray();
  if (failed) throw new Stop(255);
}

function attachDetach(detach: boolean) {
  return (out: Printer, words: readonly string[]): void => {
    if (words.length < 4) fail(out, `too few parameters for cgroup ${detach ? "detach" : "attach"}`);
    const cg = openDir(words[0]!);
    if (cg === undefined) fail(out, `can't open cgroup ${words[0]}`);
    try {
      const type = parseAttachType(words[1]!);
      if (type === undefined) fail(out, "invalid attach type");
      const prog = oneFd(out, "prog", words.slice(2, 4));
      try {
        let flags = 0;
        if (!detach) {
          for (const w of words.slice(4)) {
            if (isPrefix(w, "multi")) flags |= ALLOW_MULTI;
            else if (isPrefix(w, "override")) flags |= ALLOW_OVERRIDE;
            else fail(out, `unknown option: ${w}`);
          }
        }
        try {
          if (detach) out.b.progDetach!(cg, prog, type);
          else out.b.progAttach!(cg, prog, type, flags);
        } catch (e) {
          errnoOf(e);
          fail(out, detach ? "failed to detach program" : "failed to attach program");
        }
        if (out.json) out.json.raw("null");
      } finally {
        out.b.close(prog);
      }
    } finally {
      closeSync(cg);
    }
  };
}

const COMMANDS: Readonly<Record<string, (out: Printer, words: readonly string[], typed: string) => void>> = {
  show, list: show, tree, attach: attachDetach(false), detach: attachDetach(true),
};

export function cgroupCommand(mode: OutputMode, verb: string, words: readonly string[], typed = verb): ToolOutput {
  const out = new Printer(mode);
  const cmd = COMMANDS[verb];
  if (cmd === undefined || out.b.progQuery === undefined || out.b.progAttach === undefined) {
    out.error(cmd === undefined ? `'cgroup ${verb}' is not supported by bpfkit yet` : "bpfkit's VM has no cgroups: `cgroup` commands run on the kernel");
    return out.result();
  }
  try {
    cmd(out, words, typed);
  } catch (e) {
    if (e instanceof Stop) return out.result(e.code);
    throw e;
  }
  return out.result();
}
