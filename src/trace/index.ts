// The tracer's language (pure): bpftrace 0.17's scanner, parser and semantic analysis with its error texts, the
// compiler from scripts to eBPF programs and map specs in bpfkit's program model, and bpftrace's output (map
// printing, histograms, printf, -f json), and TraceSession: a compiled script loaded, attached and read through the
// runtime's Backend, once for Linux (src/kernel/trace.ts) and the VM (VmTrace). Imports isa, verifier, runtime, errors.
export { parse } from "./parser.ts";
export { tokenize } from "./lexer.ts";
export { check, type Checked, type MapInfo, type CheckOptions } from "./check.ts";
export { compile, layoutMap, type Compiled, type MapLayout, type CompiledProbe } from "./codegen.ts";
export { compileScript, type CompiledScript, type ScriptOptions } from "./script.ts";
export { TraceError, TraceErrors, formatDiagnostic, formatErrors } from "./errors.ts";
export { parseTracepointFormat, resolveAttachPoint, type ProbeEnv, type ResolvedProbe } from "./probes.ts";
export { formatMap, decodeRecord, attachedMessage, printableMaps, type RawEntry, type OutputMode, type TraceEvent } from "./output.ts";
export { formatPrintf, parseFormat } from "./printf.ts";
export * from "./hist-format.ts";
export { VmTrace, type VmTraceOptions } from "./vm-backend.ts";
export { TraceSession, attachTargetOf, type TraceSessionOptions, type PerfReader } from "./session.ts";
