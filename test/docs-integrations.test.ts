// docs/integrations.md, the NestJS and Angular sections: every code block is an excerpt of the
// example app it names (examples/nestjs, examples/angular, which test/nestjs and test/angular build
// and run) or is marked as a fragment.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const page = readFileSync(`${root}/docs/integrations.md`, 'utf8');

function section(heading: string): string {
  const start = page.indexOf(`\n${heading}`);
  expect(start, heading).toBeGreaterThanOrEqual(0);
  const next = page.indexOf('\n## ', start + 1); // the section ends where the next one starts
  return page.slice(start, next < 0 ? undefined : next);
}

for (const heading of ['## NestJS', '## Angular']) {
  describe(`docs/integrations.md: ${heading.slice(3)}`, () => {
    const text = section(heading);
    const excerpts = [...text.matchAll(/<!-- excerpt: (\S+) -->\n```\w+\n([\s\S]*?)```/g)];

    it('quotes its example app, and marks every other code block as a fragment', () => {
      expect(excerpts.length).toBeGreaterThan(0);
      const blocks = text.match(/^```\w+$/gm) ?? [];
      const marked = text.match(/<!-- (?:excerpt: \S+|fragment) -->\n```\w+$/gm) ?? [];
      expect(marked).toHaveLength(blocks.length);
    });

    for (const [i, [, file, code]] of excerpts.entries()) {
      it(`excerpt ${i + 1} is in ${file}`, () => {
        expect(readFileSync(`${root}/${file}`, 'utf8')).toContain(code);
      });
    }
  });
}
