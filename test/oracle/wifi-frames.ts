// Synthetic 802.11 captures for the tcpdump differential: radiotap headers with every field tcpdump prints (and a
// vendor namespace, an unknown bit, the FCS and DATAPAD flags), then management, control and data frames of each
// subtype, some cut short. Deterministic, so a difference is reproducible.

const le16 = (v: number): number[] => [v & 0xff, (v >> 8) & 0xff];
const le32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];

const A = [0x00, 0x11, 0x22, 0x33, 0x44, 0x55];
const B = [0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb];
const C = [0x00, 0x00, 0x0c, 0x01, 0x02, 0x03];
const D = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];

/** A radiotap header from a presence bitmap and its (already aligned) field bytes. */
function radiotap(present: number[], fields: number[]): number[] {
  const len = 4 + 4 * present.length + fields.length;
  return [0, 0, ...le16(len), ...present.flatMap(le32), ...fields];
}

/** Radiotap headers, each paired with the frames below in turn. */
const RADIOTAPS: number[][] = [
  // TSFT, FLAGS (short preamble, wep), RATE 54, CHANNEL 2437 11g, DBM signal/noise, antenna, DB signal
  radiotap([0x180f | 0x20 | 0x40 | 0x800 | 0x1000], [
    ...le32(0x12345678), ...le32(0x1), 0x06, 108, ...le16(2437), ...le16(0x00c0), 0xc4, 0xa0, 2, 40,
  ]),
  // FHSS, lock quality, tx attenuation, dB tx attenuation, dBm tx power, dB noise, RX flags
  radiotap([(1 << 4) | (1 << 7) | (1 << 8) | (1 << 9) | (1 << 10) | (1 << 13) | (1 << 14)], [
    3, 7, ...le16(55), ...le16(4), 2, 0, 0xfb, 33, ...le16(0),
  ]),
  // XCHANNEL (HT40+) with MCS (all known) and CHANNEL (skipped as XCHANNEL is present)
  radiotap([(1 << 3) | (1 << 18) | (1 << 19)], [
    ...le16(5180), ...le16(0x0140), ...le32(0x20140), ...le16(5180), 36, 30, 0x3f, 0x15 | 0x20, 15,
  ]),
  // MCS 32 at 20 MHz (no rate), AMPDU status, VHT two users 80 MHz short GI
  radiotap([(1 << 19) | (1 << 20) | (1 << 21)], [
    0x07, 0x00, 32, 0, ...le32(7), ...le16(0), 0, 0, ...le16(0x44), 0x04, 4, 0x92, 0x31, 0, 0, 0x02, 0, ...le16(0),
  ]),
  // an extended bitmap into a vendor namespace that is skipped, then back to radiotap with a rate
  radiotap([0x80000000 | 0x40000000 | 0x2, 0x20000000 | 0x80000000, 0x4], [
    0x10 /* FCS flag */, 0xaa, 0xbb, 0xcc, 0x01, 0, ...le16(3), 1, 2, 3, 22,
  ]),
  // DATAPAD, FCS and bad FCS flags; unknown bit 15 stops the header
  radiotap([0x2 | (1 << 15) | (1 << 11)], [0x20 | 0x40 | 0x08 | 0x01, 1]),
  // a rate byte read as an MCS index, then a field cut short by the header length
  radiotap([0x4 | 0x1], []),
  radiotap([0x4 | 0x8], [0x85, 0, ...le16(2412)]),
];

function mgmt(subtype: number, body: number[], flags = 0): number[] {
  return [subtype << 4, flags, ...le16(314), ...A, ...B, ...C, ...le16(0x1230), ...body];
}

const ssid = (s: string): number[] => [0, s.length, ...Array.from(s, (c) => c.charCodeAt(0))];
const rates = [1, 8, 0x82, 0x84, 0x8b, 0x96, 0x0c, 0x12, 0x18, 0x24];
const ds = [3, 1, 11];
const tim = [5, 4, 0, 1, 0, 0];
const cf = [4, 6, 1, 2, ...le16(3), ...le16(4)];
const fixed = [...Array(8).fill(0), ...le16(100)];

const FRAMES: number[][] = [
  mgmt(8, [...fixed, ...le16(0x0011), ...ssid("lab\x01net"), ...rates, ...ds, ...tim, ...cf]),
  mgmt(8, [...fixed, ...le16(0x0002), ...ssid(""), 1, 0, ...rates, ...ssid("second")]),
  mgmt(5, [...fixed, ...le16(0x0011), ...ssid("resp"), ...rates, ...ds]),
  mgmt(4, [...ssid("probe"), ...rates, 221, 3, 0, 0x50, 0xf2]),
  mgmt(0, [...le16(0x0011), ...le16(10), ...ssid("assoc"), ...rates]),
  mgmt(1, [...le16(0x0011), ...le16(17), ...le16(0xc005)]),
  mgmt(3, [...le16(0x0001), ...le16(200), ...le16(0xc001)]),
  mgmt(2, [...le16(0x0011), ...le16(10), ...D, ...ssid("re")]),
  mgmt(9, []),
  mgmt(10, [...le16(8)]),
  mgmt(10, [...le16(99)]),
  mgmt(11, [...le16(1), ...le16(2), ...le16(0), 16, 4, 1, 2, 3, 4]),
  mgmt(11, [...le16(1), ...le16(3), ...le16(15)]),
  mgmt(11, [...le16(5), ...le16(1), ...le16(0)]),
  mgmt(12, [...le16(3)]),
  mgmt(13, [3, 0]), mgmt(13, [7, 1]), mgmt(13, [13, 4]), mgmt(13, [15, 0]), mgmt(13, [127, 9]), mgmt(13, [50, 1]),
  mgmt(13, [0, 4]), mgmt(14, []), mgmt(8, [1, 2, 3]), mgmt(8, [...fixed, 0, 0, 0, 40, 1]),
  mgmt(8, [...fixed, ...le16(1), 0, 33, ...Array(33).fill(0x41)]),
  mgmt(0, [1, 2, 3, 4, 5, 6, 7, 8], 0x40),
  // control: BAR, BA, PS-Poll, RTS, CTS, ACK, CF-End, CF-End+Ack, wrapper, unknown subtype
  [0x84, 0, ...le16(0), ...A, ...B, ...le16(0x0004), ...le16(0x0120)],
  [0x94, 0, ...le16(0), ...A, ...B, 1, 2, 3, 4],
  [0xa4, 0x10, ...le16(0xc001), ...A, ...B],
  [0xb4, 0, ...le16(100), ...A, ...B],
  [0xc4, 0, ...le16(100), ...A],
  [0xd4, 0x08, ...le16(0), ...A],
  [0xe4, 0, ...le16(0), ...A, ...B],
  [0xf4, 0, ...le16(0), ...A, ...B],
  [0x74, 0, ...le16(0), ...A, ...le16(0xd4), ...le32(0)],
  [0x34, 0, ...le16(0), ...A],
  // data: SNAP IPv4/UDP to DNS, From DS (ARP), To DS (ICMP), WDS (unknown Cisco pid), QoS, protected, null, LLC I
  // frame, IPX 802.2, a cut SNAP header
  [0x08, 0x00, ...le16(44), ...A, ...B, ...C, ...le16(0x10), 0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00,
    0x45, 0, 0, 28, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, ...[0x30, 0x39, 0x00, 0x35, 0, 8, 0, 0]],
  [0x08, 0x02, ...le16(44), ...A, ...B, ...C, ...le16(0x10), 0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x06, 0, 1, 8, 0, 6, 4, 0, 1,
    ...B, 10, 0, 0, 1, ...Array(6).fill(0), 10, 0, 0, 2],
  [0x08, 0x01, ...le16(44), ...A, ...B, ...C, ...le16(0x10), 0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00,
    0x45, 0, 0, 28, 0, 1, 0, 0, 64, 1, 0, 0, 10, 0, 0, 2, 10, 0, 0, 1, 8, 0, 0, 0, 0, 7, 0, 1],
  [0x08, 0x03, ...le16(44), ...A, ...B, ...C, ...le16(0x10), ...D, 0xaa, 0xaa, 0x03, 0, 0, 0x0c, 0x12, 0x34, 9, 9],
  [0x88, 0x01, ...le16(44), ...A, ...B, ...C, ...le16(0x10), 0, 0, 0xf0, 0xf0, 0x03, 1, 2],
  [0x88, 0x41, ...le16(44), ...A, ...B, ...C, ...le16(0x10), 0, 0, 0x12, 0x34, 0x56, 0xc0, 1, 2, 3],
  [0x48, 0x11, ...le16(44), ...A, ...B, ...C, ...le16(0x10)],
  [0x18, 0x00, ...le16(44), ...A, ...B, ...C, ...le16(0x10), 0x42, 0x43, 0x05, 0x00, 7],
  [0x28, 0x00, ...le16(44), ...A, ...B, ...C, ...le16(0x10), 0xe0, 0xe0, 0x03, 0xff, 0xff, 0, 40, 0, 4,
    0, 0, 0, 1, ...A, 0x04, 0x51, 0, 0, 0, 2, ...B, 0x40, 0x00, 0, 3],
  [0x08, 0x00, ...le16(44), ...A, ...B, ...C, ...le16(0x10), 0xaa, 0xaa],
  // unknown frame type, and frames shorter than their header
  [0x0c, 0x00, 1, 2],
  [0x08, 0x00, ...le16(44), ...A],
  [0x80],
];

/** [linktype, frames]: radiotap captures pair each header with every frame; plain 802.11 carries the frames bare. */
export function wifiCaptures(): { linktype: number; frames: Uint8Array[] }[] {
  const radio: Uint8Array[] = [];
  RADIOTAPS.forEach((rt, i) => {
    for (let j = i % 3; j < FRAMES.length; j += 3) {
      const f = FRAMES[j]!;
      // the FCS flag (header 4) means the frame's last 4 bytes are its check sequence; DATAPAD (header 5) aligns the body
      const extra = i === 4 ? [0xde, 0xad, 0xbe, 0xef] : [];
      radio.push(Uint8Array.from([...rt, ...f, ...extra]));
    }
  });
  return [
    { linktype: 127, frames: radio },
    { linktype: 105, frames: FRAMES.map((f) => Uint8Array.from(f)) },
  ];
}
