// A small BTF exercising every kind and the C dumper's hard cases (bitfields and padding, a packed struct, an anonymous
// union, a self-referencing struct, a function-pointer typedef, arrays of pointers, an ENUM64, tags), for unit tests.
import { BtfBuilder } from "./testkit.ts";

export function sample(): BtfBuilder {
  const b = new BtfBuilder();
  const I = BtfBuilder.info;
  const int = b.type(b.str("int"), I(1), 4, (1 << 24) | 32); // 1
  const uchar = b.type(b.str("unsigned char"), I(1), 1, 8); // 2
  const ulong = b.type(b.str("long unsigned int"), I(1), 8, 64); // 3
  const node = 4, nodePtr = 5;
  b.type(b.str("node"), I(4, 3), 16, b.str("next"), nodePtr, 0, b.str("val"), int, 64, b.str("tag"), uchar, 96); // 4 struct node
  b.type(0, I(2), node); // 5 ptr
  b.type(b.str("flags"), I(4, 4, true), 8, b.str("a"), int, (3 << 24) | 0, b.str("b"), int, (5 << 24) | 3, b.str("c"), uchar, (0 << 24) | 16, b.str("d"), int, (1 << 24) | 32); // 6
  b.type(b.str("packed"), I(4, 2), 5, b.str("x"), uchar, 0, b.str("y"), int, 8); // 7
  const anonU = b.type(0, I(5, 2), 8, b.str("i"), int, 0, b.str("l"), ulong, 0); // 8 anon union
  b.type(b.str("holder"), I(4, 2), 16, 0, anonU, 0, b.str("z"), int, 64); // 9
  const proto = b.type(0, I(13, 2), int, b.str("ctx"), nodePtr, 0, 0); // 10 int (*)(struct node *ctx, ...)
  const fptr = b.type(0, I(2), proto); // 11
  b.type(b.str("handler_t"), I(8), fptr); // 12 typedef
  b.type(b.str("color"), I(6, 2), 4, b.str("RED"), 0, b.str("BLUE"), -1 >>> 0); // 13 enum (unsigned)
  b.type(b.str("big"), I(19, 1, true), 8, b.str("HUGE"), 0, 0x80000000); // 14 enum64 signed
  const arr = b.type(0, I(3), 0, nodePtr, int, 4); // 15 array of 4 struct node *
  b.type(b.str("table"), I(8), arr); // 16
  b.type(b.str("opaque"), I(7, 0, true), 0); // 17 fwd union
  const cint = b.type(0, I(10), int); // 18 const int
  b.type(b.str("cvar"), I(14), cint, 1); // 19 var
  b.type(b.str(".rodata"), I(15, 1), 4, 19, 0, 4); // 20 datasec
  b.type(b.str("double"), I(16), 8); // 21 float
  b.type(b.str("main"), I(12, 1), proto); // 22 func global
  b.type(b.str("user"), I(18), int); // 23 type tag
  b.type(b.str("key"), I(17), 22, (-1) >>> 0); // 24 decl tag
  const vol = b.type(0, I(9), uchar); // 25 volatile
  b.type(b.str("restricted"), I(8), b.type(0, I(11), b.type(0, I(2), vol))); // 28 typedef -> 27 restrict -> 26 ptr -> 25
  return b;
}
