import cliProgress from 'cli-progress';

export interface ProgressView {
  startEpoch(epoch: number, epochs: number, total: number, done: number): void;
  update(done: number, values: { loss: number; fpos: number; ips: number }): void;
  stop(): void;
}

/** A cli-progress bar on stderr (stdout stays clean for JSON), or nothing when disabled. */
export function createProgress(enabled: boolean): ProgressView {
  if (!enabled) return { startEpoch() {}, update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format:
        'epoch {epoch} |{bar}| {value}/{total} steps | loss {loss} | pos.triplets {fpos} | {ips} img/s | eta {eta_formatted}',
      hideCursor: true,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  let running = false;
  return {
    startEpoch(epoch, epochs, total, done) {
      if (running) bar.stop();
      bar.start(total, done, { epoch: `${epoch + 1}/${epochs}`, loss: '-', fpos: '-', ips: '-' });
      running = true;
    },
    update(done, v) {
      bar.update(done, {
        loss: v.loss.toFixed(4),
        fpos: Number.isFinite(v.fpos) ? v.fpos.toFixed(3) : '-',
        ips: v.ips.toFixed(0),
      });
    },
    stop() {
      if (running) bar.stop();
      running = false;
    },
  };
}
