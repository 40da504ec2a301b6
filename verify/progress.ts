/** Progress while `verify` waits: a live clock on a terminal, a plain line every few seconds anywhere else. */

export class Progress {
  private lastPlain = Number.NEGATIVE_INFINITY;

  constructor(private readonly stream: NodeJS.WriteStream = process.stdout) {}

  private get live(): boolean {
    return Boolean(this.stream.isTTY);
  }

  /** What is being waited for, and for how long so far. */
  tick(what: string, seconds: number, state: string): void {
    if (this.live) {
      this.stream.write(`\r\x1b[2K  … ${what}: ${seconds.toFixed(1)} s (${state})`);
    } else if (seconds - this.lastPlain >= 5) {
      this.lastPlain = seconds;
      this.stream.write(`  … ${what}: ${seconds.toFixed(0)} s (${state})\n`);
    }
  }

  /** Ends a wait; the next tick starts a new one. */
  done(): void {
    if (this.live) this.stream.write("\r\x1b[2K");
    this.lastPlain = Number.NEGATIVE_INFINITY;
  }

  line(text: string): void {
    this.done();
    this.stream.write(`${text}\n`);
  }
}
