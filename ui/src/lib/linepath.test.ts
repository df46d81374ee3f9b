import { describe, expect, it } from 'vitest';
import { gapsOf, trace } from './linepath';

// One sample a second from t = 0, drawn 10 canvas pixels a second (x) and 1 pixel per unit (y).
const xs = (n: number) => Array.from({ length: n }, (_, i) => i);
const px = (x: number) => Math.round(x * 10);
const py = (y: number) => Math.round(100 - y);
const xAt = (p: number) => p / 10;

function points(ys: (number | null | undefined)[], i0: number, i1: number, decimate: boolean, scale = px, at = xAt): [number, number][] {
  const out: [number, number][] = [];
  trace(xs(ys.length), ys, i0, i1, scale, py, at, decimate, (x, y) => out.push([x, y]));
  return out;
}

describe('trace', () => {
  it('passes every sample that has a value, at its rounded pixel', () => {
    expect(points([1, 2.4, 3.6], 0, 2, false)).toEqual([
      [0, 99],
      [10, 98],
      [20, 96],
    ]);
  });

  it('skips null and undefined samples (the gaps are clipped out, not broken)', () => {
    expect(points([1, null, undefined, 4], 0, 3, false)).toEqual([
      [0, 99],
      [30, 96],
    ]);
  });

  it('keeps to the range asked for', () => {
    expect(points([1, 2, 3, 4], 1, 2, false)).toEqual([
      [10, 98],
      [20, 97],
    ]);
  });

  it('draws a pixel column of many samples as its first, lowest, highest and last values', () => {
    // Ten samples a pixel: samples 0–9 in column 0, 10–19 in column 1.
    const dense = (x: number) => Math.floor(x / 10);
    const denseAt = (p: number) => p * 10;
    const ys = [5, 2, 9, 4, 4, 4, 4, 4, 4, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7];
    expect(points(ys, 0, 19, true, dense, denseAt)).toEqual([
      [0, 95], // first
      [0, 98], // lowest value (2): the highest pixel row
      [0, 91], // highest value (9)
      [0, 94], // last (6)
      [1, 93], // the next column starts at its first value, flat after
    ]);
  });

  it('draws a column once when its first or last value is its lowest or highest', () => {
    const dense = (x: number) => Math.floor(x / 4);
    const denseAt = (p: number) => p * 4;
    // Column 0: 1, 3, 2, 5 (first = lowest, last = highest): only the last is added.
    expect(points([1, 3, 2, 5], 0, 3, true, dense, denseAt)).toEqual([
      [0, 99],
      [0, 95],
    ]);
  });

  it('ends an accumulated column at a gap and starts again after it', () => {
    const dense = (x: number) => Math.floor(x / 2);
    const denseAt = (p: number) => p * 2;
    expect(points([1, 3, null, null, 4, 4], 0, 5, true, dense, denseAt)).toEqual([
      [0, 99],
      [0, 97],
      [2, 96],
    ]);
  });
});

describe('gapsOf', () => {
  it('finds none without a null', () => {
    expect(gapsOf(xs(4), [1, undefined, 3, 4], 0, 3, px)).toEqual([]);
  });

  it('spans each null run from the sample before it to the sample after it', () => {
    expect(gapsOf(xs(8), [1, null, null, 4, 5, null, 7, 8], 0, 7, px)).toEqual([
      [0, 30],
      [40, 60],
    ]);
  });

  it('stops at the ends of the samples', () => {
    expect(gapsOf(xs(3), [null, 2, null], 0, 2, px)).toEqual([
      [0, 10],
      [10, 20],
    ]);
  });
});
