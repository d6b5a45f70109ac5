// The front end in one call: parse, check and compile a bpftrace script, then run every generated program through
// bpfkit's verifier (a rejection is a compiler bug, reported as such, never loaded).
import { parse } from "./parser.ts";
import { check, type CheckOptions } from "./check.ts";
import { compile, type Compiled, type CompileOptions } from "./codegen.ts";
import { verify } from "../verifier/index.ts";
import { BpfError } from "../errors.ts";
import type { TraceError } from "./errors.ts";
import { mapTypeOf, type MapTypeName } from "../uapi/map-types.ts";

export interface ScriptOptions extends CheckOptions, CompileOptions {
  /** skip bpfkit's verifier (the kernel verifies anyway) */
  readonly noVerify?: boolean;
}

export interface CompiledScript extends Compiled {
  readonly warnings: readonly TraceError[];
}

export function compileScript(source: string, opts: ScriptOptions): CompiledScript {
  const checked = check(parse(source), opts);
  const c = compile(checked, opts);
  if (!opts.noVerify) {
    const maps = c.mapDecls.map((m) => ({ type: mapTypeOf(m.type as MapTypeName), keySize: m.keySize, valueSize: m.valueSize, maxEntries: m.maxEntries, flags: 0, name: m.name }));
    for (const p of c.programs) {
      const r = verify(p.insns, { progType: p.progType, maps, nrCpus: opts.ncpus, license: "GPL" });
      if (!r.accepted) {
        throw new BpfError("VERIFY", `internal compiler error: bpfkit's verifier rejects the program for ${p.probe.name}: ${r.error?.message} (pc ${r.error?.pc})`);
      }
    }
  }
  return { ...c, warnings: checked.warnings };
}
