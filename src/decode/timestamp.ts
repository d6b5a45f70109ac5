// The time stamp at the head of each line, as tcpdump's -t flags choose it. Local time, as tcpdump prints it
// (set TZ to compare runs). Fractions are microseconds unless nanoseconds are asked for.

const p2 = (v: number): string => (v < 10 ? "0" + v : String(v));

export class TimestampFormat {
  private readonly tflag: number;
  private readonly nano: boolean;
  private lastSec = -1;
  private lastText = "";
  private prevSec = 0;
  private prevFrac = 0;
  private first = true;
  private firstSec = 0;
  private firstFrac = 0;
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
      case 2: return `${sec}.${this.fraction(frac)} `;
      case 3: case 5: {
        if (this.first) { this.first = false; this.firstSec = this.prevSec = sec; this.firstFrac = this.prevFrac = frac; }
        const s = this.delta(sec, frac, this.tflag === 3 ? this.prevSec : this.firstSec, this.tflag === 3 ? this.prevFrac : this.firstFrac);
        this.prevSec = sec;
        this.prevFrac = frac;
        return s + " ";
      }
      case 4: return `${this.date(sec)} ${this.clock(sec)}.${this.fraction(frac)} `;
      default: return `${this.clock(sec)}.${this.fraction(frac)} `;
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

  private delta(sec: number, frac: number, baseSec: number, baseFrac: number): string {
    const unit = this.nano ? 1_000_000_000 : 1_000_000;
    let ds = sec - baseSec;
    let df = frac - baseFrac;
    let sign = " ";
    if (ds < 0 || (ds === 0 && df < 0)) { sign = "-"; ds = -ds; df = -df; }
    if (df < 0) { ds--; df += unit; }
    const h = Math.floor(ds / 3600);
    return `${sign}${p2(h)}:${p2(Math.floor(ds / 60) % 60)}:${p2(ds % 60)}.${this.fraction(df)}`;
  }
}
