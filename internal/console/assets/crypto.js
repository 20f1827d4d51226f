// crypto.js — everything the console decrypts, with WebCrypto only.
//
// Private keys: PEM "PRIVATE KEY" (PKCS #8), "RSA PRIVATE KEY" (PKCS #1) and
// "ENCRYPTED PRIVATE KEY" (PKCS #8 with PBES2: PBKDF2-HMAC-SHA1/256/384/512
// and AES-128/192/256-CBC, decrypted here because WebCrypto cannot import an
// encrypted PKCS #8 directly). Envelopes: the content key is unwrapped with
// RSA-OAEP (SHA-256, MGF1-SHA-256, empty label) and the body, ciphertext‖tag,
// opened with AES-256-GCM. Fingerprints are "SHA256:" + unpadded base64 of
// SHA-256 over the DER SubjectPublicKeyInfo, as seal.Fingerprint computes them.
//
// Nothing here sends anything anywhere.

const subtle = globalThis.crypto.subtle;

/** A key file that cannot be used. kind: "unreadable", "passphrase-required", "passphrase", "unsupported". */
export class KeyFileError extends Error {
  constructor(kind, message) {
    super(message);
    this.name = 'KeyFileError';
    this.kind = kind;
  }
}

/** An artifact that does not open. kind: "wrong-key", "tampered", "malformed". */
export class DecryptError extends Error {
  constructor(kind, message) {
    super(message);
    this.name = 'DecryptError';
    this.kind = kind;
  }
}

// ---- base64 ----

/** Decodes standard or URL-safe base64, padded or not; throws on anything else. */
export function base64Decode(s) {
  const clean = String(s).replace(/\s+/g, '').replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
  if (!/^[A-Za-z0-9+/]*$/.test(clean) || clean.length % 4 === 1) {
    throw new Error('invalid base64');
  }
  const bin = atob(clean + '='.repeat((4 - (clean.length % 4)) % 4));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Standard base64 without padding. */
export function base64EncodeRaw(bytes) {
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/=+$/, '');
}

// ---- PEM ----

/**
 * Parses exactly one PEM block (white space around it allowed) and returns
 * {type, headers, der}. Throws KeyFileError("unreadable") otherwise.
 */
export function parsePEM(text) {
  const m = /^\s*-----BEGIN ([A-Z0-9 ]+)-----\r?\n((?:(?!-----)[\s\S])*)-----END \1-----\s*$/.exec(String(text));
  if (!m) {
    throw new KeyFileError('unreadable', 'the file is not one PEM key (-----BEGIN …----- to -----END …-----)');
  }
  const headers = {};
  let body = m[2];
  const split = body.split(/\r?\n\r?\n/);
  if (split.length === 2 && /:/.test(split[0])) {
    for (const line of split[0].split(/\r?\n/)) {
      const i = line.indexOf(':');
      if (i > 0) headers[line.slice(0, i).trim()] = line.slice(i + 1).trim();
    }
    body = split[1];
  }
  let der;
  try {
    der = base64Decode(body);
  } catch {
    throw new KeyFileError('unreadable', 'the PEM block is not valid base64');
  }
  if (der.length === 0) throw new KeyFileError('unreadable', 'the PEM block is empty');
  return { type: m[1], headers, der };
}

// ---- DER ----

/** Reads one DER TLV at off: {tag, start (content), end}. */
export function readTLV(buf, off = 0) {
  if (off + 2 > buf.length) throw new Error('truncated DER');
  const tag = buf[off];
  let len = buf[off + 1];
  let p = off + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || p + n > buf.length) throw new Error('bad DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p + i];
    p += n;
  }
  if (p + len > buf.length) throw new Error('truncated DER');
  return { tag, start: p, end: p + len, off };
}

/** The TLVs inside a constructed TLV. */
export function children(buf, tlv) {
  const out = [];
  for (let p = tlv.start; p < tlv.end;) {
    const c = readTLV(buf, p);
    if (c.end > tlv.end) throw new Error('bad DER nesting');
    out.push(c);
    p = c.end;
  }
  return out;
}

function expectTag(tlv, tag, what) {
  if (tlv.tag !== tag) throw new Error(`expected ${what}`);
  return tlv;
}

/** Decodes an OBJECT IDENTIFIER TLV to dotted form. */
export function oid(buf, tlv) {
  expectTag(tlv, 0x06, 'an OID');
  const b = buf.subarray(tlv.start, tlv.end);
  if (b.length === 0) throw new Error('empty OID');
  const parts = [];
  let v = 0;
  for (let i = 0; i < b.length; i++) {
    v = v * 128 + (b[i] & 0x7f);
    if (!(b[i] & 0x80)) {
      if (parts.length === 0) {
        const first = v < 80 ? Math.floor(v / 40) : 2;
        parts.push(first, v - first * 40);
      } else {
        parts.push(v);
      }
      v = 0;
    }
  }
  return parts.join('.');
}

function intValue(buf, tlv) {
  expectTag(tlv, 0x02, 'an INTEGER');
  let v = 0;
  for (let i = tlv.start; i < tlv.end; i++) v = v * 256 + buf[i];
  if (v > Number.MAX_SAFE_INTEGER) throw new Error('INTEGER too large');
  return v;
}

function derLength(n) {
  if (n < 0x80) return [n];
  const bytes = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return [0x80 | bytes.length, ...bytes];
}

/** Encodes one TLV. */
export function derTLV(tag, content) {
  const len = derLength(content.length);
  const out = new Uint8Array(1 + len.length + content.length);
  out[0] = tag;
  out.set(len, 1);
  out.set(content, 1 + len.length);
  return out;
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

// AlgorithmIdentifier { rsaEncryption, NULL }
const RSA_ALG_ID = new Uint8Array([0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00]);

/** Wraps a PKCS #1 RSAPrivateKey in a PKCS #8 PrivateKeyInfo. */
export function pkcs1ToPKCS8(der) {
  return derTLV(0x30, concat(new Uint8Array([0x02, 0x01, 0x00]), RSA_ALG_ID, derTLV(0x04, der)));
}

/** Wraps a PKCS #1 RSAPublicKey in a SubjectPublicKeyInfo. */
export function pkcs1ToSPKI(der) {
  return derTLV(0x30, concat(RSA_ALG_ID, derTLV(0x03, concat(new Uint8Array([0]), der))));
}

// ---- PBES2 ----

const OID = {
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
  scrypt: '1.3.6.1.4.1.11591.4.11',
  hmacSHA1: '1.2.840.113549.2.7',
  hmacSHA256: '1.2.840.113549.2.9',
  hmacSHA384: '1.2.840.113549.2.10',
  hmacSHA512: '1.2.840.113549.2.11',
  aes128CBC: '2.16.840.1.101.3.4.1.2',
  aes192CBC: '2.16.840.1.101.3.4.1.22',
  aes256CBC: '2.16.840.1.101.3.4.1.42',
};

const PRF_HASH = {
  [OID.hmacSHA1]: 'SHA-1',
  [OID.hmacSHA256]: 'SHA-256',
  [OID.hmacSHA384]: 'SHA-384',
  [OID.hmacSHA512]: 'SHA-512',
};
const AES_BITS = { [OID.aes128CBC]: 128, [OID.aes192CBC]: 192, [OID.aes256CBC]: 256 };

/**
 * Parses an EncryptedPrivateKeyInfo with PBES2: returns {hash, salt,
 * iterations, keyBits, iv, data}. Throws KeyFileError for what it cannot use.
 */
export function parsePBES2(der) {
  let root;
  try {
    root = expectTag(readTLV(der), 0x30, 'a SEQUENCE');
  } catch {
    throw new KeyFileError('unreadable', 'the encrypted key is not valid DER');
  }
  try {
    const [algId, data] = children(der, root);
    const [algOID, params] = children(der, expectTag(algId, 0x30, 'AlgorithmIdentifier'));
    if (oid(der, algOID) !== OID.pbes2) {
      throw new KeyFileError('unsupported', 'the key is encrypted with a scheme other than PBES2; convert it with openssl pkcs8 -topk8 -v2 aes-256-cbc -v2prf hmacWithSHA256');
    }
    const [kdf, enc] = children(der, expectTag(params, 0x30, 'PBES2 parameters'));
    const [kdfOID, kdfParams] = children(der, kdf);
    const kdfName = oid(der, kdfOID);
    if (kdfName === OID.scrypt) {
      throw new KeyFileError('unsupported', 'the key is protected with scrypt, which browsers cannot compute; convert it with openssl pkcs8 -topk8 -v2 aes-256-cbc -v2prf hmacWithSHA256 -in key.pem -out key-pbkdf2.pem');
    }
    if (kdfName !== OID.pbkdf2) throw new KeyFileError('unsupported', 'the key uses an unknown key-derivation function');
    const kp = children(der, expectTag(kdfParams, 0x30, 'PBKDF2 parameters'));
    const salt = der.slice(expectTag(kp[0], 0x04, 'salt').start, kp[0].end);
    const iterations = intValue(der, kp[1]);
    let hash = 'SHA-1';
    let keyLength = 0;
    for (const extra of kp.slice(2)) {
      if (extra.tag === 0x02) keyLength = intValue(der, extra);
      else if (extra.tag === 0x30) {
        const prf = PRF_HASH[oid(der, children(der, extra)[0])];
        if (!prf) throw new KeyFileError('unsupported', 'the key uses an unknown PBKDF2 pseudo-random function');
        hash = prf;
      }
    }
    const [encOID, ivTLV] = children(der, enc);
    const keyBits = AES_BITS[oid(der, encOID)];
    if (!keyBits) {
      throw new KeyFileError('unsupported', 'the key is encrypted with a cipher other than AES-CBC; convert it with openssl pkcs8 -topk8 -v2 aes-256-cbc -v2prf hmacWithSHA256');
    }
    if (keyLength && keyLength * 8 !== keyBits) throw new Error('PBKDF2 key length does not match the cipher');
    const iv = der.slice(expectTag(ivTLV, 0x04, 'IV').start, ivTLV.end);
    if (iv.length !== 16) throw new Error('bad IV');
    if (iterations < 1 || iterations > 10_000_000) throw new Error('bad iteration count');
    return { hash, salt, iterations, keyBits, iv, data: der.slice(expectTag(data, 0x04, 'encrypted data').start, data.end) };
  } catch (e) {
    if (e instanceof KeyFileError) throw e;
    throw new KeyFileError('unreadable', 'the encrypted key is malformed');
  }
}

/** Decrypts a PBES2 EncryptedPrivateKeyInfo to its PKCS #8 DER. */
export async function decryptPBES2(der, passphrase) {
  const p = parsePBES2(der);
  const pass = new TextEncoder().encode(passphrase);
  const base = await subtle.importKey('raw', pass, 'PBKDF2', false, ['deriveKey']);
  pass.fill(0);
  const aes = await subtle.deriveKey({ name: 'PBKDF2', hash: p.hash, salt: p.salt, iterations: p.iterations },
    base, { name: 'AES-CBC', length: p.keyBits }, false, ['decrypt']);
  let plain;
  try {
    plain = new Uint8Array(await subtle.decrypt({ name: 'AES-CBC', iv: p.iv }, aes, p.data));
  } catch {
    throw new KeyFileError('passphrase', 'wrong passphrase');
  }
  // A wrong passphrase passes the padding check about once in 256 tries: the
  // result must also be a PrivateKeyInfo.
  try {
    const root = expectTag(readTLV(plain), 0x30, 'PrivateKeyInfo');
    if (root.end !== plain.length) throw new Error('trailing data');
    children(plain, root);
  } catch {
    plain.fill(0);
    throw new KeyFileError('passphrase', 'wrong passphrase');
  }
  return plain;
}

// ---- keys ----

/** SHA256:<unpadded base64 of SHA-256(spki)>. */
export async function fingerprintSPKI(spki) {
  const sum = new Uint8Array(await subtle.digest('SHA-256', spki));
  return 'SHA256:' + base64EncodeRaw(sum);
}

/** The fingerprint of a PEM public key ("PUBLIC KEY" or "RSA PUBLIC KEY"). */
export async function publicKeyFingerprint(pemText) {
  const { type, der } = parsePEM(pemText);
  if (type === 'PUBLIC KEY') return fingerprintSPKI(der);
  if (type === 'RSA PUBLIC KEY') return fingerprintSPKI(pkcs1ToSPKI(der));
  throw new KeyFileError('unreadable', `a ${type} block is not a public key`);
}

/**
 * Imports a PEM private key for RSA-OAEP SHA-256 decryption. Returns {key,
 * fingerprint} where key is a non-extractable CryptoKey.
 */
export async function importPrivateKey(pemText, passphrase = '') {
  const { type, headers, der } = parsePEM(pemText);
  let pkcs8;
  switch (type) {
    case 'PRIVATE KEY':
      pkcs8 = der;
      break;
    case 'RSA PRIVATE KEY':
      if (headers['Proc-Type']) {
        throw new KeyFileError('unsupported', 'legacy PEM encryption (Proc-Type: 4,ENCRYPTED) is not supported; convert it with openssl pkcs8 -topk8 -v2 aes-256-cbc -in old.pem -out new.pem');
      }
      pkcs8 = pkcs1ToPKCS8(der);
      break;
    case 'ENCRYPTED PRIVATE KEY':
      if (!passphrase) throw new KeyFileError('passphrase-required', 'the private key is encrypted: enter its passphrase');
      pkcs8 = await decryptPBES2(der, passphrase);
      break;
    case 'PUBLIC KEY':
    case 'RSA PUBLIC KEY':
      throw new KeyFileError('unreadable', 'this is a public key; decryption needs the matching private key');
    default:
      throw new KeyFileError('unreadable', `a ${type} block is not an RSA private key`);
  }
  const alg = { name: 'RSA-OAEP', hash: 'SHA-256' };
  let extractable;
  try {
    extractable = await subtle.importKey('pkcs8', pkcs8, alg, true, ['decrypt']);
  } catch {
    throw new KeyFileError('unreadable', 'the file does not hold a usable RSA private key');
  }
  try {
    const jwk = await subtle.exportKey('jwk', extractable);
    const pub = await subtle.importKey('jwk', { kty: 'RSA', n: jwk.n, e: jwk.e, alg: 'RSA-OAEP-256', ext: true }, alg, true, ['encrypt']);
    const fingerprint = await fingerprintSPKI(new Uint8Array(await subtle.exportKey('spki', pub)));
    const key = await subtle.importKey('pkcs8', pkcs8, alg, false, ['decrypt']);
    return { key, fingerprint, bits: base64Decode(jwk.n).length * 8 };
  } finally {
    if (pkcs8 !== der) pkcs8.fill(0);
    der.fill(0);
  }
}

// ---- envelopes ----

/**
 * Opens one artifact: body is ciphertext‖tag, keyB64 the RSA-OAEP-wrapped
 * content key, ivB64 the 12-byte IV. Returns the plaintext bytes.
 */
export async function openEnvelope(privateKey, body, keyB64, ivB64) {
  let wrapped;
  let iv;
  try {
    wrapped = base64Decode(keyB64);
    iv = base64Decode(ivB64);
  } catch {
    throw new DecryptError('malformed', 'the download lacks a valid x-amz-meta-x-amz-key or x-amz-meta-x-amz-iv header');
  }
  if (!keyB64 || iv.length !== 12) {
    throw new DecryptError('malformed', 'the download lacks a valid x-amz-meta-x-amz-key or x-amz-meta-x-amz-iv header');
  }
  let cek;
  try {
    cek = new Uint8Array(await subtle.decrypt({ name: 'RSA-OAEP' }, privateKey, wrapped));
  } catch {
    throw new DecryptError('wrong-key', 'the content key does not open with this private key');
  }
  try {
    if (cek.length !== 32) throw new DecryptError('wrong-key', 'the content key is not an AES-256 key');
    const aes = await subtle.importKey('raw', cek, 'AES-GCM', false, ['decrypt']);
    try {
      return new Uint8Array(await subtle.decrypt({ name: 'AES-GCM', iv, tagLength: 128 }, aes, body));
    } catch {
      throw new DecryptError('tampered', 'the AES-GCM tag does not match');
    }
  } finally {
    cek.fill(0);
  }
}

/** Parses x-amz-matdesc; returns {credential_sid, fingerprint} or {}. */
export function parseMatDesc(header) {
  if (!header) return {};
  try {
    const v = JSON.parse(header);
    return v && typeof v === 'object' ? v : {};
  } catch {
    return {};
  }
}
