// Name resolution for filter expressions, as libpcap's nametoaddr.c resolves names on a Debian host: services and
// protocols from netbase (generated tables), hosts from a minimal hosts(5) (localhost), networks from networks(5),
// and no ethers(5) entries. Nothing is looked up on the network at run time.
import { TCP_SERVICES, UDP_SERVICES, PROTOCOLS, NETWORKS } from "./netbase.ts";
import { IPPROTO, PROTO_UNDEF } from "./state.ts";

const own = <T>(table: Readonly<Record<string, T>>, key: string): T | undefined =>
  Object.hasOwn(table, key) ? table[key] : undefined;

/** pcap_nametoport: the TCP and UDP service ports; the protocol is PROTO_UNDEF when both agree. */
export function lookupPort(name: string): { port: number; proto: number } | null {
  if (/^[0-9]+$/.test(name)) return { port: Number(name), proto: PROTO_UNDEF };
  const tcp = own(TCP_SERVICES, name);
  const udp = own(UDP_SERVICES, name);
  if (tcp !== undefined) return { port: tcp, proto: udp === tcp ? PROTO_UNDEF : IPPROTO.TCP };
  if (udp !== undefined) return { port: udp, proto: IPPROTO.UDP };
  return null;
}

/** getprotobyname(3); PROTO_UNDEF when unknown. */
export function lookupProtocol(name: string): number {
  return own(PROTOCOLS, name) ?? PROTO_UNDEF;
}

/** hosts(5) as shipped on Debian: only localhost. IPv4 addresses as numbers, IPv6 as 16 bytes. */
const HOSTS: Readonly<Record<string, ReadonlyArray<number | Uint8Array>>> = {
  localhost: [0x7f000001],
};

export function lookupHost(name: string): ReadonlyArray<number | Uint8Array> | null {
  return own(HOSTS, name) ?? null;
}

/** getnetbyname(3) → network number (0 when unknown, as pcap_nametonetaddr returns). */
export function lookupNetwork(name: string): number {
  const a = own(NETWORKS, name);
  if (a === undefined) return 0;
  const parts = a.split(".").map(Number);
  let v = 0;
  for (const p of parts) v = ((v << 8) | p) >>> 0;
  return v;
}

/** pcap_ether_aton: hex byte pairs separated by ':', '.' or '-'; other characters convert as its xdtoi() does. */
export function parseEtherAddress(s: string): Uint8Array {
  const xdtoi = (c: number): number =>
    c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 97 + 10 : (c - 65 + 10) & 0xff;
  const isx = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
  const out = new Uint8Array(6);
  let n = 0;
  let i = 0;
  const at = (k: number): number => (k < s.length ? s.charCodeAt(k) : 0);
  while (i < s.length) {
    if (s[i] === ":" || s[i] === "." || s[i] === "-") i++;
    let d = xdtoi(at(i++));
    if (isx(at(i))) d = (d << 4) | xdtoi(at(i++));
    if (n < 6) out[n] = d & 0xff;
    n++;
  }
  return out;
}
