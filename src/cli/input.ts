// What the commands that read program files (asm, run, verify) share: telling an ELF object from raw instructions or
// assembly by its magic, and taking the value that follows an option.
import { BpfError } from "../errors.ts";

/** An ELF file starts with "\x7fELF" (EI_MAG0..3), whatever the name says. */
export function isElfObject(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46;
}

/** The argument after the option at argv[k] (the caller then skips it), or EINVAL "OPTION needs a value" and the usage. */
export function optionValue(argv: readonly string[], k: number, usage: string): string {
  const v = argv[k + 1];
  if (v === undefined) throw new BpfError("EINVAL", `${argv[k]} needs a value\n${usage}`);
  return v;
}
