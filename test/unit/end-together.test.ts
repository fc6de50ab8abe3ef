import type { ServerResponse } from 'node:http';
import t from 'tap';
import { endTogether } from '../../src/http/end-together.ts';

// The fast paths' answers go out together at the end of the event loop's turn (src/http/end-together.ts).

function fakeResponse(log: string[], name: string, fails = false) {
  return {
    end(body: string) {
      if (fails) throw new Error('socket gone');
      log.push(`${name}:${body}`);
    },
    destroy() {
      log.push(`${name}:destroyed`);
    },
  } as unknown as ServerResponse;
}

t.test('answers of one turn are ended after it, in order, none lost to a broken one', async (t) => {
  const log: string[] = [];
  const answers = endTogether();
  answers.end(fakeResponse(log, 'a'), '1');
  answers.end(fakeResponse(log, 'b', true), '2');
  answers.end(fakeResponse(log, 'c'), '3');
  t.same(log, [], 'nothing is written during the turn');
  await new Promise((resolve) => setImmediate(resolve));
  t.same(log, ['a:1', 'b:destroyed', 'c:3'], 'all at its end, in order; the broken one destroyed');
  answers.end(fakeResponse(log, 'd'), '4');
  await new Promise((resolve) => setImmediate(resolve));
  t.same(log.at(-1), 'd:4', 'a later turn has its own flush');
});

t.test('a burst does not hold its first answers until the end of the turn', async (t) => {
  const log: string[] = [];
  const answers = endTogether();
  for (let i = 0; i < 20; i++) answers.end(fakeResponse(log, `r${i}`), String(i));
  t.equal(log.length, 16, 'out eight at a time as they come');
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(log.length, 20, 'the rest at the end of the turn');
});
