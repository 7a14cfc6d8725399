// The monitor's timeline (what the HTML report draws over time): bounded memory, nothing lost.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MAX_BUCKETS, Timeline, TimelineClock } from '../../src/monitor/timeline.js';

describe('Timeline', () => {
  it('spreads work over the buckets it spans', () => {
    const clock = new TimelineClock(10);
    clock.origin = 100;
    const t = new Timeline(clock);
    clock.timelines.add(t);
    t.work(105, 135, 60); // two workers busy from 105 to 135
    expect(t.busy).toEqual([10, 20, 20, 10]);
  });

  it('keeps at most MAX_BUCKETS buckets, widening them, and loses nothing', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.double({ min: 0, max: 1e6, noNaN: true }), fc.double({ min: 0, max: 50, noNaN: true })), { maxLength: 200 }), (events) => {
        const clock = new TimelineClock(25);
        clock.origin = 0;
        const a = new Timeline(clock);
        const b = new Timeline(clock);
        clock.timelines.add(a);
        clock.timelines.add(b);
        let busy = 0;
        for (const [at, ms] of events) {
          a.leave(at);
          b.work(at, at + ms, ms);
          busy += ms;
        }
        expect(a.left.length).toBeLessThanOrEqual(MAX_BUCKETS);
        expect(b.busy.length).toBeLessThanOrEqual(MAX_BUCKETS);
        expect(a.left.reduce((x, y) => x + y, 0)).toBe(events.length);
        expect(b.busy.reduce((x, y) => x + y, 0)).toBeCloseTo(busy, 6);
        // Every element is in the bucket of its time, at the final width.
        const expected = new Array(a.left.length).fill(0);
        for (const [at] of events) expected[Math.floor(at / clock.width)]++;
        expect(a.left).toEqual(expected);
      }),
    );
  });
});
