import { ErrorCode, NeurodissectError, throwIfAborted } from '@neurodissect/core';

/** Seconds a coordinator or worker goes on without an answer from Redis, by default. */
export const DEFAULT_REDIS_TIMEOUT_SECONDS = 180;
/** An operation unanswered this long means Redis is away: the wait is reported. */
const SLOW_MS = 2000;

/** Options of {@link createRedisWatch}. */
export interface RedisWatchOptions {
  url: string;
  /** Seconds without an answer from Redis before giving up. */
  timeoutSeconds: number;
  signal?: AbortSignal;
  /** Called with `true` when Redis stops answering, `false` when it answers again. */
  onWaiting?: (waiting: boolean) => void;
}

/** Times the calls to Redis: reports a wait, and gives up once it has lasted `timeoutSeconds`. */
export interface RedisWatch {
  /** Runs one Redis operation under the watch. */
  call<T>(operation: () => Promise<T>): Promise<T>;
  /** Whether Redis is not answering now. */
  readonly waiting: boolean;
  /** Records the reason a client gave (a connection error), for the message. */
  noteError(error: { code?: string; message: string }): void;
  /** The error a watch that gave up throws. */
  lostError(): NeurodissectError;
}

/** Whether a client's error means the connection failed (not an error reply of Redis). */
export function isConnectionError(error: unknown): boolean {
  const e = error as { code?: string; message?: string } | null;
  if (!e) return false;
  if (
    e.code &&
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH'].includes(
      e.code,
    )
  )
    return true;
  return /Connection is closed|Stream isn't writeable|max retries per request/i.test(e.message ?? '');
}

/**
 * A watch over the calls a coordinator or worker makes to Redis: while a call goes unanswered
 * for more than two seconds, or the connection is refused, Redis counts as away (`onWaiting`); a
 * call goes on waiting for it until `timeoutSeconds` have passed without an answer, then throws
 * (`ND_INVALID_OPTION` naming the URL, the reason and what to do).
 */
export function createRedisWatch(options: RedisWatchOptions): RedisWatch {
  const timeoutMs = options.timeoutSeconds * 1000;
  let downSince: number | undefined;
  let waiting = false;
  let reason: string | undefined;
  const lostError = () =>
    new NeurodissectError(
      ErrorCode.InvalidOption,
      `Redis at ${options.url} has not answered for ${options.timeoutSeconds} s${reason ? ` (${reason})` : ''}; what was finished is kept in the feature store: start redis-server again and run the same command to go on (--redis-timeout SECONDS waits longer)`,
      { details: { url: options.url } },
    );
  const setWaiting = (value: boolean) => {
    if (waiting === value) return;
    waiting = value;
    options.onWaiting?.(value);
  };
  const check = (started: number) => {
    throwIfAborted(options.signal);
    const now = Date.now();
    if (downSince === undefined && now - started >= SLOW_MS) downSince = started;
    if (downSince === undefined) return;
    setWaiting(true);
    if (now - downSince >= timeoutMs) throw lostError();
  };
  const noteError = (error: { code?: string; message: string }) => {
    reason = error.code ?? error.message;
  };
  return {
    get waiting() {
      return waiting;
    },
    noteError,
    lostError,
    async call(operation) {
      const started = Date.now();
      for (;;) {
        const pending = operation();
        // An abandoned operation may still fail later, when its client is closed.
        pending.catch(() => {});
        let outcome: { value: unknown } | { error: unknown } | undefined;
        pending.then(
          (value) => (outcome = { value }),
          (error: unknown) => (outcome = { error }),
        );
        while (outcome === undefined) {
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([
            pending.catch(() => {}),
            new Promise((wake) => (timer = setTimeout(wake, 250))),
          ]);
          clearTimeout(timer);
          // Let the handlers above record the outcome before it is looked at.
          await Promise.resolve();
          if (outcome !== undefined) break;
          check(started);
        }
        if ('error' in outcome && isConnectionError(outcome.error)) {
          // Refused or cut off: Redis is away; try again shortly, within the same deadline.
          noteError(outcome.error as { code?: string; message: string });
          downSince ??= started;
          check(started);
          await new Promise((wake) => setTimeout(wake, 250));
          check(started);
          continue;
        }
        // An answer (even an error reply) means Redis is there.
        downSince = undefined;
        setWaiting(false);
        if ('error' in outcome) throw outcome.error;
        return outcome.value as Awaited<ReturnType<typeof operation>>;
      }
    },
  };
}
