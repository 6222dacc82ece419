/**
 * Background work started beside the HTTP server (expired-row purge, log retention, log streams).
 * Shutdown stops it and waits for it after the HTTP server has drained and before the database
 * closes (issue 13 §3): a job still querying must never meet a destroyed driver.
 */
export class Background {
  #stops: (() => Promise<void> | void)[] = [];

  /** Registers how to stop one job; the promise it returns must settle once the job is idle. */
  add(stop: () => Promise<void> | void): void {
    this.#stops.push(stop);
  }

  /** Stops every job and waits for all of them; a failing stop does not keep the others running. */
  async stop(): Promise<void> {
    const stops = this.#stops.splice(0);
    await Promise.all(stops.map((stop) => Promise.resolve().then(stop).catch(() => {})));
  }
}
