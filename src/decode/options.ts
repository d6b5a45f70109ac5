// What tcpdump's printing flags ask for, as one value the printers read.

export interface PrintOptions {
  /** -n: 1 keeps addresses numeric, -nn: 2 keeps ports and protocols numeric too. */
  readonly nflag: number;
  /** -e: print the link-level header. */
  readonly eflag: boolean;
  /** -q: quiet (less protocol detail). */
  readonly qflag: boolean;
  /** -v count. */
  readonly vflag: number;
  /** -S: absolute TCP sequence numbers. */
  readonly Sflag: boolean;
  /** -t count: 0 time of day, 1 none, 2 epoch, 3 delta from previous, 4 date and time, 5 delta from first. */
  readonly tflag: number;
  /** -x count (hex), -X count (hex and ASCII), -A count (ASCII). Two of a letter include the link header. */
  readonly xflag: number;
  readonly Xflag: number;
  readonly Aflag: number;
  /** --number: packet numbers before each line. */
  readonly number: boolean;
  /** --nano / --time-stamp-precision=nano: nine fractional digits. */
  readonly nano: boolean;
  /** -x, -X or -q given: no hex dump of payloads tcpdump cannot decode. */
  readonly suppressDefault?: boolean;
}

export const DEFAULT_PRINT_OPTIONS: PrintOptions = {
  nflag: 0, eflag: false, qflag: false, vflag: 0, Sflag: false, tflag: 0, xflag: 0, Xflag: 0, Aflag: 0, number: false, nano: false,
};
