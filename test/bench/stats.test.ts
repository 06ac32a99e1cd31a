import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { difference, figure, ratio, show } from './stats';

const t = suite('bench/stats');

t('median with min and max; an even count takes the mean of the middle two', () => {
  assert.equal(figure([30, 10, 20]), { median: 20, min: 10, max: 30, runs: 3 });
  assert.equal(figure([4, 1, 3, 2]), { median: 2.5, min: 1, max: 4, runs: 4 });
  assert.throws(() => figure([]), /no samples/);
});

t('a ratio is of the medians, its range from the extremes; a difference likewise', () => {
  const a = figure([90, 100, 110]);
  const b = figure([180, 200, 220]);
  assert.equal(ratio(a, b), { median: 0.5, min: 0.409, max: 0.611, runs: 3 });
  assert.equal(difference(b, a), { median: 100, min: 70, max: 130, runs: 3 });
  assert.is(show(a, ' ms'), '100 ms (90–110)');
});

t.run();
