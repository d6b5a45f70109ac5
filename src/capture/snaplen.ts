// max_snaplen_for_dlt() (libpcap pcap-common.c): the largest capture length libpcap accepts per link type.

/** MAXIMUM_SNAPLEN: the default largest snapshot length. */
export const MAXIMUM_SNAPLEN = 262144;

const LARGER_SNAPLEN: ReadonlyMap<number, number> = new Map([
  [231, 128 * 1024 * 1024], // LINKTYPE_DBUS
  [279, 8 * 1024 * 1024], // LINKTYPE_EBHSCR
  [249, 1024 * 1024], // LINKTYPE_USBPCAP
]);

export function maxSnaplenForLinktype(linktype: number): number {
  return LARGER_SNAPLEN.get(linktype) ?? MAXIMUM_SNAPLEN;
}
