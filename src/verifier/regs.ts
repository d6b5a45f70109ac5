// Register reads and the kernel's names for register types (reg_type_str), used in messages and the log.
import { type Env, EACCES, reject } from "./env.ts";
import { type Reg, curFrame } from "./state.ts";

/** check_reg_arg(SRC_OP): reading a register that was never written. */
export function checkRegRead(env: Env, regno: number): Reg {
  if (regno > 10) reject(env, `R${regno} is invalid`, 22);
  const r = curFrame(env.state).regs[regno]!;
  if (r.type === "not_init") reject(env, `R${regno} !read_ok`, EACCES);
  return r;
}

/** The kernel's reg_type_str: base name, `ringbuf_` prefix, `_or_null` suffix. */
export function regTypeStr(r: Reg): string {
  if (r.type === "not_init") return "?";
  const base = r.type === "mem" && r.ringbuf ? "ringbuf_mem" : r.type === "mem" && r.rdonly ? "rdonly_mem" : r.type;
  return r.maybeNull ? `${base}_or_null` : base;
}
