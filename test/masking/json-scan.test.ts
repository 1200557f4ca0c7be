import { expand, type JsonEdit, type JsonNode, JsonScanError, member, rawText, type ScannedJson, scanJson, splice, stringValue } from '../../src/masking/json-scan';

const scan = (text: string, maxDepth?: number) => scanJson(Buffer.from(text, 'utf8'), maxDepth);

/** The scanned tree back as a plain value: numbers as their source text, vectors expanded. */
function plain(json: ScannedJson, node: JsonNode = json.root): unknown {
  switch (node.kind) {
    case 'string':
      return stringValue(json, node);
    case 'number':
      return { n: rawText(json, node) };
    case 'boolean':
      return rawText(json, node) === 'true';
    case 'null':
      return null;
    case 'numbers':
      return plain(json, expand(json, node));
    case 'array':
      return node.items.map((i) => plain(json, i));
    case 'object':
      return node.members.map((m) => [stringValue(json, m.key), plain(json, m.value)]);
  }
}

describe('scanning valid JSON', () => {
  test.each<[string, string, unknown]>([
    ['a plain string', '"jane"', 'jane'],
    ['the simple escapes', String.raw`"a\"b\\c\/d\b\f\n\r\t"`, 'a"b\\c/d\b\f\n\r\t'],
    ['a \\u escape', String.raw`"caf\u00e9"`, 'café'],
    ['a surrogate pair as escapes', String.raw`"\ud83d\ude00"`, '😀'],
    ['a lone surrogate escape (legal JSON)', String.raw`"\ud800x"`, '\ud800x'],
    ['raw multi-byte UTF-8', '"Zoë 😀 日本"', 'Zoë 😀 日本'],
    ['an integer beyond 2^53, exactly', '9007199254740993', { n: '9007199254740993' }],
    ['a negative int64', '-9223372036854775808', { n: '-9223372036854775808' }],
    ['an integer of 40 digits', '1234567890123456789012345678901234567890', { n: '1234567890123456789012345678901234567890' }],
    ['fractions and exponents as written', '[1.50, -0, 1E+2, 2e-7, 0.30000001192092896]', [{ n: '1.50' }, { n: '-0' }, { n: '1E+2' }, { n: '2e-7' }, { n: '0.30000001192092896' }]],
    ['literals', '[true, false, null]', [true, false, null]],
    ['whitespace everywhere', ' \t\n{ "a" :\r\n [ 1 , "x" ] } \n', [['a', [{ n: '1' }, 'x']]]],
    ['nested arrays', '[[[]], [[1, 2], ["a"]], []]', [[[]], [[{ n: '1' }, { n: '2' }], ['a']], []]],
    ['a repeated key is kept twice, in order', '{"k": 1, "k": 2}', [['k', { n: '1' }], ['k', { n: '2' }]]],
    ['an escaped key', String.raw`{"e\u0040x": "v"}`, [['e@x', 'v']]],
  ])('%s', (_name, text, expected) => {
    expect(plain(scan(text))).toEqual(expected);
  });

  test('spans are byte offsets into the source, quotes included', () => {
    const json = scan('{"é": "ö", "n": 12}');
    const root = json.root as Extract<JsonNode, { kind: 'object' }>;
    const [first, second] = root.members;
    expect(json.source.subarray(first?.key.start, first?.key.end).toString()).toBe('"é"');
    expect(json.source.subarray(first?.value.start, first?.value.end).toString()).toBe('"ö"');
    expect(rawText(json, second?.value as JsonNode)).toBe('12');
    expect(member(json, root, 'n')).toBe(second?.value);
    expect(member(json, root, 'missing')).toBeUndefined();
  });

  test('an array of numbers is one vector node; an array that mixes in anything else is scanned in full', () => {
    const json = scan('{"embeddings": [[0.5, -1e-3, 2], [3]], "mixed": [1, "jane@example.com"], "ids": [1, 2]}');
    const root = json.root as Extract<JsonNode, { kind: 'object' }>;
    const embeddings = member(json, root, 'embeddings') as Extract<JsonNode, { kind: 'array' }>;
    expect(embeddings.kind).toBe('array');
    expect(embeddings.items.map((i) => i.kind)).toEqual(['numbers', 'numbers']);
    expect(member(json, root, 'mixed')?.kind).toBe('array');
    expect(plain(json, member(json, root, 'mixed') as JsonNode)).toEqual([{ n: '1' }, 'jane@example.com']);
    expect(member(json, root, 'ids')?.kind).toBe('numbers');
  });

  test('the nesting bound counts arrays and objects', () => {
    expect(() => scan(`${'['.repeat(10)}${']'.repeat(10)}`, 10)).not.toThrow();
    expect(() => scan(`${'['.repeat(11)}${']'.repeat(11)}`, 10)).toThrow(/nested deeper than 10 levels/);
    expect(() => scan(`${'{"a":'.repeat(11)}1${'}'.repeat(11)}`, 10)).toThrow(/nested deeper than 10 levels/);
    expect(() => scan(`${'['.repeat(300)}${']'.repeat(300)}`)).toThrow(/nested deeper than 256 levels/);
  });
});

describe('malformed JSON is refused', () => {
  test.each<[string, string]>([
    ['empty text', ''],
    ['only whitespace', '  '],
    ['an unterminated string', '"jane'],
    ['an unterminated array', '[1, 2'],
    ['an unterminated vector', '[[1, 2]'],
    ['an unterminated object', '{"a": 1'],
    ['a trailing comma in an array', '[1, 2,]'],
    ['a trailing comma in a vector of strings', '["a",]'],
    ['a trailing comma in an object', '{"a": 1,}'],
    ['two commas', '[1,,2]'],
    ['a missing comma', '[1 2]'],
    ['a missing colon', '{"a" 1}'],
    ['a key that is not a string', '{a: 1}'],
    ['a single-quoted string', "['a']"],
    ['a raw control character in a string', '"a\u0001b"'],
    ['a raw newline in a string', '"a\nb"'],
    ['an unknown escape', String.raw`"\x41"`],
    ['a short \\u escape', String.raw`"\u12"`],
    ['a \\u escape with a non-hex digit', String.raw`"\u12G4"`],
    ['a leading zero', '[01]'],
    ['a leading plus', '[+1]'],
    ['a point without digits', '[1.]'],
    ['a leading point', '[.5]'],
    ['an exponent without digits', '[1e]'],
    ['a lone minus', '[-]'],
    ['NaN', '[NaN]'],
    ['Infinity', '[Infinity]'],
    ['a misspelt literal', '[nul]'],
    ['a capitalised literal', '[True]'],
    ['text after the value', '{"a": 1} {"b": 2}'],
    ['a second value after a vector', '[1, 2] 3'],
    ['a comment', '{"a": 1 /* c */}'],
    ['a byte-order mark', '\ufeff{}'],
    ['an unquoted word in a vector', '[0.5, jane@example.com]'],
    ['a non-digit inside a long digit run', '[0.1234567:901234567]'],
    ['a non-ASCII byte inside a long digit run', '[0.12345678é01234567]'],
    ['a letter after eight digits', '[123456789012345678Z]'],
  ])('%s', (_name, text) => {
    expect(() => scan(text)).toThrow(JsonScanError);
  });

  test('a byte over 0x7f whose low seven bits are a digit ends a digit run (bytes that are not UTF-8 included)', () => {
    for (const bytes of [
      [0x5b, 0x30, 0x2e, 0x31, 0x32, 0xb0, 0x5d],
      [0x5b, 0x30, 0x2e, 0x31, 0x32, 0x33, 0x34, 0x35, 0xb9, 0x5d],
      [0x5b, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0xb5, 0x5d],
    ]) {
      expect(() => scanJson(Buffer.from(bytes))).toThrow(JsonScanError);
    }
  });

  test('everything JSON.parse refuses in these cases, the scanner refuses too (and the other way round)', () => {
    const cases = ['[1,2]', '{"a":[1,{"b":null}]}', '[1e5,-0.0,"\\u00e9"]', '[1,]', '{"a":}', '[01]', '"\\ud800"', '[1 ,2 ]', '[-0]', '[1E-0]', '[[],[[]],{}]'];
    for (const text of cases) {
      let parses = true;
      try {
        JSON.parse(text);
      } catch {
        parses = false;
      }
      let scans = true;
      try {
        scan(text);
      } catch {
        scans = false;
      }
      expect([text, scans]).toEqual([text, parses]);
    }
  });
});

describe('splicing', () => {
  test('replaces exactly the given spans and keeps every other byte', () => {
    const text = '{"doc": "mail jane@example.com", "n": 9007199254740993, "v": [0.1, -0]}';
    const json = scan(text);
    const root = json.root as Extract<JsonNode, { kind: 'object' }>;
    const doc = member(json, root, 'doc') as JsonNode;
    const out = splice(json.source, [{ start: doc.start, end: doc.end, text: JSON.stringify('mail [EMAIL]') }]);
    expect(out.toString('utf8')).toBe('{"doc": "mail [EMAIL]", "n": 9007199254740993, "v": [0.1, -0]}');
  });

  test('edits in any order; replacements with quotes, backslashes, control characters and non-ASCII are JSON-escaped by the caller and stay valid', () => {
    const text = '["a", "b", "c"]';
    const json = scan(text);
    const [a, b, c] = (json.root as Extract<JsonNode, { kind: 'array' }>).items as JsonNode[];
    const edits: JsonEdit[] = [
      { start: (c as JsonNode).start, end: (c as JsonNode).end, text: JSON.stringify('ü 😀 \ud800') },
      { start: (a as JsonNode).start, end: (a as JsonNode).end, text: JSON.stringify('q"\\\n') },
      { start: (b as JsonNode).start, end: (b as JsonNode).end, text: '"[REDACTED]"' },
    ];
    expect(JSON.parse(splice(json.source, edits).toString('utf8'))).toEqual(['q"\\\n', '[REDACTED]', 'ü 😀 \ud800']);
  });

  test('no edits gives the source itself', () => {
    const json = scan('[1]');
    expect(splice(json.source, [])).toBe(json.source);
  });

  test('two edits of the same span: the first stands', () => {
    expect(splice(Buffer.from('["a"]'), [{ start: 1, end: 4, text: '"x"' }, { start: 1, end: 4, text: '"y"' }]).toString()).toBe('["x"]');
  });

  test('overlapping edits are a bug, not a silent mix', () => {
    expect(() => splice(Buffer.from('"abcdef"'), [{ start: 0, end: 4, text: '"x"' }, { start: 2, end: 8, text: '"y"' }])).toThrow(/overlapping/);
  });
});

describe('the scanner agrees with JSON.parse (seeded differential test)', () => {
  /** small deterministic PRNG, so a failure names a reproducible case */
  const prng = (seed: number) => () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const ALPHABET = ['a', 'é', '😀', '"', '\\', '\n', '\u0001', '\ud800', '@', '1', ' ', '/'];
  const NUMBERS = ['0', '-0', '1.5', '-12e3', '1E+2', '9007199254740993', '-9223372036854775808', '0.30000001192092896', '2e-7'];

  function value(rand: () => number, depth: number): string {
    const r = rand();
    if (depth > 4 || r < 0.3) {
      const k = Math.floor(rand() * 4);
      if (k === 0) return NUMBERS[Math.floor(rand() * NUMBERS.length)] as string;
      if (k === 1) return ['true', 'false', 'null'][Math.floor(rand() * 3)] as string;
      return JSON.stringify(Array.from({ length: Math.floor(rand() * 6) }, () => ALPHABET[Math.floor(rand() * ALPHABET.length)]).join(''));
    }
    const space = () => [' ', '', '\n', '\t'][Math.floor(rand() * 4)] as string;
    const n = Math.floor(rand() * 4);
    if (r < 0.65) return `[${space()}${Array.from({ length: n }, () => value(rand, depth + 1)).join(`${space()},${space()}`)}${space()}]`;
    return `{${space()}${Array.from({ length: n }, () => `${value(rand, 99).startsWith('"') ? JSON.stringify(`k${Math.floor(rand() * 3)}`) : '"k"'}${space()}:${space()}${value(rand, depth + 1)}`).join(',')}${space()}}`;
  }

  const parses = (text: string) => {
    try {
      JSON.parse(text);
      return true;
    } catch {
      return false;
    }
  };

  /** The scanned tree as JSON.parse would give it (a repeated key: the last stands). */
  function parsed(json: ScannedJson, node: JsonNode = json.root): unknown {
    switch (node.kind) {
      case 'number':
        return Number(rawText(json, node));
      case 'numbers':
        return parsed(json, expand(json, node));
      case 'array':
        return node.items.map((i) => parsed(json, i));
      case 'object':
        return Object.fromEntries(node.members.map((m) => [stringValue(json, m.key), parsed(json, m.value)]));
      default:
        return plain(json, node);
    }
  }

  test('valid documents: the values JSON.parse gives, spans that cover the source', () => {
    const rand = prng(7);
    for (let i = 0; i < 500; i++) {
      const text = value(rand, 0);
      const json = scan(text);
      expect([text, parsed(json)]).toEqual([text, JSON.parse(text)]);
      expect(json.source.subarray(json.root.start, json.root.end).toString('utf8')).toBe(text.trim());
    }
  });

  test('vectors written as databases write them, and mutated: accepted exactly when JSON.parse accepts them, as one vector node', () => {
    const rand = prng(13);
    // the shapes the vector shortcut reads ("0.", "-0.") and the ones it hands to the general path
    const elements = ['0.30000001192092896', '-0.059892818331718445', '0.1234567e-12', '0.5', '-0.25', '0.0', '-0.0', '0.125e-3', '-0.5E+2', '0.', '-0.', '0.1.2', '00.5', '-00.1', '0', '-0', '12.5', '1e5', '-'];
    const noise = ['', ',', ' ', '.', 'e', '-', '+', '0', '5', ']', 'x', ':', '/', 'é', '0.', ',0.', ',-0.'];
    let accepted = 0;
    for (let i = 0; i < 4000; i++) {
      const items = Array.from({ length: 1 + Math.floor(rand() * 6) }, () => elements[Math.floor(rand() * elements.length)] as string);
      let text = `[${items.join(rand() < 0.7 ? ',' : ', ')}]`;
      if (rand() < 0.5) {
        const at = Math.floor(rand() * (text.length + 1));
        text = text.slice(0, at) + (noise[Math.floor(rand() * noise.length)] as string) + text.slice(at + Math.floor(rand() * 2));
      }
      let node: JsonNode | undefined;
      try {
        node = scan(text).root;
      } catch {
        node = undefined;
      }
      expect([text, node !== undefined]).toEqual([text, parses(text)]);
      if (node === undefined) continue;
      accepted++;
      expect([text, parsed(scan(text))]).toEqual([text, JSON.parse(text)]);
      if (/^\[[-0-9.eE+, ]*\]$/.test(text) && text !== '[]') expect([text, node.kind]).toEqual([text, 'numbers']);
    }
    // both sides of the comparison are exercised
    expect(accepted).toBeGreaterThan(400);
    expect(accepted).toBeLessThan(3900);
  });

  test('mutated documents: accepted exactly when JSON.parse accepts them', () => {
    const rand = prng(11);
    const noise = ['', ',', ']', '}', '"', '\\', '-', '.', 'e', '0', ' ', 'x', '[', '{', ':'];
    for (let i = 0; i < 3000; i++) {
      const text = value(rand, 0);
      const at = Math.floor(rand() * (text.length + 1));
      const cut = Math.floor(rand() * 3);
      const mutated = text.slice(0, at) + (noise[Math.floor(rand() * noise.length)] as string) + text.slice(at + cut);
      let scans = true;
      try {
        scan(mutated);
      } catch {
        scans = false;
      }
      expect([mutated, scans]).toEqual([mutated, parses(mutated)]);
    }
  });
});
