import { csvLines, safeCell } from '../../src/evidence/csv';

describe('bundle CSV cells a spreadsheet opens', () => {
  test.each([
    ['=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'],
    ['+1', '\'+1'],
    ['-cmd', '\'-cmd'],
    ['@SUM(A1)', '\'@SUM(A1)'],
    ['\tx', '\'\tx'],
    ['docs-a', 'docs-a'],
    [42, 42],
    [-3, -3],
  ])('%j is written as %j', (cell, expected) => {
    expect(safeCell(cell)).toBe(expected);
  });

  test('commas, quotes and newlines are quoted', () => {
    expect(csvLines([['a,b', 'say "hi"', 'x\ny']])).toBe('"a,b","say ""hi""","x\ny"\r\n');
  });
});
