// The eBPF → WebAssembly JIT: a small wasm encoder (wasm.ts), the block layout / stackifier (cfg.ts), the compiler
// (compile.ts) and the engine that runs compiled programs with the interpreter's interface and faults (engine.ts);
// select.ts chooses between interpreter and JIT; cbpf.ts compiles classic filters straight to wasm (libpcap
// semantics). May import: isa, vm, helpers, maps, verifier (facts). Pure.
export { JitVm, type JitLoadOptions } from "./engine.ts";
export { compileModule, type CompiledModule, type ListingLine } from "./compile.ts";
export { createEngine, DEFAULT_ENGINE, engineKind, ENGINE_KINDS, type Engine, type EngineKind } from "./select.ts";
export { jitedText } from "./listing.ts";
export { compileClassicFilter, type WasmClassicFilter } from "./cbpf.ts";
