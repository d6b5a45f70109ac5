// Running a light skeleton's loader program on a Backend, as skel_internal.h's bpf_load_and_run does: the data blob in
// a one-entry array map ("__loader.map"), the loader as a sleepable BPF_PROG_TYPE_SYSCALL program ("__loader.prog")
// that reaches the map through fd_array, run once by BPF_PROG_TEST_RUN with the loader context. The maps and programs
// it creates are the caller's (their fds are written into the context). Pure.
import { errnoOf } from "./backend.ts";
import type { Backend } from "./backend.ts";
import type { LoaderProgram } from "../object/loader-gen.ts";

const BPF_MAP_TYPE_ARRAY = 2;
const BPF_PROG_TYPE_SYSCALL = 31;
const BPF_F_SLEEPABLE = 1 << 4;

export interface LoaderRunResult {
  /** 0, or the negative errno (of the failed step, or the loader's own return value) */
  readonly err: number;
  /** skel_internal.h's opts.errstr for a failure */
  readonly errstr?: string;
}

/** `ctx`: struct bpf_loader_ctx followed by room for the map and program descriptors (its `sz` field set). */
export function runLoader(b: Backend, loader: LoaderProgram, ctx: Uint8Array, logLevel = 0): LoaderRunResult {
  let mapFd = -1, progFd = -1;
  const failed = (e: unknown, errstr: string): LoaderRunResult => {
    const errno = errnoOf(e);
    if (errno === undefined) throw e;
    return { err: -errno, errstr };
  };
  try {
    try {
      mapFd = b.mapCreate({ mapType: BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: loader.data.length, maxEntries: 1, name: "__loader.map" });
    } catch (e) {
      return failed(e, "failed to create loader map");
    }
    try {
      b.mapUpdateElem(mapFd, new Uint8Array(4), loader.data);
    } catch (e) {
      return failed(e, "failed to update loader map");
    }
    try {
      progFd = b.progLoad({
        progType: BPF_PROG_TYPE_SYSCALL, insns: loader.insns, license: "Dual BSD/GPL", name: "__loader.prog",
        fdArray: [mapFd], progFlags: BPF_F_SLEEPABLE, logLevel,
      }).fd;
    } catch (e) {
      return failed(e, "failed to load loader prog");
    }
    let retval: number;
    try {
      retval = b.progTestRun(progFd, { ctxIn: ctx, ctxOutSize: 0 }).retval | 0;
    } catch (e) {
      return failed(e, "failed to execute loader prog");
    }
    return retval < 0 ? { err: retval, errstr: "failed to execute loader prog" } : { err: 0 };
  } finally {
    if (mapFd >= 0) b.close(mapFd);
    if (progFd >= 0) b.close(progFd);
  }
}
