/** One authentication challenge from a `WWW-Authenticate` header. */
export interface Challenge {
  /** The scheme in lower case: `basic`, `bearer`, … */
  scheme: string;
  /** Parameters with lower-case names and unquoted values. */
  params: Record<string, string>;
}

const token = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+/;

/** A tiny cursor over the header text, for the RFC 9110 grammar of challenges. */
class Cursor {
  position = 0;
  constructor(readonly text: string) {}

  get done(): boolean {
    return this.position >= this.text.length;
  }

  skipSpace(): void {
    while (!this.done && /[ \t]/.test(this.text[this.position]!)) this.position += 1;
  }

  skipCommas(): void {
    this.skipSpace();
    while (!this.done && this.text[this.position] === ',') {
      this.position += 1;
      this.skipSpace();
    }
  }

  peek(): string | undefined {
    return this.text[this.position];
  }

  readToken(): string | undefined {
    const match = token.exec(this.text.slice(this.position));
    if (!match) return undefined;
    this.position += match[0].length;
    return match[0];
  }

  /** readQuoted reads a quoted string, honoring backslash escapes; commas inside are kept. */
  readQuoted(): string {
    let value = '';
    this.position += 1;
    while (!this.done) {
      const char = this.text[this.position]!;
      this.position += 1;
      if (char === '"') return value;
      if (char === '\\' && !this.done) {
        value += this.text[this.position]!;
        this.position += 1;
        continue;
      }
      value += char;
    }
    return value;
  }
}

/**
 * readParam reads `name=value` at the cursor, or returns undefined (leaving the cursor) when
 * the next token starts a new challenge instead.
 */
function readParam(cursor: Cursor): [string, string] | undefined {
  const start = cursor.position;
  const name = cursor.readToken();
  cursor.skipSpace();
  if (name === undefined || cursor.peek() !== '=') {
    cursor.position = start;
    return undefined;
  }
  cursor.position += 1;
  cursor.skipSpace();
  const value = cursor.peek() === '"' ? cursor.readQuoted() : (cursor.readToken() ?? '');
  return [name.toLowerCase(), value];
}

/**
 * parseChallenges reads every challenge in a `WWW-Authenticate` header value: scheme names
 * case-insensitive, several challenges per header, quoted values with escapes and commas
 * (`scope="repository:a/b:pull,push"` stays whole).
 */
export function parseChallenges(header: string | string[] | undefined): Challenge[] {
  if (header === undefined) return [];
  if (Array.isArray(header)) return header.flatMap((value) => parseChallenges(value));
  const cursor = new Cursor(header);
  const challenges: Challenge[] = [];
  for (;;) {
    cursor.skipCommas();
    const scheme = cursor.readToken();
    if (scheme === undefined) break;
    const challenge: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    challenges.push(challenge);
    cursor.skipSpace();
    for (;;) {
      cursor.skipCommas();
      const param = readParam(cursor);
      if (param === undefined) break;
      challenge.params[param[0]] = param[1];
    }
  }
  return challenges;
}
