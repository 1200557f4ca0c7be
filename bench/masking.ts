/**
 * What masking adds to one Chroma `get` response of 1,000 records (documents and metadata, some of
 * them with personal data; then the same with 384-dim embeddings, ~7.7 MiB), side by side in one
 * run: a no-op pass-through (the bytes as received), a JSON parse+stringify pass-through (what
 * re-serialising alone costs, for comparison), and maskHttpResponse (scan once, splice the masked
 * strings in) with every detector, one designated field, keys and ids searched, and the same with
 * the designated field only (what scanning and splicing cost without the detectors). Sides alternate in
 * rounds so that machine noise hits all alike. Printed: p50/p99 per side and the cost over no-op.
 * Run: `npx tsc -p tsconfig.build.json && node --expose-gc dist/bench/masking.js` (--expose-gc: the
 * garbage of one side is collected before the next side is measured).
 * Settings: BENCH_ROUNDS, BENCH_ITERATIONS (per round and side), BENCH_DIM (embedding size, 0 = none),
 * BENCH_BASELINE (the root of another built checkout: its masking runs as one more side, to measure a change).
 */
import { cpus, loadavg } from 'node:os';
import { mulberry32, percentile } from './load';
import { chromaErrorRecords, chromaMaskableRecords } from '../src/dialect/chroma/records';
import type { Classification } from '../src/dialect/types';
import { compileMasking, maskHttpResponse, maskingRuleSchema, type MaskPlan } from '../src/masking';
import type { ScannedJson } from '../src/masking/json-scan';

const env = process.env;
/** global.gc when node runs with --expose-gc, else nothing (then sides share their garbage) */
const collectGarbage = (globalThis as { gc?: () => void }).gc;
const ROUNDS = Number(env.BENCH_ROUNDS ?? 10);
const ITERATIONS = Number(env.BENCH_ITERATIONS ?? 20);
const RECORDS = 1000;
const DIMS = env.BENCH_DIM !== undefined ? [Number(env.BENCH_DIM)] : [0, 384];

const classification: Classification = { endpoint: 'chroma.collection_get', operation: 'export', collections: [], bulk: true, reason: 'bench' };

function main(): void {
  const masker = compileMasking(
    [
      maskingRuleSchema.parse({
        id: 'bench-pii',
        fields: ['metadata.ssn'],
        detectors: ['email', 'phone', 'payment_card', 'iban', 'us_ssn', 'ipv4', 'ipv6'],
        style: 'partial',
      }),
    ],
    { tokenKey: undefined },
  );
  // A plan lives for one request (it remembers clean strings): each run gets a fresh one, as in the gateway.
  const question = { connection: 'bench', collections: ['docs'], groups: ['analysts'] };
  const planOf = (m: typeof masker) => m.planFor(question) as MaskPlan;
  // The same without detectors: what scanning, the record views, one designated field and splicing cost.
  const fieldsOnly = compileMasking([maskingRuleSchema.parse({ id: 'bench-fields', fields: ['metadata.ssn'], style: 'partial' })], { tokenKey: undefined });

  const baseline = env.BENCH_BASELINE ? loadBaseline(env.BENCH_BASELINE) : undefined;
  console.log(`node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), ${RECORDS} records, ${ROUNDS} rounds x ${ITERATIONS} iterations per side`);
  for (const dim of DIMS) {
    const body = Buffer.from(JSON.stringify(chromaGetResponse(RECORDS, dim)));
    const response = { status: 200, headers: { 'content-type': 'application/json', 'content-length': String(body.length) }, body };
    const options = { records: (json: ScannedJson) => chromaMaskableRecords(classification, json), errorRecords: chromaErrorRecords, maxBodyBytes: 64 * 1024 * 1024 };
    const sides: Record<string, () => unknown> = {
      'no-op': () => response.body,
      'parse+stringify': () => Buffer.from(JSON.stringify(JSON.parse(response.body.toString('utf8')))),
      'mask, fields only': () => maskHttpResponse(response, { ...options, plan: planOf(fieldsOnly) }),
      mask: () => maskHttpResponse(response, { ...options, plan: planOf(masker) }),
    };
    if (baseline) {
      const base = baseline;
      sides['mask (baseline)'] = () => base.maskHttpResponse(response, { ...options, plan: base.masker.planFor(question) as MaskPlan });
    }
    const samples: Record<string, number[]> = Object.fromEntries(Object.keys(sides).map((k) => [k, []]));
    for (const run of Object.values(sides)) for (let i = 0; i < 5; i++) run(); // warm-up
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, run] of Object.entries(sides)) {
        // The garbage of one side (parse+stringify leaves ~100 MB per run) is collected before the next
        // side starts, so each side's figures carry its own collections, not another side's.
        collectGarbage?.();
        for (let i = 0; i < ITERATIONS; i++) {
          const started = process.hrtime.bigint();
          run();
          (samples[name] as number[]).push(Number(process.hrtime.bigint() - started) / 1e6);
        }
      }
    }
    const stats = maskHttpResponse(response, { ...options, plan: planOf(masker) }).stats;
    console.log(`\nembeddings: ${dim === 0 ? 'none' : `${dim} dims`}; body ${(body.length / 1024 / 1024).toFixed(2)} MiB; masked ${stats.valuesMasked} values (${JSON.stringify(stats.detectorsFired)}, fields ${JSON.stringify(stats.fieldsMasked)})`);
    const row = (name: string) => {
      // percentile() reads a sorted list
      const s = [...(samples[name] as number[])].sort((a, b) => a - b);
      return { min: s[0] as number, p50: percentile(s, 50), p99: percentile(s, 99) };
    };
    for (const name of Object.keys(sides)) {
      const { min, p50, p99 } = row(name);
      // min shows the cost without the noise of a shared machine
      console.log(`  ${name.padEnd(18)} min ${min.toFixed(2).padStart(8)} ms   p50 ${p50.toFixed(2).padStart(8)} ms   p99 ${p99.toFixed(2).padStart(8)} ms`);
    }
    const mask = row('mask');
    const plain = row('parse+stringify');
    console.log(`  mask vs parse+stringify: x${(mask.p50 / plain.p50).toFixed(2)} at p50, x${(mask.p99 / plain.p99).toFixed(2)} at p99; added ${(mask.p50 - plain.p50).toFixed(2)} ms at p50`);
    console.log(`  mask added over no-op: ${(mask.p50 - row('no-op').p50).toFixed(2)} ms at p50, ${(mask.p99 - row('no-op').p99).toFixed(2)} ms at p99 (${((mask.p50 * 1000) / RECORDS).toFixed(1)} µs per record)`);
    if (baseline) console.log(`  mask / mask (baseline) at p50: x${(mask.p50 / row('mask (baseline)').p50).toFixed(2)}; min x${(mask.min / row('mask (baseline)').min).toFixed(2)}`);
    console.log(`  load average while measuring: ${loadavg().map((l) => l.toFixed(1)).join(', ')} (on ${cpus().length} cores)`);
  }
}

/** The masking of another built checkout, compiled with the same rule. */
function loadBaseline(root: string) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a build chosen at run time
  const m = require(`${root}/dist/src/masking`) as { compileMasking: typeof compileMasking; maskHttpResponse: typeof maskHttpResponse; maskingRuleSchema: typeof maskingRuleSchema };
  const masker = m.compileMasking(
    [m.maskingRuleSchema.parse({ id: 'bench-pii', fields: ['metadata.ssn'], detectors: ['email', 'phone', 'payment_card', 'iban', 'us_ssn', 'ipv4', 'ipv6'], style: 'partial' })],
    { tokenKey: undefined },
  );
  return { masker, maskHttpResponse: m.maskHttpResponse };
}

/** A deterministic get response: every fifth document and some metadata carry personal data. */
function chromaGetResponse(n: number, dim: number) {
  const rand = mulberry32(11);
  const filler = 'The gateway forwards vector search requests and records every decision for the audit trail. ';
  const ids: string[] = [];
  const documents: string[] = [];
  const metadatas: Record<string, string | number | boolean>[] = [];
  const embeddings: number[][] = [];
  for (let i = 0; i < n; i++) {
    ids.push(`rec-${i}`);
    const pii =
      i % 5 === 0
        ? ` Contact jane.doe${i}@example.com or +49 30 ${1000000 + i}; card 4111 1111 1111 1111.`
        : i % 7 === 0
          ? ` Refund to DE89 3704 0044 0532 0130 00 from 192.168.${i % 256}.10.`
          : ' Version 2.4.1 released on 2024-05-01 with build 1718000000000.';
    documents.push(filler.repeat(2) + pii);
    metadatas.push({ team: `t${i % 7}`, page: i, reviewed: i % 2 === 0, ...(i % 3 === 0 ? { owner: `owner${i}@example.org`, ssn: '123-45-6789' } : { source: 'wiki/page-12' }) });
    if (dim > 0) embeddings.push(Array.from({ length: dim }, () => Math.fround(rand() * 2 - 1)));
  }
  return { ids, documents, metadatas, uris: null, embeddings: dim > 0 ? embeddings : null, include: dim > 0 ? ['documents', 'metadatas', 'embeddings'] : ['documents', 'metadatas'] };
}


main();
