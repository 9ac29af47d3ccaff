import { describe, expect, it } from 'vitest';

import { NetworkError } from '../../src/core/errors.js';
import { parseLoadAnswer, splitJsonStream } from '../../src/stores/daemon/load-answer.js';

describe('splitJsonStream', () => {
  it('cuts concatenated objects, with or without newlines, minding braces in strings', () => {
    const text = '{"a":1}\n{"b":"}{"}{"c":{"d":"\\"}"}}\r\n';
    expect(splitJsonStream(text).map((part) => JSON.parse(part))).toEqual([
      { a: 1 },
      { b: '}{' },
      { c: { d: '"}' } },
    ]);
  });
});

describe('parseLoadAnswer', () => {
  it("returns the names the daemon reports (docker's one per line, podman's comma list)", () => {
    const docker =
      '{"stream":"Loaded image: busybox:latest\\n"}\n{"stream":"Loaded image ID: sha256:ab\\n"}\n';
    expect(parseLoadAnswer(docker, 'unix:///d.sock')).toEqual(['busybox:latest', 'sha256:ab']);
    const podman = '{"stream":"Loaded image: 127.0.0.1:5000/a:1,127.0.0.1:5000/b:2"}';
    expect(parseLoadAnswer(podman, 'unix:///d.sock')).toEqual([
      '127.0.0.1:5000/a:1',
      '127.0.0.1:5000/b:2',
    ]);
  });

  it("fails with the daemon's own words when the stream reports an error after 200", () => {
    const answer =
      '{"stream":"Loading layer\\n"}\n{"errorDetail":{"message":"unexpected EOF"},"error":"unexpected EOF"}\n';
    expect(() => parseLoadAnswer(answer, 'unix:///d.sock')).toThrow(NetworkError);
    expect(() => parseLoadAnswer(answer, 'unix:///d.sock')).toThrow(
      /loading images into the daemon at unix:\/\/\/d.sock failed: unexpected EOF/,
    );
    expect(() => parseLoadAnswer('{"error":"no space left"}', 'x')).toThrow(/no space left/);
  });
});
