// bpftool's JSON writer lives in src/btf/json-writer.ts (pure, shared with the browser build); re-exported here for
// the kernel listings that import it from this folder.
export { JsonWriter } from "../btf/json-writer.ts";
