/**
 * Progress on stderr for long steps: a live line on a terminal, nothing when stderr is a pipe or a file (CI,
 * logs), so output stays clean where nobody watches.
 */
export interface Progress {
  update(done: number, total: number, unit: string): void;
  /** A free-form status line (e.g. "willingness mlp: epoch 12/60"). */
  note(message: string): void;
  done(message?: string): void;
}

export function progress(label: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  const live = Boolean(stream.isTTY);
  const t0 = Date.now();
  let last = 0;
  return {
    update(done, total, unit) {
      if (!live) return;
      const now = Date.now();
      if (now - last < 100 && done < total) return;
      last = now;
      const pct = total > 0 ? Math.floor((100 * done) / total) : 0;
      stream.write(
        `\r${label}: ${done.toLocaleString('en-US')} / ${total.toLocaleString('en-US')} ${unit} (${pct}%)`,
      );
    },
    note(message) {
      if (!live) return;
      const now = Date.now();
      if (now - last < 100) return;
      last = now;
      const width = Math.max(20, (stream.columns ?? 100) - label.length - 3);
      stream.write(`\r\x1b[K${label}: ${message.slice(0, width)}`);
    },
    done(message) {
      if (live) stream.write('\r\x1b[K');
      if (message) stream.write(`${label}: ${message} in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    },
  };
}
