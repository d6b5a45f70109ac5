import { test } from "node:test";
import assert from "node:assert/strict";
import { jhash2 } from "./jhash.ts";

// Values of the word-wise jhash2 (lookup3's hashword loop) before it became jhash over the same bytes.
test("jhash2 keeps the word-wise values", () => {
  const key = Uint8Array.from({ length: 20 }, (_, i) => i * 7 + 1);
  assert.deepEqual([0, 1, 2, 3, 4, 5].map((n) => jhash2(key, 0, n, 0)),
    [3735928559, 1190719177, 2600317363, 949066791, 3992896790, 2564144596]);
  assert.equal(jhash2(key, 0, 5, 0x12345678), 1937432113);
});
