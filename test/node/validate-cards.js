// Validates Teams messages with the Adaptive Cards library (npm
// `adaptivecards`, its dist bundle: it parses cards without a DOM), not with
// cppo-notify's own code.
//
//   node validate-cards.js < CARDS
//
// CARDS: "<name>\t<message JSON>" lines (test/integration/teams-cards.c).
// Each must be a Workflows message with one Adaptive Card attachment,
// version 1.5, that parses with no event (unknown element, invalid value)
// and validates (validateProperties) with none; under 28 KB (Teams'
// documented limit). Cards named hostile-* or oversized-*: no value forms
// markdown or a link (the data's characters all still there), oversized-*
// shows its truncation marker. Prints a line per problem, "cards N", exit 1
// on any problem.
'use strict';
const path = require('path');
const AC = require(path.join(__dirname, 'node_modules', 'adaptivecards', 'dist', 'adaptivecards.js'));

const MAX_BYTES = 28 * 1024;
const ZWSP = /\u200b/g;
// what a value must not become, once the template's own text is left out
const FORBIDDEN = [/\*\*bold\*\*/, /\]\(/, /https?:\/\//, /www\.evil/, /@evil\./, /<at>/, /^\s*[-*+] /m,
  /^\s*\d+\. /m, /^\s*#+ /m, /^\s*> /m, /~~gone~~/, /`code`/];

const lines = require('fs').readFileSync(0, 'utf8').split('\n').filter((l) => l.trim());
let problems = 0;
const problem = (name, what) => { problems++; console.log(`${name}: ${what}`); };

function strings(v, out) {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) v.forEach((x) => strings(x, out));
  else if (v && typeof v === 'object') Object.values(v).forEach((x) => strings(x, out));
  return out;
}

for (const line of lines) {
  const tab = line.indexOf('\t');
  const name = line.slice(0, tab);
  const text = line.slice(tab + 1);
  const msg = JSON.parse(text);
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_BYTES) problem(name, `${bytes} bytes, over ${MAX_BYTES}`);
  const att = msg.attachments || [];
  if (msg.type !== 'message' || att.length !== 1 ||
      att[0].contentType !== 'application/vnd.microsoft.card.adaptive') {
    problem(name, 'not a Workflows message with one Adaptive Card attachment');
    continue;
  }
  const json = att[0].content;
  if (json.type !== 'AdaptiveCard' || json.version !== '1.5') problem(name, 'not an Adaptive Card 1.5');
  const card = new AC.AdaptiveCard();
  const ctx = new AC.SerializationContext(new AC.Version(1, 5));
  card.parse(json, ctx);
  for (let i = 0; i < ctx.eventCount; i++) problem(name, `parse: ${ctx.getEventAt(i).message}`);
  for (const e of card.validateProperties().validationEvents) problem(name, `validate: ${e.message}`);
  if (card.version.toString() !== '1.5') problem(name, `version ${card.version}`);
  if (card.getItemCount() === 0) problem(name, 'empty body');
  const all = strings(json, []);
  if (name.startsWith('test-') && !all[0].includes('TEST MESSAGE') &&
      !strings(json.body[0], []).some((s) => s.includes('TEST MESSAGE'))) problem(name, 'no test marker first');
  if (name.startsWith('hostile-') || name.startsWith('oversized-')) {
    for (const s of all) {
      // the template's own markdown (**Details**, its list-free paragraphs) is
      // fine; what came from data is what the patterns look for
      for (const re of FORBIDDEN) if (re.test(s)) problem(name, `a value forms ${re}: ${JSON.stringify(s).slice(0, 120)}`);
    }
  }
  if (name.startsWith('hostile-')) {
    const visible = all.join('\n').replace(ZWSP, '');
    for (const want of ['**bold** _it_ [click](https://evil.example/x)', 'www.evil.example ae@evil.example', '<at>all</at>'])
      if (!visible.includes(want)) problem(name, `the data's own characters are lost: ${want}`);
  }
  if (name.startsWith('oversized-') && !all.some((s) => s.includes('\u2026 (truncated)')))
    problem(name, 'no truncation marker');
}
console.log(`cards ${lines.length}`);
process.exit(problems || lines.length === 0 ? 1 : 0);
