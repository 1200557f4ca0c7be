import picomatch from 'picomatch';
import type { AccessReviewSummary, Count } from './summary';
import { counts, type PrincipalUsage } from './trail-tally';

/**
 * The access review, as a pure function: for each principal seen and each group the policy names,
 * what the policy granted (the rules of the configurations in force, read from the trail's own
 * configuration events) against what was used. A granted rule with a count of 0 is an unused
 * grant, which is what a least-privilege review looks for.
 */

/** The parts of a policy rule the review reads (as a configuration snapshot holds it). */
export interface ReviewedRule {
  id: string;
  groups: string[];
  collections?: string[];
  operations: string[];
  effect: 'allow' | 'review' | 'deny';
  connections?: string[];
}

/** One line per rule, as the review shows it: `rule-id: allow search, read on docs-*`. */
export function describeRule(rule: ReviewedRule): string {
  const where = (rule.collections ?? ['*']).join(', ');
  const conn = rule.connections && !(rule.connections.length === 1 && rule.connections[0] === '*') ? ` of connection ${rule.connections.join(', ')}` : '';
  const effect = rule.effect === 'review' ? 'allow after approval' : rule.effect;
  return `${rule.id}: ${effect} ${rule.operations.join(', ')} on ${where}${conn}`;
}

export function accessReview(rules: readonly ReviewedRule[], principals: readonly PrincipalUsage[]): AccessReviewSummary {
  const distinct = distinctRules(rules);
  const compiled = distinct.map((rule) => ({ rule, line: describeRule(rule), group: picomatch(rule.groups, { dot: true }), any: rule.groups.includes('*') }));
  const applies = (c: (typeof compiled)[number], groups: readonly string[]) => c.any || groups.some((g) => c.group(g));

  const reviewed = [...principals]
    .sort((a, b) => (a.subject < b.subject ? -1 : a.subject > b.subject ? 1 : 0))
    .map((p) => {
      const groups = [...p.groups].sort();
      const allowed: Count[] = compiled.filter((c) => c.rule.effect !== 'deny' && applies(c, groups)).map((c) => ({ key: c.line, count: p.byRule.get(c.rule.id) ?? 0 }));
      return {
        principal: p.subject,
        ...(p.email ? { email: p.email } : {}),
        groups,
        allowed,
        used: counts(p.used),
        denied: p.denied,
        exports: p.exports,
        masked: p.masked,
      };
    });

  const groupNames = [...new Set(distinct.flatMap((r) => r.groups))].sort();
  const groups = groupNames.map((group) => {
    const match = group === '*' ? () => true : picomatch(group, { dot: true });
    const members = principals.filter((p) => [...p.groups].some((g) => match(g)));
    const used = new Map<string, number>();
    for (const m of members) for (const [key, n] of m.used) used.set(key.split(' ')[0] as string, (used.get(key.split(' ')[0] as string) ?? 0) + n);
    return {
      group: group === '*' ? '* (any authenticated caller)' : group,
      rules: compiled.filter((c) => c.rule.groups.includes(group)).map((c) => c.line),
      members: members.length,
      used: counts(used),
    };
  });
  return { principals: reviewed, groups };
}

/** access-review.csv: one row per granted rule and per use, so a spreadsheet can filter and pivot. */
export const ACCESS_REVIEW_COLUMNS = ['kind', 'name', 'email', 'groups', 'item', 'count'] as const;

export function accessReviewRows(review: AccessReviewSummary): Array<Array<string | number>> {
  const rows: Array<Array<string | number>> = [];
  for (const p of review.principals) {
    const base = [p.principal, p.email ?? '', p.groups.join(' ')];
    for (const a of p.allowed) rows.push(['principal-granted', ...base, a.key, a.count]);
    for (const u of p.used) rows.push(['principal-used', ...base, u.key, u.count]);
    rows.push(['principal-denied', ...base, 'requests denied', p.denied]);
    rows.push(['principal-exports', ...base, 'export requests', p.exports]);
    rows.push(['principal-masked', ...base, 'values masked', p.masked]);
  }
  for (const g of review.groups) {
    for (const r of g.rules) rows.push(['group-rule', g.group, '', '', r, g.members]);
    for (const u of g.used) rows.push(['group-used', g.group, '', '', u.key, u.count]);
  }
  return rows;
}

/** The same rule in several configurations counts once; a changed rule shows in both forms. */
function distinctRules(rules: readonly ReviewedRule[]): ReviewedRule[] {
  const seen = new Map<string, ReviewedRule>();
  for (const r of rules) {
    const key = `${describeRule(r)} for ${r.groups.join(',')}`;
    if (!seen.has(key)) seen.set(key, r);
  }
  return [...seen.values()];
}
