import { test } from "node:test";
import assert from "node:assert/strict";
import { isElfObject, optionValue } from "./input.ts";

test("isElfObject: the 4-byte ELF magic, nothing shorter", () => {
  assert.equal(isElfObject(Uint8Array.of(0x7f, 0x45, 0x4c, 0x46, 2, 1)), true);
  assert.equal(isElfObject(Uint8Array.of(0x7f, 0x45, 0x4c)), false);
  assert.equal(isElfObject(Uint8Array.of(0xb7, 0, 0, 0, 0, 0, 0, 0)), false);
});

test("optionValue: the next argument, or EINVAL naming the option with the usage", () => {
  assert.equal(optionValue(["--type", "xdp", "f.o"], 0, "usage: x"), "xdp");
  assert.throws(() => optionValue(["f.o", "--type"], 1, "usage: x"), { code: "EINVAL", message: "--type needs a value\nusage: x" });
});
