// Verifies recorded webhook POSTs with the Standard Webhooks reference
// library (npm `standardwebhooks`), not with cppo-notify's own code.
//
//   node verify-webhooks.js RECORD PATH_PREFIX [--expect-fail] SECRET...
//
// RECORD: the JSON lines of test/tools/webhook-sink.py. Every POST whose
// path starts with PATH_PREFIX is checked against each SECRET on its own
// (`new Webhook(secret).verify(body, headers)`): all must verify, or with
// --expect-fail all must be refused. Prints "checked N" and exits 1 on any
// surprise, 2 when there is nothing to check.
'use strict';
const fs = require('fs');
const path = require('path');
const { Webhook } = require(path.join(__dirname, 'node_modules', 'standardwebhooks'));

const [record, prefix, ...rest] = process.argv.slice(2);
const expectFail = rest[0] === '--expect-fail';
const secrets = expectFail ? rest.slice(1) : rest;
const posts = fs.readFileSync(record, 'utf8').split('\n').filter((l) => l.trim())
  .map((l) => JSON.parse(l)).filter((r) => r.path.startsWith(prefix));
if (posts.length === 0 || secrets.length === 0) {
  console.log(`nothing to check under ${prefix}`);
  process.exit(2);
}
let bad = 0;
for (const p of posts) {
  const headers = {};
  for (const [k, v] of p.headers) headers[k.toLowerCase()] = v;
  const body = Buffer.from(p.body_base64, 'base64').toString('utf8');
  for (const s of secrets) {
    let ok = true;
    try {
      new Webhook(s).verify(body, headers);
    } catch (e) {
      ok = false;
    }
    if (ok === expectFail) {
      bad++;
      console.log(`${expectFail ? 'verified' : 'refused'}: ${headers['webhook-id']}`);
    }
  }
}
console.log(`checked ${posts.length * secrets.length}`);
process.exit(bad ? 1 : 0);
