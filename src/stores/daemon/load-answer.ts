import { NetworkError } from '../../core/errors.js';

/** One message of the JSON stream the daemon answers a load with. */
interface LoadMessage {
  stream?: unknown;
  error?: unknown;
  errorDetail?: { message?: unknown };
}

/**
 * splitJsonStream cuts a stream of concatenated JSON objects (newline-separated or not) into
 * the objects' texts, by tracking brace depth outside strings.
 */
export function splitJsonStream(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i];
    if (inString) {
      if (char === '\\') i += 1;
      else if (char === '"') inString = false;
    } else if (char === '"') inString = true;
    else if (char === '{') {
      if (depth === 0) start = i;
      depth += 1;
    } else if (char === '}' && depth > 0) {
      depth -= 1;
      if (depth === 0) parts.push(text.slice(start, i + 1));
    }
  }
  return parts;
}

/**
 * parseLoadAnswer reads the daemon's answer to POST /images/load and returns the names it
 * reports as loaded. The daemon answers 200 and only then reports a failure in the stream, so
 * an `error` or `errorDetail` message throws, with the daemon's own words.
 */
export function parseLoadAnswer(text: string, daemon: string): string[] {
  const loaded: string[] = [];
  for (const part of splitJsonStream(text)) {
    const message = parseMessage(part);
    const failure = errorOf(message);
    if (failure !== undefined) throw loadFailure(failure, daemon);
    const stream = typeof message.stream === 'string' ? message.stream : '';
    for (const line of stream.split('\n')) {
      const match = /^Loaded image(?: ID)?: (.+)$/.exec(line.trim());
      if (match) loaded.push(...match[1]!.split(',').map((name) => name.trim()));
    }
  }
  return loaded;
}

function parseMessage(part: string): LoadMessage {
  try {
    return JSON.parse(part) as LoadMessage;
  } catch {
    return {};
  }
}

function errorOf(message: LoadMessage): string | undefined {
  const detail = message.errorDetail?.message;
  if (typeof detail === 'string' && detail !== '') return detail;
  if (typeof message.error === 'string' && message.error !== '') return message.error;
  return undefined;
}

function loadFailure(reason: string, daemon: string): NetworkError {
  return new NetworkError(
    'DAEMON_LOAD_FAILED',
    `loading images into the daemon at ${daemon} failed: ${reason}`,
    { hint: "see the daemon's log for the cause, then retry" },
  );
}
