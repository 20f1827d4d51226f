// Unit tests of assets/crypto.js, run by TestCryptoModuleAgainstGo with
// vectors made by Go (seal.Seal, seal.Fingerprint, x509, youmark/pkcs8).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  parsePEM, importPrivateKey, publicKeyFingerprint, openEnvelope, base64Decode,
  parsePBES2, KeyFileError, DecryptError,
} from './assets/crypto.js';

const v = JSON.parse(readFileSync(process.env.CONSOLE_VECTORS, 'utf8'));
const body = () => base64Decode(v.body);

test('PEM: one block, white space around it, nothing else', () => {
  assert.equal(parsePEM(`\n  ${v.public}\n`).type, 'PUBLIC KEY');
  assert.throws(() => parsePEM('hello'), KeyFileError);
  assert.throws(() => parsePEM(v.public + v.public), KeyFileError);
  assert.throws(() => parsePEM('-----BEGIN PUBLIC KEY-----\n!!!\n-----END PUBLIC KEY-----\n'), KeyFileError);
});

test('fingerprints match seal.Fingerprint', async () => {
  assert.equal(await publicKeyFingerprint(v.public), v.fingerprint);
  assert.equal(await publicKeyFingerprint(v.publicPKCS1), v.fingerprint);
  for (const [name, pem, pass] of [['pkcs8', v.pkcs8], ['pkcs1', v.pkcs1], ['encrypted', v.encrypted, v.passphrase], ['encryptedSHA1', v.encryptedSHA1, v.passphrase]]) {
    const k = await importPrivateKey(pem, pass);
    assert.equal(k.fingerprint, v.fingerprint, name);
    assert.equal(k.key.extractable, false, name);
  }
});

test('PBES2 parameters are read', () => {
  const p = parsePBES2(parsePEM(v.encrypted).der);
  assert.equal(p.hash, 'SHA-256');
  assert.equal(p.iterations, 600000);
  assert.equal(p.keyBits, 256);
  assert.equal(parsePBES2(parsePEM(v.encryptedSHA1).der).hash, 'SHA-1');
});

test('key file refusals', async () => {
  await assert.rejects(importPrivateKey(v.encrypted, 'wrong'), (e) => e instanceof KeyFileError && e.kind === 'passphrase');
  await assert.rejects(importPrivateKey(v.encrypted, ''), (e) => e instanceof KeyFileError && e.kind === 'passphrase-required');
  await assert.rejects(importPrivateKey(v.public), (e) => e instanceof KeyFileError && e.kind === 'unreadable');
  await assert.rejects(importPrivateKey('not a key'), (e) => e instanceof KeyFileError && e.kind === 'unreadable');
});

test('opens what seal.Seal sealed', async () => {
  const { key } = await importPrivateKey(v.pkcs8);
  const plain = await openEnvelope(key, body(), v.key, v.iv);
  assert.equal(new TextDecoder().decode(plain), v.plaintext);
});

test('wrong key, modified body, bad headers', async () => {
  const other = await importPrivateKey(v.other);
  await assert.rejects(openEnvelope(other.key, body(), v.key, v.iv), (e) => e instanceof DecryptError && e.kind === 'wrong-key');
  const { key } = await importPrivateKey(v.pkcs8);
  const b = body();
  b[3] ^= 1;
  await assert.rejects(openEnvelope(key, b, v.key, v.iv), (e) => e instanceof DecryptError && e.kind === 'tampered');
  await assert.rejects(openEnvelope(key, body().subarray(0, 10), v.key, v.iv), (e) => e instanceof DecryptError && e.kind === 'tampered');
  await assert.rejects(openEnvelope(key, body(), '', v.iv), (e) => e instanceof DecryptError && e.kind === 'malformed');
  await assert.rejects(openEnvelope(key, body(), v.key, 'AAAA'), (e) => e instanceof DecryptError && e.kind === 'malformed');
});

test('expiry is read from a signed link when the store hides its 403', async () => {
  const { linkExpired } = await import('./assets/api.js');
  const at = Date.UTC(2026, 11, 1, 6, 0, 0);
  const s3 = 'http://127.0.0.1:7070/b/AC1/GT2/sentences?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20261201T055900Z&X-Amz-Expires=60&X-Amz-Signature=ab';
  assert.equal(linkExpired(s3, at - 1), false);
  assert.equal(linkExpired(s3, at), true);
  const own = `http://localhost:8080/v2/blobs/x?X-Convoseal-Expires=${at / 1000}&X-Convoseal-Signature=ab`;
  assert.equal(linkExpired(own, at - 1000), false);
  assert.equal(linkExpired(own, at), true);
  assert.equal(linkExpired('http://localhost/x', at), false);
  assert.equal(linkExpired('http://localhost/x?X-Amz-Date=bogus&X-Amz-Expires=60', at), false);
});
