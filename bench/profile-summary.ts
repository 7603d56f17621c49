/**
 * Summarises a V8 CPU profile (node --cpu-prof) of the server: self time by
 * function and by package or source directory, so that a missed benchmark
 * target is explained by where the time goes, not by a guess.
 *
 *   npx tsx bench/run.ts --objects 10000 --db postgres --server-node-args="--cpu-prof --cpu-prof-dir=/tmp/prof"
 *   npx tsx bench/profile-summary.ts /tmp/prof/*.cpuprofile [--top 25]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Where a frame comes from: a package under node_modules, a directory of ours, node internals, or V8 itself. */
function origin(url: string, name: string): string {
  if (url === '') return name.startsWith('(') ? name : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return 'node:' + url.slice(5).split('/')[0];
  const ours = /\/(src|dist\/src)\/([^/]+)\//.exec(url);
  if (ours) return `src/${ours[2]}`;
  return url.split('/').slice(-2).join('/');
}

function summarise(file: string, top: number): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const byFunction = new Map<string, number>();
  const byOrigin = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const name = functionName || '(anonymous)';
    const where = origin(url, name);
    const key = `${name} — ${where}${url && !url.includes('node_modules') && !url.startsWith('node:') ? `:${lineNumber + 1}` : ''}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    byOrigin.set(where, (byOrigin.get(where) ?? 0) + us);
  }
  const table = (title: string, m: Map<string, number>) =>
    [`| ${title} | ms | share |`, '|---|---|---|']
      .concat(
        [...m.entries()]
          .sort((a, b) => b[1] - a[1])
          .slice(0, top)
          .map(([k, us]) => `| ${k.replaceAll('|', '\\|')} | ${(us / 1000).toFixed(0)} | ${((100 * us) / total).toFixed(1)}% |`),
      )
      .join('\n');
  const idle = (byOrigin.get('(idle)') ?? 0) / total;
  return [
    `# ${file}`,
    `${(total / 1e6).toFixed(1)} s sampled, ${(100 * idle).toFixed(1)}% idle`,
    '',
    table('by origin (self time)', byOrigin),
    '',
    table('by function (self time)', byFunction),
  ].join('\n');
}

const { values, positionals } = parseArgs({ options: { top: { type: 'string', default: '25' } }, allowPositionals: true });
if (positionals.length === 0) {
  process.stderr.write('usage: tsx bench/profile-summary.ts <file.cpuprofile>… [--top N]\n');
  process.exit(2);
}
for (const file of positionals) process.stdout.write(summarise(file, Number(values.top)) + '\n\n');
