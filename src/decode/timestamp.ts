// The time stamp at the head of each line, as tcpdump's -t flags choose it. Local time, as tcpdump prints it
// (set TZ to compare runs). Fractions are microseconds unless nanoseconds are asked for.

const p2 = (v: number): string => (v < 10 ? "0" + v : String(v));

/** tcpdump's text for a seconds value whose 32-bit form has bit 31 set (a negative pcap time, or such a difference). */
const CONVERT_ERROR = "[Error converting time]";
const unconvertible = (sec: number): boolean => ((sec >>> 0) & 0x80000000) !== 0;

export class TimestampFormat {
  private readonly tflag: number;
  private readonly nano: boolean;
  private lastSec = -1;
  private lastText = "";
  /** tcpdump's tv_ref for -ttt/-ttttt: a stamp of 0.000000 counts as unset, so the next packet becomes it. */
  private refSec = 0;
  private refFrac = 0;
  constructor(tflag: number, nano: boolean) {
    this.tflag = tflag;
    this.nano = nano;
  }

  /** The stamp with its trailing space ("" under -t). `nsec` is the packet's nanoseconds. */
  format(sec: number, nsec: number): string {
    // libpcap keeps an out-of-range fraction as it is; tcpdump prints it unsigned
    let frac = this.nano ? nsec : Math.trunc(nsec / 1000);
    if (frac < 0) frac += 4294967296;
    switch (this.tflag) {
      case 1: return "";
      case 2: return unconvertible(sec) ? `${CONVERT_ERROR} ` : `${sec >>> 0}.${this.fraction(frac)} `;
      case 3: case 5: {
        if (this.refSec === 0 && this.refFrac === 0) { this.refSec = sec; this.refFrac = frac; }
        const s = this.delta(sec, frac, this.refSec, this.refFrac);
        if (this.tflag === 3) { this.refSec = sec; this.refFrac = frac; }
        return s + " ";
      }
      case 4: return unconvertible(sec) ? `${CONVERT_ERROR} ` : `${this.date(sec)} ${this.clock(sec)}.${this.fraction(frac)} `;
      default: return unconvertible(sec) ? `${CONVERT_ERROR} ` : `${this.clock(sec)}.${this.fraction(frac)} `;
    }
  }

  private fraction(frac: number): string {
    return String(frac).padStart(this.nano ? 9 : 6, "0");
  }

  private clock(sec: number): string {
    if (sec !== this.lastSec) {
      const d = new Date(sec * 1000);
      this.lastSec = sec;
      this.lastText = `${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`;
    }
    return this.lastText;
  }

  private date(sec: number): string {
    const d = new Date(sec * 1000);
    return `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())}`;
  }

  /** The time between two stamps as tcpdump prints it: sign, then the difference's time of day (gmtime: hours wrap at 24). */
  private delta(sec: number, frac: number, baseSec: number, baseFrac: number): string {
    const unit = this.nano ? 1_000_000_000 : 1_000_000;
    let ds = sec - baseSec;
    let df = frac - baseFrac;
    let sign = " ";
    if (ds < 0 || (ds === 0 && df < 0)) { sign = "-"; ds = -ds; df = -df; }
    if (df < 0) { ds--; df += unit; }
    if (unconvertible(ds)) return sign + CONVERT_ERROR;
    return `${sign}${p2(Math.floor(ds / 3600) % 24)}:${p2(Math.floor(ds / 60) % 60)}:${p2(ds % 60)}.${this.fraction(df)}`;
  }
}
