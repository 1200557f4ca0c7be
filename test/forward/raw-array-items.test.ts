import { rawArrayItems } from '../../src/forward/collection-listing';

describe('rawArrayItems: each element of a JSON array as written', () => {
  test.each<[string, string[] | undefined]>([
    ['[]', []],
    [' [ ] ', []],
    ['[1,2]', ['1', '2']],
    ['[{"a":[1,{"b":"]}"}]}, {"n":12345678901234567890}]', ['{"a":[1,{"b":"]}"}]}', '{"n":12345678901234567890}']],
    ['["a,b", "c\\"]", "d\\\\"]', ['"a,b"', '"c\\"]"', '"d\\\\"']],
    ['[ true , null,\n"x" ]', ['true', 'null', '"x"']],
    ['{"a":1}', undefined],
    ['3', undefined],
  ])('%s', (text, expected) => {
    expect(rawArrayItems(text)).toEqual(expected);
    if (expected) expect(expected.map((e) => JSON.parse(e) as unknown)).toEqual((JSON.parse(text) as unknown[]).map((v) => v));
  });
});
