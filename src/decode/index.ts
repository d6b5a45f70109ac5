// Packet printers: tcpdump 4.99's text for each packet (link layers, IPv4/IPv6, TCP, UDP, ICMP, ARP, DNS, ...), one
// small module per protocol with its fields and names as tables. Pure: bytes in, strings out; imports only the
// filter layer's netbase tables (service and protocol names).
export { PacketPrinter, DECODED_LINKTYPES } from "./printer.ts";
export type { PrintablePacket, PrinterEnv } from "./printer.ts";
export type { PrintOptions } from "./options.ts";
export { DEFAULT_PRINT_OPTIONS } from "./options.ts";
