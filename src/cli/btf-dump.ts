// `btf dump BTF_SRC [format raw|c]` for the sources that name kernel (or VM) objects, as bpftool 7.1's do_dump:
// `id BTF_ID`, `map MAP [key|value|kv|all]` (only the map's key and/or value types, or all), `prog PROG`; text, C
// and JSON output, bpftool's errors and exit statuses. `file F` stays in src/cli/btf.ts, which calls this for the rest.
import { readFileSync } from "node:fs";
import type { Btf } from "../btf/parse.ts";
import { btfFromFileBytes } from "../object/btf-file.ts";
import { Printer, isPrefix, parseId, selectFds } from "../kernel/listing.ts";
import type { Backend } from "../runtime/backend.ts";
import { errnoOf } from "../runtime/index.ts";
import { strerror } from "../kernel/libc.ts";
import { OBJECT_USAGE, renderUsage } from "./bpftool-usage.ts";
import { BIN } from "./bpftool.ts";

export interface BtfDumpMode {
  readonly json: boolean;
  readonly pretty: boolean;
  readonly backend?: Backend;
}

/** What to print: text chunks are streamed through `write`; the result says stderr and the exit status. */
export interface BtfDumpResult {
  readonly stderr: string;
  readonly stdout: string;
  readonly code: number;
}

const VMLINUX = "/sys/kernel/btf/vmlinux";

/** A BTF to dump: the roots (a map's key and/or value type) or all its types, as C or raw. */
export interface BtfDumpPlan {
  readonly btf: Btf;
  readonly roots: readonly number[];
  readonly c: boolean;
  /** bpftool's p_info for module BTF without -B (stderr, text mode only). */
  readonly warning: string;
}

/** Resolves `dump`'s arguments (after the word `dump`) to a BTF, or to bpftool's error output. */
export function btfDumpSource(args: readonly string[], mode: BtfDumpMode, baseBtf?: Btf): BtfDumpPlan | BtfDumpResult {
  const out = new Printer(mode);
  const b = out.b;
  const done = (code?: number): BtfDumpResult => {
    const r = out.result(code);
    return { stdout: r.stdout, stderr: r.stderr, code: r.code };
  };
  if (args.length < 2) {
    out.error(`'dump' needs at least 2 arguments, ${args.length} found`);
    if (mode.json) return { stdout: `${out.result().stdout.trimEnd()},null\n`, stderr: "", code: 255 };
    return { stdout: "", stderr: out.err + renderUsage(OBJECT_USAGE.btf!, BIN, "btf"), code: 255 };
  }
  const [src, ...rest] = args as [string, ...string[]];
  let btfId = -1;
  const roots: number[] = [];
  let i = 0;
  if (isPrefix(src, "map") || isPrefix(src, "prog")) {
    const kind = isPrefix(src, "map") ? "map" : "prog";
    if (rest.length < 2) {
      out.error(`'${src}' needs at least 2 arguments, ${rest.length} found`);
      if (mode.json) return { stdout: `${out.result().stdout.trimEnd()},null\n`, stderr: "", code: 255 };
      return { stdout: "", stderr: out.err + renderUsage(OBJECT_USAGE.btf!, BIN, "btf"), code: 255 };
    }
    const fds = selectFds(out, kind, rest.slice(0, 2));
    if (fds === undefined) return done();
    if (fds.length !== 1) {
      for (const fd of fds) b.close(fd);
      out.error(fds.length ? `several ${kind}s match this handle` : `no ${kind} with name ${rest[1]} found`);
      return done();
    }
    const fd = fds[0]!;
    i = 2;
    try {
      if (kind === "map") {
        const info = b.mapInfo(fd);
        btfId = info.btfId;
        const w = rest[i];
        if (w !== undefined && isPrefix(w, "key")) { roots.push(info.btfKeyTypeId); i++; }
        else if (w !== undefined && isPrefix(w, "value")) { roots.push(info.btfValueTypeId); i++; }
        else if (w !== undefined && isPrefix(w, "all")) i++;
        else {
          if (w !== undefined && isPrefix(w, "kv")) i++;
          roots.push(info.btfKeyTypeId, info.btfValueTypeId);
        }
      } else {
        btfId = b.progInfo(fd).btfId;
      }
    } finally {
      b.close(fd);
    }
  } else if (isPrefix(src, "id")) {
    const id = parseId(rest[0]!);
    if (id === undefined) {
      out.error(`can't parse ${rest[0]} as ID`);
      return done();
    }
    btfId = id;
    i = 1;
  } else {
    out.error(`unrecognized BTF source specifier: '${src}'`);
    return done();
  }
  let c = false;
  for (; i < rest.length; i++) {
    if (isPrefix(rest[i], "format")) {
      const f = rest[++i];
      if (f === undefined) {
        out.error("expecting value for 'format' option\n");
        return done(234);
      }
      if (f === "c") c = true;
      else if (f === "raw") c = false;
      else {
        out.error(`unrecognized format specifier: '${f}', possible values: raw, c`);
        return done(234);
      }
    } else {
      out.error(`unrecognized option: '${rest[i]}'`);
      return done(234);
    }
  }
  let btf: Btf;
  let warning = "";
  try {
    const fd = b.getFdById("btf", btfId >>> 0);
    let info;
    try {
      info = b.btfInfo(fd, true);
    } finally {
      b.close(fd);
    }
    let base = baseBtf;
    if (!base && info.kernelBtf && info.name !== "vmlinux") {
      if (!mode.json) warning = `Warning: valid base BTF was not specified with -B option, falling back to standard base BTF (${VMLINUX})\n`;
      base = btfFromFileBytes(readFileSync(VMLINUX));
    }
    btf = btfFromFileBytes(info.data ?? new Uint8Array(0), base);
  } catch (e) {
    const errno = errnoOf(e) ?? 22;
    // without -B, bpftool first asks whether the id is module BTF (btf_is_kernel_module), which fails the same way
    if (!baseBtf) out.error(`can't get BTF object by id (${btfId >>> 0}): ${strerror(errno)}`);
    out.error(`get btf by id (${btfId >>> 0}): ${strerror(errno)}`);
    return done((256 - errno) & 0xff);
  }
  if (c && mode.json) {
    out.error("JSON output for C-syntax dump is not supported");
    return done(256 - 95);
  }
  return { btf, roots, c, warning };
}
