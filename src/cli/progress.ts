/**
 * Progress of long work on stderr (stdout stays the result, for scripts): on
 * a terminal one line rewritten in place, elsewhere (a log, a pipe) a line
 * at most every `everyMs`, and always the last one.
 */
export interface Progress {
  update(text: string): void;
  /** Ends the progress line; the next output starts on a fresh line. */
  done(text?: string): void;
}

export function createProgress(stream: NodeJS.WriteStream = process.stderr, everyMs = 2000): Progress {
  const tty = stream.isTTY === true;
  let last = 0;
  let pending: string | null = null;
  let open = false;
  return {
    update(text) {
      if (tty) {
        stream.write(`\r\x1b[K${text}`);
        open = true;
        return;
      }
      const now = Date.now();
      if (now - last >= everyMs) {
        stream.write(`${text}\n`);
        last = now;
        pending = null;
      } else pending = text;
    },
    done(text) {
      const final = text ?? pending;
      if (tty) {
        if (final !== null && final !== undefined) stream.write(`\r\x1b[K${final}\n`);
        else if (open) stream.write('\n');
      } else if (final !== null && final !== undefined) stream.write(`${final}\n`);
      open = false;
      pending = null;
    },
  };
}
