// Builds java/core/src/test/resources/tokenizer/llama2-spm-cases.json, the fixture of
// SentencePieceLlama2Test, from the npm package llama-tokenizer-js 1.2.2 (MIT), which embeds the
// Llama 2 vocabulary and merge order and whose own tests hold Llama 2 tokenizer outputs.
//
//   npm pack llama-tokenizer-js@1.2.2 && tar xzf llama-tokenizer-js-1.2.2.tgz
//   node make-llama2-spm-fixture.mjs package/llama-tokenizer.js llama2-spm-cases.json
//
// Only the vocabulary entries a test text can reach are kept: SentencePiece merges only adjacent
// pieces whose concatenation is a token, so every token that can appear while encoding a text is a
// substring of that text (after " " -> "\u2581" and the prefixed space); byte tokens are kept whole.
// That makes the fixture a few KB and the encoding of its texts exactly that of the full vocabulary.
// Scores: a token's score is minus the rank of the first merge that produces it (SentencePiece BPE
// merges by the score of the merged piece; Hugging Face's merge list is ordered by it).
import { pathToFileURL } from 'node:url';

const mod = await import(pathToFileURL(process.argv[2]).href);
const tok = mod.default;
tok.runTests(); // the package's own cases must pass against its data before we reuse them

// the package's test inputs, whose expected ids it asserts (Llama 2 tokenizer outputs)
const texts = [
  'grabbed', ' grabbed', '           grabbed', '\n', ' \n', '\ttabs\t\t\t\tout here', 'ax\n####\nboo', '镇', '🦙', '🦙Ꙋ', 'Ꙋ🦙',
];
const src = (await import('node:fs')).readFileSync(process.argv[2], 'utf8');
const m = src.match(/testCase\("(The llama(?:[^"\\]|\\.)*)"/);
if (m) texts.push(JSON.parse('"' + m[1] + '"'));

const vocab = tok.vocabById;
const ids = tok.vocabByString;
const score = new Map();
for (const [pair, prio] of tok.merges) {
  const [a, b] = pair.split(' ');
  const merged = a + b;
  if (ids.has(merged) && !score.has(merged)) score.set(merged, -prio);
}
const keep = new Map();
for (let i = 0; i < 259; i++) keep.set(i, vocab[i]); // <unk>, <s>, </s>, <0x00>..<0xFF>
const cases = [];
for (const text of texts) {
  const s = '\u2581' + text.replaceAll(' ', '\u2581');
  const cps = Array.from(s);
  for (let i = 0; i < cps.length; i++) {
    let piece = '';
    for (let j = i; j < cps.length && j - i < 32; j++) {
      piece += cps[j];
      if (ids.has(piece)) keep.set(ids.get(piece), piece);
    }
  }
  cases.push({ text, ids: tok.encode(text, true, true, true) });
}
// [id, token, score, GGUF token type (1 normal, 2 unknown, 3 control, 6 byte)]
const tokens = [...keep.entries()].sort((x, y) => x[0] - y[0]).map(([id, t]) => [
  id, t, score.has(t) ? score.get(t) : (id < 259 ? 0 : -1e9), id === 0 ? 2 : id < 3 ? 3 : id < 259 ? 6 : 1,
]);
(await import('node:fs')).writeFileSync(process.argv[3], JSON.stringify({
  source: 'llama-tokenizer-js 1.2.2 (npm, MIT): Llama 2 vocabulary entries reachable from the texts, merge-rank scores, the package\'s test cases',
  vocab_size: vocab.length, bos: 1, tokens, cases,
}) + '\n'); // (runTests prints timings on stdout)
