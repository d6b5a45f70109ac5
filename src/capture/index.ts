// Capture files: streaming pcap and pcapng readers with libpcap 1.10's acceptance rules and error texts, and a
// pcap writer. Input is a byte array or a sequence of chunks; packet data are views, not copies. Imports nothing
// outside errors.ts. Pure.
export { openCapture, readCapture, openCaptureAsync, readCaptureAsync } from "./read.ts";
export type { OpenCapture, OpenCaptureAsync, CaptureInput, AsyncCaptureInput } from "./read.ts";
export { PcapWriter, writePcap } from "./write.ts";
export type { PcapWriteOptions, PcapWritePacket } from "./write.ts";
export { CaptureError } from "./types.ts";
export type { CaptureFormat, CaptureInfo, CaptureInterface, CapturePacket, ReadOptions } from "./types.ts";
export { MAXIMUM_SNAPLEN, maxSnaplenForLinktype } from "./snaplen.ts";
export { TCPDUMP_MAGIC, NSEC_TCPDUMP_MAGIC, KUZNETZOV_TCPDUMP_MAGIC } from "./pcap.ts";
