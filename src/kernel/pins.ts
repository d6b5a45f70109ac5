// bpftool -f: the bpffs paths where each object is pinned, found as build_pinned_obj_table does it — every "bpf*"
// mount in /proc/mounts walked like nftw(FTW_PHYS) (directory before its entries, entries in readdir order, symlinks
// not followed), each regular file opened with BPF_OBJ_GET and kept when it is an object of the wanted kind.
import { opendirSync, readFileSync, readlinkSync } from "node:fs";
import { closeFd, objGet, objGetInfoByFd } from "./bpf.ts";
import { BpftoolMultimap } from "./bpftool-hashmap.ts";

export type PinKind = "prog" | "map" | "link";

// get_fd_type: a substring of the fd's /proc/self/fd link ("anon_inode:bpf-map", "bpf-prog", "bpf_link")
const FD_TYPE_MARK: Record<PinKind, string> = { prog: "bpf-prog", map: "bpf-map", link: "bpf-link" };

/** getmntent's unescaping of \\040 (space), \\011, \\012, \\134 in mount paths. */
const unescapeMount = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));

function fdType(link: string): PinKind | undefined {
  for (const k of ["map", "prog", "link"] as const) if (link.includes(FD_TYPE_MARK[k])) return k;
  return undefined;
}

function bpfMounts(): string[] {
  let text = "";
  try { text = readFileSync("/proc/mounts", "utf8"); } catch { return []; }
  return text.split("\n").map((l) => l.split(" ")).filter((f) => f.length > 2 && f[2]!.startsWith("bpf")).map((f) => unescapeMount(f[1]!));
}

function walk(dir: string, visit: (file: string) => void): void {
  let d;
  try { d = opendirSync(dir); } catch { return; }
  try {
    for (let e = d.readSync(); e !== null; e = d.readSync()) {
      const p = `${dir.endsWith("/") ? dir.slice(0, -1) : dir}/${e.name}`;
      if (e.isDirectory()) walk(p, visit);
      else if (e.isFile()) visit(p);
    }
  } finally {
    d.closeSync();
  }
}

/** id → pinned paths of every object of `kind`, in bpftool's order. */
export function pinnedPaths(kind: PinKind): BpftoolMultimap<string> {
  return pinTable(pinnedPathList(kind));
}

/** bpftool's pin table from [id, path] pairs in walk order (either backend's pins). */
export function pinTable(pins: readonly (readonly [number, string])[]): BpftoolMultimap<string> {
  const table = new BpftoolMultimap<string>();
  for (const [id, path] of pins) table.append(id, path);
  return table;
}

/** Every pin of an object of `kind` as [id, path], in the order bpftool's nftw walk finds them. */
export function pinnedPathList(kind: PinKind): [number, string][] {
  const table: [number, string][] = [];
  for (const mnt of bpfMounts()) {
    walk(mnt, (path) => {
      let fd: number;
      try { fd = objGet(path); } catch { return; }
      try {
        let link = "";
        try { link = readlinkSync(`/proc/self/fd/${fd}`); } catch { return; }
        if (fdType(link) !== kind) return;
        const info = new Uint8Array(232);
        objGetInfoByFd(fd, info);
        table.push([new DataView(info.buffer).getUint32(4, true), path]);
      } catch {
        /* an object that vanished or refuses info is skipped, as bpftool does */
      } finally {
        closeFd(fd);
      }
    });
  }
  return table;
}
