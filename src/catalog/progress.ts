import cliProgress from 'cli-progress';

/** A stderr progress bar (stdout stays free for JSON results); silent when stderr is not a TTY. */
export function progressBar(label: string): {
  update: (done: number, total: number) => void;
  stop: () => void;
} {
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {percentage}% | {value}/{total} | eta {eta_formatted}`,
      stream: process.stderr,
      noTTYOutput: false,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(done, total) {
      if (!started) {
        bar.start(total, done);
        started = true;
      } else {
        bar.setTotal(total);
        bar.update(done);
      }
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

/** The catalog database path CLIs use by default, the same file the server opens. */
export function defaultDbPath(env: Record<string, string | undefined> = process.env): string {
  return `${env.DATA_DIR ?? './data'}/catalog.sqlite`;
}
